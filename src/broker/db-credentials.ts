import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type pg from 'pg';
import { appendAudit } from '../audit/service.js';
import { connectAdmin } from '../connectors/postgres/client.js';
import { PostgresParams } from '../connectors/postgres/params.js';
import { resolveSecretParams } from '../connectors/secret-params.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../domain/errors.js';
import type { Actor } from '../domain/roles.js';
import { validator } from '../domain/validation.js';
import type { Fingerprinter } from '../secrets/fingerprint.js';
import type { Sealer } from '../secrets/sealed.js';
import type { Db } from '../store/db.js';
import { enqueueJob, type Job } from '../store/jobs.js';
import type { CaepTransmitter, EventReason } from './caep.js';
import type { TaskInfo } from './tasks.js';

export const DROP_DB_CREDENTIAL_JOB = 'broker.db-credential.drop';

export interface IssuedDbCredential {
  id: string;
  connector: string;
  host: string;
  port: number;
  database: string;
  username: string;
  /** Shown once, in the answer to the workload; only its fingerprint is stored. */
  password: string;
  memberOf: string[];
  validUntil: Date;
}

const params = validator(PostgresParams);

/**
 * Dynamic PostgreSQL credentials: a login role made for one task, a member of the roles the task's
 * identity may use on that server (its own role there, and the roles of identities it `trusts`),
 * with `VALID UNTIL` the task's end. The password goes to the workload once; Cordon keeps its
 * keyed fingerprint, as a credential of the identity in the graph. The role is dropped when the
 * task ends, or at expiry by a job any worker may run.
 */
