import type { BrokerService } from '../../broker/service.js';
import type { ActionName } from '../../domain/action-run.js';
import type { TargetSelector } from '../../domain/playbook.js';
import type { IdentityGraph } from '../../inventory/graph-index.js';
import type { Sealer } from '../../secrets/sealed.js';
import type { Db } from '../../store/db.js';
import type { PlanIdentity } from '../planner.js';
import { brokerPerformer, type BrokerPerformerDeps } from './broker-performer.js';
import { connectorPerformer, connectorSessions, connectorTypeOf, isConnectorAction } from './connector-performer.js';
import { cordonPerformer } from './cordon-performer.js';
import { evidencePerformer } from './evidence-performer.js';
import { notifyPerformer, type NotifyDeps } from './notify-performer.js';
import type { BoundAction, Performer, PerformerId, RunTarget } from './performer.js';

export interface PerformerDeps {
  db: Db;
  sealer: Pick<Sealer, 'open'>;
  graph: IdentityGraph;
  broker: BrokerPerformerDeps['broker'] & Pick<BrokerService, 'activeTokenCount'>;
  scheduleRelease: BrokerPerformerDeps['scheduleRelease'];
  notify: Omit<NotifyDeps, 'db'>;
}

/**
 * Every performer, and the rule that picks who acts: the identity's own connector for what
 * happens on its system, the broker for Cordon's tokens and quarantine, Cordon itself for
 * monitoring, notifications and evidence for the rest.
 */
export function performerRegistry(deps: PerformerDeps) {
  const sessions = connectorSessions({ db: deps.db, sealer: deps.sealer });
  const fixed: Record<Exclude<PerformerId, `connector:${string}`>, Performer> = {
    broker: brokerPerformer({ db: deps.db, broker: deps.broker, scheduleRelease: deps.scheduleRelease }, 'own'),
    'broker:derived': brokerPerformer({ db: deps.db, broker: deps.broker, scheduleRelease: deps.scheduleRelease }, 'derived'),
    cordon: cordonPerformer({ db: deps.db }),
    notify: notifyPerformer({ db: deps.db, ...deps.notify }),
    evidence: evidencePerformer({ db: deps.db, graph: deps.graph }),
  };

  /** The identity's connector, when it declares the action for this kind of identity. */
  async function connectorFor(action: ActionName, identity: PlanIdentity): Promise<PerformerId | undefined> {
    if (!identity.connectorId || !isConnectorAction(action)) return undefined;
    const type = await connectorTypeOf(deps.db, identity.connectorId);
    if (!type || !type.capabilities.includes(action) || !type.targetKinds.includes(identity.kind)) return undefined;
    return `connector:${identity.connectorId}`;
  }

  async function performersFor(action: ActionName, selector: TargetSelector, identity: PlanIdentity | null): Promise<PerformerId[]> {
    switch (action) {
      case 'notify_owner':
      case 'webhook':
        return ['notify'];
      case 'snapshot_evidence':
        return ['evidence'];
      case 'raise_monitoring':
        return identity ? ['cordon'] : [];
      case 'quarantine':
      case 'revoke_delegations':
        return identity ? ['broker'] : [];
      default:
        break;
    }
    if (!identity) return [];
    if (action === 'revoke_sessions') {
      if (selector === 'derived_sessions') return ['broker:derived'];
      const connector = await connectorFor(action, identity);
      const brokerHolds = identity.provider === 'cordon' || (await deps.broker.activeTokenCount(identity.id)) > 0;
      return [...(connector ? [connector] : []), ...(brokerHolds ? ['broker' as const] : [])];
    }
    const connector = await connectorFor(action, identity);
    if (connector) return [connector];
    if (identity.provider === 'cordon' && (action === 'disable_identity' || action === 'enable_identity')) return ['broker'];
    return [];
  }

  async function bind(performer: PerformerId, action: ActionName, target: RunTarget): Promise<BoundAction | undefined> {
    const found = performer.startsWith('connector:')
      ? connectorPerformer(performer.slice('connector:'.length), sessions)
      : fixed[performer as keyof typeof fixed];
    return found?.bind(action, target);
  }

  return { performersFor, bind, close: () => sessions.close() };
}

export type PerformerRegistry = ReturnType<typeof performerRegistry>;
