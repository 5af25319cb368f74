import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { baselineStore } from '../../src/detect/baselines.js';
import { detectionEngine } from '../../src/detect/engine.js';
import { DETECTION_RESPOND_JOB } from '../../src/detect/handoff.js';
import { SYSTEM_ACTOR } from '../../src/domain/roles.js';
import { ingestService } from '../../src/ingest/pipeline.js';
import { identityResolver } from '../../src/ingest/resolve.js';
import type { TestApp } from '../helpers/app.js';
import { detectionsOf, ingestRecords, nativeEvent, startSeededApp } from '../helpers/events.js';
import { STORE_KINDS, storeSkip } from '../helpers/store.js';
import { gitleaksReport } from '../ingest/fixtures.js';

for (const kind of STORE_KINDS) {
  describe(`baselines and the hand-off to response on ${kind}`, { skip: await storeSkip(kind) }, () => {
    let t: TestApp;
    before(async () => {
      t = await startSeededApp(kind);
    });
    after(() => t?.close());

    /** A second process's view: fresh memory, same store. */
    function restarted() {
      const detection = detectionEngine({ rules: [] });
      const ingest = ingestService({
        db: t.context.db, fingerprint: t.context.fingerprint, sealer: { seal: async (s) => `sealed:${s.length}` },
        resolver: identityResolver(t.context.db), detection,
      });
      return { detection, ingest };
    }

    test('a baseline learned from events is persisted and used after a restart', async () => {
      await ingestRecords(t, Array.from({ length: 25 }, (_, i) => nativeEvent({ identity: { id: 'svc-model-trainer' }, asn: 64600, geo: 'IE', minutesAgo: 100 - i })));
      await t.context.detection.flush(t.context.db);
      const row = await t.context.db.selectFrom('baselines').select(['observations', 'state']).where('identityId', '=', 'svc-model-trainer').executeTakeFirstOrThrow();
      assert.equal(Number(row.observations), 25);
      const { ingest } = restarted();
      await ingest.ingest(JSON.stringify(nativeEvent({ identity: { id: 'svc-model-trainer' }, asn: 64600, geo: 'IE' })), { channel: 'api' }, SYSTEM_ACTOR);
      assert.deepEqual(await detectionsOf(t, 'new_source'), [], 'a known source after restart');
      await ingest.ingest(JSON.stringify(nativeEvent({ identity: { id: 'svc-model-trainer' }, asn: 65100, geo: 'CN' })), { channel: 'api' }, SYSTEM_ACTOR);
      assert.equal((await detectionsOf(t, 'new_source')).filter((d) => d.identityId === 'svc-model-trainer').length, 1, 'a new source after restart');
    });

    test('a baseline keeps a bounded number of sources however many it sees', async () => {
      await ingestRecords(t, Array.from({ length: 200 }, (_, i) => nativeEvent({ identity: { id: 'wl-agent-runtime' }, asn: 70000 + i, minutesAgo: 300 - i })));
      await t.context.detection.flush(t.context.db);
      const row = await t.context.db.selectFrom('baselines').select('state').where('identityId', '=', 'wl-agent-runtime').executeTakeFirstOrThrow();
      const sources = Object.keys((row.state as { sources: Record<string, number> }).sources);
      assert.ok(sources.length <= 64, `${sources.length} sources kept`);
      assert.ok(sources.includes('asn:70199'), 'the newest source is kept');
    });

    test('the baseline cache holds at most its bound of identities', async () => {
      const store = baselineStore({ max: 5 });
      const identities = await t.context.db.selectFrom('identities').select(['id', 'lastUsedAt']).limit(20).execute();
      await store.load(t.context.db, identities.map((i) => ({ ...i, name: i.id, externalRef: null, kind: '', provider: '', environment: '', status: 'active', criticality: 'low', tags: [], schedule: null, watchedUntil: null })));
      assert.equal(store.size(), 5);
    });

    test('a stored detection queues one detection.respond job with its id and requester, in the same transaction, and wakes the worker', async () => {
      const queued = once(t.context.jobSignal, 'queued');
      await ingestRecords(t, gitleaksReport('demo-Pg-breakglass-Xx99'));
      await queued;
      const [detection] = await t.context.db.selectFrom('detections').select(['id', 'identityId']).where('identityId', '=', 'svc-breakglass-db').execute();
      assert.ok(detection);
      const jobs = await t.context.db.selectFrom('jobs').select(['kind', 'payload', 'status']).where('kind', '=', DETECTION_RESPOND_JOB).execute();
      // ingestRecords sends as the system actor: the request is the system's.
      assert.deepEqual(jobs.filter((j) => (j.payload as { detectionId: string }).detectionId === detection.id),
        [{ kind: 'detection.respond', payload: { detectionId: detection.id, requestedBy: { id: 'system', subject: 'system' } }, status: 'queued' }]);
      const audit = await t.context.db.selectFrom('auditLog').select(['actor', 'payload']).where('subject', '=', `detection:${detection.id}`).execute();
      assert.equal(audit.length, 1);
      assert.equal((audit[0]!.payload as { type: string }).type, 'secret_exposure');
      assert.equal(DETECTION_RESPOND_JOB, 'detection.respond');
    });
  });
}
