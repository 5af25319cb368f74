import { randomUUID } from 'node:crypto';
import type { TestApp } from './app.js';
import { seedExampleInventory } from './seed.js';
import { startTestApp } from './app.js';
import { openTestStore } from './store.js';
import type { StoreKind } from '../../src/store/db.js';
import { SYSTEM_ACTOR } from '../../src/domain/roles.js';
import type { IngestSummary } from '../../src/ingest/pipeline.js';

/** The API on a fresh store holding the example inventory (53 identities), fingerprinted with the app's own key. */
export async function startSeededApp(kind: StoreKind): Promise<TestApp> {
  const t = await startTestApp(await openTestStore(kind));
  await seedExampleInventory(t.context.db, t.context.fingerprint);
  return t;
}

/** A native event with a fresh id; `minutesAgo` sets its time. */
export function nativeEvent(fields: Record<string, unknown> & { minutesAgo?: number; at?: Date }): Record<string, unknown> {
  const { minutesAgo = 1, at, ...rest } = fields;
  return { id: randomUUID(), type: 'api.call', time: (at ?? new Date(Date.now() - minutesAgo * 60_000)).toISOString(), outcome: 'success', ...rest };
}

/** Ingests records through the pipeline as the API would, as NDJSON. */
export function ingestRecords(t: TestApp, records: unknown[]): Promise<IngestSummary> {
  return t.context.events.ingest(records.map((r) => JSON.stringify(r)).join('\n'), { channel: 'api' }, SYSTEM_ACTOR);
}

export async function detectionsOf(t: TestApp, type: string): Promise<{ identityId: string | null; confidence: string; severity: string; evidenceEventIds: string[]; attributes: Record<string, unknown> }[]> {
  return t.context.db.selectFrom('detections').select(['identityId', 'confidence', 'severity', 'evidenceEventIds', 'attributes']).where('type', '=', type).orderBy('detectedAt').execute();
}
