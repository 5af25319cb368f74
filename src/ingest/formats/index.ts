import type { EventFormat } from '../../domain/event.js';
import type { FormatParser } from '../event.js';
import { cloudtrail } from './cloudtrail.js';
import { githubSecretScanning } from './github-secret-scanning.js';
import { gitleaks } from './gitleaks.js';
import { k8sAudit } from './k8s-audit.js';
import { native } from './native.js';
import { ocsf } from './ocsf.js';
import { trufflehog } from './trufflehog.js';

/** Every format's parser, keyed by format: adding a format means adding it here. */
export const PARSERS: Record<EventFormat, FormatParser> = {
  native, ocsf, cloudtrail, 'github-secret-scanning': githubSecretScanning, gitleaks, trufflehog, 'k8s-audit': k8sAudit,
};

/** Recognition order: the most specific shapes first, native (the loosest) last. */
const RECOGNITION_ORDER: FormatParser[] = [ocsf, cloudtrail, k8sAudit, githubSecretScanning, gitleaks, trufflehog, native];

export function recogniseFormat(record: Record<string, unknown>): FormatParser | undefined {
  return RECOGNITION_ORDER.find((p) => p.recognises(record));
}
