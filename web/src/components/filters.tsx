import type { FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';

export interface FilterField {
  name: string;
  label: string;
  type: 'search' | 'text' | 'select';
  options?: readonly string[];
  /** What an option reads as, when its value is not words (`true` → "open only"). */
  optionLabels?: Readonly<Record<string, string>>;
  placeholder?: string;
}

/** The filters a list page reads from its URL, so a filtered view can be shared and reloaded. */
export function useFilters<K extends string>(names: readonly K[]): Partial<Record<K, string>> {
  const [params] = useSearchParams();
  const filter: Partial<Record<K, string>> = {};
  for (const name of names) {
    const value = params.get(name);
    if (value) filter[name] = value;
  }
  return filter;
}

/** Labelled filter fields; applying them starts the list again from its first page. */
export function FilterBar({ fields, label }: { fields: readonly FilterField[]; label: string }) {
  const [params, setParams] = useSearchParams();
  function apply(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    const next = new URLSearchParams();
    for (const field of fields) {
      const value = String(data.get(field.name) ?? '').trim();
      if (value) next.set(field.name, value);
    }
    setParams(next);
  }
  return (
    <form role="search" aria-label={label} className="filters" onSubmit={apply} key={params.toString()}>
      {fields.map((field) => (
        <label key={field.name} className="field">
          <span>{field.label}</span>
          {field.type === 'select' ? (
            <select name={field.name} defaultValue={params.get(field.name) ?? ''}>
              <option value="">Any</option>
              {field.options?.map((option) => <option key={option} value={option}>{field.optionLabels?.[option] ?? option.replace(/_/g, ' ')}</option>)}
            </select>
          ) : (
            <input name={field.name} type={field.type} defaultValue={params.get(field.name) ?? ''} placeholder={field.placeholder} autoComplete="off" />
          )}
        </label>
      ))}
      <div className="filter-buttons">
        <button type="submit">Apply filters</button>
        <button type="button" className="secondary" onClick={() => setParams(new URLSearchParams())}>Clear</button>
      </div>
    </form>
  );
}

/** Keyset pages: the API hands out the next cursor, so the pager walks forward (the browser's Back goes back). */
export function CursorPager({ nextCursor, param = 'cursor' }: { nextCursor: string | number | null; param?: string }) {
  const [params] = useSearchParams();
  const first = new URLSearchParams(params);
  first.delete(param);
  const next = new URLSearchParams(params);
  if (nextCursor !== null) next.set(param, String(nextCursor));
  return (
    <nav aria-label="Pages" className="pager">
      {params.has(param) ? <Link to={`?${first.toString()}`}>First page</Link> : null}
      {nextCursor !== null ? <Link to={`?${next.toString()}`}>Next page</Link> : <span className="muted">End of the list</span>}
    </nav>
  );
}
