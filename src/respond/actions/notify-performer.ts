import { InvalidInputError } from '../../domain/errors.js';
import type { ActionName } from '../../domain/action-run.js';
import { check, verification } from '../../connectors/proof.js';
import type { Db } from '../../store/db.js';
import { redactUrl, sendSignedWebhook } from '../webhook.js';
import type { BoundAction, Performer, RunTarget, StepContext } from './performer.js';

export interface NotifyDeps {
  db: Db;
  /** Resolves an `env:`/`file:` reference to a webhook signing key. */
  resolveSecret(reference: string): Promise<string>;
  /** Reference to the key that signs notifications to teams whose channel is a URL. */
  notifySigningSecret?: string;
  /** Creates (once per key) a task for a team in an incident. */
  routeTask(task: { key: string; incidentId: string; team: string; kind: string; title: string; detail: string; source: string }): Promise<void>;
  taskExists(key: string): Promise<boolean>;
}

const isUrl = (channel: string | null | undefined): channel is string => !!channel && /^https?:\/\//i.test(channel);

function delivered(executed: Record<string, unknown> | undefined): boolean {
  const status = executed?.status;
  return typeof status === 'number' && status >= 200 && status < 300;
}

/**
 * Notifications: `notify_owner` routes a task to the owning team in the incident and, when the
 * team's channel is a URL, sends it a signed webhook; `webhook` sends a signed webhook to the
 * step's URL. Deliveries carry the run id as `webhook-id`, so a retried delivery is one event.
 */
export function notifyPerformer(deps: NotifyDeps): Performer {
  async function channelOf(team: string): Promise<string | null> {
    return (await deps.db.selectFrom('teams').select('channel').where('id', '=', team).executeTakeFirst())?.channel ?? null;
  }

  function payloadOf(context: StepContext, run: RunTarget, extra: Record<string, unknown>) {
    return { incidentId: context.incidentId, detectionId: context.detectionId, identityId: run.identityId, target: run.label, runId: context.runId, ...extra };
  }

  function notifyOwner(run: RunTarget): BoundAction {
    const team = (context: { params: Record<string, unknown> }) => String(context.params.team);
    return {
      async plan(params) {
        const to = team({ params });
        const channel = await channelOf(to);
        return {
          changes: [
            { op: 'route_task', object: `team ${to}`, detail: String(params.message ?? 'a task in the incident') },
            ...(isUrl(channel) ? [{ op: 'send_webhook', object: redactUrl(channel), detail: 'signed notification (Standard Webhooks)' }] : []),
          ],
          reversible: false,
        };
      },
      async execute(context) {
        const to = team(context);
        const message = String(context.params.message ?? `Cordon is responding to a detection on ${run.label}.`);
        await deps.routeTask({
          key: context.runId, incidentId: context.incidentId, team: to, kind: String(context.params.task ?? 'notify'),
          title: `${run.label}: ${message.split('. ')[0]}`, detail: message, source: `action:${context.runId}`,
        });
        const channel = await channelOf(to);
        if (!isUrl(channel)) return { output: { team: to, task: context.runId, channel } };
        if (!deps.notifySigningSecret) {
          throw new InvalidInputError('ERR_NOTIFY_UNSIGNED', `team "${to}" has a webhook channel but CORDON_NOTIFY_SIGNING_SECRET is not set: notifications are always signed`, [{ path: 'CORDON_NOTIFY_SIGNING_SECRET', message: 'is required for webhook channels' }]);
        }
        const { status } = await sendSignedWebhook({
          url: channel, signingSecret: await deps.resolveSecret(deps.notifySigningSecret), id: context.runId,
          type: 'cordon.owner.notified', payload: payloadOf(context, run, { team: to, message, task: context.params.task ?? 'notify' }),
        });
        return { output: { team: to, task: context.runId, channel: redactUrl(channel), status } };
      },
      async verify(context) {
        const checks = [check('task_routed', await deps.taskExists(context.runId), `task for team ${team(context)} in incident ${context.incidentId}`)];
        // A team with a webhook channel is told only once its webhook accepted the delivery.
        if (isUrl(await channelOf(team(context)))) {
          checks.push(check('webhook_delivered', delivered(context.executed), `the team's webhook answered ${String(context.executed?.status ?? 'nothing yet')}`));
        }
        return verification(checks);
      },
    };
  }

  function webhook(run: RunTarget): BoundAction {
    return {
      async plan(params) {
        return { changes: [{ op: 'send_webhook', object: redactUrl(String(params.url)), detail: `signed ${String(params.event ?? 'cordon.playbook.step')} event (Standard Webhooks)` }], reversible: false };
      },
      async execute(context) {
        const url = String(context.params.url);
        const { status } = await sendSignedWebhook({
          url, signingSecret: await deps.resolveSecret(String(context.params.signingSecret)), id: context.runId,
          type: String(context.params.event ?? 'cordon.playbook.step'), payload: payloadOf(context, run, {}),
        });
        return { output: { url: redactUrl(url), status } };
      },
      async verify(context) {
        return verification([check('webhook_delivered', delivered(context.executed), `the webhook answered ${String(context.executed?.status ?? 'nothing')}`)]);
      },
    };
  }

  return {
    id: 'notify',
    async bind(action: ActionName, run: RunTarget) {
      if (action === 'notify_owner') return notifyOwner(run);
      if (action === 'webhook') return webhook(run);
      return undefined;
    },
  };
}
