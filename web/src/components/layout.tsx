import { Link, NavLink, Outlet, useLocation } from 'react-router';
import { useLive } from '../live/live';
import { useSession } from '../session/session';
import { Badge } from './badge';
import { PageErrorBoundary } from './error-boundary';

const NAV = [
  { to: '/', label: 'Overview' },
  { to: '/incidents', label: 'Incidents' },
  { to: '/identities', label: 'Identities' },
  { to: '/detections', label: 'Detections' },
  { to: '/playbooks', label: 'Playbooks' },
  { to: '/policies', label: 'Policies' },
  { to: '/audit', label: 'Audit' },
];

const STATUS_TEXT = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…', stopped: 'Live updates off' } as const;

function LiveIndicator() {
  const { status, problem } = useLive();
  return (
    <p className={`live live-${status}`} role="status" title={problem ? problem.problem.detail : 'Updates arrive as they happen, from the audit stream'}>
      <span className="live-dot" aria-hidden="true" /> {STATUS_TEXT[status]}
    </p>
  );
}

function Notices() {
  const { notices, dismiss } = useLive();
  return (
    <section className="notices" aria-label="Live notifications">
      <ul aria-live="polite" aria-relevant="additions">
        {notices.map((notice) => (
          <li key={notice.seq} className="notice">
            {notice.href ? <Link to={notice.href}>{notice.text}</Link> : <span>{notice.text}</span>}
            <button type="button" className="link-button" onClick={() => dismiss(notice.seq)} aria-label={`Dismiss: ${notice.text}`}>×</button>
          </li>
        ))}
      </ul>
    </section>
  );
}

export function Layout() {
  const { me, signOut } = useSession();
  const { pathname } = useLocation();
  return (
    <>
      <a href="#main" className="skip-link">Skip to content</a>
      <header className="topbar">
        <Link to="/" className="brand">Cordon</Link>
        <LiveIndicator />
        <div className="who">
          <span>Signed in as <strong>{me.subject}</strong></span> <Badge value={me.role} />
          <button type="button" className="secondary" onClick={() => signOut()}>Sign out</button>
        </div>
      </header>
      <div className="shell">
        <nav aria-label="Main" className="sidenav">
          <ul>{NAV.map((item) => <li key={item.to}><NavLink to={item.to} end={item.to === '/'}>{item.label}</NavLink></li>)}</ul>
        </nav>
        <main id="main" tabIndex={-1}>
          <PageErrorBoundary key={pathname}>
            <Outlet />
          </PageErrorBoundary>
        </main>
      </div>
      <Notices />
    </>
  );
}
