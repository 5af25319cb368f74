import type { Actor } from '../domain/roles.js';
import type { DetectionResult, IngestedEvent } from '../ingest/ingested.js';
import type { IdentityFacts } from '../ingest/resolve.js';
import { SLICE, yieldToEventLoop } from '../ingest/slices.js';
import type { Executor, Tx } from '../store/db.js';
import { learn, sourceKeys, type Baseline } from './baseline.js';
import { baselineStore, type BaselineStore } from './baselines.js';
import { builtinDetectors } from './detectors/index.js';
import { DEFAULT_DETECTOR_OPTIONS, hourBucket, NO_FINDINGS, type BaselineLookup, type Detector, type DetectorOptions, type Finding } from './finding.js';
import type { Rule, RuleBindings } from './rules.js';
import { storeDetections } from './store.js';

export interface DetectionEngineDeps {
  rules: Rule[];
  options?: Partial<DetectorOptions>;
  baselines?: BaselineStore;
  /** Told when a detector or rule throws on an event (the event is still stored). */
  onError?: (error: unknown, what: string) => void;
}

const DAY_MS = 86_400_000;
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/**
 * Detection over newly stored events: the built-in detectors, then the YAML rules, each event
 * judged against its identities' baselines as they were before it, which then learn from it.
 * Findings become detections in the batch's transaction; what the baselines learned counts once
 * that transaction commits (`committed`), so a batch rolled back and sent again is judged afresh.
 */
export function detectionEngine(deps: DetectionEngineDeps) {
  const options = { ...DEFAULT_DETECTOR_OPTIONS, ...deps.options };
  const detectors: Detector[] = builtinDetectors(options);
  const baselines = deps.baselines ?? baselineStore();
  const onError = deps.onError ?? (() => undefined);

  /** Rules whose cheap pre-filter passes an event's format and type, found once per pair. */
  const rulesByKind = new Map<string, Map<string, Rule[]>>();
  function rulesFor(format: string, type: string): Rule[] {
    let byType = rulesByKind.get(format);
    if (!byType) rulesByKind.set(format, (byType = new Map()));
    let rules = byType.get(type);
    if (!rules) {
      rules = deps.rules.filter((r) => (!r.when?.formats || (r.when.formats as string[]).includes(format)) && (!r.when?.types || (r.when.types as string[]).includes(type)));
      byType.set(type, rules);
    }
    return rules;
  }

  /** Judges the events in time order; yields to the event loop between slices, so the store's replies are read meanwhile. */
  async function evaluate(events: IngestedEvent[], lookup: BaselineLookup): Promise<Finding[]> {
    const findings: Finding[] = [];
    const ordered = [...events].sort((a, b) => a.event.time.getTime() - b.event.time.getTime());
    for (let i = 0; i < ordered.length; i++) {
      if (i % SLICE === SLICE - 1) await yieldToEventLoop();
      const e = ordered[i]!;
      for (const detector of detectors) {
        try {
          const found = detector.observe(e, lookup);
          if (found.length) findings.push(...found);
        } catch (error) {
          onError(error, `detector ${detector.type}`);
        }
      }
      const ruled = applyRules(e, lookup);
      if (ruled.length) findings.push(...ruled);
      for (const identity of e.resolution.identities) learn(lookup.get(identity.id), e);
    }
    return findings;
  }

  function applyRules(e: IngestedEvent, lookup: BaselineLookup): readonly Finding[] {
    const byKind = rulesFor(e.event.format, e.event.type);
    if (byKind.length === 0) return NO_FINDINGS;
    const candidates = byKind.filter((r) => !r.when?.actions || (e.event.action !== undefined && r.when.actions.includes(e.event.action)));
    if (candidates.length === 0) return NO_FINDINGS;
    let event: Record<string, unknown> | undefined;
    const subjects: (IdentityFacts | undefined)[] = e.resolution.identities.length ? e.resolution.identities : [undefined];
    const out: Finding[] = [];
    for (const identity of subjects) {
      const applicable = candidates.filter((r) => !r.when?.identityStatuses || (identity !== undefined && (r.when.identityStatuses as string[]).includes(identity.status)));
      if (applicable.length === 0) continue;
      event ??= eventBindings(e);
      const bindings: RuleBindings = { event, identity: identityBindings(identity), baseline: baselineBindings(identity && lookup.get(identity.id), e) };
      for (const rule of applicable) {
        let fired = false;
        try {
          fired = rule.matches(bindings);
        } catch (error) {
          onError(error, `rule ${rule.id}`);
        }
        if (!fired) continue;
        out.push({
          type: rule.type, rule: rule.id, severity: rule.severity, confidence: rule.confidence, identityId: identity?.id ?? null,
          title: rule.title,
          summary: `${rule.title}: ${e.event.action ?? e.event.type} on ${e.event.target ?? 'an unknown target'} by ${identity?.name ?? 'an unresolved identity'} (${e.event.format}).`,
          key: `${identity?.id ?? '-'}:${hourBucket(e.event.time)}`, frameworks: rule.frameworks,
          attributes: { ruleSource: rule.source }, eventId: e.id, occurredAt: e.event.time,
        });
      }
    }
    return out;
  }

  return {
    async detect(tx: Tx, events: IngestedEvent[], actor: Actor): Promise<DetectionResult> {
      const batch = await baselines.load(tx, identitiesOf(events));
      const findings = await evaluate(events, batch);
      const created = await storeDetections(tx, findings, actor);
      await batch.persist(tx);
      return { created, committed: batch.commit };
    },
    /** Writes every changed baseline now (on shutdown, and in tests). */
    flush: (db: Executor) => baselines.flush(db),
  };
}

