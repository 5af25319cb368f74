import { sql } from 'kysely';
import { appendAudit } from '../../audit/service.js';
import { NotFoundError } from '../../domain/errors.js';
import type { Actor } from '../../domain/roles.js';
import type { Db, Tx } from '../../store/db.js';
import { compilePlaybook, loadPlaybookDir, playbookFromText, type Playbook } from './load.js';

export interface StoredPlaybook extends Playbook {
  version: number;
  origin: string;
  createdAt: Date;
}

export interface PlaybookVersionInfo {
  id: string;
  version: number;
  digest: string;
  title: string;
  origin: string;
  createdBy: string;
  createdAt: Date;
}

/** Who stores the versions read from the playbook directory. */
const FILES_ACTOR: Actor = { id: 'system:playbooks', subject: 'system' };

/** Versions are numbered per playbook; writers of one playbook take turns. */
async function storeVersion(tx: Tx, playbook: Playbook, origin: 'files' | 'api', actor: Actor): Promise<number> {
  await sql`select pg_advisory_xact_lock(hashtext(${`playbook:${playbook.id}`}))`.execute(tx);
  const latest = await tx.selectFrom('playbookVersions').select(['version', 'digest']).where('id', '=', playbook.id)
    .orderBy('version', 'desc').limit(1).executeTakeFirst();
  if (latest?.digest === playbook.digest) return latest.version;
  const version = (latest?.version ?? 0) + 1;
  await tx.insertInto('playbookVersions').values({
    id: playbook.id, version, digest: playbook.digest, title: playbook.title, origin,
    document: JSON.stringify(playbook.document), createdBy: actor.id,
  }).execute();
  await appendAudit(tx, actor, { action: 'playbook.versioned', subject: `playbook:${playbook.id}`, payload: { version, digest: playbook.digest, origin } });
  return version;
}

/**
 * Playbooks as stored versions. The directory's files are loaded on start: a file whose content
 * changed since the version last loaded from files becomes the next version. A playbook given over
 * the API becomes the next version too. The latest version of each playbook is the one in force;
 * an action run names the version it came from.
 */
export function playbookCatalog(deps: { db: Db; dir: string }) {
  let cache: { stamp: string; playbooks: StoredPlaybook[] } | undefined;
  let loading: Promise<void> | undefined;

  async function loadFiles(): Promise<void> {
    const actor = FILES_ACTOR;
    const playbooks = await loadPlaybookDir(deps.dir);
    await deps.db.transaction().execute(async (tx) => {
      for (const playbook of playbooks) {
        const fromFiles = await tx.selectFrom('playbookVersions').select('digest').where('id', '=', playbook.id).where('origin', '=', 'files')
          .orderBy('version', 'desc').limit(1).executeTakeFirst();
        if (fromFiles?.digest !== playbook.digest) await storeVersion(tx, playbook, 'files', actor);
      }
    });
  }

  /** Loads the directory once per process (later calls wait for the first; a failure is tried again). */
  function ready(): Promise<void> {
    loading ??= loadFiles().catch((error) => {
      loading = undefined;
      throw error;
    });
    return loading;
  }

  /** The latest version of every playbook, re-read only when the store has a version this process has not seen. */
  async function active(): Promise<StoredPlaybook[]> {
    await ready();
    const { stamp } = await deps.db.selectFrom('playbookVersions')
      .select(sql<string>`count(*)::text || ':' || coalesce(max(created_at)::text, '')`.as('stamp')).executeTakeFirstOrThrow();
    if (cache?.stamp === stamp) return cache.playbooks;
    const rows = await deps.db.selectFrom('playbookVersions').selectAll()
      .where(({ eb, selectFrom }) => eb('version', '=', selectFrom('playbookVersions as v').select(sql<number>`max(v.version)`.as('m')).whereRef('v.id', '=', 'playbookVersions.id')))
      .orderBy('id').execute();
    const playbooks: StoredPlaybook[] = [];
    for (const row of rows) {
      const compiled = compilePlaybook(row.document);
      // A stored version always compiled when it was stored; it would stop only if the schema changed.
      if (!Array.isArray(compiled)) playbooks.push({ ...compiled, version: row.version, origin: row.origin, createdAt: row.createdAt });
    }
    cache = { stamp, playbooks };
    return playbooks;
  }

  return {
    ready,
    active,
    async get(id: string, version?: number): Promise<StoredPlaybook> {
      await ready();
      const row = await deps.db.selectFrom('playbookVersions').selectAll().where('id', '=', id)
        .$if(version !== undefined, (q) => q.where('version', '=', version!))
        .orderBy('version', 'desc').limit(1).executeTakeFirst();
      if (!row) throw new NotFoundError('ERR_PLAYBOOK_NOT_FOUND', `playbook "${id}"${version !== undefined ? ` version ${version}` : ''} does not exist`);
      const compiled = compilePlaybook(row.document);
      if (Array.isArray(compiled)) throw new NotFoundError('ERR_PLAYBOOK_NOT_FOUND', `playbook "${id}" version ${row.version} no longer compiles`);
      return { ...compiled, version: row.version, origin: row.origin, createdAt: row.createdAt };
    },
    async versions(id: string): Promise<PlaybookVersionInfo[]> {
      await ready();
      return deps.db.selectFrom('playbookVersions').select(['id', 'version', 'digest', 'title', 'origin', 'createdBy', 'createdAt'])
        .where('id', '=', id).orderBy('version', 'desc').execute();
    },
    /** Stores a playbook given as YAML or JSON text as its next version (none if unchanged). */
    async put(text: string, actor: Actor): Promise<{ id: string; version: number; created: boolean }> {
      await ready();
      const playbook = playbookFromText(text, 'request body');
      return deps.db.transaction().execute(async (tx) => {
        const before = await tx.selectFrom('playbookVersions').select(sql<number>`max(version)`.as('v')).where('id', '=', playbook.id).executeTakeFirst();
        const version = await storeVersion(tx, playbook, 'api', actor);
        return { id: playbook.id, version, created: version !== (before?.v ?? 0) };
      });
    },
  };
}

export type PlaybookCatalog = ReturnType<typeof playbookCatalog>;
