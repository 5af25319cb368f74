import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PARSERS, recogniseFormat } from '../../src/ingest/formats/index.js';
import type { ParsedEvent, ParseResult } from '../../src/ingest/event.js';
import {
  cloudtrailAssumedRoleCall, cloudtrailAssumeRole, githubSecretScanningCreated, gitleaksReport, k8sAuditSecretRead, ocsfApiActivity,
  ocsfAuthentication, ocsfDetectionFinding, PAYMENTS_PASSWORD, trufflehogLine,
} from './fixtures.js';

const now = new Date();

function ok(result: ParseResult): ParsedEvent {
  assert.ok(result.ok, `expected a parsed event, got ${JSON.stringify(!result.ok && result.issues)}`);
  return result.event;
}

function issues(result: ParseResult) {
  assert.ok(!result.ok, 'expected the record to be refused');
  return result.issues;
}

describe('CloudTrail records', () => {
  test('AssumeRole by an IAM user is a token issuance resolved by ARN and access key id', () => {
    const record = cloudtrailAssumeRole();
    const e = ok(PARSERS.cloudtrail.parse(record, now));
    assert.equal(e.type, 'token.issued');
    assert.equal(e.time.toISOString(), new Date(record.eventTime).toISOString());
    assert.deepEqual(e.refs.externalRefs, [{ provider: 'aws', value: 'arn:aws:iam::111122223333:user/airflow' }]);
    assert.deepEqual(e.refs.credentialRefs, ['AKIADEMOCORDON000001']);
    assert.equal(e.naturalKey, record.eventID);
    assert.equal(e.sourceIp, '203.0.113.17');
    assert.equal(e.target, 'sts.amazonaws.com');
    assert.equal(e.outcome, 'success');
  });

  test('an assumed-role call stands for its role, and an error code is a failure', () => {
    const e = ok(PARSERS.cloudtrail.parse(cloudtrailAssumedRoleCall(), now));
    assert.deepEqual(e.refs.externalRefs.map((r) => r.value), [
      'arn:aws:sts::111122223333:assumed-role/model-trainer/session-1', 'arn:aws:iam::111122223333:role/model-trainer',
    ]);
    assert.equal(e.outcome, 'failure');
    assert.equal(e.signals.privileged, true);
    assert.equal(e.type, 'api.call');
  });

  test('a record without eventTime or with a local time is refused naming the field', () => {
    const { eventTime: _t, ...missing } = cloudtrailAssumeRole();
    assert.deepEqual(issues(PARSERS.cloudtrail.parse(missing, now)).map((i) => i.path), ['/eventTime']);
    assert.deepEqual(issues(PARSERS.cloudtrail.parse({ ...cloudtrailAssumeRole(), eventTime: '2026-01-01 10:00:00' }, now)).map((i) => i.path), ['/eventTime']);
  });
});

describe('OCSF events', () => {
  test('API Activity (6003) gives actor, credential, session, ASN and country', () => {
    const record = ocsfApiActivity();
    const e = ok(PARSERS.ocsf.parse(record, now));
    assert.equal(e.type, 'api.call');
    assert.equal(e.time.getTime(), record.time);
    assert.equal(e.action, 'UpdateAssumeRolePolicy');
    assert.equal(e.target, 'iam.amazonaws.com');
    assert.equal(e.sourceAsn, 64500);
    assert.equal(e.sourceGeo, 'US');
    assert.equal(e.userAgent, 'Terraform/1.7.0');
    assert.deepEqual(e.refs.credentialRefs, ['ASIADEMOGHATF000001']);
    assert.deepEqual(e.refs.jtis, ['sess-77']);
    assert.ok(e.refs.externalRefs.some((r) => r.value === 'arn:aws:iam::111122223333:role/gha-terraform' && r.provider === 'aws'));
    assert.equal(e.naturalKey, 'ocsf-evt-0001');
    assert.equal(e.source, 'Amazon Security Lake');
  });

  test('Authentication (3002) logon is a login of its user, status 2 a failure', () => {
    const e = ok(PARSERS.ocsf.parse(ocsfAuthentication(), now));
    assert.equal(e.type, 'auth.login');
    assert.equal(e.outcome, 'failure');
    assert.deepEqual(e.refs.externalRefs, [{ provider: undefined, value: 'orders_api@%' }]);
    assert.equal(e.sourceIp, '2001:db8:85a3::8a2e:370:7334');
    assert.equal(e.target, 'mariadb');
  });

  test('Detection Finding (2004) is a finding keyed by its uid', () => {
    const e = ok(PARSERS.ocsf.parse(ocsfDetectionFinding(), now));
    assert.equal(e.type, 'finding');
    assert.equal(e.naturalKey, 'gd-finding-42');
  });

  test('an unsupported class, a wrong type_uid and a time in seconds are refused', () => {
    assert.deepEqual(issues(PARSERS.ocsf.parse({ ...ocsfApiActivity(), class_uid: 4001 }, now)).map((i) => i.path), ['/class_uid']);
    assert.deepEqual(issues(PARSERS.ocsf.parse({ ...ocsfApiActivity(), type_uid: 600399 }, now)).map((i) => i.path), ['/type_uid']);
    assert.deepEqual(issues(PARSERS.ocsf.parse({ ...ocsfApiActivity(), time: Math.floor(Date.now() / 1000) }, now)).map((i) => i.path), ['/time']);
    assert.deepEqual(issues(PARSERS.ocsf.parse({ ...ocsfApiActivity(), api: {} }, now)).map((i) => i.path), ['/api/operation']);
  });
});

