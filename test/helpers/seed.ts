import { inventoryImporter } from '../../src/inventory/import.js';
import { readInventorySources } from '../../src/inventory/source.js';
import { fingerprinter, type Fingerprinter } from '../../src/secrets/fingerprint.js';
import { sealer } from '../../src/secrets/sealed.js';
import type { Db } from '../../src/store/db.js';
import { EXAMPLE_INVENTORY } from './examples.js';

export const TEST_FINGERPRINT: Fingerprinter = fingerprinter(new Uint8Array(32).fill(7));

/** Imports the example inventory into a store, as the CLI would. */
export async function seedExampleInventory(db: Db, fingerprint: Fingerprinter = TEST_FINGERPRINT): Promise<void> {
  await inventoryImporter({ db, fingerprint, sealer: sealer(new Uint8Array(32).fill(9)) })
    .importSources(await readInventorySources([EXAMPLE_INVENTORY]), { id: 'test', subject: 'seed' });
}
