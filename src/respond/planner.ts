import type { ActionTarget } from '../connectors/contract.js';
import type { ActionName } from '../domain/action-run.js';
import type { Confidence, DetectionType, Severity } from '../domain/detection.js';
import { TAG_CUSTOMER_FACING, TAG_SHARED, type CredentialType, type IdentityKind } from '../domain/identity.js';
import type { BlastRadius } from '../domain/graph.js';
import { DEFAULT_APPROVAL_TIMEOUT_MS, type Playbook, type Step } from './playbooks/load.js';
import type { ApprovalRequirement, GuardCondition, GuardEffect, TargetSelector } from '../domain/playbook.js';
import type { PerformerId, RunTarget } from './actions/performer.js';

/**
 * The planner: a detection and a playbook become the exact list of action runs, each with its
 * target resolved from the identity graph, the performer that will act, the guards checked and
 * the approval it needs. It reads, never writes: a dry run is this plan with each performer's diff.
 */

/** The detection as planning reads it (a stored one, or one described for a dry run). */
export interface PlanDetection {
  id: string | null;
  type: DetectionType;
  severity: Severity;
  confidence: Confidence;
  title: string;
  identityId: string | null;
  credentialId: string | null;
}

export interface PlanCredential {
  id: string;
  name: string;
  type: CredentialType;
  status: string;
  externalRef: string | null;
  replaces: string | null;
  /** Other identities holding a credential with the same fingerprint. */
  sharedWith: string[];
}

/** An identity as planning reads it. */
export interface PlanIdentity {
  id: string;
  name: string;
  kind: IdentityKind;
  provider: string;
  connectorId: string | null;
  externalRef: string | null;
  environment: string;
  criticality: string;
  tags: string[];
  /** Primary owner first. */
  owners: string[];
  credentials: PlanCredential[];
  delegatesTo: string[];
  /** What it may access, by the resource ids of the graph. */
  grants: { resourceId: string; permissions: string[] }[];
}

/** What the planner asks of the rest of Cordon. */
export interface PlanSources {
  identity(id: string): Promise<PlanIdentity | undefined>;
  blastRadius(identityId: string): Promise<BlastRadius>;
  /** The performers that can do this action on this identity (none: nothing can act). */
  performersFor(action: ActionName, selector: TargetSelector, identity: PlanIdentity | null): Promise<PerformerId[]>;
}

export interface GuardResult {
  when: GuardCondition;
  then: GuardEffect;
  tripped: boolean;
  detail: string;
}

export type Disposition = 'run' | 'skip' | 'escalate' | 'no_target' | 'no_performer';

export interface PlannedRun {
  seq: number;
  tier: string;
  stepId: string;
  action: ActionName;
  selector: TargetSelector;
  performer: PerformerId | null;
  target: RunTarget;
  params: Record<string, unknown>;
  owner: string | null;
  approval: ApprovalRequirement | null;
  guards: GuardResult[];
  disposition: Disposition;
  /** Why the step does not simply run. */
  reason: string | null;
  timeoutMs: number;
  maxAttempts: number;
  continueOnError: boolean;
}

export interface ResponsePlan {
  playbook: { id: string; version: number; title: string };
  detection: PlanDetection;
  identity: PlanIdentity | null;
  runs: PlannedRun[];
  /** Escalations the plan itself makes (the playbook always escalates, a guard, nothing can act). */
  escalations: { code: 'playbook' | 'guard' | 'no_connector'; reason: string; stepId?: string }[];
}

function identityTarget(identity: PlanIdentity, credential?: PlanCredential): RunTarget {
  const target: ActionTarget = {
    identity: { id: identity.id, name: identity.name, kind: identity.kind, externalRef: identity.externalRef ?? identity.id },
    ...(credential ? { credential: { id: credential.id, type: credential.type, externalRef: credential.externalRef } } : {}),
  };
  const account = identity.externalRef && identity.externalRef !== identity.id ? `${identity.externalRef} (${identity.id})` : identity.id;
  return {
    identityId: identity.id,
    target,
    label: credential ? `credential ${credential.name} of ${account}` : account,
    key: `identity:${identity.id}`,
  };
}

/** The credential a step acts on: the detection's while it is live, else the live one that replaced it. */
function currentCredential(identity: PlanIdentity, credentialId: string | null): PlanCredential | undefined {
  if (!credentialId) return undefined;
  let current = identity.credentials.find((c) => c.id === credentialId);
  const seen = new Set<string>();
  while (current && current.status !== 'active' && !seen.has(current.id)) {
    seen.add(current.id);
    const id: string = current.id;
    current = identity.credentials.find((c) => c.replaces === id);
  }
  return current?.status === 'active' ? current : undefined;
}

