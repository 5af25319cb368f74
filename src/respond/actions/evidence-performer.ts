import { check, verification } from '../../connectors/proof.js';
import type { ActionName } from '../../domain/action-run.js';
import { getDetection } from '../../detect/store.js';
import { appendEvidence, verifyEvidence } from '../../incidents/evidence.js';
import { blastRadius } from '../../inventory/blast-radius.js';
import type { IdentityGraph } from '../../inventory/graph-index.js';
import { identityDetail } from '../../inventory/identities.js';
import type { Db } from '../../store/db.js';
import type { Performer, RunTarget } from './performer.js';

/**
 * `snapshot_evidence`: the detection with its events, the identity as the graph shows it and
 * its blast radius, frozen as one item of the incident's evidence chain.
 */
export function evidencePerformer(deps: { db: Db; graph: IdentityGraph }): Performer {
  const itemId = (runId: string) => `snapshot:${runId}`;
  return {
    id: 'evidence',
    async bind(action: ActionName, run: RunTarget) {
      if (action !== 'snapshot_evidence') return undefined;
      return {
        async plan(params) {
          return {
            changes: [{ op: 'collect_evidence', object: run.identityId ? `identity ${run.identityId}` : 'the detection', detail: `detection and its events${run.identityId ? `, the identity, its blast radius to depth ${String(params.depth ?? 3)}` : ''}, hashed into the incident's evidence chain` }],
            reversible: false,
          };
        },
        async execute(context) {
          const detection = context.detectionId ? await getDetection(deps.db, context.detectionId) : null;
          const identity = run.identityId ? await identityDetail(deps.db, run.identityId) : null;
          const radius = run.identityId ? await blastRadius(deps.graph, { type: 'identity', id: run.identityId }, { depth: Number(context.params.depth ?? 3) }) : null;
          const item = await deps.db.transaction().execute((tx) => appendEvidence(tx, {
            id: itemId(context.runId), incidentId: context.incidentId, kind: 'snapshot',
            title: `Snapshot of ${run.label}`, ref: context.detectionId ? `detection:${context.detectionId}` : undefined,
            content: { detection, identity, blastRadius: radius }, collectedBy: context.actor.id,
          }));
          return { output: { evidenceId: item.id, hash: item.hash, contentDigest: item.contentDigest } };
        },
        async verify(context) {
          const stored = await deps.db.selectFrom('evidenceItems').select('hash').where('id', '=', itemId(context.runId)).executeTakeFirst();
          const chain = await verifyEvidence(deps.db, context.incidentId);
          return verification([
            check('evidence_stored', !!stored, stored ? `evidence ${itemId(context.runId)} hash ${stored.hash}` : 'no evidence item'),
            check('evidence_chain_intact', chain.ok, chain.ok ? `${chain.checked} item(s) of the incident's chain verified` : `chain broken at ${chain.firstBad?.id}: ${chain.firstBad?.reason}`),
          ]);
        },
      };
    },
  };
}
