import { createHash } from 'node:crypto';
import Type, { type Static } from 'typebox';
import { IDENTITY_KINDS } from '../../domain/identity.js';
import type { ActionHandler, ConnectorType } from '../contract.js';
import { requireNewSecret } from '../failures.js';
import { check, verification } from '../proof.js';

/**
 * A stand-in for a system that is not there, for the demo only: its accounts live in this
 * process's memory, so what it "proves" is its own state, never a real server's. Everything it
 * says is marked simulated. It lets `bin/cordon demo` show the whole response where a local
 * server is missing; real deployments use the real connectors.
 */
export const SimulatedParams = Type.Object({
  system: Type.String({ minLength: 1, maxLength: 100, description: 'What it stands in for (postgres, …), shown in every plan and proof' }),
  sessionsPerAccount: Type.Integer({ minimum: 0, maximum: 100, default: 1, description: 'Live sessions an account starts with' }),
}, { additionalProperties: false });
type SimulatedParams = Static<typeof SimulatedParams>;

interface Account {
  secretHash: string | null;
  enabled: boolean;
  sessions: number;
}

/** Per simulated system, per account: the only state there is. */
const systems = new Map<string, Map<string, Account>>();

const digest = (secret: string) => createHash('sha256').update(secret).digest('hex');

function accountOf(params: SimulatedParams, ref: string): Account {
  let accounts = systems.get(params.system);
  if (!accounts) systems.set(params.system, (accounts = new Map()));
  let account = accounts.get(ref);
  if (!account) accounts.set(ref, (account = { secretHash: null, enabled: true, sessions: params.sessionsPerAccount }));
  return account;
}

function handlers(params: SimulatedParams) {
  const where = (ref: string) => `simulated ${params.system} account ${ref}`;
  const rotate: ActionHandler = {
    async plan(target) {
      return { changes: [{ op: 'set_secret', object: where(target.identity.externalRef), detail: 'SIMULATED: a new secret replaces the current one' }], reversible: false };
    },
    async execute(target, context) {
      accountOf(params, target.identity.externalRef).secretHash = digest(requireNewSecret(context));
      return { output: { simulated: true, account: target.identity.externalRef } };
    },
    async verify(target, context) {
      const account = accountOf(params, target.identity.externalRef);
      const fresh = account.secretHash === digest(requireNewSecret(context));
      return verification([
        check('new_secret_authenticates', fresh, `SIMULATED: ${where(target.identity.externalRef)} ${fresh ? 'accepts' : 'refuses'} the new secret`),
        check('other_secret_refused', account.secretHash !== null, 'SIMULATED: any other secret is refused'),
      ]);
    },
  };
  const revoke: ActionHandler = {
    async plan(target) {
      const n = accountOf(params, target.identity.externalRef).sessions;
      return { changes: Array.from({ length: n }, (_, i) => ({ op: 'end_session', object: `${where(target.identity.externalRef)} session ${i + 1}`, detail: 'SIMULATED' })), reversible: false };
    },
    async execute(target) {
      const account = accountOf(params, target.identity.externalRef);
      const ended = account.sessions;
      account.sessions = 0;
      return { output: { simulated: true, ended } };
    },
    async verify(target) {
      const left = accountOf(params, target.identity.externalRef).sessions;
      return verification([check('sessions_gone', left === 0, `SIMULATED: ${left} session(s) left on ${where(target.identity.externalRef)}`)]);
    },
  };
  const setEnabled = (enabled: boolean): ActionHandler => ({
    async plan(target) {
      const account = accountOf(params, target.identity.externalRef);
      return {
        changes: account.enabled === enabled ? [] : [{ op: enabled ? 'enable' : 'disable', object: where(target.identity.externalRef), detail: `SIMULATED: logins ${enabled ? 'allowed' : 'refused'}` }],
        reversible: true,
      };
    },
    async execute(target) {
      accountOf(params, target.identity.externalRef).enabled = enabled;
      return { output: { simulated: true, enabled } };
    },
    async rollback(target) {
      accountOf(params, target.identity.externalRef).enabled = !enabled;
      return { output: { simulated: true, enabled: !enabled } };
    },
    async verify(target) {
      const account = accountOf(params, target.identity.externalRef);
      return verification([check(enabled ? 'login_enabled' : 'login_refused', account.enabled === enabled, `SIMULATED: ${where(target.identity.externalRef)} is ${account.enabled ? 'enabled' : 'disabled'}`)]);
    },
  });
  return { rotate_credential: rotate, revoke_sessions: revoke, disable_identity: setEnabled(false), enable_identity: setEnabled(true) };
}

export const simulatedConnector: ConnectorType<typeof SimulatedParams> = {
  type: 'simulated',
  provider: 'generic',
  title: 'Simulated system (demo only: accounts in this process\'s memory)',
  params: SimulatedParams,
  capabilities: ['rotate_credential', 'revoke_sessions', 'disable_identity', 'enable_identity'],
  targetKinds: IDENTITY_KINDS,
  connect(params) {
    return { actions: handlers(params), close: async () => undefined };
  },
};
