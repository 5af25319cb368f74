import { preparsePolicySet } from './cedar.js';

/**
 * Pre-parsed policy sets live inside the WebAssembly module under a name until that name is
 * parsed again; Cedar offers no way to drop one. So the names are a fixed pool shared by every
 * engine: the least recently used slice gives its name to the next one, and an engine replaced by
 * a new policy version stops holding any name once its slices are reused.
 */
class SlicePool {
  private readonly owners = new Map<string, { owner: object; key: string }>();
  private readonly named = new WeakMap<object, Map<string, string>>();
  /** Names from least to most recently used (a Map keeps insertion order). */
  private readonly recency = new Map<string, true>();

  constructor(private readonly capacity: number) {}

  /** The name of the owner's pre-parsed slice `key`, parsing it with `policies` when it is not held. */
  acquire(owner: object, key: string, policies: () => Record<string, string>): string {
    let names = this.named.get(owner);
    if (!names) this.named.set(owner, (names = new Map()));
    const held = names.get(key);
    if (held !== undefined) {
      const current = this.owners.get(held);
      if (current?.owner === owner && current.key === key) {
        this.recency.delete(held);
        this.recency.set(held, true);
        return held;
      }
      names.delete(key);
    }
    const name = this.recency.size < this.capacity ? `cordon-slice-${this.recency.size}` : this.recency.keys().next().value!;
    const previous = this.owners.get(name);
    if (previous) this.named.get(previous.owner)?.delete(previous.key);
    const answer = preparsePolicySet(name, { staticPolicies: policies() });
    if (answer.type !== 'success') throw new Error(`Cedar refused a slice of a validated policy set: ${answer.errors.map((e) => e.message).join('; ')}`);
    this.owners.set(name, { owner, key });
    names.set(key, name);
    this.recency.delete(name);
    this.recency.set(name, true);
    return name;
  }
}

export const slicePool = new SlicePool(512);
