import { ApiProblem } from '../api/client';
import type { Problem } from '../api/types';

function asProblem(error: unknown): Problem {
  if (error instanceof ApiProblem) return error.problem;
  return { type: 'about:blank', title: 'Unexpected error', status: 0, code: 'ERR_CONSOLE', instance: '', detail: error instanceof Error ? error.message : String(error) };
}

/** An API error exactly as the API described it: title, status, stable code, detail and fields. */
export function ProblemView({ error, context }: { error: unknown; context?: string }) {
  const problem = asProblem(error);
  return (
    <div role="alert" className="problem">
      <p className="problem-title">
        <strong>{context ? `${context}: ` : ''}{problem.title}</strong>{' '}
        <span className="problem-code">{problem.status ? `${problem.status} ` : ''}{problem.code}</span>
      </p>
      <p>{problem.detail}</p>
      {problem.errors?.length ? (
        <ul className="problem-fields">
          {problem.errors.map((issue, i) => (
            <li key={i}><code>{issue.in ? `${issue.in} ` : ''}{issue.path || '/'}</code> {issue.message}{issue.source ? ` (${issue.source})` : ''}</li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
