import { InventorySpec } from './schema.js';

/** The published JSON Schema of the inventory, as written to `schemas/inventory.schema.json`. */
export function inventoryJsonSchema(): string {
  const schema = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://cordon.dev/schemas/inventory.schema.json',
    ...JSON.parse(JSON.stringify(InventorySpec)),
  };
  return `${JSON.stringify(schema, null, 2)}\n`;
}