export function dbCredentialService(deps: {
  db: Db;
  sealer: Pick<Sealer, 'open'>;
  fingerprint: Fingerprinter;
  caep: Pick<CaepTransmitter, 'queueCredentialChange'>;
  onQueued?: () => void;
  now: () => number;
}) {
  async function connect(connectorId: string): Promise<{ client: pg.Client; params: PostgresParams }> {
    const connector = await deps.db.selectFrom('connectors').selectAll().where('id', '=', connectorId).executeTakeFirst();
    if (!connector) throw new NotFoundError('ERR_CONNECTOR_NOT_FOUND', `connector "${connectorId}" does not exist`);
    if (connector.type !== 'postgres') throw new ConflictError('ERR_BROKER_DB_CONNECTOR', `connector "${connectorId}" is ${connector.type}, not postgres`);
    const resolved = params.parse(await resolveSecretParams(PostgresParams, connector.params, deps.sealer), 'ERR_CONNECTOR_PARAMS', `connector "${connectorId}" params`);
    return { client: await connectAdmin(resolved), params: resolved };
  }

  /** Roles the task's identity may take on the connector's server, by role name. */
  async function allowedRoles(identityId: string, connectorId: string): Promise<string[]> {
    const rows = await deps.db.selectFrom('identities').select('externalRef')
      .where('connectorId', '=', connectorId).where('provider', '=', 'postgres').where('externalRef', 'is not', null)
      .where('status', '=', 'active')
      .where((eb) => eb.or([
        eb('id', '=', identityId),
        eb('id', 'in', eb.selectFrom('edges').select('toId').where('kind', '=', 'trusts').where('fromId', '=', identityId)),
      ]))
      .orderBy('externalRef').execute();
    return rows.map((r) => r.externalRef!);
  }

  async function issue(task: TaskInfo, input: { connector: string; roles?: string[] }, actor: Actor): Promise<IssuedDbCredential> {
    if (task.status !== 'active' || task.expiresAt.getTime() <= deps.now()) {
      throw new ConflictError('ERR_BROKER_TASK_OVER', `task "${task.id}" is ${task.status === 'active' ? 'expired' : task.status}`);
    }
    const allowed = await allowedRoles(task.identityId, input.connector);
    const memberOf = input.roles ?? allowed;
    const refused = memberOf.filter((r) => !allowed.includes(r));
    if (memberOf.length === 0 || refused.length) {
      throw new ForbiddenError('ERR_BROKER_DB_ROLE_NOT_ALLOWED', refused.length
        ? `identity ${task.identityId} may not take role(s) ${refused.join(', ')} on ${input.connector} (allowed: ${allowed.join(', ') || 'none'})`
        : `identity ${task.identityId} has no role it may take on ${input.connector}: it is not a role there and trusts none`);
    }
    const roleName = `cordon_${task.id.replace(/-/g, '').slice(0, 12)}_${randomBytes(5).toString('hex')}`;
    const password = randomBytes(24).toString('base64url');
    const validUntil = task.expiresAt;
    const { client, params: server } = await connect(input.connector);
    try {
      await client.query(`create role ${client.escapeIdentifier(roleName)} login password ${client.escapeLiteral(password)} valid until ${client.escapeLiteral(validUntil.toISOString())} in role ${memberOf.map((r) => client.escapeIdentifier(r)).join(', ')}`);
    } finally {
      await client.end().catch(() => undefined);
    }
    const id = randomUUID();
    const credentialId = `dyn-${id}`;
    try {
      await deps.db.transaction().execute(async (tx) => {
        await tx.insertInto('credentials').values({
          id: credentialId, identityId: task.identityId, name: `postgres:${input.connector}:${roleName}`, type: 'password',
          fingerprint: deps.fingerprint(password), externalRef: roleName, status: 'active', createdAt: new Date(deps.now()), expiresAt: validUntil,
        }).execute();
        await tx.insertInto('brokerDbCredentials').values({
          id, taskId: task.id, identityId: task.identityId, credentialId, connectorId: input.connector, roleName, memberOf, validUntil, status: 'active',
        }).execute();
        await enqueueJob(tx, { kind: DROP_DB_CREDENTIAL_JOB, payload: { id, reason: 'expired' }, createdBy: actor.id, runAfter: validUntil, maxAttempts: 10 });
        await appendAudit(tx, actor, {
          action: 'broker.db_credential.issued', subject: `credential:${credentialId}`,
          payload: { task: task.id, identity: task.identityId, connector: input.connector, role: roleName, memberOf, validUntil: validUntil.toISOString() },
        });
        await deps.caep.queueCredentialChange(tx, { identityId: task.identityId, credentialId, name: roleName, changeType: 'create' }, { initiatingEntity: 'system', reason: `dynamic credential for task ${task.id}` }, actor);
      });
    } catch (error) {
      await dropRole(input.connector, roleName).catch(() => undefined);
      throw error;
    }
    deps.onQueued?.();
    return { id, connector: input.connector, host: server.host, port: server.port, database: server.database, username: roleName, password, memberOf, validUntil };
  }

  async function dropRole(connectorId: string, roleName: string): Promise<void> {
    const { client } = await connect(connectorId);
    try {
      const role = client.escapeIdentifier(roleName);
      const exists = await client.query('select 1 from pg_roles where rolname = $1', [roleName]);
      if (exists.rowCount === 0) return;
      await client.query('select pg_terminate_backend(pid) from pg_stat_activity where usename = $1', [roleName]);
      // Whatever it created stays, owned by the connector's account; its grants go with it.
      await client.query(`reassign owned by ${role} to current_user`);
      await client.query(`drop owned by ${role}`);
      await client.query(`drop role if exists ${role}`);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  /** Drops the role (idempotent) and records it; false when it was already dropped. */
  async function drop(id: string, actor: Actor, why: EventReason, changeType: 'revoke' | 'delete'): Promise<boolean> {
    const row = await deps.db.selectFrom('brokerDbCredentials').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new NotFoundError('ERR_BROKER_DB_CREDENTIAL_NOT_FOUND', `dynamic credential "${id}" does not exist`);
    if (row.status !== 'active') return false;
    await dropRole(row.connectorId, row.roleName);
    const dropped = await deps.db.transaction().execute(async (tx) => {
      const updated = await tx.updateTable('brokerDbCredentials').set({ status: 'dropped', droppedAt: sql`now()` as never })
        .where('id', '=', id).where('status', '=', 'active').returning('id').executeTakeFirst();
      if (!updated) return false;
      await tx.updateTable('credentials').set({ status: 'revoked', updatedAt: sql`now()` as never }).where('id', '=', row.credentialId).execute();
      await appendAudit(tx, actor, { action: 'broker.db_credential.dropped', subject: `credential:${row.credentialId}`, payload: { task: row.taskId, role: row.roleName, reason: why.reason } });
      await deps.caep.queueCredentialChange(tx, { identityId: row.identityId, credentialId: row.credentialId, name: row.roleName, changeType }, why, actor);
      return true;
    });
    if (dropped) deps.onQueued?.();
    return dropped;
  }

  return {
    issue,
    drop,
    /**
     * Drops every live credential of an ended task now. One whose server cannot be reached is
     * left to a queued job, which retries with backoff; its `VALID UNTIL` stops logins meanwhile.
     */
    async dropForTask(taskId: string, actor: Actor, why: EventReason): Promise<{ dropped: string[]; pending: string[] }> {
      const rows = await deps.db.selectFrom('brokerDbCredentials').select(['id', 'roleName']).where('taskId', '=', taskId).where('status', '=', 'active').execute();
      const result = { dropped: [] as string[], pending: [] as string[] };
      for (const row of rows) {
        try {
          await drop(row.id, actor, why, 'revoke');
          result.dropped.push(row.roleName);
        } catch {
          await enqueueJob(deps.db, { kind: DROP_DB_CREDENTIAL_JOB, payload: { id: row.id, reason: why.reason }, createdBy: actor.id, maxAttempts: 10 });
          deps.onQueued?.();
          result.pending.push(row.roleName);
        }
      }
      return result;
    },
    jobHandlers: {
      [DROP_DB_CREDENTIAL_JOB]: async (job: Job) => {
        const { id, reason } = job.payload as { id: string; reason: string };
        const dropped = await drop(id, { id: 'system:broker', subject: 'broker' }, { initiatingEntity: 'system', reason }, reason === 'expired' ? 'delete' : 'revoke');
        return { id, dropped };
      },
    },
  };
}

export type DbCredentialService = ReturnType<typeof dbCredentialService>;
