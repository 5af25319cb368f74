import { InvalidInputError } from '../domain/errors.js';

/**
 * The error codes of RFC 6749 §5.2 and RFC 8693 §2.2.2 the broker answers with. Client
 * authentication failures (`invalid_client`, `unauthorized_client`) come from the API's auth hook
 * and are mapped by the OAuth routes, so the broker itself never raises them.
 */
export type OAuthErrorCode = 'invalid_request' | 'unsupported_grant_type' | 'invalid_scope' | 'invalid_target';

/**
 * A refusal in the OAuth endpoints' own terms. It is an `InvalidInputError` so that, raised on a
 * problem+json route (tasks), it is still a 400 with a stable code.
 */
export class OAuthError extends InvalidInputError {
  readonly error: OAuthErrorCode;
  constructor(error: OAuthErrorCode, description: string) {
    super(`ERR_OAUTH_${error.toUpperCase()}`, description);
    this.error = error;
  }
}

/** RFC 8693 §2.2.2: a subject or actor token that is invalid or unacceptable is `invalid_request`. */
export function unacceptableToken(which: 'subject_token' | 'actor_token', why: string): OAuthError {
  return new OAuthError('invalid_request', `${which} ${why}`);
}
