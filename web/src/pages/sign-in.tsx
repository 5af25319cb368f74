import { useEffect, useState, type FormEvent } from 'react';
import { ProblemView } from '../components/problem';
import { useSessionState } from '../session/session';

export function SignIn() {
  const { signIn, endedBecause } = useSessionState();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    document.title = 'Sign in · Cordon';
  }, []);
  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const token = String(new FormData(event.currentTarget).get('token') ?? '').trim();
    setBusy(true);
    setError(null);
    try {
      await signIn(token);
    } catch (problem) {
      setError(problem);
      setBusy(false);
    }
  }
  return (
    <main id="main" className="signin">
      <h1>Sign in to Cordon</h1>
      {endedBecause ? <p role="status" className="warn">{endedBecause}</p> : null}
      <form onSubmit={submit} aria-label="Sign in">
        <label className="field">
          <span>API token</span>
          <input name="token" type="password" required autoComplete="off" spellCheck={false} autoFocus aria-describedby="token-hint" />
        </label>
        <p id="token-hint" className="hint">
          A token an administrator made for you (<code>bin/cordon tokens create --role viewer --subject you</code>), or the admin token
          printed on first start. It stays in this tab&apos;s session storage and goes to the API only, as a bearer token.
        </p>
        <button type="submit" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
      {error ? <ProblemView error={error} context="Signing in" /> : null}
    </main>
  );
}
