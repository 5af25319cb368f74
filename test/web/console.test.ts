import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { ApiRole } from '../../src/domain/roles.js';
import {
  ConsolePages, heading, launchBrowser, screenshot, SCREENSHOTS, skipUnlessChromium, startConsoleServer, type ConsoleServer,
} from '../helpers/browser.js';
import { ingestRecords } from '../helpers/events.js';
import { gitleaksReport, PAYMENTS_PASSWORD } from '../ingest/fixtures.js';

/*
 * What the functions run inside the page touch of the browser. The root tsconfig has no DOM
 * library (it would type all of src/ as if it ran in a browser), so they are declared here.
 */
interface PageElement { id: string; tagName: string; textContent: string | null }
declare const document: { querySelectorAll(selector: string): Iterable<PageElement> & { length: number }; activeElement: PageElement | null };
declare const sessionStorage: { getItem(key: string): string | null };
declare const window: object;
declare function getComputedStyle(element: unknown): { outlineStyle: string };

/** A gitleaks finding of the orders API's database password (example inventory), in a file of its own. */
function ordersLeak() {
  const [finding] = gitleaksReport('demo-Maria-orders-api-K3p9Lw');
  const file = 'deploy/orders/.env.production';
  return [{ ...finding, File: file, Fingerprint: `${finding!.Commit}:${file}:generic-password:12` }];
}

