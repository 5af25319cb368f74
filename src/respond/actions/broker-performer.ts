import type { BrokerService } from '../../broker/service.js';
import type { ActionName } from '../../domain/action-run.js';
import { durationMs } from '../../domain/playbook.js';
import { setIdentityStatus } from '../../inventory/status.js';
import { check, verification } from '../../connectors/proof.js';
import type { Db } from '../../store/db.js';
import type { BoundAction, Performer, RunTarget, StepContext } from './performer.js';

type Broker = Pick<BrokerService,
  'revokeSessions' | 'revokeDerived' | 'revokeDelegations' | 'quarantine' | 'release' |
  'activeTokenCount' | 'activeDerivedCount' | 'activeDelegationCount' | 'isQuarantined'>;

/** Which of the identity's broker tokens a `revoke_sessions` run ends. */
export type BrokerSessionScope = 'own' | 'derived';

export interface BrokerPerformerDeps {
  db: Db;
  broker: Broker;
  /** Schedules the end of a quarantine: the identity is made active again then, unless re-quarantined. */
  scheduleRelease(identityId: string, until: Date, runId: string): Promise<void>;
}

async function identityStatus(db: Db, identityId: string): Promise<string | undefined> {
  return (await db.selectFrom('identities').select('status').where('id', '=', identityId).executeTakeFirst())?.status;
}

/**
 * Cordon's own broker as a target system: its tokens (revoked with everything derived from
 * them, CAEP pushed to receivers), its quarantine (reversible, self-expiring) and, for identities
 * that exist only in Cordon (provider `cordon`), the account itself.
 */
export function brokerPerformer(deps: BrokerPerformerDeps, scope: BrokerSessionScope = 'own'): Performer {
  const { db, broker } = deps;
  const reason = (context: StepContext) => `containment step of incident ${context.incidentId} (run ${context.runId})`;

  function revokeTokens(identityId: string): BoundAction {
    const count = () => (scope === 'own' ? broker.activeTokenCount(identityId) : broker.activeDerivedCount(identityId));
    const what = scope === 'own' ? 'broker tokens held by or issued for' : 'broker tokens derived from the tokens of';
    return {
      async plan() {
        const n = await count();
        return { changes: n ? [{ op: 'revoke_tokens', object: `${what} ${identityId}`, detail: `${n} live token(s) revoked with every token derived from them; receivers get CAEP session-revoked` }] : [], reversible: false };
      },
      async execute(context) {
        const revoked = scope === 'own'
          ? await broker.revokeSessions(identityId, context.actor, reason(context))
          : await broker.revokeDerived(identityId, context.actor, reason(context));
        return { output: { revokedTokens: revoked } };
      },
      async verify() {
        const left = await count();
        return verification([check('tokens_inactive', left === 0, left === 0 ? `no live ${what} ${identityId}` : `${left} live ${what} ${identityId}`)]);
      },
    };
  }

  function revokeDelegations(identityId: string): BoundAction {
    return {
      async plan() {
        const n = await broker.activeDelegationCount(identityId);
        return { changes: n ? [{ op: 'revoke_tokens', object: `delegated tokens around ${identityId}`, detail: `${n} live token(s) it holds for others or others hold for it` }] : [], reversible: false };
      },
      async execute(context) {
        return { output: { revokedTokens: await broker.revokeDelegations(identityId, context.actor, reason(context)) } };
      },
      async verify() {
        const left = await broker.activeDelegationCount(identityId);
        return verification([check('delegations_inactive', left === 0, left === 0 ? 'no live delegated token around the identity' : `${left} live delegated token(s) left`)]);
      },
    };
  }

  function quarantine(identityId: string): BoundAction {
    const until = (context: StepContext) => new Date(Date.now() + durationMs(String(context.params.ttl ?? '1h'))!);
    return {
      async plan() {
        return { changes: [{ op: 'quarantine', object: `identity ${identityId}`, detail: 'broker tokens introspect inactive and none is issued; every policy decision for it is denied; released at the end of the ttl or by rollback' }], reversible: true };
      },
      async execute(context) {
        const end = until(context);
        await broker.quarantine(identityId, end, context.actor, reason(context));
        await db.transaction().execute((tx) => setIdentityStatus(tx, identityId, 'quarantined', context.actor, reason(context)));
        await deps.scheduleRelease(identityId, end, context.runId);
        return { output: { until: end.toISOString() } };
      },
      async verify() {
        const status = await identityStatus(db, identityId);
        return verification([
          check('broker_quarantined', broker.isQuarantined(identityId), broker.isQuarantined(identityId) ? 'the broker refuses and suspends the identity\'s tokens' : 'the broker does not hold the identity quarantined'),
          check('identity_quarantined', status === 'quarantined', `identity status is ${status ?? 'missing'}`),
        ]);
      },
      async rollback(context) {
        await broker.release(identityId, context.actor, `rollback of run ${context.runId}`);
        await db.transaction().execute((tx) => setIdentityStatus(tx, identityId, 'active', context.actor, `quarantine rolled back (run ${context.runId})`));
        return { output: { released: true } };
      },
    };
  }

  /** An identity that exists only in Cordon: disabling it is its status, plus its tokens revoked. */
  function setEnabled(identityId: string, enabled: boolean): BoundAction {
    const apply = async (context: StepContext, on: boolean) => {
      await db.transaction().execute((tx) => setIdentityStatus(tx, identityId, on ? 'active' : 'disabled', context.actor, reason(context)));
      const revoked = on ? [] : await broker.revokeSessions(identityId, context.actor, reason(context));
      return { output: { status: on ? 'active' : 'disabled', revokedTokens: revoked } };
    };
    return {
      async plan() {
        const status = await identityStatus(db, identityId);
        const wanted = enabled ? 'active' : 'disabled';
        return { changes: status === wanted ? [] : [{ op: enabled ? 'enable' : 'disable', object: `identity ${identityId}`, detail: enabled ? 'status active: the broker issues it tokens again' : 'status disabled: no token is issued to it; its live tokens are revoked' }], reversible: true };
      },
      execute: (context) => apply(context, enabled),
      rollback: (context) => apply(context, !enabled),
      async verify() {
        const status = await identityStatus(db, identityId);
        const checks = [check(enabled ? 'identity_active' : 'identity_disabled', status === (enabled ? 'active' : 'disabled'), `identity status is ${status ?? 'missing'}`)];
        if (!enabled) {
          const left = await broker.activeTokenCount(identityId);
          checks.push(check('tokens_inactive', left === 0, `${left} live broker token(s)`));
        }
        return verification(checks);
      },
    };
  }

  return {
    id: scope === 'own' ? 'broker' : 'broker:derived',
    async bind(action: ActionName, run: RunTarget) {
      const identityId = run.identityId;
      if (!identityId) return undefined;
      switch (action) {
        case 'revoke_sessions': return revokeTokens(identityId);
        case 'revoke_delegations': return revokeDelegations(identityId);
        case 'quarantine': return quarantine(identityId);
        case 'disable_identity': return setEnabled(identityId, false);
        case 'enable_identity': return setEnabled(identityId, true);
        default: return undefined;
      }
    },
  };
}
