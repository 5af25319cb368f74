/**
 * Token vocabulary of the broker (RFC 8693, RFC 9068, RFC 7662): token type URIs, the claims of a
 * Cordon access token, and the pure rules on scopes, audiences and actor chains.
 */
export const GRANT_TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const TOKEN_TYPE_ACCESS = 'urn:ietf:params:oauth:token-type:access_token';
export const TOKEN_TYPE_JWT = 'urn:ietf:params:oauth:token-type:jwt';
export const TOKEN_TYPE_ID = 'urn:ietf:params:oauth:token-type:id_token';
export const SUBJECT_TOKEN_TYPES = [TOKEN_TYPE_ACCESS, TOKEN_TYPE_JWT, TOKEN_TYPE_ID] as const;
export const ISSUED_TOKEN_TYPES = [TOKEN_TYPE_ACCESS, TOKEN_TYPE_JWT] as const;

/** The `typ` header of Cordon access tokens (RFC 9068). */
export const ACCESS_TOKEN_TYP = 'at+jwt';
export const SIGNING_ALG = 'EdDSA';

/** RFC 8693 §4.1: the current actor, with the actors before it nested inside. */
export interface ActClaim {
  sub: string;
  act?: ActClaim;
}

export interface CordonTokenClaims {
  iss: string;
  /** The identity the token represents (whom the actors act for). */
  sub: string;
  aud: string[];
  exp: number;
  iat: number;
  nbf: number;
  jti: string;
  /** Space-delimited scopes (RFC 8693 §4.2). */
  scope: string;
  /** The API client that asked for it (RFC 9068 §2.2). */
  client_id: string;
  act?: ActClaim;
  /** The task the token is bound to; ending the task revokes it. */
  task_id?: string;
  /** jtis of the tokens this one was derived from, nearest first: revoking any revokes this one. */
  derived_from: string[];
}

export function parseScope(scope: string | undefined): string[] {
  if (!scope) return [];
  return [...new Set(scope.split(' ').filter((s) => s.length > 0))].sort();
}

export function formatScope(scopes: readonly string[]): string {
  return [...scopes].sort().join(' ');
}

/** Actors of a chain, the current one first. */
export function actorsOf(act: ActClaim | undefined): string[] {
  const actors: string[] = [];
  for (let a = act; a; a = a.act) actors.push(a.sub);
  return actors;
}

/** The identity that holds a token: its current actor, or its subject when nobody acts for it. */
export function holderOf(claims: Pick<CordonTokenClaims, 'sub' | 'act'>): string {
  return claims.act?.sub ?? claims.sub;
}

/** Every identity a token speaks for: its subject and each actor of its chain. */
export function identitiesOf(claims: Pick<CordonTokenClaims, 'sub' | 'act'>): string[] {
  return [claims.sub, ...actorsOf(claims.act)];
}

export function notWithin(requested: readonly string[], allowed: readonly string[]): string[] {
  const set = new Set(allowed);
  return requested.filter((r) => !set.has(r));
}
