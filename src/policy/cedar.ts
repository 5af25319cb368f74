/**
 * The one place that loads Cedar's WebAssembly build (`/nodejs` entry, synchronous). Everything
 * else in `policy/` imports the functions and types from here, so the binding can change in one
 * file.
 */
import { setFlagsFromString } from 'node:v8';
import cedar from '@cedar-policy/cedar-wasm/nodejs';

// Node 20's V8 crashes the process ("Fatal error: unreachable code" in the deoptimizer) when a
// function that TurboFan optimized with a Cedar call inlined is deoptimized lazily during that
// call; loading 10,000 policies does it reliably. Not inlining JS→Wasm calls avoids it.
setFlagsFromString('--no-turbo-inline-js-wasm-calls');

export type {
  AuthorizationAnswer, CedarValueJson, DetailedError, EntityJson, EntityUidJson, Expr, PolicyJson, SchemaJson,
  SourceLocation, TypeAndId, ValidationAnswer,
} from '@cedar-policy/cedar-wasm/nodejs';

export const {
  checkParseEntities, checkParseSchema, getCedarVersion, isAuthorized, policySetTextToParts,
  policyToJson, preparsePolicySet, schemaToJsonWithResolvedTypes, statefulIsAuthorized, validate,
} = cedar;