describe('Kubernetes audit events', () => {
  test('a service account reading a secret: privileged, resolved by name and token jti', () => {
    const record = k8sAuditSecretRead();
    const e = ok(PARSERS['k8s-audit'].parse(record, now));
    assert.deepEqual(e.refs.externalRefs, [{ provider: 'kubernetes', value: 'system:serviceaccount:payments:payments-api' }]);
    assert.deepEqual(e.refs.jtis, ['9f8e7d6c-5b4a-4321-8fed-cba987654321']);
    assert.equal(e.signals.privileged, true);
    assert.equal(e.target, 'k8s:payments/secrets');
    assert.equal(e.action, 'get');
    assert.equal(e.outcome, 'success');
    assert.equal(e.naturalKey, record.auditID);
    assert.equal(e.time.getTime(), Date.parse(record.stageTimestamp.replace(/(\.\d{3})\d+/, '$1')));
  });

  test('secret data in a RequestResponse event is treated as secret', () => {
    const record = { ...k8sAuditSecretRead(), level: 'RequestResponse', responseObject: { kind: 'Secret', data: { password: 'ZGVtby1zZWNyZXQ=' } } };
    assert.deepEqual(ok(PARSERS['k8s-audit'].parse(record, now)).secrets, ['ZGVtby1zZWNyZXQ=']);
  });

  test('an unknown stage is refused naming the field', () => {
    assert.deepEqual(issues(PARSERS['k8s-audit'].parse({ ...k8sAuditSecretRead(), stage: 'Done' }, now)).map((i) => i.path), ['/stage']);
  });
});

describe('secret scanners', () => {
  test('a gitleaks finding is an exposure of its Secret, keyed by its Fingerprint', () => {
    const [finding] = gitleaksReport(PAYMENTS_PASSWORD);
    const e = ok(PARSERS.gitleaks.parse(finding, now));
    assert.equal(e.type, 'secret.exposed');
    assert.deepEqual(e.secrets, [PAYMENTS_PASSWORD]);
    assert.equal(e.naturalKey, finding!.Fingerprint);
    assert.equal(e.attributes.committedAt, '2026-10-30T16:42:11.000Z');
    assert.equal(e.time, now);
  });

  test('a trufflehog line gives Raw and RawV2 as secrets and the git commit time', () => {
    const e = ok(PARSERS.trufflehog.parse(trufflehogLine(PAYMENTS_PASSWORD), now));
    assert.deepEqual(e.secrets, [PAYMENTS_PASSWORD, `postgres://payments_api:${PAYMENTS_PASSWORD}@db.prod.internal:5432/payments`]);
    assert.equal(e.signals.verified, true);
    assert.equal(e.attributes.committedAt, '2026-10-30T16:42:11.000Z');
    assert.equal(e.target, 'https://github.com/acme/payments:config/database.yml');
  });

  test('a GitHub secret_scanning_alert created webhook is an exposure; a resolved one only a finding', () => {
    const created = ok(PARSERS['github-secret-scanning'].parse(githubSecretScanningCreated(PAYMENTS_PASSWORD), now));
    assert.equal(created.type, 'secret.exposed');
    assert.deepEqual(created.secrets, [PAYMENTS_PASSWORD]);
    assert.equal(created.target, 'acme/payments');
    const resolved = githubSecretScanningCreated();
    const e = ok(PARSERS['github-secret-scanning'].parse({ ...resolved, action: 'resolved', alert: { ...resolved.alert, updated_at: resolved.alert.created_at, resolution: 'revoked' } }, now));
    assert.equal(e.type, 'finding');
    assert.deepEqual(e.secrets, []);
  });

  test('a gitleaks finding without File and a trufflehog line without Raw are refused naming the field', () => {
    const { File: _f, ...noFile } = gitleaksReport('x1234567')[0]!;
    assert.deepEqual(issues(PARSERS.gitleaks.parse(noFile, now)).map((i) => i.path), ['/File']);
    const { Raw: _r, ...noRaw } = trufflehogLine('x1234567');
    assert.deepEqual(issues(PARSERS.trufflehog.parse(noRaw, now)).map((i) => i.path), ['/Raw']);
  });
});

describe('native events', () => {
  test('a native event names identity, jti, secret and signals', () => {
    const e = ok(PARSERS.native.parse({
      id: 'n-1', type: 'token.used', time: new Date().toISOString(), source: 'gateway', identity: { id: 'svc-deployer', jti: 'j-1' },
      sourceIp: '192.0.2.1', asn: 64501, geo: 'FR', action: 'GET /v1/deploy', target: 'api:deploy', outcome: 'success', privileged: true, parentJti: 'j-0',
    }, now));
    assert.deepEqual(e.refs.identityIds, ['svc-deployer']);
    assert.deepEqual(e.refs.jtis, ['j-1']);
    assert.equal(e.signals.parentJti, 'j-0');
    assert.equal(e.sourceAsn, 64501);
  });

  test('an unknown field and a bad type are refused, each named', () => {
    const paths = issues(PARSERS.native.parse({ type: 'api.cal', time: new Date().toISOString(), colour: 'red' }, now)).map((i) => i.path).sort();
    assert.deepEqual(paths, ['/colour', '/type']);
  });
});

describe('format recognition', () => {
  test('each format is recognised from its own shape', () => {
    const cases: [string, unknown][] = [
      ['cloudtrail', cloudtrailAssumeRole()], ['ocsf', ocsfApiActivity()], ['k8s-audit', k8sAuditSecretRead()],
      ['github-secret-scanning', githubSecretScanningCreated()], ['gitleaks', gitleaksReport('abcdefgh')[0]],
      ['trufflehog', trufflehogLine('abcdefgh')], ['native', { type: 'api.call', time: new Date().toISOString() }],
    ];
    for (const [format, record] of cases) assert.equal(recogniseFormat(record as Record<string, unknown>)?.format, format, format);
    assert.equal(recogniseFormat({ hello: 'world' }), undefined);
  });
});
