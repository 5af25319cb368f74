import { foundation } from './0001_foundation.js';
import { ingestDetect } from './0002_ingest_detect.js';
import { broker } from './0003_broker.js';
import { policy } from './0004_policy.js';
import { graphChanges } from './0007_graph_changes.js';
import type { Migration } from './types.js';

/**
 * Every migration, in the order they apply. Append; never edit one that has shipped.
 * Numbers reserved for work in progress: 0002 ingestion and detection, 0003 broker,
 * 0004 policy, 0005 response, 0006 incidents.
 */
export const migrations: readonly Migration[] = [foundation, ingestDetect, broker, policy, graphChanges];
