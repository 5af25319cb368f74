import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { noticeOf, staleAreas } from '../../web/src/live/invalidation.js';

/** Audit records as the response engine writes them (src/incidents/store.ts, src/respond/runs.ts). */
const record = (seq: number, action: string, subject: string, payload: Record<string, unknown>) => ({
  seq, at: new Date().toISOString(), actor: 'system:response', actorSubject: 'system', action, subject, payload, hash: 'h'.repeat(64),
});

describe('which live audit records refresh what, and which are announced', () => {
  test('every change to an incident and its runs refreshes incidents and actions (an open incident page refetches)', () => {
    for (const action of ['incident.opened', 'action.awaiting_approval', 'action.verified', 'response.finished', 'incident.task_updated']) {
      assert.deepEqual(staleAreas({ action, subject: 'incident:42' }).sort(), ['actions', 'audit', 'incidents'], action);
    }
  });

  test('inventory, identity and playbook changes refresh readiness too; tokens refresh only the audit list', () => {
    assert.deepEqual(staleAreas({ action: 'identity.status_changed', subject: 'identity:svc-x' }).sort(), ['audit', 'identities', 'readiness']);
    assert.deepEqual(staleAreas({ action: 'playbook.versioned', subject: 'playbook:p' }).sort(), ['audit', 'playbooks', 'readiness']);
    assert.deepEqual(staleAreas({ action: 'token.created', subject: 'token:t' }), ['audit']);
  });

  test('a record of a kind the console does not know refreshes every area rather than leave a page stale', () => {
    assert.ok(staleAreas({ action: 'drill.finished', subject: 'drill:1' }).includes('incidents'));
    assert.ok(staleAreas({ action: 'drill.finished', subject: 'drill:1' }).includes('identities'));
  });

  test('a new incident and a step awaiting approval are announced with a link to the incident; other run changes are not', () => {
    assert.deepEqual(noticeOf(record(7, 'incident.opened', 'incident:abc', { summary: 'Incident opened for Secret of x exposed (gitleaks) (secret_exposure, high)', ref: 'detection:d' })), {
      seq: 7, text: 'New incident: Secret of x exposed (gitleaks) (secret_exposure, high)', href: '/incidents/abc',
    });
    assert.deepEqual(noticeOf(record(8, 'incident.opened', 'incident:abc', { summary: 'Incident opened by hand: Laptop stolen' })), {
      seq: 8, text: 'New incident: Laptop stolen', href: '/incidents/abc',
    });
    assert.deepEqual(noticeOf(record(9, 'action.awaiting_approval', 'incident:abc', { runId: 'r', action: 'quarantine', target: 'orders_worker (svc-orders-worker)', from: 'planned', to: 'awaiting_approval' })), {
      seq: 9, text: 'Approval requested: quarantine on orders_worker (svc-orders-worker)', href: '/incidents/abc',
    });
    assert.equal(noticeOf(record(10, 'action.verified', 'incident:abc', { runId: 'r', action: 'quarantine', to: 'verified' })), null);
  });

  test('an escalation and a new detection are announced too', () => {
    assert.equal(noticeOf(record(11, 'incident.escalated', 'incident:abc', { code: 'no_connector', reason: 'nothing can rotate it' }))?.text, 'Incident escalated (no_connector): nothing can rotate it');
    assert.deepEqual(noticeOf(record(12, 'detection.created', 'detection:d1', { type: 'secret_exposure', severity: 'high', identityId: 'svc-x' })), {
      seq: 12, text: 'New high detection: secret_exposure on svc-x', href: '/detections/d1',
    });
  });
});
