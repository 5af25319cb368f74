import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { ApiProblem, onTokenRefused, setApiToken } from '../api/client';
import { api } from '../api/endpoints';
import type { Me } from '../api/types';
import { permissions, type Permissions } from './roles';

/** sessionStorage: the token lives as long as the tab, and is never written to a cookie or a URL. */
const STORAGE_KEY = 'cordon.token';

export interface Session {
  me: Me;
  can: Permissions;
  signOut(reason?: string): void;
}

interface SessionState {
  session: Session | null;
  /** Checking a token found in sessionStorage on load. */
  restoring: boolean;
  /** Why the last session ended, when it was not the user's choice. */
  endedBecause: string | null;
  signIn(token: string): Promise<void>;
}

const SessionContext = createContext<SessionState | null>(null);

export function SessionProvider({ children, onSignOut }: { children: ReactNode; onSignOut(): void }) {
  const [me, setMe] = useState<Me | null>(null);
  const [restoring, setRestoring] = useState(() => sessionStorage.getItem(STORAGE_KEY) !== null);
  const [endedBecause, setEndedBecause] = useState<string | null>(null);

  const signOut = useCallback((reason?: string) => {
    sessionStorage.removeItem(STORAGE_KEY);
    setApiToken(null);
    setMe(null);
    setEndedBecause(reason ?? null);
    onSignOut();
  }, [onSignOut]);

  const signIn = useCallback(async (token: string) => {
    const who = await api.me(token);
    sessionStorage.setItem(STORAGE_KEY, token);
    setApiToken(token);
    setEndedBecause(null);
    setMe(who);
  }, []);

  useEffect(() => {
    onTokenRefused((problem) => signOut(`Signed out: ${problem.problem.detail}.`));
    const stored = sessionStorage.getItem(STORAGE_KEY);
    if (!stored) return;
    signIn(stored)
      .catch((error: unknown) => {
        sessionStorage.removeItem(STORAGE_KEY);
        setEndedBecause(error instanceof ApiProblem ? `Signed out: ${error.problem.detail}.` : 'Signed out.');
      })
      .finally(() => setRestoring(false));
  }, [signIn, signOut]);

  const value = useMemo<SessionState>(() => ({
    session: me ? { me, can: permissions(me.role), signOut } : null,
    restoring, endedBecause, signIn,
  }), [me, restoring, endedBecause, signIn, signOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSessionState(): SessionState {
  const state = useContext(SessionContext);
  if (!state) throw new Error('useSessionState outside SessionProvider');
  return state;
}

/** The signed-in session; only rendered inside the signed-in part of the app. */
export function useSession(): Session {
  const { session } = useSessionState();
  if (!session) throw new Error('useSession while signed out');
  return session;
}
