import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { ApiRole } from '../../src/domain/roles.js';
import {
  ConsolePages, heading, launchBrowser, screenshot, skipUnlessChromium, startConsoleServer, type ConsoleServer,
} from '../helpers/browser.js';
import { leakedInGitleaks, settledRuns } from '../helpers/respond.js';

/*
 * The response engine through the console, end to end: every incident here is caused by a real
 * signal sent to the real API (a gitleaks report leaking a credential value of the example
 * inventory, `examples/inventory/*.yaml`), answered by the real engine with CONSOLE_PLAYBOOK (a
 * quarantine awaiting approval), and every decision goes to the real API. Nothing is intercepted.
 * Each test leaks a different identity's secret, so each has an incident of its own.
 */

/** What the functions run inside the page touch of the browser (the root tsconfig has no DOM library). */
declare const window: object;
declare const document: { activeElement: { tagName: string; selectionStart?: number } | null; querySelectorAll(selector: string): { length: number } };

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

interface ActionRunView {
  id: string; incidentId: string; stepId: string; state: string; planDigest: string; targetLabel: string;
  plan: { changes: { op: string; object: string; detail: string }[] };
  approval: { approvals: { decision: string; subject: string; reason: string | null; planDigest: string }[] };
}

interface IncidentView {
  id: string; title: string; status: string;
  evidence: { hash: string; contentDigest: string; kind: string }[];
}

