import { foundation } from './0001_foundation.js';
import { ingestDetect } from './0002_ingest_detect.js';
import { broker } from './0003_broker.js';
import { policy } from './0004_policy.js';
import { response } from './0005_response.js';
import { incidents } from './0006_incidents.js';
import { graphChanges } from './0007_graph_changes.js';
import type { Migration } from './types.js';

/**
 * Every migration, in the order they apply. Append; never edit one that has shipped.
 * Numbers reserved for work in progress: 0008 response follow-ups, 0009 ingestion throughput.
 */
export const migrations: readonly Migration[] = [foundation, ingestDetect, broker, policy, response, incidents, graphChanges];
