import { access, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { buildState } from '../../web/build.js';
import type { TestApp } from './app.js';
import { startSeededApp } from './events.js';

/** Debian's Chromium (`apt-get install -y chromium`, which .ci/run does); Playwright never downloads a browser here. */
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];
/** Git-ignored: screenshots of the main pages, to look at after a run. */
export const SCREENSHOTS = fileURLToPath(new URL('../../test-artifacts/screenshots/', import.meta.url));
/** The console is used at laptop size. */
export const VIEWPORT = { width: 1280, height: 800 };

/** `false` when Chromium is installed; otherwise the skip reason (a throw under `CORDON_REQUIRE_SERVICES=1`). */
export async function skipUnlessChromium(): Promise<string | false> {
  const missing = await access(CHROMIUM).then(() => false, () => true);
  if (!missing) return false;
  const reason = `Chromium is not installed at ${CHROMIUM} (apt-get install -y chromium)`;
  if (process.env.CORDON_REQUIRE_SERVICES === '1') throw new Error(`${reason}, and CORDON_REQUIRE_SERVICES=1 requires it`);
  return reason;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

export interface ConsoleServer {
  t: TestApp;
  /** Where the real server listens, e.g. http://127.0.0.1:41234 */
  url: string;
  close(): Promise<void>;
}

/**
 * The real API and console, listening on a free port of the loopback, on an embedded store that
 * holds the example inventory. The console is the production build of web/ (`npm test` makes it
 * when stale); testing an old build would test the wrong code, so a stale one fails here.
 */
export async function startConsoleServer(): Promise<ConsoleServer> {
  const state = await buildState();
  if (state !== 'fresh') throw new Error(`the console build (web/dist) is ${state}: run npm run build:web (npm test does it first)`);
  const t = await startSeededApp('pglite');
  const url = await t.app.listen({ host: '127.0.0.1', port: 0 });
  return { t, url, close: () => t.close() };
}

export interface ConsolePage {
  page: Page;
  context: BrowserContext;
  /** Script errors, CSP violations and requests that tried to leave the server: a test ends with none. */
  problems: string[];
  close(): Promise<void>;
}

/**
 * A fresh browser context (its own sessionStorage) on the console. Requests to anywhere but the
 * server are refused and recorded, proving the console needs no network beyond it.
 */
export async function openConsole(browser: Browser, server: ConsoleServer): Promise<ConsolePage> {
  const context = await browser.newContext({ viewport: VIEWPORT, baseURL: server.url });
  const problems: string[] = [];
  await context.route((url) => url.origin !== new URL(server.url).origin, async (route) => {
    problems.push(`request outside the server: ${route.request().url()}`);
    await route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  page.on('pageerror', (error) => problems.push(`script error: ${error.message}`));
  page.on('console', (message) => {
    // An API answer of 4xx is logged by the browser itself; the page shows it as a problem.
    if (message.type() === 'error' && !/^Failed to load resource: the server responded with a status of 4\d\d/.test(message.text())) {
      problems.push(`console error: ${message.text()}`);
    }
  });
  return { page, context, problems, close: () => context.close() };
}

/** Signs in through the form and waits until the live stream is open. */
export async function signIn(page: Page, token: string): Promise<void> {
  await page.goto('/');
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('status').filter({ hasText: /^\s*Live$/ }).waitFor();
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}