describe('the console in Chromium', { skip: await skipUnlessChromium(), timeout: 240_000 }, () => {
  let server: ConsoleServer;
  let browser: Browser;
  const pages = new ConsolePages(() => browser, () => server);

  before(async () => {
    server = await startConsoleServer();
    await ingestRecords(server.t, gitleaksReport(PAYMENTS_PASSWORD));
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });
  // Every page of every test: no script error, no CSP violation, no request beyond the server.
  afterEach(async () => {
    assert.deepEqual(await pages.closeAll(), []);
  });
  const fresh = () => pages.fresh();
  const signedIn = (role: ApiRole) => pages.signedIn(role);

  const api = <T>(path: string, role?: ApiRole) => server.get<T>(path, role);


  /** Waits until the identities table lists exactly these ids, in this order. */
  async function identityIdsShown(page: Page, ids: string[]): Promise<void> {
    await page.waitForFunction(
      (expected) => JSON.stringify([...document.querySelectorAll('main tbody tr td:first-child .small')].map((e) => e.textContent)) === expected,
      JSON.stringify(ids),
    );
  }

  test('signing in: a bad token gets the API\'s problem; a good one opens the console, kept across a reload, never in a URL', async () => {
    const page = await fresh();
    const requests: { url: string; authorization?: string }[] = [];
    page.on('request', (request) => requests.push({ url: request.url(), authorization: request.headers().authorization }));
    await page.goto('/');
    await heading(page, 'Sign in to Cordon');
    await screenshot(page, 'sign-in');

    await page.getByLabel('API token').fill('cdn_not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const refused = page.getByRole('alert');
    await refused.waitFor();
    assert.match(await refused.innerText(), /401 ERR_TOKEN_INVALID/);
    assert.match(await refused.innerText(), /the API token is not valid/);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('cordon.token')), null);

    const token = server.t.tokens.viewer;
    await page.getByLabel('API token').fill(token);
    await page.getByLabel('API token').press('Enter');
    await heading(page, 'Overview');
    assert.match(await page.getByRole('banner').innerText(), /viewer-user[\s\S]*viewer/);
    await page.getByRole('status').filter({ hasText: /^\s*Live$/ }).waitFor();

    await page.reload();
    await heading(page, 'Overview');
    await page.getByRole('heading', { name: 'Detections in the last 14 days' }).waitFor();
    await page.locator('.chart svg rect').first().waitFor();
    await screenshot(page, 'overview');

    const calls = requests.filter((r) => new URL(r.url).pathname.startsWith('/v1/'));
    assert.ok(calls.length >= 5);
    assert.ok(requests.every((r) => !r.url.includes(token)), 'the token is never in a URL');
    const signedInCalls = calls.filter((r) => r.authorization !== 'Bearer cdn_not-a-token');
    assert.ok(signedInCalls.every((r) => r.authorization === `Bearer ${token}`), 'every API call carries the bearer token');
  });

  test('the identities list filters by kind, status, search, environment and owner', async () => {
    const page = await signedIn('viewer');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Identities' }).click();
    await heading(page, 'Identities');
    type Listing = { items: { id: string }[] };
    const all = await api<Listing>('/v1/identities');
    await identityIdsShown(page, all.items.map((i) => i.id));
    await screenshot(page, 'identities');

    await page.getByLabel('Kind').selectOption('ai_agent');
    await page.getByLabel('Status').selectOption('active');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    const agents = await api<Listing>('/v1/identities?kind=ai_agent&status=active');
    assert.ok(agents.items.length > 0 && agents.items.length < all.items.length);
    await identityIdsShown(page, agents.items.map((i) => i.id));
    assert.match(page.url(), /kind=ai_agent&status=active/);

    await page.getByRole('button', { name: 'Clear' }).click();
    await identityIdsShown(page, all.items.map((i) => i.id));
    await page.getByLabel('Search name or id').fill('payments');
    await page.getByLabel('Environment').fill('production');
    await page.getByLabel('Owner team').fill('payments');
    await page.getByLabel('Owner team').press('Enter');
    const payments = await api<Listing>('/v1/identities?q=payments&environment=production&owner=payments');
    assert.ok(payments.items.length > 0);
    await identityIdsShown(page, payments.items.map((i) => i.id));
  });

  test('an identity page shows its credentials, grants, neighbours and blast radius, drawn as a graph', async () => {
    const page = await signedIn('viewer');
    await page.goto('/identities?q=payments-api');
    await page.getByRole('link', { name: 'payments-api', exact: true }).click();
    await heading(page, 'payments-api');
    const credentials = page.getByRole('region', { name: 'Credentials' });
    await credentials.getByRole('cell', { name: /db-password/ }).waitFor();
    assert.match(await credentials.innerText(), /vault: secret\/payments\/api\/db/);
    await page.getByRole('region', { name: 'Grants' }).getByRole('cell', { name: 'payments (PostgreSQL)' }).waitFor();
    await page.getByRole('region', { name: 'Graph neighbours' }).getByRole('cell', { name: 'trusts' }).waitFor();

    const radius = await api<{ nodes: unknown[]; resources: unknown[] }>('/v1/identities/svc-payments-api/blast-radius?depth=6&limit=500');
    const graph = page.getByRole('img', { name: /^Blast radius graph of svc-payments-api/ });
    await graph.locator('canvas').first().waitFor();
    const label = await graph.getAttribute('aria-label');
    assert.equal(Number(/: (\d+) nodes/.exec(label!)![1]), radius.nodes.length + radius.resources.length);
    const box = await graph.boundingBox();
    assert.ok(box && box.width > 600 && box.height > 300);
    await page.getByText(`All ${radius.nodes.length + radius.resources.length} nodes as a table`).click();
    await screenshot(page, 'identity');

    const impact = page.getByRole('table', { name: 'What breaks on revocation' });
    await impact.getByRole('link', { name: 'payments-reconciler' }).click();
    await heading(page, 'payments-reconciler');
  });

  test('the blast-radius graph draws a few hundred nodes', async () => {
    const workloads = Array.from({ length: 160 }, (_, i) => ({ id: `wl-fleet-${i}`, kind: 'workload', name: `fleet worker ${i}`, provider: 'kubernetes', environment: 'production' }));
    const delegates = Array.from({ length: 70 }, (_, i) => ({
      id: `agent-fleet-${i}`, kind: 'ai_agent', name: `fleet agent ${i}`, provider: 'cordon', environment: 'production',
      credentials: [{ name: 'key', type: 'api_key', value: `fleet-agent-key-${i}-${'x'.repeat(12)}` }],
    }));
    const inventory = {
      apiVersion: 'cordon/v1', kind: 'Inventory',
      identities: [{ id: 'svc-fleet-hub', kind: 'service_account', name: 'fleet hub', provider: 'generic', environment: 'production' }, ...workloads, ...delegates],
      edges: [
        ...workloads.map((w) => ({ kind: 'trusts', from: w.id, to: 'svc-fleet-hub' })),
        ...delegates.map((d) => ({ kind: 'delegates_to', from: 'svc-fleet-hub', to: d.id })),
      ],
    };
    const imported = await server.t.app.inject({ method: 'POST', url: '/v1/inventory', headers: server.t.auth('admin'), payload: inventory });
    assert.equal(imported.statusCode, 200, imported.body);
    const radius = await api<{ nodes: unknown[]; resources: unknown[] }>('/v1/identities/svc-fleet-hub/blast-radius?depth=6&limit=500');
    assert.ok(radius.nodes.length >= 300, `${radius.nodes.length} nodes`);

    const page = await signedIn('viewer');
    await page.goto('/identities/svc-fleet-hub');
    const graph = page.getByRole('img', { name: /^Blast radius graph of svc-fleet-hub/ });
    await graph.locator('canvas').first().waitFor();
    assert.match((await graph.getAttribute('aria-label'))!, new RegExp(`: ${radius.nodes.length + radius.resources.length} nodes`));
    await graph.screenshot({ path: `${SCREENSHOTS}blast-radius-large.png` });

    // Any node can be found from the table: the graph picks it, centres it and zooms in to read.
    await page.getByText(/^All \d+ nodes as a table$/).click();
    await page.getByRole('button', { name: 'Show fleet worker 17 in the graph' }).click();
    await page.locator('.graph-picked').getByText('fleet worker 17 (identity): reached by trusts from identity:svc-fleet-hub, 1 step away').waitFor();
    await graph.screenshot({ path: `${SCREENSHOTS}blast-radius-large-zoomed.png` });
  });

  test('the detections page lists, filters and opens a detection with its evidence, never the leaked value', async () => {
    const page = await signedIn('responder');
    await page.goto('/detections');
    await heading(page, 'Detections');
    const rows = page.locator('main tbody tr');
    await rows.filter({ hasText: 'svc-payments-api' }).first().waitFor();
    await screenshot(page, 'detections');

    await page.getByLabel('Severity at least').selectOption('critical');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(/severity=critical/);
    const critical = await api<{ items: { id: string }[] }>('/v1/detections?severity=critical');
    await page.waitForFunction((n) => document.querySelectorAll('main tbody tr').length === n, critical.items.length);
    assert.deepEqual(await rows.locator('td:nth-child(3)').allInnerTexts(), critical.items.map(() => 'critical'));

    await page.getByRole('link', { name: 'Secret of payments-api exposed (gitleaks)' }).click();
    await heading(page, 'Secret of payments-api exposed (gitleaks)');
    const evidence = page.getByRole('region', { name: /^Evidence/ });
    await evidence.getByRole('heading', { name: /from gitleaks/ }).waitFor();
    await evidence.getByText('The record as received').click();
    await evidence.getByLabel(/^Raw record of event/).waitFor();
    assert.match(await evidence.innerText(), /\[fingerprint:/);
    assert.ok(!(await page.content()).includes(PAYMENTS_PASSWORD), 'the leaked value is not on the page');
    await screenshot(page, 'detection');
  });

  test('the audit page shows the chain verified and its entries, filtered by action', async () => {
    const page = await signedIn('viewer');
    await page.goto('/audit');
    await heading(page, 'Audit');
    const status = page.getByRole('region', { name: 'Chain status' });
    await status.getByText('Chain verified').waitFor();
    const verified = await api<{ ok: boolean; checked: number }>('/v1/audit/verify');
    assert.equal(verified.ok, true);
    assert.match(await status.innerText(), /Chain verified: \d+ records, head #\d+/);
    await page.locator('main tbody tr').filter({ hasText: 'detection.created' }).first().waitFor();
    await screenshot(page, 'audit');

    await page.getByLabel('Action').fill('inventory.imported');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    const imported = await api<{ items: unknown[] }>('/v1/audit?action=inventory.imported');
    await page.waitForFunction((n) => document.querySelectorAll('main tbody tr').length === n, imported.items.length);
    assert.ok((await page.locator('main tbody tr td:nth-child(3)').allInnerTexts()).every((a) => a === 'inventory.imported'));
  });

  test('a detection caused through the API appears live, with a notice, without reloading the page', async () => {
    const page = await signedIn('viewer');
    await page.goto('/detections');
    await heading(page, 'Detections');
    await page.locator('main tbody tr').first().waitFor();
    await page.getByRole('status').filter({ hasText: /^\s*Live$/ }).waitFor();
    assert.equal(await page.locator('main tbody tr').filter({ hasText: 'svc-orders-api' }).count(), 0);
    await page.evaluate(() => Object.assign(window, { sameDocument: true }));

    const res = await fetch(`${server.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.t.tokens.responder}`, 'content-type': 'application/json' },
      body: JSON.stringify(ordersLeak()),
    });
    assert.equal(res.status, 200);
    assert.ok(((await res.json()) as { detections: number }).detections >= 1);

    await page.locator('main tbody tr').filter({ hasText: 'svc-orders-api' }).first().waitFor();
    const notice = page.getByRole('region', { name: 'Live notifications' }).getByRole('link', { name: /^New \w+ detection: secret_exposure on svc-orders-api$/ });
    await notice.waitFor();
    assert.equal(await page.evaluate(() => (window as { sameDocument?: boolean }).sameDocument), true, 'the page was not reloaded');
    await screenshot(page, 'live-detection');
    await notice.click();
    await heading(page, /orders-api exposed/);
  });

  test('the keyboard reaches everything: a skip link to the content, visible focus, focus on the new page\'s heading', async () => {
    const page = await signedIn('viewer');
    // A page opened by its address leaves focus at the start of the document.
    await page.reload();
    await heading(page, 'Overview');
    await page.keyboard.press('Tab');
    const skip = page.getByRole('link', { name: 'Skip to content' });
    assert.equal(await skip.evaluate((e) => e === document.activeElement), true);
    assert.notEqual(await skip.evaluate((e) => getComputedStyle(e).outlineStyle), 'none');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'main');

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit' }).focus();
    await page.keyboard.press('Enter');
    await heading(page, 'Audit');
    await page.waitForFunction(() => document.activeElement?.tagName === 'H1' && document.activeElement.textContent === 'Audit');
    for (const label of ['Action', 'Subject']) assert.equal(await page.getByLabel(label).count(), 1, `${label} is labelled`);
  });

  test('policies: an admin tests a request and sees the deciding policies; a viewer is told it needs the admin role', async () => {
    const admin = await signedIn('admin');
    await admin.goto('/policies');
    await heading(admin, 'Policies');
    await admin.getByRole('button', { name: 'Decide' }).click();
    const decision = admin.locator('.decision');
    await decision.locator('.badge-allow').waitFor();
    assert.match(await decision.innerText(), /agents\.support\.tools/);
    await admin.getByLabel('Resource id').fill('customers.export');
    await admin.getByRole('button', { name: 'Decide' }).click();
    await decision.locator('.badge-deny').waitFor();
    assert.match(await decision.innerText(), /agents\.no-export-from-customer-facing/);
    await admin.getByRole('region', { name: 'Decision log' }).getByRole('cell', { name: 'Cordon::Tool customers.export' }).waitFor();
    await screenshot(admin, 'policies');

    const viewer = await signedIn('viewer');
    await viewer.goto('/policies');
    await viewer.getByText('need the admin role').waitFor();
    assert.equal(await viewer.getByRole('button', { name: 'Decide' }).count(), 0);
  });

  test('a page whose API call fails shows the problem the API sent, with its code and fields', async () => {
    // A filter the API does not know, given in the address: the API refuses it with the field named.
    const page = await signedIn('viewer');
    await page.goto('/identities?kind=robot');
    await heading(page, 'Identities');
    const problem = page.getByRole('alert').filter({ hasText: 'Loading identities' });
    await problem.waitFor();
    const res = await server.t.app.inject({ method: 'GET', url: '/v1/identities?kind=robot', headers: server.t.auth('viewer') });
    assert.equal(res.statusCode, 400);
    const sent = res.json() as { title: string; code: string; detail: string; errors: { path: string; message: string; in: string }[] };
    assert.equal(sent.code, 'ERR_VALIDATION');
    const text = await problem.innerText();
    assert.ok(text.includes(`${sent.title}`) && text.includes('400 ERR_VALIDATION'), text);
    assert.ok(text.includes(sent.detail), text);
    for (const error of sent.errors) assert.ok(text.includes(`${error.in} ${error.path} ${error.message}`), text);
    await screenshot(page, 'problem');
  });
});
