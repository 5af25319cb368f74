import { createLocalJWKSet, jwtVerify, type JWTPayload } from 'jose';
import type { ApiRole } from '../../src/domain/roles.js';
import type { TestApp } from './app.js';

export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const JWT_TYPE = 'urn:ietf:params:oauth:token-type:jwt';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** POSTs a form-encoded body (repeat a parameter by giving an array) with a role's API token. */
export async function postForm(t: TestApp, url: string, params: Record<string, string | string[] | undefined>, role: ApiRole | null = 'workload') {
  const body = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue;
    for (const v of [value].flat()) body.append(key, v);
  }
  return t.app.inject({
    method: 'POST', url, payload: body.toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(role ? t.auth(role) : {}) },
  });
}

/** Exchanges a workload (or Cordon) token; extra parameters as the RFC names them. */
export function exchange(t: TestApp, subjectToken: string, extra: Record<string, string | string[] | undefined> = {}, role: ApiRole | null = 'workload') {
  return postForm(t, '/oauth2/token', {
    grant_type: TOKEN_EXCHANGE, subject_token: subjectToken, subject_token_type: extra.subject_token_type ?? JWT_TYPE, ...extra,
  }, role);
}

/** Exchanges and returns the access token, failing loudly when the exchange is refused. */
export async function accessToken(t: TestApp, subjectToken: string, extra: Record<string, string | string[] | undefined> = {}): Promise<string> {
  const res = await exchange(t, subjectToken, extra);
  if (res.statusCode !== 200) throw new Error(`exchange refused: ${res.statusCode} ${res.body}`);
  return res.json().access_token as string;
}

export async function introspect(t: TestApp, token: string): Promise<Record<string, unknown> & { active: boolean }> {
  const res = await postForm(t, '/oauth2/introspect', { token });
  if (res.statusCode !== 200) throw new Error(`introspection failed: ${res.statusCode} ${res.body}`);
  return res.json();
}

/** Verifies a token against the JWKS the API publishes, as a relying party would. */
export async function verifyWithJwks(t: TestApp, token: string, options: { typ?: string } = {}): Promise<{ payload: JWTPayload; header: Record<string, unknown> }> {
  const res = await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
  const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(res.json()), { issuer: t.context.broker.settings.issuer, ...options });
  return { payload, header: protectedHeader as Record<string, unknown> };
}

/**
 * Trusts a workload issuer. These tests are about the broker, and exchanges are denied unless a
 * policy permits them: the shipped policies are replaced by one permitting every exchange
 * (test/broker/policy.test.ts shows the shipped policies and others deciding).
 */
export async function trustIssuer(t: TestApp, config: Record<string, unknown> & { id: string }): Promise<void> {
  const res = await t.app.inject({ method: 'PUT', url: `/v1/broker/issuers/${config.id}`, headers: t.auth('admin'), payload: config });
  if (res.statusCode !== 200) throw new Error(`issuer refused: ${res.statusCode} ${res.body}`);
  const { input } = await t.context.policies.current();
  if (input.policies.length === 1 && input.policies[0]!.name === PERMIT_EXCHANGES.name) return;
  await t.context.policies.load({ ...input, policies: [PERMIT_EXCHANGES] }, { id: 'test', subject: 'test' });
}

const PERMIT_EXCHANGES = { name: 'test-permit-exchanges.cedar', text: '@id("test.permit-exchanges")\npermit (principal, action == Cordon::Action::"token.exchange", resource);' };

/** Serves the current policy set plus one more document (replacing one of the same name). */
export async function addPolicy(t: TestApp, name: string, text: string): Promise<void> {
  const { input } = await t.context.policies.current();
  const policies = [...input.policies.filter((p) => p.name !== name), { name, text }];
  await t.context.policies.load({ ...input, policies }, { id: 'test', subject: 'test' });
}
