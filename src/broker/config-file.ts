import Type from 'typebox';
import { InvalidInputError, type Issue } from '../domain/errors.js';
import { validator } from '../domain/validation.js';
import { Receiver } from './caep.js';
import { issuerIssues, type TrustedIssuer } from './issuers/schema.js';

/** A file a platform team keeps in version control: the issuers the broker trusts and its CAEP receivers. */
export interface BrokerConfigSource {
  file: string;
  document: unknown;
  locate(path: string): string;
}

const Envelope = Type.Object({
  apiVersion: Type.Literal('cordon/v1'),
  kind: Type.Literal('BrokerConfig'),
  issuers: Type.Optional(Type.Array(Type.Unknown())),
  receivers: Type.Optional(Type.Array(Type.Unknown())),
}, { additionalProperties: false });
const envelope = validator(Envelope);
const receiver = validator(Receiver);

/**
 * Validates every file before anything is applied; errors name the file, line, path and field.
 * A receiver's `authorization` may be `env:NAME`, read from the environment here.
 */
export function planBrokerConfig(sources: BrokerConfigSource[], env: NodeJS.ProcessEnv = process.env): { issuers: TrustedIssuer[]; receivers: Receiver[] } {
  const issues: Issue[] = [];
  const issuers: TrustedIssuer[] = [];
  const receivers: Receiver[] = [];
  const at = (source: BrokerConfigSource, found: Issue[]) => issues.push(...found.map((i) => ({ ...i, source: source.locate(i.path) })));
  for (const source of sources) {
    const shape = envelope.issues(source.document);
    if (shape.length) {
      at(source, shape);
      continue;
    }
    const doc = source.document as { issuers?: unknown[]; receivers?: unknown[] };
    doc.issuers?.forEach((item, i) => {
      const found = issuerIssues(item, `/issuers/${i}`);
      if (found.length) at(source, found);
      else issuers.push(item as TrustedIssuer);
    });
    doc.receivers?.forEach((item, i) => {
      const found = receiver.issues(item).map((issue) => ({ ...issue, path: `/receivers/${i}${issue.path}` }));
      if (found.length) return at(source, found);
      const value = { ...(item as Receiver) };
      const reference = value.authorization && /^env:(.+)$/.exec(value.authorization);
      if (reference) {
        const resolved = env[reference[1]!];
        if (resolved === undefined) return at(source, [{ path: `/receivers/${i}/authorization`, message: `environment variable ${reference[1]} is not set` }]);
        value.authorization = resolved;
      }
      receivers.push(value);
    });
  }
  for (const [kind, ids] of [['issuer', issuers.map((x) => x.id)], ['receiver', receivers.map((x) => x.id)]] as const) {
    const dup = ids.find((id, i) => ids.indexOf(id) !== i);
    if (dup) issues.push({ path: '', message: `${kind} "${dup}" is defined more than once` });
  }
  if (issues.length) throw new InvalidInputError('ERR_BROKER_CONFIG_INVALID', `broker configuration is invalid: ${issues.length} problem(s)`, issues);
  return { issuers, receivers };
}
