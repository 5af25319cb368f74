import Type from 'typebox';
import { ACTION_RUN_STATES } from '../../domain/action-run.js';
import { READERS, type ApiRole } from '../../domain/roles.js';
import { getRun, listRuns, type ActionRun } from '../../respond/runs.js';
import type { ActionApprovalRow } from '../../store/schema.js';
import { actorOf } from '../auth.js';
import { DateTime, IdParam, Json, Limit, NullableDateTime, responses } from '../schemas.js';
import type { Api } from '../server.js';

const Change = Type.Object({ op: Type.String(), object: Type.String(), detail: Type.String() });

const Approval = Type.Object({
  decision: Type.String(), subject: Type.String(), role: Type.String(), planDigest: Type.String(),
  reason: Type.Union([Type.String(), Type.Null()]), breakGlass: Type.Boolean(), at: DateTime,
});

export const ActionRunView = Type.Object({
  id: Type.String(),
  incidentId: Type.String(),
  responseId: Type.String(),
  seq: Type.Integer(),
  tier: Type.String(),
  stepId: Type.String(),
  action: Type.String(),
  performer: Type.String(),
  targetLabel: Type.String(),
  identityId: Type.Union([Type.String(), Type.Null()]),
  params: Json,
  state: Type.Enum(ACTION_RUN_STATES),
  plan: Type.Union([Type.Object({ changes: Type.Array(Change), reversible: Type.Boolean() }), Type.Null()], { description: 'The exact diff: what an approver approves' }),
  planDigest: Type.Union([Type.String(), Type.Null()], { description: 'SHA-256 of the plan; an approval names it' }),
  approval: Type.Union([Type.Object({
    roles: Type.Array(Type.String()), quorum: Type.Integer(), timeoutMs: Type.Integer(), default: Type.String(),
    reasons: Type.Array(Type.String()), timeoutAt: Type.Optional(Type.String()),
    approvals: Type.Array(Approval),
  }), Type.Null()]),
  verification: Type.Union([Type.Object({
    verified: Type.Boolean(), checks: Type.Array(Type.Object({ name: Type.String(), passed: Type.Boolean(), detail: Type.String() })),
  }), Type.Null()]),
  output: Type.Union([Json, Type.Null()]),
  error: Type.Union([Type.String(), Type.Null()]),
  errorCode: Type.Union([Type.String(), Type.Null()]),
  attempts: Type.Integer(),
  maxAttempts: Type.Integer(),
  nextAttemptAt: DateTime,
  requestedBy: Type.String(),
  requestedBySubject: Type.String({ description: 'Who sent the signal behind this run: they may not approve it' }),
  createdAt: DateTime,
  updatedAt: DateTime,
  startedAt: NullableDateTime,
  finishedAt: NullableDateTime,
  verifiedAt: NullableDateTime,
});

/** What the API shows of a run: never its sealed secret. */
export function actionRunView(run: ActionRun, approvals: ActionApprovalRow[]) {
  const { secretSealed: _sealed, secretFingerprint: _fingerprint, leaseOwner: _owner, leaseUntil: _until, target, idempotencyKey: _key, targetKey: _targetKey, continueOnError: _c, timeoutMs: _t, ...shown } = run;
  return {
    ...shown,
    identityId: target.identityId,
    approval: run.approval ? { ...run.approval, approvals: approvals.map(({ decision, subject, role, planDigest, reason, breakGlass, at }) => ({ decision, subject, role, planDigest, reason, breakGlass, at })) } : null,
  };
}

/** Roles that may ever decide a step; each step names which of them it accepts. */
const DECIDERS: readonly ApiRole[] = ['approver', 'admin', 'responder'];

export async function actionRoutes(app: Api): Promise<void> {
  const withApprovals = async (runs: ActionRun[]) => {
    const ids = runs.map((r) => r.id);
    const approvals = ids.length ? await app.cordon.db.selectFrom('actionApprovals').selectAll().where('runId', 'in', ids).orderBy('at').execute() : [];
    return runs.map((run) => actionRunView(run, approvals.filter((a) => a.runId === run.id)));
  };

  app.get('/v1/actions', {
    config: { roles: READERS },
    schema: {
      summary: 'Action runs, most recently changed first',
      tags: ['response'],
      querystring: Type.Object({
        state: Type.Optional(Type.Enum(ACTION_RUN_STATES)),
        incident: Type.Optional(Type.String({ maxLength: 100 })),
        response: Type.Optional(Type.String({ maxLength: 100 })),
        cursor: Type.Optional(Type.String({ maxLength: 200 })),
        limit: Limit(500, 100),
      }, { additionalProperties: false }),
      response: responses(200, Type.Object({ items: Type.Array(ActionRunView), nextCursor: Type.Union([Type.String(), Type.Null()]) })),
    },
  }, async (request) => {
    const { cursor, ...filter } = request.query;
    const page = await listRuns(app.cordon.db, { ...filter, before: cursor });
    return { items: await withApprovals(page.items), nextCursor: page.nextCursor };
  });

  app.get('/v1/actions/:id', {
    config: { roles: READERS },
    schema: { summary: 'One action run with its diff, approvals and proof', tags: ['response'], params: IdParam, response: responses(200, ActionRunView, [404]) },
  }, async (request) => (await withApprovals([await getRun(app.cordon.db, request.params.id)]))[0]!);

  app.post('/v1/actions/:id/approve', {
    config: { roles: DECIDERS },
    schema: {
      summary: 'Approve the planned diff of a step awaiting approval',
      description: 'The body names the digest of the diff read (`planDigest`): a changed plan is refused (409). Whoever asked for the action may not approve it; the step\'s quorum counts distinct people. `breakGlass` (admin, with a reason) approves alone.',
      tags: ['response'],
      params: IdParam,
      body: Type.Object({
        planDigest: Type.String({ pattern: '^[0-9a-f]{64}$' }),
        reason: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
        breakGlass: Type.Optional(Type.Boolean()),
      }, { additionalProperties: false }),
      response: responses(200, Type.Object({ decided: Type.Boolean(), action: ActionRunView }), [404, 409]),
    },
  }, async (request) => {
    const actor = actorOf(request);
    const outcome = await app.cordon.approvals.approve(request.params.id, { ...actor, role: actor.role! }, request.body);
    return { decided: outcome.decided, action: actionRunView(outcome.run, outcome.approvals) };
  });

  app.post('/v1/actions/:id/deny', {
    config: { roles: DECIDERS },
    schema: {
      summary: 'Deny a step awaiting approval',
      tags: ['response'],
      params: IdParam,
      body: Type.Object({ reason: Type.String({ minLength: 1, maxLength: 2000 }) }, { additionalProperties: false }),
      response: responses(200, Type.Object({ decided: Type.Boolean(), action: ActionRunView }), [404, 409]),
    },
  }, async (request) => {
    const actor = actorOf(request);
    const outcome = await app.cordon.approvals.deny(request.params.id, { ...actor, role: actor.role! }, request.body.reason);
    return { decided: outcome.decided, action: actionRunView(outcome.run, outcome.approvals) };
  });
}
