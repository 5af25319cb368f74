import Type, { type Static } from 'typebox';

/**
 * Where a rotated secret goes: the only place it exists in clear. A file (mode 0600, replaced
 * atomically) that the consumer reads, or a signed webhook to a secret store or deploy hook.
 */
export const DeliverySpec = Type.Union([
  Type.Object({ kind: Type.Literal('file'), path: Type.String({ minLength: 1, description: 'Absolute path, or relative to the delivery directory' }) }, { additionalProperties: false }),
  Type.Object({
    kind: Type.Literal('webhook'),
    url: Type.String({ format: 'uri' }),
    signingSecret: Type.String({ minLength: 1, description: 'env:NAME or file:PATH reference to the HMAC key' }),
  }, { additionalProperties: false }),
]);
export type DeliveryTarget = Static<typeof DeliverySpec>;
