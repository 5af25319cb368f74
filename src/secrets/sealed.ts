import { CompactEncrypt, compactDecrypt } from 'jose';
import { CordonError } from '../domain/errors.js';

/**
 * Secrets Cordon must be able to use again (connector passwords) are sealed as compact JWE
 * (`dir` + `A256GCM`) under the deployment's master key.
 */
export interface Sealer {
  seal(plaintext: string): Promise<string>;
  open(sealed: string): Promise<string>;
}

export function sealer(masterKey: Uint8Array): Sealer {
  return {
    seal: (plaintext) =>
      new CompactEncrypt(new TextEncoder().encode(plaintext))
        .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', cty: 'cordon-secret' })
        .encrypt(masterKey),
    async open(sealed) {
      try {
        const { plaintext } = await compactDecrypt(sealed, masterKey);
        return new TextDecoder().decode(plaintext);
      } catch (error) {
        throw new CordonError('ERR_SECRET_UNSEALABLE', 'a sealed secret could not be decrypted with this deployment\'s master key', { cause: error });
      }
    },
  };
}
