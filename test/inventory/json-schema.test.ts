import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { inventoryJsonSchema } from '../../src/inventory/json-schema.js';

test('the committed inventory JSON Schema matches the one the code validates with (npm run schemas)', () => {
  const committed = readFileSync(new URL('../../schemas/inventory.schema.json', import.meta.url), 'utf8');
  assert.equal(committed, inventoryJsonSchema());
});
