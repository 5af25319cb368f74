/**
 * Realistic records of each format, shaped as the formats' public documentation shows them
 * (CloudTrail User Guide record examples, OCSF 1.x class examples, Kubernetes audit.k8s.io/v1,
 * GitHub's secret_scanning_alert webhook, gitleaks and trufflehog JSON output).
 */
const hoursAgo = (h: number) => new Date(Date.now() - h * 3600_000);
export const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The plaintext of svc-payments-api's database password in the example inventory. */
export const PAYMENTS_PASSWORD = 'demo-Pg-payments-api-7Q2vX9kLm4';

export function cloudtrailAssumeRole() {
  return {
    eventVersion: '1.08',
    userIdentity: {
      type: 'IAMUser', principalId: 'AIDADEMOAIRFLOW00001', arn: 'arn:aws:iam::111122223333:user/airflow', accountId: '111122223333',
      accessKeyId: 'AKIADEMOCORDON000001', userName: 'airflow',
    },
    eventTime: iso(hoursAgo(2)),
    eventSource: 'sts.amazonaws.com',
    eventName: 'AssumeRole',
    awsRegion: 'eu-west-1',
    sourceIPAddress: '203.0.113.17',
    userAgent: 'aws-sdk-python/1.34.0 Python/3.11',
    requestParameters: { roleArn: 'arn:aws:iam::111122223333:role/etl', roleSessionName: 'airflow-etl', durationSeconds: 3600 },
    responseElements: {
      credentials: { accessKeyId: 'ASIADEMOCORDON0000X1', sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE', expiration: 'Nov 22, 2026, 10:00:00 AM' },
      assumedRoleUser: { assumedRoleId: 'AROADEMO:airflow-etl', arn: 'arn:aws:sts::111122223333:assumed-role/etl/airflow-etl' },
    },
    requestID: 'c3f1b2a4-9d8e-4f70-8a1b-2c3d4e5f6a7b',
    eventID: '8a7d6c5b-4e3f-4a1b-9c8d-7e6f5a4b3c2d',
    readOnly: true,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: '111122223333',
    eventCategory: 'Management',
    tlsDetails: { tlsVersion: 'TLSv1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256', clientProvidedHostHeader: 'sts.eu-west-1.amazonaws.com' },
  };
}

export function cloudtrailAssumedRoleCall() {
  return {
    eventVersion: '1.09',
    userIdentity: {
      type: 'AssumedRole', principalId: 'AROADEMOTRAINER:session-1', arn: 'arn:aws:sts::111122223333:assumed-role/model-trainer/session-1',
      accountId: '111122223333', accessKeyId: 'ASIADEMOTRAINER00001',
      sessionContext: {
        sessionIssuer: { type: 'Role', principalId: 'AROADEMOTRAINER', arn: 'arn:aws:iam::111122223333:role/model-trainer', accountId: '111122223333', userName: 'model-trainer' },
        attributes: { creationDate: iso(hoursAgo(3)), mfaAuthenticated: 'false' },
      },
    },
    eventTime: iso(hoursAgo(1)),
    eventSource: 's3.amazonaws.com',
    eventName: 'PutBucketPolicy',
    awsRegion: 'us-east-1',
    sourceIPAddress: '198.51.100.4',
    userAgent: '[aws-cli/2.15.0]',
    errorCode: 'AccessDenied',
    errorMessage: 'Access Denied',
    requestParameters: { bucketName: 'ml-datasets' },
    responseElements: null,
    eventID: '1f2e3d4c-5b6a-4789-8a9b-0c1d2e3f4a5b',
    readOnly: false,
    eventType: 'AwsApiCall',
    recipientAccountId: '111122223333',
  };
}

export function ocsfApiActivity() {
  return {
    activity_id: 3, activity_name: 'Update', category_uid: 6, category_name: 'Application Activity', class_uid: 6003, class_name: 'API Activity',
    type_uid: 600303, severity_id: 1, time: Date.now() - 3600_000, status_id: 1, status: 'Success',
    metadata: { version: '1.1.0', uid: 'ocsf-evt-0001', product: { name: 'Amazon Security Lake', vendor_name: 'AWS' } },
    actor: { user: { type: 'AssumedRole', uid: 'arn:aws:iam::111122223333:role/gha-terraform', name: 'gha-terraform' }, session: { uid: 'sess-77', credential_uid: 'ASIADEMOGHATF000001' } },
    api: { operation: 'UpdateAssumeRolePolicy', service: { name: 'iam.amazonaws.com' }, request: { uid: 'req-1' } },
    src_endpoint: { ip: '192.0.2.10', location: { country: 'US' }, autonomous_system: { number: 64500, name: 'EXAMPLE-AS' } },
    http_request: { user_agent: 'Terraform/1.7.0' },
    cloud: { provider: 'AWS', region: 'us-east-1' },
  };
}

export function ocsfAuthentication() {
  return {
    activity_id: 1, activity_name: 'Logon', category_uid: 3, class_uid: 3002, type_uid: 300201, severity_id: 1,
    time: Date.now() - 7200_000, status_id: 2, status: 'Failure',
    metadata: { version: '1.1.0', product: { name: 'Okta', vendor_name: 'Okta' } },
    user: { name: 'orders_api@%', uid: 'orders_api@%', type: 'User' },
    src_endpoint: { ip: '2001:db8:85a3::8a2e:370:7334', location: { country: 'DE', city: 'Berlin' } },
    dst_endpoint: { hostname: 'mariadb.prod.internal' },
    service: { name: 'mariadb' },
    auth_protocol: 'Other', is_mfa: false,
  };
}

export function ocsfDetectionFinding() {
  return {
    activity_id: 1, category_uid: 2, class_uid: 2004, type_uid: 200401, severity_id: 4, time: Date.now() - 600_000,
    metadata: { version: '1.1.0', product: { name: 'GuardDuty', vendor_name: 'AWS' } },
    finding_info: { uid: 'gd-finding-42', title: 'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration', types: ['TTPs/Initial Access'] },
  };
}

export function k8sAuditSecretRead() {
  return {
    kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Metadata', auditID: '2c3e1f4a-5b6c-4d7e-8f90-a1b2c3d4e5f6',
    stage: 'ResponseComplete', requestURI: '/api/v1/namespaces/payments/secrets/db-credentials', verb: 'get',
    user: {
      username: 'system:serviceaccount:payments:payments-api', uid: '4b2f3c1d-0000-4000-8000-000000000001',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:payments', 'system:authenticated'],
      extra: {
        'authentication.kubernetes.io/credential-id': ['JTI=9f8e7d6c-5b4a-4321-8fed-cba987654321'],
        'authentication.kubernetes.io/node-name': ['node-a'],
      },
    },
    sourceIPs: ['10.12.0.15'],
    userAgent: 'payments-api/2.3 (linux/amd64) kubernetes/client-go',
    objectRef: { resource: 'secrets', namespace: 'payments', name: 'db-credentials', apiVersion: 'v1' },
    responseStatus: { metadata: {}, code: 200 },
    // RFC 3339 with microseconds, as the API server writes them.
    requestReceivedTimestamp: new Date(Date.now() - 60_000).toISOString().replace('Z', '456Z'),
    stageTimestamp: new Date(Date.now() - 59_000).toISOString().replace('Z', '789Z'),
    annotations: { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': 'RBAC: allowed by RoleBinding "payments-reader/payments"' },
  };
}

export function githubSecretScanningCreated(secret?: string) {
  return {
    action: 'created',
    alert: {
      number: 42, created_at: iso(hoursAgo(1)), updated_at: null,
      url: 'https://api.github.com/repos/acme/payments/secret-scanning/alerts/42',
      html_url: 'https://github.com/acme/payments/security/secret-scanning/42',
      locations_url: 'https://api.github.com/repos/acme/payments/secret-scanning/alerts/42/locations',
      resolution: null, resolved_at: null, resolved_by: null, resolution_comment: null,
      secret_type: 'postgres_connection_string', secret_type_display_name: 'PostgreSQL connection string', validity: 'unknown',
      push_protection_bypassed: false, publicly_leaked: false, multi_repo: false,
      ...(secret ? { secret } : {}),
    },
    repository: { id: 1296269, node_id: 'MDEwOlJlcG9zaXRvcnkxMjk2MjY5', name: 'payments', full_name: 'acme/payments', private: true, owner: { login: 'acme', id: 1 } },
    organization: { login: 'acme', id: 1 },
    sender: { login: 'github', id: 9919, type: 'Organization' },
  };
}

export function gitleaksReport(secret: string) {
  return [{
    Description: 'Generic Password', StartLine: 12, EndLine: 12, StartColumn: 14, EndColumn: 58,
    Match: `DB_PASSWORD="${secret}"`, Secret: secret, File: 'deploy/payments/.env.production', SymlinkFile: '',
    Commit: '9f3b2c1d4e5f60718293a4b5c6d7e8f901234567', Entropy: 4.32, Author: 'Jane Dev', Email: 'jane@acme.example',
    Date: '2026-10-30T16:42:11Z', Message: 'add prod env for debugging', Tags: [], RuleID: 'generic-password',
    Fingerprint: '9f3b2c1d4e5f60718293a4b5c6d7e8f901234567:deploy/payments/.env.production:generic-password:12',
  }];
}

export function trufflehogLine(secret: string) {
  return {
    SourceMetadata: { Data: { Git: { commit: '0a1b2c3d4e5f', file: 'config/database.yml', email: 'Jane Dev <jane@acme.example>', repository: 'https://github.com/acme/payments', timestamp: '2026-10-30 16:42:11 +0000', line: 7 } } },
    SourceID: 1, SourceType: 16, SourceName: 'trufflehog - git', DetectorType: 8, DetectorName: 'Postgres', DecoderName: 'PLAIN',
    Verified: true, Raw: secret, RawV2: `postgres://payments_api:${secret}@db.prod.internal:5432/payments`,
    Redacted: 'postgres://payments_api:********@db.prod.internal:5432/payments', ExtraData: { sslmode: 'require' }, StructuredData: null,
  };
}
