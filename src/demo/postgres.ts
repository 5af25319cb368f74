import pg from 'pg';

/** The local PostgreSQL the example inventory's `pg-local` connector names. */
const ADMIN = { host: '127.0.0.1', port: 5432, database: 'test', user: 'postgres' };
/** Members must give their password (the rule `.ci/run` adds to pg_hba.conf); see docs/connectors.md. */
const PASSWORD_GROUP = 'cordon_password_auth';

export interface PostgresTarget {
  openSession(role: string, password: string): Promise<{ close(): Promise<void> }>;
  /** 'ok', or the SQLSTATE of the refusal. */
  login(role: string, password: string): Promise<string>;
}

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ ...ADMIN, connectionTimeoutMillis: 2000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function login(role: string, password: string): Promise<string> {
  const client = new pg.Client({ ...ADMIN, user: role, password, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    return 'ok';
  } catch (error) {
    return (error as { code?: string }).code ?? (error as Error).message;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Makes the demo's roles exist on the local PostgreSQL with the example inventory's passwords
 * (reset on every run), and checks the server verifies passwords for them, without which no
 * rotation can be proven. Undefined, with the reason, when the server cannot be used.
 */
export async function preparePostgres(roles: { name: string; password: string }[]): Promise<{ target?: PostgresTarget; reason?: string }> {
  try {
    await admin(async (client) => {
      await client.query(`do $$ begin create role ${PASSWORD_GROUP} nologin; exception when duplicate_object then null; end $$`);
      for (const role of roles) {
        const exists = (await client.query('select 1 from pg_roles where rolname = $1', [role.name])).rowCount;
        const name = client.escapeIdentifier(role.name);
        await client.query(`${exists ? 'alter' : 'create'} role ${name} login password ${client.escapeLiteral(role.password)}`);
        await client.query(`grant ${PASSWORD_GROUP} to ${name}`);
        await client.query(`select pg_terminate_backend(pid) from pg_stat_activity where usename = $1`, [role.name]);
      }
    });
  } catch (error) {
    return { reason: `PostgreSQL at ${ADMIN.host}:${ADMIN.port} cannot be used (${(error as Error).message})` };
  }
  const probe = await login(roles[0]!.name, `not-${roles[0]!.password}`);
  if (probe !== '28P01') {
    return { reason: `PostgreSQL at ${ADMIN.host}:${ADMIN.port} does not check passwords for ${PASSWORD_GROUP} members (no pg_hba.conf rule: run .ci/run once), so no rotation could be proven` };
  }
  return {
    target: {
      login,
      async openSession(role, password) {
        const client = new pg.Client({ ...ADMIN, user: role, password, application_name: 'payments-api (demo)' });
        let ended = false;
        client.on('error', () => undefined);
        // Cordon ends this session; a terminated connection is not ended again (the driver would wait for an 'end' already past).
        client.once('end', () => (ended = true));
        await client.connect();
        return { close: async () => (ended ? undefined : client.end().catch(() => undefined)) };
      },
    },
  };
}
