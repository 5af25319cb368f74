import Type, { type Static } from 'typebox';
import type { EventType } from '../../domain/event.js';
import { emptyRefs, type FormatParser } from '../event.js';
import { checker, eventTime, fail, isIp, rfc3339, str } from './shared.js';

/**
 * AWS CloudTrail record contents (the objects of a log file's `Records` array, or one event as
 * EventBridge/CloudWatch deliver it). Fields as the CloudTrail User Guide documents them:
 * `eventTime` is ISO 8601 UTC, `userIdentity.accessKeyId` the access key that signed the call,
 * `sourceIPAddress` an address or, for calls made by a service, the service's name.
 */
const UserIdentity = Type.Object({
  type: Type.String({ minLength: 1 }),
  principalId: Type.Optional(Type.String()),
  arn: Type.Optional(Type.String()),
  accountId: Type.Optional(Type.String()),
  accessKeyId: Type.Optional(Type.String()),
  userName: Type.Optional(Type.String()),
  invokedBy: Type.Optional(Type.String()),
  sessionContext: Type.Optional(Type.Object({
    sessionIssuer: Type.Optional(Type.Object({ type: Type.Optional(Type.String()), arn: Type.Optional(Type.String()), userName: Type.Optional(Type.String()) })),
    attributes: Type.Optional(Type.Object({ creationDate: Type.Optional(Type.String()), mfaAuthenticated: Type.Optional(Type.String()) })),
  })),
});

const CloudTrailRecord = Type.Object({
  eventVersion: Type.String({ pattern: '^\\d+\\.\\d+$' }),
  userIdentity: UserIdentity,
  eventTime: Type.String(),
  eventSource: Type.String({ minLength: 1 }),
  eventName: Type.String({ minLength: 1 }),
  awsRegion: Type.Optional(Type.String()),
  sourceIPAddress: Type.Optional(Type.String()),
  userAgent: Type.Optional(Type.String()),
  errorCode: Type.Optional(Type.String()),
  errorMessage: Type.Optional(Type.String()),
  requestParameters: Type.Optional(Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()])),
  responseElements: Type.Optional(Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()])),
  requestID: Type.Optional(Type.String()),
  eventID: Type.String({ minLength: 1 }),
  readOnly: Type.Optional(Type.Boolean()),
  eventType: Type.Optional(Type.String()),
  recipientAccountId: Type.Optional(Type.String()),
});

const check = checker(CloudTrailRecord);

/** STS and IAM calls that hand out credentials, by event source. */
const ISSUING = new Map([
  ['sts.amazonaws.com', new Set(['AssumeRole', 'AssumeRoleWithWebIdentity', 'AssumeRoleWithSAML', 'GetSessionToken', 'GetFederationToken'])],
  ['iam.amazonaws.com', new Set(['CreateAccessKey'])],
]);

/** Calls that change who can do what, or blind the defenders. */
const PRIVILEGED_NAMES = /^(StopLogging|DeleteTrail|UpdateTrail|PutEventSelectors|PutBucketPolicy|DeleteBucketPolicy|PutBucketAcl|CreateAccessKey|CreateLoginProfile|UpdateLoginProfile|UpdateAssumeRolePolicy|PassRole|DisableKey|ScheduleKeyDeletion|DeleteFlowLogs|GetSecretValue)$/;

function eventType(r: Static<typeof CloudTrailRecord>): EventType {
  if (r.eventName === 'ConsoleLogin' || r.eventType === 'AwsConsoleSignIn') return 'auth.login';
  if (ISSUING.get(r.eventSource)?.has(r.eventName)) return 'token.issued';
  return 'api.call';
}

/** An assumed-role ARN (`arn:aws:sts::1:assumed-role/R/session`) stands for its role (`arn:aws:iam::1:role/R`). */
function roleOf(arn: string | undefined): string | undefined {
  const m = arn && /^arn:(aws[\w-]*):sts::(\d+):assumed-role\/([^/]+)\//.exec(arn);
  return m ? `arn:${m[1]}:iam::${m[2]}:role/${m[3]}` : undefined;
}

export const cloudtrail: FormatParser = {
  format: 'cloudtrail',
  recognises: (r) => typeof r.eventVersion === 'string' && typeof r.eventSource === 'string' && typeof r.eventName === 'string' && 'userIdentity' in r,
  secretsIn: () => [],
  parse(record) {
    if (!check.check(record)) return fail(check.issues(record));
    const r = record as Static<typeof CloudTrailRecord>;
    const time = eventTime(r.eventTime, '/eventTime', rfc3339);
    if (!(time instanceof Date)) return fail([time]);
    const refs = emptyRefs();
    const who = r.userIdentity;
    if (who.arn) refs.externalRefs.push({ provider: 'aws', value: who.arn });
    const role = who.sessionContext?.sessionIssuer?.arn ?? roleOf(who.arn);
    if (role && role !== who.arn) refs.externalRefs.push({ provider: 'aws', value: role });
    if (who.accessKeyId) refs.credentialRefs.push(who.accessKeyId);
    const failed = r.errorCode !== undefined || (r.eventName === 'ConsoleLogin' && (r.responseElements as { ConsoleLogin?: string } | null)?.ConsoleLogin === 'Failure');
    const ip = str(r.sourceIPAddress);
    const address = isIp(ip);
    // Set one by one: this parser takes the bulk of most streams, and spreading optional fields allocates per record.
    const attributes: Record<string, unknown> = { region: r.awsRegion, identityType: who.type };
    if (ip && !address) attributes.invokedBy = ip;
    if (r.errorCode) attributes.errorCode = r.errorCode;
    attributes.mfa = who.sessionContext?.attributes?.mfaAuthenticated === 'true';
    return {
      ok: true,
      event: {
        format: 'cloudtrail', source: `aws:${r.recipientAccountId ?? who.accountId ?? 'unknown'}`, type: eventType(r), time,
        naturalKey: r.eventID, refs, secrets: [],
        sourceIp: address ? ip : undefined, userAgent: str(r.userAgent), action: r.eventName, target: r.eventSource,
        outcome: failed ? 'failure' : 'success',
        signals: { privileged: PRIVILEGED_NAMES.test(r.eventName) || (r.eventSource === 'iam.amazonaws.com' && r.readOnly === false) },
        attributes,
        raw: record,
      },
    };
  },
};