export type DetectionEngine = ReturnType<typeof detectionEngine>;

function* identitiesOf(events: IngestedEvent[]): Iterable<IdentityFacts> {
  for (const e of events) yield* e.resolution.identities;
}

function eventBindings(e: IngestedEvent): Record<string, unknown> {
  const ev = e.event;
  return {
    id: e.id, type: ev.type, format: ev.format, source: ev.source, time: ev.time.toISOString(), hour: ev.time.getUTCHours(),
    weekday: WEEKDAYS[ev.time.getUTCDay()], action: ev.action ?? '', target: ev.target ?? '', outcome: ev.outcome,
    sourceIp: ev.sourceIp ?? '', asn: ev.sourceAsn ?? 0, geo: ev.sourceGeo ?? '', userAgent: ev.userAgent ?? '',
    privileged: ev.signals.privileged ?? false, scopes: ev.signals.scopes ?? [], verified: ev.signals.verified ?? false,
    jti: ev.refs.jtis[0] ?? '', fingerprints: ev.fingerprints, attributes: ev.attributes,
  };
}

function identityBindings(identity: IdentityFacts | undefined): Record<string, unknown> {
  if (!identity) return { resolved: false, id: '', name: '', kind: '', provider: '', environment: '', status: '', criticality: '', tags: [], scheduled: false };
  return {
    resolved: true, id: identity.id, name: identity.name, kind: identity.kind, provider: identity.provider, environment: identity.environment,
    status: identity.status, criticality: identity.criticality, tags: identity.tags, scheduled: identity.schedule !== null,
  };
}

function baselineBindings(baseline: Baseline | undefined, e: IngestedEvent): Record<string, unknown> {
  if (!baseline) return { observations: 0, sourceSeen: false, targetSeen: false, daysSinceLastSeen: -1 };
  return {
    observations: baseline.observations,
    sourceSeen: sourceKeys(e).some((k) => k in baseline.sources),
    targetSeen: e.event.target !== undefined && e.event.target in baseline.targets,
    daysSinceLastSeen: baseline.lastSeen === null ? -1 : Math.floor((e.event.time.getTime() - baseline.lastSeen) / DAY_MS),
  };
}
