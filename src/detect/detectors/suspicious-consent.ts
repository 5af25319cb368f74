import { finding, weighty, type Detector, type Finding } from '../finding.js';

/** Scopes that give broad write, admin or mailbox access on the common providers. */
const HIGH_RISK_SCOPES = new Set([
  'repo', 'admin:org', 'admin:repo_hook', 'admin:org_hook', 'admin:enterprise', 'delete_repo', 'workflow', 'write:packages', 'admin:public_key', 'admin:gpg_key',
  'https://mail.google.com/', 'https://www.googleapis.com/auth/drive', 'https://www.googleapis.com/auth/gmail.modify',
  'https://www.googleapis.com/auth/cloud-platform', 'https://www.googleapis.com/auth/admin.directory.user',
  'Mail.ReadWrite', 'Mail.Send', 'Files.ReadWrite.All', 'Sites.ReadWrite.All', 'Directory.ReadWrite.All',
  'Application.ReadWrite.All', 'RoleManagement.ReadWrite.Directory', 'User.ReadWrite.All', 'full_access_as_app',
]);
const HIGH_RISK_PATTERN = /(^|[:./_-])admin([:./_-]|$)|\.ReadWrite\.All$|^write:org$/i;

export function isHighRiskScope(scope: string): boolean {
  return HIGH_RISK_SCOPES.has(scope) || HIGH_RISK_PATTERN.test(scope);
}

/** Consent granting an identity (an OAuth app, an integration) high-risk scopes it never had. */
export function suspiciousConsentDetector(): Detector {
  return {
    type: 'suspicious_consent',
    observe(e, baselines) {
      if (e.event.type !== 'consent.granted' || e.event.outcome === 'failure') return [];
      const risky = [...new Set(e.event.signals.scopes ?? [])].filter(isHighRiskScope);
      if (risky.length === 0) return [];
      const out: Finding[] = [];
      for (const identity of e.resolution.identities) {
        const known = baselines.get(identity.id).scopes;
        const fresh = risky.filter((s) => !(s in known)).sort();
        if (fresh.length === 0) continue;
        out.push(finding('suspicious_consent', e, {
          severity: weighty(identity) ? 'critical' : 'high', confidence: fresh.length > 1 ? 'high' : 'medium', identityId: identity.id,
          title: `${identity.name} granted new high-risk scopes`,
          summary: `${identity.name} was granted ${fresh.join(', ')}, which it never held before.`,
          key: `${identity.id}:${fresh.join(',')}`, attributes: { scopes: fresh, grantedBy: e.event.source },
        }));
      }
      return out;
    },
  };
}