describe('responding in the console, against the real response engine', { skip: await skipUnlessChromium(), timeout: 300_000 }, () => {
  let server: ConsoleServer;
  let browser: Browser;
  const pages = new ConsolePages(() => browser, () => server);

  before(async () => {
    server = await startConsoleServer();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });
  afterEach(async () => {
    assert.deepEqual(await pages.closeAll(), []);
  });

  const api = <T>(path: string, role?: ApiRole) => server.get<T>(path, role);

  /** Sends a gitleaks report of `secret` to the real server, as a scanner's pipeline would. */
  async function leak(secret: string, file: string, role: ApiRole = 'responder'): Promise<void> {
    const res = await fetch(`${server.url}/v1/events?format=gitleaks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.t.tokens[role]}`, 'content-type': 'application/json' },
      body: JSON.stringify(leakedInGitleaks(secret, file)),
    });
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(((await res.json()) as { detections: number }).detections, 1);
  }

  /** Opens the incidents queue and waits until it lists the incident `title` (it appears live), returning the incident's id. */
  async function incidentInQueue(page: Page, title: string): Promise<string> {
    const link = page.getByRole('main').getByRole('link', { name: title, exact: true });
    await link.waitFor();
    return decodeURIComponent((await link.getAttribute('href'))!.replace('/incidents/', ''));
  }

  async function openIncident(page: Page, title: string): Promise<string> {
    await page.goto('/incidents');
    await heading(page, 'Incidents');
    const id = await incidentInQueue(page, title);
    await page.getByRole('main').getByRole('link', { name: title, exact: true }).click();
    await heading(page, title);
    return id;
  }

  const quarantineStep = (page: Page) => page.getByRole('article', { name: /^Quarantine → / });
  /** The state badge in a step's header. */
  const inState = (step: ReturnType<typeof quarantineStep>, state: string) => step.locator(`.action-run-header .badge-${state}`);

  async function runsOf(incidentId: string): Promise<ActionRunView[]> {
    return (await api<{ items: ActionRunView[] }>(`/v1/actions?incident=${encodeURIComponent(incidentId)}`)).items;
  }

  test('an approver sees an incident caused through the API appear live, opens it, approves the exact diff and watches the step turn verified', async () => {
    const page = await pages.signedIn('approver');
    await page.goto('/incidents');
    await heading(page, 'Incidents');
    await page.evaluate(() => Object.assign(window, { sameDocument: true }));
    const title = 'Secret of orders-worker exposed (gitleaks)';
    assert.equal(await page.getByRole('link', { name: title }).count(), 0);

    await leak('demo-Rabbit-orders-W7sd2Q', 'deploy/orders-worker/.env');

    // The incident and the approval it needs arrive as they happen, without a reload.
    const incidentId = await incidentInQueue(page, title);
    const notices = page.getByRole('region', { name: 'Live notifications' });
    await notices.getByRole('link', { name: new RegExp(`^New incident: ${escape(title)} \\(secret_exposure, (critical|high|medium|low)\\)$`) }).waitFor();
    await notices.getByRole('link', { name: /^Approval requested: quarantine on .*svc-orders-worker/ }).waitFor();
    await screenshot(page, 'incidents-live');
    await page.getByRole('main').getByRole('link', { name: title, exact: true }).click();
    await heading(page, title);

    const step = quarantineStep(page);
    await inState(step, 'awaiting_approval').waitFor();
    const [run] = (await runsOf(incidentId)).filter((r) => r.stepId === 'quarantine');
    assert.equal(run!.state, 'awaiting_approval');
    // The exact planned diff, line by line, as the engine holds it.
    const diff = step.getByRole('list', { name: 'Planned changes' });
    assert.deepEqual(await diff.getByRole('listitem').allInnerTexts(), run!.plan.changes.map((c) => `${c.op} ${c.object} ${c.detail}`));
    assert.match(await step.innerText(), new RegExp(run!.planDigest));

    await step.getByRole('button', { name: 'Approve…' }).click();
    const form = step.getByRole('form', { name: 'Approve this plan' });
    assert.match(await form.innerText(), new RegExp(`You approve exactly the plan above \\(digest ${run!.planDigest}\\)`));
    await form.getByLabel('Reason (optional)').fill('owner confirmed on call');
    await screenshot(page, 'incident-approval');
    const approval = page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith(`/v1/actions/${run!.id}/approve`));
    await form.getByRole('button', { name: 'Approve this plan' }).click();
    assert.deepEqual((await approval).postDataJSON(), { planDigest: run!.planDigest, reason: 'owner confirmed on call' });
    // Focus goes back to the step, whose state follows.
    await page.waitForFunction(() => document.activeElement?.tagName === 'H3');
    assert.match(await page.evaluate(() => (document.activeElement as unknown as { textContent: string }).textContent), /^Quarantine → /);

    // The executor quarantines, proves it, and the page follows it live to verified and contained.
    await inState(step, 'verified').waitFor();
    await step.getByRole('list', { name: 'Proof' }).getByText(/identity_quarantined: identity status is quarantined/).waitFor();
    await page.locator('.page-subtitle .badge-contained').waitFor();
    assert.match(await step.getByRole('list', { name: 'Decisions' }).innerText(), /approved by approver-user \(approver\).*owner confirmed on call/s);
    assert.equal(await page.getByRole('button', { name: /^(Approve|Deny)/ }).count(), 0);
    assert.equal(await page.evaluate(() => (window as { sameDocument?: boolean }).sameDocument), true, 'the page was never reloaded');

    const verified = (await runsOf(incidentId)).find((r) => r.id === run!.id)!;
    assert.equal(verified.state, 'verified');
    assert.deepEqual(verified.approval.approvals.map((a) => [a.decision, a.subject, a.reason, a.planDigest]), [['approve', 'approver-user', 'owner confirmed on call', run!.planDigest]]);
    const timings = page.getByRole('region', { name: 'Timings' });
    await timings.getByText(/time to contain \d/).waitFor();
    await timings.getByText(/exposure window \d/).waitFor();
    await screenshot(page, 'incident-verified');
  });

  test('a viewer and a responder see the planned diff but no approve or deny control, and the API refuses their approvals', async () => {
    await leak('whsec_demoCordon7f3b2a19c4d8e6', 'deploy/webhooks/.env', 'admin');
    const title = 'Secret of stripe webhook signing secret exposed (gitleaks)';
    const viewer = await pages.signedIn('viewer');
    const incidentId = await openIncident(viewer, title);
    const step = quarantineStep(viewer);
    await inState(step, 'awaiting_approval').waitFor();
    await step.getByRole('list', { name: 'Planned changes' }).waitFor();
    assert.match(await step.innerText(), /your role \(viewer\) cannot decide it/);
    assert.equal(await viewer.getByRole('button', { name: /Approve|Deny|Break glass/ }).count(), 0);
    assert.equal(await viewer.getByRole('form', { name: 'Change the status' }).count(), 0, 'a viewer cannot move the incident');
    assert.equal(await viewer.getByRole('form', { name: 'Add a note' }).count(), 0, 'nor write notes');

    const responder = await pages.signedIn('responder');
    await responder.goto(`/incidents/${encodeURIComponent(incidentId)}`);
    await heading(responder, title);
    await inState(quarantineStep(responder), 'awaiting_approval').waitFor();
    assert.match(await quarantineStep(responder).innerText(), /your role \(responder\) cannot decide it/);
    assert.equal(await responder.getByRole('button', { name: /Approve|Deny|Break glass/ }).count(), 0);

    // The API itself refuses them, with a problem.
    const [run] = (await runsOf(incidentId)).filter((r) => r.stepId === 'quarantine');
    for (const [role, status, code] of [['viewer', 403, 'ERR_ROLE_FORBIDDEN'], ['responder', 403, 'ERR_APPROVER_ROLE']] as const) {
      const res = await fetch(`${server.url}/v1/actions/${run!.id}/approve`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.t.tokens[role]}`, 'content-type': 'application/json' },
        body: JSON.stringify({ planDigest: run!.planDigest }),
      });
      assert.equal(res.status, status, role);
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.equal(((await res.json()) as { code: string }).code, code);
    }
    assert.equal((await runsOf(incidentId)).find((r) => r.id === run!.id)!.state, 'awaiting_approval');

    // The queue filters by identity.
    await viewer.goto('/incidents');
    await viewer.getByLabel('Identity id').fill('key-stripe-webhook');
    await viewer.getByRole('button', { name: 'Apply filters' }).click();
    await viewer.waitForURL(/identity=key-stripe-webhook/);
    const listed = await api<{ items: { id: string }[] }>('/v1/incidents?identity=key-stripe-webhook');
    assert.deepEqual(listed.items.map((i) => i.id), [incidentId]);
    await viewer.waitForFunction(() => document.querySelectorAll('main tbody tr').length === 1);
    assert.match(await viewer.locator('main tbody tr').innerText(), /stripe webhook signing secret/);
  });

  test('an approver denies a step with a reason, which the form requires; the incident is left to people', async () => {
    const page = await pages.signedIn('approver');
    await leak('demo-Maria-orders-stg-P0o9i8', 'deploy/orders-staging/.env');
    const title = 'Secret of orders-api (staging) exposed (gitleaks)';
    const incidentId = await openIncident(page, title);
    const step = quarantineStep(page);
    await inState(step, 'awaiting_approval').waitFor();
    await step.getByRole('button', { name: 'Deny…' }).click();
    const form = step.getByRole('form', { name: 'Deny this step' });
    const denials: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST' && r.url().includes('/deny')) denials.push(r.url());
    });
    await form.getByRole('button', { name: 'Deny this step' }).click();
    assert.equal(await form.getByLabel('Reason (required)').evaluate((e) => (e as unknown as { validity: { valueMissing: boolean } }).validity.valueMissing), true);
    assert.deepEqual(denials, [], 'an empty reason is never sent');
    await form.getByLabel('Reason (required)').fill('breaks the staging checkout; rotate instead');
    await form.getByRole('button', { name: 'Deny this step' }).click();
    await inState(step, 'denied').waitFor();
    assert.match(await step.getByRole('list', { name: 'Decisions' }).innerText(), /denied by approver-user \(approver\).*breaks the staging checkout; rotate instead/s);
    // Nothing was contained: once the evidence step ran, the incident waits for people in triage.
    await page.locator('.page-subtitle .badge-triage').waitFor();
    const [run] = (await runsOf(incidentId)).filter((r) => r.stepId === 'quarantine');
    assert.equal(run!.state, 'denied');
    assert.deepEqual(run!.approval.approvals.map((a) => [a.decision, a.subject, a.reason]), [['deny', 'approver-user', 'breaks the staging checkout; rotate instead']]);
  });

  test('the incident page shows the blast-radius snapshot, the evidence with its hashes and verified chain, and downloads the report', async () => {
    const page = await pages.signedIn('viewer');
    await leak('dbtc_demoCordonToken9h8g7f6e5d', 'ci/dbt/profiles.yml');
    const title = 'Secret of dbt Cloud job token exposed (gitleaks)';
    const incidentId = await openIncident(page, title);
    await inState(quarantineStep(page), 'awaiting_approval').waitFor();
    // Opening collects the detection, its event and the blast radius as evidence, in that order.
    const evidence = page.getByRole('region', { name: 'Evidence' });
    await evidence.getByRole('cell', { name: 'blast radius', exact: true }).waitFor();
    await evidence.getByRole('status').filter({ hasText: /Evidence chain verified: 3 items/ }).waitFor();
    const incident = await api<IncidentView>(`/v1/incidents/${encodeURIComponent(incidentId)}`);
    assert.deepEqual(incident.evidence.map((e) => e.kind), ['detection', 'event', 'blast_radius']);
    const verification = await api<{ ok: boolean; checked: number }>(`/v1/incidents/${encodeURIComponent(incidentId)}/evidence/verify`);
    assert.deepEqual(verification, { ok: true, checked: 3 });
    const shown = await evidence.locator('tbody tr td:nth-child(6) code').allInnerTexts();
    assert.deepEqual(shown, incident.evidence.map((e) => e.hash));

    const radius = page.getByRole('region', { name: 'Blast radius' });
    await radius.getByRole('img', { name: /^Blast radius graph of ci-dbt: \d+ nodes/ }).locator('canvas').first().waitFor();
    assert.match(await radius.innerText(), /Safe to revoke|Not safe to revoke/);
    await page.getByRole('region', { name: 'Timeline' }).getByText(/Incident opened for Secret of dbt Cloud job token exposed/).waitFor();
    await screenshot(page, 'incident');

    const [markdown] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download report (Markdown)' }).click()]);
    assert.equal(markdown.suggestedFilename(), `incident-${incidentId}.md`);
    const report = await readFile((await markdown.path())!, 'utf8');
    assert.ok(report.includes(title), 'the report names the incident');
    assert.ok(report.includes(incidentId));
    for (const item of incident.evidence) {
      assert.ok(report.includes(item.hash), `the report has evidence hash ${item.hash}`);
      assert.ok(report.includes(item.contentDigest), `the report has content digest ${item.contentDigest}`);
    }
    const [json] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download report (JSON)' }).click()]);
    const parsed = JSON.parse(await readFile((await json.path())!, 'utf8')) as { incident: { id: string; title: string }; evidence: { verification: { ok: boolean } } };
    assert.deepEqual([parsed.incident.id, parsed.incident.title, parsed.evidence.verification.ok], [incidentId, title, true]);
    // The evidence with its contents, for a third party to check offline.
    const [chain] = await Promise.all([page.waitForEvent('download'), evidence.getByRole('button', { name: 'Download the evidence with contents (JSON)' }).click()]);
    const exported = JSON.parse(await readFile((await chain.path())!, 'utf8')) as { verification: { ok: boolean }; items: { hash: string; content: unknown }[] };
    assert.equal(exported.verification.ok, true);
    assert.deepEqual(exported.items.map((i) => i.hash), incident.evidence.map((e) => e.hash));
    assert.ok(exported.items.every((i) => i.content !== undefined));
  });

  test('a responder adds a note and ticks off a task, cannot close over a pending step, which an admin forces with a reason', async () => {
    await leak('scim_demo_bearer_Sync0rT0k3n', 'deploy/scim/.env');
    const title = 'Secret of SCIM user sync exposed (gitleaks)';
    const page = await pages.signedIn('responder');
    const incidentId = await openIncident(page, title);
    await inState(quarantineStep(page), 'awaiting_approval').waitFor();

    const notes = page.getByRole('region', { name: 'Notes' });
    await notes.getByRole('textbox', { name: 'Note' }).fill('Rotated the SCIM bearer in the IdP by hand; the connector cannot.');
    await notes.getByRole('button', { name: 'Add note' }).click();
    await notes.getByRole('listitem').filter({ hasText: 'Rotated the SCIM bearer in the IdP by hand' }).waitFor();
    await page.getByRole('region', { name: 'Timeline' }).getByText('Rotated the SCIM bearer in the IdP by hand; the connector cannot.').waitFor();
    await page.getByRole('region', { name: 'Evidence' }).getByRole('cell', { name: /^Note by responder-user/ }).waitFor();

    const tasks = page.getByRole('region', { name: 'Tasks' });
    const first = (await api<{ tasks: { title: string }[] }>(`/v1/incidents/${encodeURIComponent(incidentId)}`)).tasks[0]!;
    await tasks.getByRole('button', { name: `Mark "${first.title}" done` }).click();
    const task = tasks.getByRole('listitem').filter({ hasText: first.title });
    await task.getByText(/done by responder-user/).waitFor();
    await task.getByRole('button', { name: `Reopen "${first.title}"` }).click();
    await tasks.getByRole('button', { name: `Mark "${first.title}" done` }).waitFor();

    // Closing needs a reason, and a step awaiting approval keeps the incident open: the API says so.
    const status = page.getByRole('form', { name: 'Change the status' });
    await status.getByLabel('New status').selectOption('closed');
    await status.getByText('only an admin may close this incident now').waitFor();
    await status.getByLabel('Reason (required to close)').fill('handled by hand');
    await status.getByRole('button', { name: 'Change status' }).click();
    const refused = status.getByRole('alert');
    await refused.waitFor();
    assert.match(await refused.innerText(), /409 ERR_INCIDENT_NOT_CLOSABLE[\s\S]*quarantine on .* is awaiting_approval/);

    const admin = await pages.signedIn('admin');
    await admin.goto(`/incidents/${encodeURIComponent(incidentId)}`);
    await heading(admin, title);
    const force = admin.getByRole('form', { name: 'Change the status' });
    await force.getByLabel('New status').selectOption('closed');
    await force.getByLabel(/^Force: close although \d+ steps? (is|are) pending/).check();
    await force.getByLabel('Reason (required to close)').fill('rotated by hand in the IdP; no need to quarantine');
    await force.getByRole('button', { name: 'Change status' }).click();
    await admin.locator('.page-subtitle .badge-closed').waitFor();
    await inState(quarantineStep(admin), 'cancelled').waitFor();
    // The responder's page follows without a reload.
    await page.locator('.page-subtitle .badge-closed').waitFor();
    const closed = await api<IncidentView & { closeReason: string }>(`/v1/incidents/${encodeURIComponent(incidentId)}`);
    assert.deepEqual([closed.status, closed.closeReason], ['closed', 'rotated by hand in the IdP; no need to quarantine']);
  });

  test('the overview shows open incidents by severity, steps awaiting approval, time to contain and exposure window over time, and readiness', async () => {
    // Two more incidents: one left awaiting approval, one approved through the API and contained, so the chart has a point of its own.
    await leak('demoAwsSecret/airflow+Kq9zT1xV3bN5mW7pL2cR4', 'dags/.env');
    await leak('demoAwsSecret/backup+Zz1xY2wV3uT4sR5qP6oN7', 'ops/backup/.env');
    await settledRuns(server.t, server.responder, 'svc-airflow', ['awaiting_approval']);
    const [waiting] = await settledRuns(server.t, server.responder, 'svc-backup', ['awaiting_approval']);
    const approved = await server.t.app.inject({ method: 'POST', url: `/v1/actions/${waiting!.id}/approve`, headers: server.t.auth('admin'), payload: { planDigest: waiting!.planDigest } });
    assert.equal(approved.statusCode, 200, approved.body);
    await settledRuns(server.t, server.responder, 'svc-backup');

    const page = await pages.signedIn('viewer');
    await heading(page, 'Overview');
    const metrics = await api<{
      incidents: { open: number; openBySeverity: Record<string, number> }; actionsAwaitingApproval: number;
      series: { timeToContainMs: number | null; exposureWindowMs: number | null }[];
    }>('/v1/metrics/incidents');
    const tiles = page.getByRole('list', { name: 'Open incidents by severity' });
    for (const severity of ['critical', 'high', 'medium', 'low']) {
      await tiles.getByRole('listitem').filter({ hasText: new RegExp(`^\\s*${metrics.incidents.openBySeverity[severity] ?? 0}\\s*${severity}\\s*$`, 'i') }).waitFor();
    }
    const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
    await page.getByRole('link', { name: plural(metrics.incidents.open, 'open incident') }).waitFor();
    const awaiting = page.getByRole('region', { name: 'Actions awaiting approval' });
    assert.ok(metrics.actionsAwaitingApproval >= 1);
    await awaiting.getByText(`${plural(metrics.actionsAwaitingApproval, 'step')} awaiting approval`).waitFor();
    await awaiting.getByRole('link', { name: /^quarantine → .*svc-airflow/ }).waitFor();

    const chart = page.getByRole('region', { name: 'Time to contain and exposure window' });
    const contained = metrics.series.filter((p) => p.timeToContainMs !== null).length;
    const exposed = metrics.series.filter((p) => p.exposureWindowMs !== null).length;
    assert.ok(contained >= 1 && exposed >= 1);
    await page.waitForFunction(([c, e]) => document.querySelectorAll('.series-timeToContainMs circle').length === c
      && document.querySelectorAll('.series-exposureWindowMs rect').length === e, [contained, exposed]);
    assert.match((await chart.getByRole('img').getAttribute('aria-label'))!, new RegExp(`Time to contain: ${contained} incidents, from \\d`));
    await chart.getByText(/The chart's figures as a table/).click();
    await chart.getByRole('table', { name: 'Time to contain and exposure window per incident' }).waitFor();
    assert.match(await chart.getByRole('table', { name: 'Over all incidents' }).innerText(), /Time to contain[\s\S]*\d+ ms|Time to contain[\s\S]*\d+(\.\d)? s/);

    const readiness = await api<{ summary: { identities: number; ready: number }; items: { name: string; score: number }[] }>('/v1/readiness');
    const ready = page.getByRole('region', { name: 'Containment readiness' });
    await ready.getByText(`${readiness.summary.ready} of ${readiness.summary.identities} identities could be contained today`).waitFor();
    const lowest = [...readiness.items].sort((a, b) => a.score - b.score)[0]!;
    assert.match(await ready.getByRole('table', { name: 'Least ready identities' }).locator('tbody tr').first().innerText(), new RegExp(`${Math.round(lowest.score * 100)}%`));
    await screenshot(page, 'overview-response');
  });

  test('playbooks: the list, a playbook\'s steps, versions and YAML, a validation error at its line:column, and a dry run with each step\'s diff, approval and guards', async () => {
    await leak('demo-Pg-etl-Wr1t3r', 'etl/.env', 'admin');
    const page = await pages.signedIn('responder');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Playbooks' }).click();
    await heading(page, 'Playbooks');
    await page.getByRole('link', { name: 'Quarantine a leaked identity, with approval' }).click();
    await heading(page, 'Quarantine a leaked identity, with approval');
    const steps = page.getByRole('region', { name: 'Steps (2)' });
    assert.match(await steps.locator('tbody tr').first().innerText(), /contain\s+quarantine\s+quarantine → identity[\s\S]*approver or admin, 1 person, within 1 h, then deny/);
    await page.getByRole('region', { name: 'Versions' }).getByText('1 (shown)').waitFor();
    const yaml = page.getByLabel('Playbook quarantine-leaked-identity version 1 as YAML');
    await yaml.waitFor();
    assert.match(await yaml.innerText(), /^id: quarantine-leaked-identity$/m);
    await screenshot(page, 'playbook');

    // A copy, broken on purpose: the API names each problem at its line and column in the text sent.
    await page.getByRole('button', { name: 'Validate a copy' }).click();
    await heading(page, 'Playbooks');
    const editor = page.getByLabel('Playbook (YAML, as in playbooks/)');
    const copy = await editor.inputValue();
    assert.match(copy, /^apiVersion: cordon\/v1/);
    const broken = copy.replace('required: true', 'required: maybe');
    await editor.fill(broken);
    await page.getByRole('button', { name: 'Validate', exact: true }).click();
    const problems = page.getByRole('alert').filter({ hasText: 'The playbook is invalid' });
    await problems.waitFor();
    const res = await server.t.app.inject({ method: 'POST', url: '/v1/playbooks/validate', headers: { ...server.t.auth('viewer'), 'content-type': 'application/yaml' }, payload: broken });
    assert.equal(res.statusCode, 400);
    const errors = (res.json() as { errors: { path: string; message: string; source: string }[] }).errors;
    assert.ok(errors.length >= 1);
    const listed = await problems.getByRole('listitem').allInnerTexts();
    assert.deepEqual(listed, errors.map((e) => `${e.source.replace('request body:', '')} ${e.path} ${e.message}`));
    const [, line, column] = /:(\d+):(\d+)$/.exec(errors[0]!.source)!;
    await problems.getByRole('button', { name: `Go to line ${line}, column ${column}` }).click();
    const lines = broken.split('\n');
    const offset = lines.slice(0, Number(line) - 1).reduce((n, l) => n + l.length + 1, 0) + Number(column) - 1;
    assert.deepEqual(await page.evaluate(() => [document.activeElement?.tagName, document.activeElement?.selectionStart]), ['TEXTAREA', offset]);
    await screenshot(page, 'playbook-invalid');
    await editor.fill(copy);
    await page.getByRole('button', { name: 'Validate', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Valid: playbook quarantine-leaked-identity with 2 steps' }).waitFor();

    // A dry run for a described detection: each step with its diff, approval, guards and disposition, nothing changed.
    const dryRun = page.getByRole('form', { name: 'Dry run a playbook' });
    await dryRun.getByLabel('Identity id (empty: none known)').fill('svc-siem-forwarder');
    await dryRun.getByRole('button', { name: 'Dry run' }).click();
    const plan = page.getByRole('region', { name: 'Dry-run plan' });
    await plan.waitFor();
    const expected = await server.t.app.inject({
      method: 'POST', url: '/v1/playbooks/dry-run', headers: server.t.auth('responder'),
      payload: { type: 'secret_exposure', severity: 'high', confidence: 'confirmed', identityId: 'svc-siem-forwarder' },
    });
    const planned = expected.json() as { runs: { stepId: string; disposition: string; diff: { changes: { op: string; object: string; detail: string }[] } }[] };
    assert.deepEqual(planned.runs.map((r) => [r.stepId, r.disposition]), [['quarantine', 'run'], ['evidence', 'run']]);
    const quarantine = plan.getByRole('article', { name: /^1\. Quarantine → / });
    assert.deepEqual(await quarantine.getByRole('list', { name: 'Planned changes' }).getByRole('listitem').allInnerTexts(),
      planned.runs[0]!.diff.changes.map((c) => `${c.op} ${c.object} ${c.detail}`));
    assert.match(await quarantine.innerText(), /Approval: approver or admin, 1 person, within 1 h, then deny\. Why: the playbook requires approval for this step/);
    assert.match(await quarantine.innerText(), /No guard\./);
    await quarantine.locator('.badge-run').waitFor();
    await plan.getByRole('article', { name: /^2\. Snapshot evidence → / }).waitFor();
    assert.equal((await api<{ status: string }>('/v1/identities/svc-siem-forwarder')).status, 'active', 'a dry run changes nothing');
    await screenshot(page, 'playbooks-dry-run');

    // For a stored detection too.
    const detection = (await api<{ items: { id: string }[] }>('/v1/detections?identity=db-etl-writer')).items[0]!;
    await dryRun.getByLabel('A stored detection').check();
    await dryRun.getByLabel('Detection id').fill(detection.id);
    await dryRun.getByRole('button', { name: 'Dry run' }).click();
    await plan.getByRole('link', { name: 'Secret of etl_writer exposed (gitleaks)' }).waitFor();

    const viewer = await pages.signedIn('viewer');
    await viewer.goto('/playbooks');
    await viewer.getByText('A dry run reads the target systems and needs the responder or admin role').waitFor();
    assert.equal(await viewer.getByRole('form', { name: 'Dry run a playbook' }).count(), 0);
  });
});
