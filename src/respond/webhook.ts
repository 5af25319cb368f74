import { Webhook } from 'standardwebhooks';
import { UnavailableError } from '../domain/errors.js';

/**
 * Signed webhooks, per the Standard Webhooks specification: headers `webhook-id`,
 * `webhook-timestamp` and `webhook-signature` (HMAC-SHA256 over `id.timestamp.body`). A receiver
 * verifies them with any Standard Webhooks library and deduplicates on `webhook-id`, which stays
 * the same across retries of one delivery.
 */
export interface SignedWebhook {
  url: string;
  /** `whsec_<base64>` (the spec's form) or any other string, used as raw key bytes. */
  signingSecret: string;
  /** Unique per delivery and stable across its retries. */
  id: string;
  /** The event type, e.g. `cordon.credential.rotated`. */
  type: string;
  payload: Record<string, unknown>;
  timeoutMs?: number;
}

export interface WebhookResult {
  status: number;
}

export function webhookSigner(secret: string): Webhook {
  return secret.startsWith('whsec_') ? new Webhook(secret) : new Webhook(new TextEncoder().encode(secret), { format: 'raw' });
}

/**
 * One delivery attempt. A 2xx answer is success; anything else (a 4xx/5xx, a timeout, a refused
 * connection) throws `UnavailableError`, which the caller's retry policy (the executor, the job
 * queue) handles.
 */
export async function sendSignedWebhook(hook: SignedWebhook): Promise<WebhookResult> {
  const timestamp = new Date();
  const body = JSON.stringify({ type: hook.type, timestamp: timestamp.toISOString(), data: hook.payload });
  const signature = webhookSigner(hook.signingSecret).sign(hook.id, timestamp, body);
  let response: Response;
  try {
    response = await fetch(hook.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': hook.id,
        'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
        'webhook-signature': signature,
      },
      body,
      signal: AbortSignal.timeout(hook.timeoutMs ?? 10_000),
    });
  } catch (error) {
    throw new UnavailableError('ERR_WEBHOOK_UNREACHABLE', `webhook ${redactUrl(hook.url)} could not be reached: ${(error as Error).message}`, { cause: error });
  }
  await response.body?.cancel();
  if (!response.ok) throw new UnavailableError('ERR_WEBHOOK_REJECTED', `webhook ${redactUrl(hook.url)} answered ${response.status}`);
  return { status: response.status };
}

/** URLs may carry tokens in their query: errors and logs show only origin and path. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(invalid url)';
  }
}
