/**
 * Node positions for a radial tree: the start at the centre, each ring one step further out, and
 * each node's children inside the angle its parent holds, sized by how many leaves they carry.
 * Branches stay together (no chords across the drawing), and each ring's radius is chosen so no
 * two of its nodes are closer than `spacing`. Pure: no DOM, so it is tested on its own.
 */

export interface TreeNode {
  key: string;
  depth: number;
}

export interface TreeLink {
  from: string;
  to: string;
}

export interface Point {
  x: number;
  y: number;
}

export function radialTree(nodes: readonly TreeNode[], links: readonly TreeLink[], spacing = 28): Map<string, Point> {
  const depthOf = new Map(nodes.map((n) => [n.key, n.depth]));
  const children = new Map<string, string[]>(nodes.map((n) => [n.key, []]));
  const hasParent = new Set<string>();
  for (const { from, to } of links) {
    const [a, b] = [depthOf.get(from), depthOf.get(to)];
    if (a === undefined || b === undefined || a >= b || hasParent.has(to)) continue;
    hasParent.add(to);
    children.get(from)!.push(to);
  }
  // The start(s) sit at the centre; their children and any node nothing links to share the circle.
  const centre = nodes.filter((n) => n.depth === 0).map((n) => n.key);
  const top = [...centre.flatMap((key) => children.get(key)!), ...nodes.filter((n) => n.depth > 0 && !hasParent.has(n.key)).map((n) => n.key)];

  const leaves = new Map<string, number>();
  const leafCount = (key: string): number => {
    let count = leaves.get(key);
    if (count === undefined) {
      const below = children.get(key)!;
      count = below.length ? below.reduce((sum, child) => sum + leafCount(child), 0) : 1;
      leaves.set(key, count);
    }
    return count;
  };

  const angle = new Map<string, number>();
  const allocate = (keys: string[], from: number, to: number) => {
    const total = keys.reduce((sum, key) => sum + leafCount(key), 0);
    let cursor = from;
    for (const key of keys) {
      const span = ((to - from) * leafCount(key)) / total;
      angle.set(key, cursor + span / 2);
      allocate(children.get(key)!, cursor, cursor + span);
      cursor += span;
    }
  };
  allocate(top, -Math.PI / 2, (3 * Math.PI) / 2);

  // Each ring far enough out for its closest pair, and clear of the ring inside it.
  const rings = new Map<number, number[]>();
  for (const [key, a] of angle) {
    const depth = depthOf.get(key)!;
    rings.set(depth, [...(rings.get(depth) ?? []), a]);
  }
  const radius = new Map<number, number>([[0, 0]]);
  let previous = 0;
  for (const depth of [...rings.keys()].sort((a, b) => a - b)) {
    const angles = rings.get(depth)!.sort((a, b) => a - b);
    let gap = 2 * Math.PI;
    for (let i = 1; i < angles.length; i++) gap = Math.min(gap, angles[i]! - angles[i - 1]!);
    if (angles.length > 1) gap = Math.min(gap, 2 * Math.PI - (angles.at(-1)! - angles[0]!));
    previous = Math.max(previous + 3 * spacing, angles.length > 1 ? spacing / (2 * Math.sin(gap / 2)) : 0);
    radius.set(depth, previous);
  }

  const positions = new Map<string, Point>();
  for (const key of centre) positions.set(key, { x: 0, y: 0 });
  for (const [key, a] of angle) {
    const r = radius.get(depthOf.get(key)!)!;
    positions.set(key, { x: r * Math.cos(a), y: r * Math.sin(a) });
  }
  return positions;
}
