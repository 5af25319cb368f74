// Regenerates the published JSON Schemas from their TypeBox sources: `npm run schemas`.
import { writeFileSync } from 'node:fs';
import { inventoryJsonSchema } from '../src/inventory/json-schema.js';
import { playbookJsonSchema } from '../src/respond/playbooks/json-schema.js';

writeFileSync(new URL('../schemas/inventory.schema.json', import.meta.url), inventoryJsonSchema());
writeFileSync(new URL('../schemas/playbook.schema.json', import.meta.url), playbookJsonSchema());
