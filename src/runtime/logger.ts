import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * JSON logs. Fields that could carry a secret are censored wherever they appear, as a second
 * line of defence: code should not log them in the first place.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization', 'req.headers.cookie', 'headers.authorization',
  '*.value', '*.password', '*.secret', '*.token', '*.plaintext', '*.clientSecret', '*.privateKey',
  'value', 'password', 'secret', 'token', 'plaintext',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino({ level, base: { service: 'cordon' }, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, destination);
}

export type { Logger };
