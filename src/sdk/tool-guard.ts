/**
 * Bounded tool access for AI agents: wrap each tool so that Cordon's decision point is asked
 * before it runs. A denied call never reaches the tool; neither does a call the decision point
 * could not be asked about (fail closed). Every decision is handed to `onDecision` for the
 * agent's own trace, and Cordon keeps it in its decision log under the same `decisionId`.
 *
 * ```ts
 * const pdp = httpAuthorizer({ baseUrl: 'http://cordon:7700', token: process.env.CORDON_TOKEN! });
 * const refund = guardTool('refunds.create', createRefund, {
 *   authorizer: pdp,
 *   principal: { type: 'Cordon::AiAgent', id: 'agent-refunds' },
 *   context: (input) => ({ input: { amount: input.amount } }),
 * });
 * await refund({ amount: 120, order: 'o-1' }); // throws ToolDeniedError when policy says no
 * ```
 */
import type { AuthorizationDecision, AuthorizationRequest, Authorizer, EntityRef } from '../domain/authorization.js';
import { ForbiddenError, UnavailableError } from '../domain/errors.js';

/** What the decision point answered, with the ids Cordon adds over HTTP. */
export interface ToolDecision extends AuthorizationDecision {
  decisionId?: string;
  policyVersion?: number;
}

export interface ToolCallRecord {
  tool: string;
  principal: EntityRef;
  task?: string;
  decision: 'allow' | 'deny';
  reasons: string[];
  errors: string[];
  decisionId?: string;
  policyVersion?: number;
  at: Date;
}

export interface ToolGuardOptions<I> {
  /** The decision point: `httpAuthorizer(…)`, or Cordon's own in-process. */
  authorizer: Authorizer;
  /** The agent calling the tool. */
  principal: EntityRef;
  /** The task the agent works on, when it has one (a function for a task that changes). */
  task?: string | (() => string | undefined);
  /**
   * Facts about this call for the policies, e.g. `(input) => ({ input: { amount: input.amount } })`.
   * Nothing of the input is sent unless picked here.
   */
  context?: (input: I) => Record<string, unknown>;
  /** Entity type of tools (default `Cordon::Tool`). */
  toolType?: string;
  /** The action asked for (default `Cordon::Action::"tool.call"`). */
  action?: EntityRef;
  /** Told of every decision, allowed or not, before the tool runs. */
  onDecision?: (record: ToolCallRecord) => void | Promise<void>;
}

/** The decision point said no: the tool did not run. */
export class ToolDeniedError extends ForbiddenError {
  constructor(readonly record: ToolCallRecord) {
    super('ERR_TOOL_DENIED', `the tool ${record.tool} was denied to ${record.principal.type}::${JSON.stringify(record.principal.id)}${record.reasons.length ? ` by ${record.reasons.join(', ')}` : ' (no policy permits it)'}`);
  }
}

const TOOL_CALL: EntityRef = { type: 'Cordon::Action', id: 'tool.call' };

/** `run`, asking the decision point first; resolves with the tool's result or throws `ToolDeniedError`. */
export function guardTool<I, O>(tool: string, run: (input: I) => O | Promise<O>, options: ToolGuardOptions<I>): (input: I) => Promise<O> {
  return async (input: I) => {
    const task = typeof options.task === 'function' ? options.task() : options.task;
    const request: AuthorizationRequest & { task?: { id: string } } = {
      principal: options.principal,
      action: options.action ?? TOOL_CALL,
      resource: { type: options.toolType ?? 'Cordon::Tool', id: tool },
      context: options.context?.(input) ?? {},
      ...(task ? { task: { id: task } } : {}),
    };
    let decision: ToolDecision;
    try {
      decision = await options.authorizer.authorize(request);
    } catch (error) {
      await options.onDecision?.({ tool, principal: options.principal, task, decision: 'deny', reasons: [], errors: [`the decision point could not be asked: ${(error as Error).message}`], at: new Date() });
      throw new UnavailableError('ERR_PDP_UNAVAILABLE', `the tool ${tool} did not run: the decision point could not be asked (${(error as Error).message})`, { cause: error });
    }
    const record: ToolCallRecord = {
      tool,
      principal: options.principal,
      task,
      decision: decision.decision,
      reasons: decision.reasons,
      errors: decision.errors,
      decisionId: decision.decisionId,
      policyVersion: decision.policyVersion,
      at: new Date(),
    };
    await options.onDecision?.(record);
    if (decision.decision !== 'allow') throw new ToolDeniedError(record);
    return run(input);
  };
}

/** Asks a Cordon server's `POST /v1/authorize` with a workload (or admin) API token. */
export function httpAuthorizer(options: { baseUrl: string; token: string; fetch?: typeof fetch }): Authorizer {
  const fetchImpl = options.fetch ?? fetch;
  const url = new URL('/v1/authorize', options.baseUrl);
  return {
    async authorize(request: AuthorizationRequest): Promise<ToolDecision> {
      const response = await fetchImpl(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${options.token}` },
        body: JSON.stringify(request),
      });
      const body = await response.json().catch(() => undefined) as (ToolDecision & { code?: string; detail?: string }) | undefined;
      if (!response.ok || !body) throw new Error(`POST /v1/authorize answered ${response.status}${body?.code ? ` ${body.code}: ${body.detail}` : ''}`);
      return body;
    },
  };
}
