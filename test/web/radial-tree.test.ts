import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { radialTree, type Point, type TreeLink, type TreeNode } from '../../web/src/components/radial-tree.js';

/** A hub trusted by many workloads and delegating to agents that each hold a key: wide and shallow. */
function fleet(workloads: number, agents: number): { nodes: TreeNode[]; links: TreeLink[] } {
  const nodes: TreeNode[] = [{ key: 'hub', depth: 0 }];
  const links: TreeLink[] = [];
  for (let i = 0; i < workloads; i++) {
    nodes.push({ key: `w${i}`, depth: 1 });
    links.push({ from: 'hub', to: `w${i}` });
  }
  for (let i = 0; i < agents; i++) {
    nodes.push({ key: `a${i}`, depth: 1 }, { key: `k${i}`, depth: 2 });
    links.push({ from: 'hub', to: `a${i}` }, { from: `a${i}`, to: `k${i}` });
  }
  return { nodes, links };
}

const distance = (a: Point, b: Point) => Math.hypot(a.x - b.x, a.y - b.y);
const radius = (p: Point) => Math.hypot(p.x, p.y);

describe('the radial tree layout of large blast radii', () => {
  const { nodes, links } = fleet(160, 70);
  const spacing = 28;
  const positions = radialTree(nodes, links, spacing);

  test('places every node, the start at the centre', () => {
    assert.equal(positions.size, nodes.length);
    assert.deepEqual(positions.get('hub'), { x: 0, y: 0 });
  });

  test('puts each depth on its own ring, further out the deeper it is', () => {
    const ring = (depth: number) => [...new Set(nodes.filter((n) => n.depth === depth).map((n) => Math.round(radius(positions.get(n.key)!))))];
    assert.equal(ring(1).length, 1);
    assert.equal(ring(2).length, 1);
    assert.ok(ring(2)[0]! >= ring(1)[0]! + 3 * spacing);
  });

  test('keeps every two nodes at least the spacing apart', () => {
    const points = [...positions.values()];
    let closest = Infinity;
    for (let i = 0; i < points.length; i++) for (let j = i + 1; j < points.length; j++) closest = Math.min(closest, distance(points[i]!, points[j]!));
    assert.ok(closest >= spacing - 1e-6, `closest pair ${closest}`);
  });

  test('keeps a branch together: a child sits at its parent\'s angle', () => {
    for (let i = 0; i < 70; i++) {
      const parent = positions.get(`a${i}`)!;
      const child = positions.get(`k${i}`)!;
      assert.ok(Math.abs(Math.atan2(parent.y, parent.x) - Math.atan2(child.y, child.x)) < 1e-9, `a${i}`);
    }
  });

  test('places a node that nothing links to on its own ring, beside the branches', () => {
    const withOrphan = radialTree([...nodes, { key: 'lost', depth: 2 }], links, spacing);
    const lost = withOrphan.get('lost')!;
    assert.equal(Math.round(radius(lost)), Math.round(radius(withOrphan.get('k0')!)));
  });
});
