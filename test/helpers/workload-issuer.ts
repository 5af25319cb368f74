import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';

/**
 * A workload token issuer on localhost with its own keys, like GitHub Actions' OIDC provider or a
 * Kubernetes API server: it serves its JWKS over HTTP and signs the tokens a test asks for.
 */
export interface WorkloadIssuer {
  issuer: string;
  jwksUri: string;
  /** How many times its JWKS was fetched. */
  jwksFetches(): number;
  sign(claims: JWTPayload, options?: { expiresInSeconds?: number; issuedAgoSeconds?: number; header?: Record<string, unknown>; key?: 'own' | 'stranger' }): Promise<string>;
  close(): Promise<void>;
}

export async function startWorkloadIssuer(alg: 'RS256' | 'ES256' | 'EdDSA' = 'RS256', path = ''): Promise<WorkloadIssuer> {
  const own = await generateKeyPair(alg, { extractable: true });
  const stranger = await generateKeyPair(alg, { extractable: true });
  const kid = `test-${alg.toLowerCase()}`;
  const jwks = { keys: [{ ...(await exportJWK(own.publicKey)), kid, alg, use: 'sig' }] };
  let fetches = 0;
  let base = '';
  const server: Server = createServer((request, response) => {
    if (request.url === `${path}/.well-known/jwks`) {
      fetches++;
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
    } else if (request.url === `${path}/.well-known/openid-configuration`) {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer: `${base}${path}`, jwks_uri: `${base}${path}/.well-known/jwks` }));
    } else {
      response.writeHead(404).end();
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = `${base}${path}`;
  return {
    issuer,
    jwksUri: `${issuer}/.well-known/jwks`,
    jwksFetches: () => fetches,
    async sign(claims, options = {}) {
      const now = Math.floor(Date.now() / 1000) - (options.issuedAgoSeconds ?? 0);
      const key: CryptoKey = options.key === 'stranger' ? stranger.privateKey : own.privateKey;
      return new SignJWT({ iss: issuer, iat: now, nbf: now, exp: now + (options.expiresInSeconds ?? 600), ...claims })
        .setProtectedHeader({ alg, kid, typ: 'JWT', ...options.header })
        .sign(key);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Claims GitHub Actions puts in an OIDC token for a job in `repo` on `ref` (its documented shape). */
export function githubActionsClaims(repo: string, context: string, extra: JWTPayload = {}): JWTPayload {
  const [owner] = repo.split('/');
  return {
    sub: `repo:${repo}:${context}`, repository: repo, repository_owner: owner, ref: 'refs/heads/main',
    workflow: 'deploy', event_name: 'push', runner_environment: 'github-hosted', ...extra,
  };
}

/** Claims of a Kubernetes projected service-account token. */
export function kubernetesClaims(namespace: string, serviceAccount: string, extra: JWTPayload = {}): JWTPayload {
  return {
    sub: `system:serviceaccount:${namespace}:${serviceAccount}`,
    'kubernetes.io': { namespace, serviceaccount: { name: serviceAccount, uid: '8f6c2d0e-0000-4000-8000-000000000001' }, pod: { name: `${serviceAccount}-7d9f`, uid: '8f6c2d0e-0000-4000-8000-000000000002' } },
    ...extra,
  };
}
