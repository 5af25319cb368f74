import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const web = fileURLToPath(new URL('.', import.meta.url));
const repository = fileURLToPath(new URL('..', import.meta.url));
/** `npm run dev:web` proxies the API to a running `npm start`. */
const api = process.env.CORDON_API_URL ?? 'http://127.0.0.1:7700';

export default defineConfig({
  root: web,
  base: '/',
  publicDir: false,
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Every asset is a file of its own: the Content-Security-Policy admits no data: URLs.
    assetsInlineLimit: 0,
    // The graph library is one large chunk, loaded only by pages that draw a graph.
    chunkSizeWarningLimit: 1200,
  },
  server: {
    // The console imports the vocabulary of src/domain.
    fs: { allow: [repository] },
    proxy: Object.fromEntries(['/v1', '/healthz', '/openapi.json', '/oauth2', '/.well-known'].map((path) => [path, { target: api }])),
  },
});
