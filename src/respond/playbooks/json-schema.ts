import { PlaybookSpec } from './schema.js';

/** The published JSON Schema of a playbook, as written to `schemas/playbook.schema.json`. */
export function playbookJsonSchema(): string {
  const schema = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://cordon.dev/schemas/playbook.schema.json',
    ...JSON.parse(JSON.stringify(PlaybookSpec)),
  };
  return `${JSON.stringify(schema, null, 2)}\n`;
}
