import { connectorType, isConnectorType } from '../connectors/registry.js';
import type { ConnectorAction } from '../connectors/contract.js';
import { NotFoundError } from '../domain/errors.js';
import type { IdentityReadiness, ReadinessChecks, ReadinessSummary } from '../domain/readiness.js';
import type { Db } from '../store/db.js';
import type { PlaybookCatalog } from './playbooks/catalog.js';
import { selectPlaybook } from './playbooks/match.js';

const GAP: Record<keyof ReadinessChecks, string> = {
  rotate: 'no connector can rotate its credential',
  revokeSessions: 'no connector can end its sessions',
  disable: 'no connector can disable it',
  owner: 'no owning team',
  playbook: 'no playbook answers a confirmed leak of its secret',
};

/**
 * Containment readiness (SPEC §3.8): for each identity, could Cordon contain it today without a
 * person — can a connector (or the broker, for identities that live in Cordon) rotate its
 * credential, end its sessions and disable it; is an owner known to route tasks to; does a
 * playbook answer a confirmed leak of its secret. Drills are not run yet, so none is reported.
 */
export function readinessService(deps: { db: Db; catalog: Pick<PlaybookCatalog, 'active'> }) {
  async function assess(filter: { identityId?: string } = {}): Promise<IdentityReadiness[]> {
    const [identities, playbooks] = await Promise.all([
      deps.db.selectFrom('identities')
        .leftJoin('connectors', 'connectors.id', 'identities.connectorId')
        .select(['identities.id', 'identities.name', 'identities.kind', 'identities.provider', 'identities.environment', 'identities.tags', 'identities.status', 'connectors.type as connectorType'])
        .select((eb) => eb.exists(eb.selectFrom('edges').select('edges.id').whereRef('edges.fromId', '=', 'identities.id').where('edges.kind', '=', 'owned_by')).as('owned'))
        .select((eb) => eb.exists(eb.selectFrom('credentials').select('credentials.id').whereRef('credentials.identityId', '=', 'identities.id').where('credentials.status', '=', 'active')).as('hasCredential'))
        .$if(!!filter.identityId, (q) => q.where('identities.id', '=', filter.identityId!))
        .where('identities.status', '<>', 'offboarded')
        .orderBy('identities.id').execute(),
      deps.catalog.active(),
    ]);
    if (filter.identityId && identities.length === 0) throw new NotFoundError('ERR_IDENTITY_NOT_FOUND', `identity "${filter.identityId}" does not exist`);
    return identities.map((i) => {
      const type = i.connectorType && isConnectorType(i.connectorType) ? connectorType(i.connectorType) : undefined;
      const can = (action: ConnectorAction) => !!type && type.capabilities.includes(action) && type.targetKinds.includes(i.kind as never);
      const inCordon = i.provider === 'cordon';
      const playbook = selectPlaybook(playbooks, {
        type: 'secret_exposure', severity: 'high', confidence: 'confirmed',
        identity: { kind: i.kind, provider: i.provider, tags: i.tags ?? [], environment: i.environment },
      });
      const checks: ReadinessChecks = {
        // An identity with no static secret (broker tokens only) has nothing to rotate: tokens expire.
        rotate: can('rotate_credential') || (inCordon && !i.hasCredential),
        revokeSessions: can('revoke_sessions') || inCordon,
        disable: can('disable_identity') || inCordon,
        owner: !!i.owned,
        playbook: !!playbook && playbook.steps.some((s) => s.action !== 'notify_owner' && s.action !== 'snapshot_evidence'),
      };
      const met = Object.values(checks).filter(Boolean).length;
      return {
        identityId: i.id, name: i.name, kind: i.kind, provider: i.provider, environment: i.environment, checks,
        score: met / Object.keys(checks).length, playbook: playbook?.id ?? null,
        gaps: (Object.keys(checks) as (keyof ReadinessChecks)[]).filter((k) => !checks[k]).map((k) => GAP[k]),
      };
    });
  }

  return {
    assess,
    async summary(): Promise<{ summary: ReadinessSummary; items: IdentityReadiness[] }> {
      const items = await assess();
      const byCheck = { rotate: 0, revokeSessions: 0, disable: 0, owner: 0, playbook: 0 };
      for (const item of items) for (const k of Object.keys(byCheck) as (keyof ReadinessChecks)[]) if (item.checks[k]) byCheck[k]++;
      return {
        summary: {
          identities: items.length, ready: items.filter((i) => i.score === 1).length,
          score: items.length ? items.reduce((sum, i) => sum + i.score, 0) / items.length : 0, byCheck,
        },
        items,
      };
    },
  };
}

export type ReadinessService = ReturnType<typeof readinessService>;
