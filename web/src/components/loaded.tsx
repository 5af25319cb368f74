import type { UseQueryResult } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { ProblemView } from './problem';

/** A query's answer, or its loading state, or the API's problem with it. */
export function Loaded<T>({ query, what, children }: { query: UseQueryResult<T>; what: string; children(data: T): ReactNode }) {
  if (query.isPending) return <p className="loading" role="status">Loading {what}…</p>;
  if (query.isError) return <ProblemView error={query.error} context={`Loading ${what}`} />;
  return <>{children(query.data)}</>;
}
