import assert from 'node:assert/strict';
import { access, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { ApiRole } from '../../src/domain/roles.js';
import { buildState } from '../../web/build.js';
import { startTestApp, type TestApp } from './app.js';
import { startResponder } from './respond.js';
import { seedExampleInventory } from './seed.js';
import { openTestStore } from './store.js';

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

/**
 * The playbook the browser tests run against: a leaked secret gets its identity quarantined by
 * the broker, once an approver approves the exact diff, then evidence kept. It acts on Cordon's
 * own broker only, so no external system is touched, and the quarantine is a containment action,
 * so an approved incident ends contained with a time to contain and an exposure window.
 */
export const CONSOLE_PLAYBOOK = `apiVersion: cordon/v1
kind: Playbook
id: quarantine-leaked-identity
title: Quarantine a leaked identity, with approval
description: A leaked secret of a known identity has its broker tokens suspended, once an approver agrees.
match:
  types: [secret_exposure]
tiers:
  - name: contain
    steps:
      - id: quarantine
        action: quarantine
        target: identity
        params:
          ttl: 1h
        approval:
          required: true
  - name: record
    steps:
      - id: evidence
        action: snapshot_evidence
`;

export interface ConsoleServer {
  t: TestApp;
  /** The workers, whose events tell when the response engine has moved. */
  responder: ReturnType<typeof startResponder>;
  /** Where the real server listens, e.g. http://127.0.0.1:41234 */
  url: string;
  /** What the API answers a GET with, as a token of `role` (default viewer); anything but 200 fails. */
  get<T>(path: string, role?: ApiRole): Promise<T>;
  close(): Promise<void>;
}

/**
 * The real API and console, listening on a free port of the loopback, on an embedded store that
 * holds the example inventory, with the workers `serve` runs (the job queue and the action
 * executor) and `CONSOLE_PLAYBOOK` as the only playbook. The console is the production build of
 * web/ (`npm test` makes it when stale); testing an old build would test the wrong code, so a
 * stale one fails here.
 */
export async function startConsoleServer(): Promise<ConsoleServer> {
  const state = await buildState();
  if (state !== 'fresh') throw new Error(`the console build (web/dist) is ${state}: run npm run build:web (npm test does it first)`);
  const playbooks = await mkdtemp(join(tmpdir(), 'cordon-console-playbooks-'));
  await writeFile(join(playbooks, 'quarantine-leaked-identity.yaml'), CONSOLE_PLAYBOOK);
  const t = await startTestApp(await openTestStore('pglite'), { CORDON_PLAYBOOK_DIR: playbooks });
  await seedExampleInventory(t.context.db, t.context.fingerprint);
  const responder = startResponder(t);
  const url = await t.app.listen({ host: '127.0.0.1', port: 0 });
  return {
    t, url, responder,
    async get<T>(path: string, role: ApiRole = 'viewer'): Promise<T> {
      const res = await t.app.inject({ method: 'GET', url: path, headers: t.auth(role) });
      assert.equal(res.statusCode, 200, `${path}: ${res.body}`);
      return res.json() as T;
    },
    async close() {
      await responder.stop();
      await t.close();
      await rm(playbooks, { recursive: true, force: true });
    },
  };
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

/** Waits for a page's main heading. */
export function heading(page: Page, name: string | RegExp): Promise<void> {
  return page.getByRole('heading', { level: 1, name }).waitFor();
}

/**
 * The pages a test file's tests open, each in a fresh browser context (its own sessionStorage),
 * signed in through the form when asked. `closeAll` (after each test) closes them and returns
 * every problem they saw: a test ends with none.
 */
export class ConsolePages {
  private readonly opened: ConsolePage[] = [];
  constructor(private readonly browser: () => Browser, private readonly server: () => ConsoleServer) {}

  async fresh(): Promise<Page> {
    const consolePage = await openConsole(this.browser(), this.server());
    consolePage.page.setDefaultTimeout(15_000);
    this.opened.push(consolePage);
    return consolePage.page;
  }

  async signedIn(role: ApiRole): Promise<Page> {
    const page = await this.fresh();
    await signIn(page, this.server().t.tokens[role]);
    return page;
  }

  async closeAll(): Promise<string[]> {
    const pages = this.opened.splice(0);
    const problems = pages.flatMap((p) => p.problems);
    await Promise.all(pages.map((p) => p.close()));
    return problems;
  }
}
