import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { BrowserRouter, Route, Routes } from 'react-router';
import { ApiProblem } from './api/client';
import { Layout } from './components/layout';
import { Page } from './components/page';
import { LiveProvider } from './live/live';
import { AuditPage } from './pages/audit';
import { DetectionPage, DetectionsPage } from './pages/detections';
import { IdentitiesPage } from './pages/identities';
import { IdentityPage } from './pages/identity';
import { IncidentPage } from './pages/incident';
import { IncidentsPage } from './pages/incidents';
import { OverviewPage } from './pages/overview';
import { PlaybookPage } from './pages/playbook';
import { PlaybooksPage } from './pages/playbooks';
import { PoliciesPage } from './pages/policies';
import { SignIn } from './pages/sign-in';
import { SessionProvider, useSessionState } from './session/session';

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // Live updates invalidate what changed; nothing needs refetching on a timer.
      staleTime: 5 * 60_000,
      refetchOnWindowFocus: false,
      // A problem the API answered (4xx) will be answered again: show it rather than retry.
      retry: (failures, error) => !(error instanceof ApiProblem && error.status >= 400 && error.status < 500) && failures < 2,
    },
  },
});

const forgetEverything = () => queryClient.clear();

function SignedIn() {
  return (
    <LiveProvider>
      <Routes>
        <Route element={<Layout />}>
          <Route index element={<OverviewPage />} />
          <Route path="incidents" element={<IncidentsPage />} />
          <Route path="incidents/:id" element={<IncidentPage />} />
          <Route path="identities" element={<IdentitiesPage />} />
          <Route path="identities/:id" element={<IdentityPage />} />
          <Route path="detections" element={<DetectionsPage />} />
          <Route path="detections/:id" element={<DetectionPage />} />
          <Route path="playbooks" element={<PlaybooksPage />} />
          <Route path="playbooks/:id" element={<PlaybookPage />} />
          <Route path="policies" element={<PoliciesPage />} />
          <Route path="audit" element={<AuditPage />} />
          <Route path="*" element={<Page title="Not found"><p>The console has no page at this address.</p></Page>} />
        </Route>
      </Routes>
    </LiveProvider>
  );
}

function Gate() {
  const { session, restoring } = useSessionState();
  if (restoring) return <p className="loading" role="status">Signing in…</p>;
  return session ? <SignedIn /> : <SignIn />;
}

export function App() {
  return (
    <QueryClientProvider client={queryClient}>
      <SessionProvider onSignOut={forgetEverything}>
        <BrowserRouter>
          <Gate />
        </BrowserRouter>
      </SessionProvider>
    </QueryClientProvider>
  );
}
