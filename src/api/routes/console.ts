import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import { UnavailableError } from '../../domain/errors.js';
import type { Api } from '../server.js';

/** Where `npm ci` and `npm start` put the production build of `web/` (see `web/build.ts`). */
export const CONSOLE_DIST = fileURLToPath(new URL('../../../web/dist/', import.meta.url));

/** Paths of the API itself: an unknown one stays a problem+json 404 rather than the console's page. */
const API_PATHS = [/^\/v1(\/|$)/, /^\/oauth2(\/|$)/, /^\/\.well-known(\/|$)/, /^\/healthz$/, /^\/openapi\.json$/, /^\/metrics$/];

const ASSETS = '/assets/';
/** File names under assets/ carry a content hash (Vite's `[name]-[hash]`): a change is a new URL. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * Everything the console loads comes from this origin; no inline script or style, no framing.
 * Data comes from the API on the same origin, with the bearer token the user signed in with.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self'", "font-src 'self'", "connect-src 'self'",
  "manifest-src 'self'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
].join('; ');

/**
 * The web console: static files of the production build. They are public, as any static page is;
 * every piece of data the console shows comes from the authenticated API. Hashed assets are
 * cached for a year, `index.html` is revalidated on every load (ETag), and any other path that is
 * not the API's answers `index.html`, so client routes can be opened and reloaded directly.
 */
export async function consoleRoutes(app: Api, options: { dist?: string } = {}): Promise<void> {
  const dist = options.dist ?? CONSOLE_DIST;
  await app.register(fastifyStatic, { root: dist, serve: false, dotfiles: 'ignore', preCompressed: true });

  app.get('/*', {
    config: { public: true },
    schema: { hide: true },
  }, async (request, reply) => {
    const path = request.url.split('?', 1)[0]!;
    if (API_PATHS.some((api) => api.test(path))) return reply.callNotFound();
    reply.header('x-content-type-options', 'nosniff');
    if (path.startsWith(ASSETS)) {
      // Rooted at assets/: a path that climbs out of it is refused, not resolved elsewhere in the build.
      return reply.header('cache-control', IMMUTABLE).sendFile(path.slice(ASSETS.length), join(dist, 'assets'), { cacheControl: false });
    }
    await access(join(dist, 'index.html')).catch(() => {
      throw new UnavailableError('ERR_CONSOLE_NOT_BUILT', 'the console has not been built: run `npm run build:web` (npm ci and npm start build it)');
    });
    return reply
      .header('cache-control', 'no-cache')
      .header('content-security-policy', CONTENT_SECURITY_POLICY)
      .header('referrer-policy', 'no-referrer')
      .header('x-frame-options', 'DENY')
      .type('text/html; charset=utf-8')
      .sendFile('index.html', { cacheControl: false });
  });
}
