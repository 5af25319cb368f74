// Regenerates the published JSON Schemas from their TypeBox sources: `npm run schemas`.
import { writeFileSync } from 'node:fs';
import { inventoryJsonSchema } from '../src/inventory/json-schema.js';

writeFileSync(new URL('../schemas/inventory.schema.json', import.meta.url), inventoryJsonSchema());