export function planner(sources: PlanSources) {
  async function targetsOf(step: Step, detection: PlanDetection, identity: PlanIdentity | null): Promise<{ identity: PlanIdentity | null; target: RunTarget }[]> {
    const none = { identity: null, target: { identityId: null, target: null, label: `detection ${detection.id ?? '(dry run)'}`, key: `detection:${detection.id ?? 'dry-run'}` } };
    if (step.target === 'none') return [none];
    if (!identity) return [];
    const others = async (ids: string[]) => (await Promise.all([...new Set(ids)].map((id) => sources.identity(id))))
      .filter((i): i is PlanIdentity => !!i).map((i) => ({ identity: i, target: identityTarget(i) }));
    switch (step.target) {
      case 'identity':
        if (step.action === 'remove_grant') {
          const grant = identity.grants.find((g) => g.resourceId === step.params.resource);
          if (!grant) return [];
          const permissions = (step.params.permissions as string[] | undefined) ?? grant.permissions;
          const target = identityTarget(identity);
          // Discovered resources are `<connector>:<key>`; the connector knows them by its own key.
          const resourceKey = identity.connectorId && grant.resourceId.startsWith(`${identity.connectorId}:`) ? grant.resourceId.slice(identity.connectorId.length + 1) : grant.resourceId;
          return [{ identity, target: { ...target, target: { ...target.target!, grant: { resourceKey, permissions } }, label: `${permissions.join(', ')} on ${grant.resourceId} for ${target.label}` } }];
        }
        return [{ identity, target: identityTarget(identity) }];
      case 'sessions':
      case 'derived_sessions':
        return [{ identity, target: identityTarget(identity) }];
      case 'credential': {
        const credential = currentCredential(identity, detection.credentialId);
        return credential ? [{ identity, target: identityTarget(identity, credential) }] : [];
      }
      case 'credentials':
        return identity.credentials.filter((c) => c.status === 'active').map((c) => ({ identity, target: identityTarget(identity, c) }));
      case 'delegations':
        return others(identity.delegatesTo);
      case 'sharing_identities': {
        const credential = currentCredential(identity, detection.credentialId);
        return others((credential ? [credential] : identity.credentials).flatMap((c) => c.sharedWith));
      }
    }
  }

  async function checkGuards(step: Step, identity: PlanIdentity | null): Promise<GuardResult[]> {
    const results: GuardResult[] = [];
    for (const guard of step.guards) {
      if (!identity) {
        results.push({ when: guard.when, then: guard.then, tripped: false, detail: 'no identity to check' });
        continue;
      }
      let tripped = false;
      let detail = '';
      switch (guard.when) {
        case 'customer_facing':
          tripped = identity.tags.includes(TAG_CUSTOMER_FACING);
          detail = tripped ? `${identity.id} is tagged ${TAG_CUSTOMER_FACING}` : `${identity.id} is not customer-facing`;
          break;
        case 'shared': {
          const sharing = [...new Set(identity.credentials.filter((c) => c.status === 'active').flatMap((c) => c.sharedWith))];
          tripped = identity.tags.includes(TAG_SHARED) || sharing.length > 0;
          detail = identity.tags.includes(TAG_SHARED) ? `${identity.id} is tagged ${TAG_SHARED}`
            : sharing.length ? `${identity.id} shares a credential with ${sharing.join(', ')}` : `${identity.id} is not shared`;
          break;
        }
        case 'critical':
          tripped = identity.criticality === 'critical';
          detail = `criticality ${identity.criticality}`;
          break;
        case 'production':
          tripped = identity.environment === 'production';
          detail = `environment ${identity.environment}`;
          break;
        case 'unsafe_to_revoke': {
          const impact = (await sources.blastRadius(identity.id)).revocationImpact;
          tripped = !impact.safeToRevoke;
          detail = tripped ? `revoking breaks ${impact.consumers.filter((c) => c.customerFacing || c.criticality === 'high' || c.criticality === 'critical').map((c) => c.identityId).join(', ')}` : 'no high or customer-facing consumer breaks';
          break;
        }
        case 'blast_radius_above': {
          const radius = await sources.blastRadius(identity.id);
          const reached = radius.identities.length - 1;
          tripped = reached > (guard.above ?? 0);
          detail = `${reached} other identit${reached === 1 ? 'y' : 'ies'} in the blast radius${radius.truncated ? ' (truncated)' : ''}, limit ${guard.above}`;
          break;
        }
      }
      results.push({ when: guard.when, then: guard.then, tripped, detail });
    }
    return results;
  }

  function approvalOf(step: Step, guards: GuardResult[]): ApprovalRequirement | null {
    const guardReasons = guards.filter((g) => g.tripped && g.then === 'require_approval').map((g) => `guard ${g.when}: ${g.detail}`);
    if (step.approval !== 'auto') return { ...step.approval, reasons: ['the playbook requires approval for this step', ...guardReasons] };
    if (guardReasons.length === 0) return null;
    return { roles: ['approver', 'admin'], quorum: 1, timeoutMs: DEFAULT_APPROVAL_TIMEOUT_MS, default: 'deny', reasons: guardReasons };
  }

  function paramsOf(step: Step, playbook: Playbook, identity: PlanIdentity | null): Record<string, unknown> {
    if (step.action !== 'notify_owner') return step.params;
    return { ...step.params, team: step.params.team ?? identity?.owners[0] ?? step.owner ?? playbook.escalation.team ?? 'soc' };
  }

  async function plan(detection: PlanDetection, playbook: Playbook & { version: number }): Promise<ResponsePlan> {
    const identity = detection.identityId ? (await sources.identity(detection.identityId)) ?? null : null;
    const runs: PlannedRun[] = [];
    const escalations: ResponsePlan['escalations'] = [];
    const base = (step: Step) => ({
      tier: step.tier, stepId: step.id, action: step.action, selector: step.target, owner: step.owner ?? null,
      timeoutMs: step.timeoutMs, maxAttempts: step.maxAttempts, continueOnError: step.continueOnError,
    });
    for (const step of playbook.steps) {
      const targets = await targetsOf(step, detection, identity);
      if (targets.length === 0) {
        runs.push({
          ...base(step), seq: runs.length + 1, performer: null, params: step.params, approval: null, guards: [],
          target: { identityId: identity?.id ?? null, target: null, label: `${step.target} of ${identity?.id ?? 'no identity'}`, key: `identity:${identity?.id ?? 'none'}` },
          disposition: 'no_target', reason: `nothing to act on: ${step.action === 'remove_grant' ? `no grant on ${String(step.params.resource)}` : step.target === 'credential' ? 'the detection names no live credential' : `no ${step.target.replace(/_/g, ' ')}`}`,
        });
        continue;
      }
      for (const { identity: subject, target } of targets) {
        const guards = await checkGuards(step, subject);
        const params = paramsOf(step, playbook, subject);
        const approval = approvalOf(step, guards);
        const performers = await sources.performersFor(step.action, step.target, subject);
        const escalate = guards.find((g) => g.tripped && g.then === 'escalate');
        const skip = guards.find((g) => g.tripped && g.then === 'skip');
        const common = { ...base(step), target, params, approval, guards };
        if (escalate || skip || performers.length === 0) {
          const [disposition, reason] = escalate ? ['escalate' as const, `guard ${escalate.when}: ${escalate.detail}`]
            : skip ? ['skip' as const, `guard ${skip.when}: ${skip.detail}`]
              : ['no_performer' as const, `no connector can ${step.action.replace(/_/g, ' ')} ${target.label} (provider ${subject?.provider ?? 'none'}${subject?.connectorId ? `, connector ${subject.connectorId}` : ', no connector'})`];
          runs.push({ ...common, seq: runs.length + 1, performer: null, disposition, reason });
          if (disposition === 'escalate') escalations.push({ code: 'guard', reason: `step ${step.id}: ${reason}`, stepId: step.id });
          if (disposition === 'no_performer') escalations.push({ code: 'no_connector', reason: `step ${step.id}: ${reason}`, stepId: step.id });
          continue;
        }
        for (const performer of performers) {
          runs.push({ ...common, seq: runs.length + 1, performer, disposition: 'run', reason: null });
        }
      }
    }
    if (playbook.escalation.always) {
      escalations.push({ code: 'playbook', reason: playbook.escalation.reason ?? `playbook ${playbook.id} always hands the incident to dedicated response` });
    }
    return { playbook: { id: playbook.id, version: playbook.version, title: playbook.title }, detection, identity, runs, escalations };
  }

  return { plan };
}

export type Planner = ReturnType<typeof planner>;
