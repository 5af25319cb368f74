import cytoscape, { type Core, type ElementDefinition, type StylesheetJson } from 'cytoscape';
import { useEffect, useMemo, useRef, useState } from 'react';
import { Link } from 'react-router';
import type { NodeType } from '../../../src/domain/graph.js';
import { radialTree } from './radial-tree';

export interface GraphNode {
  key: string;
  label: string;
  type: NodeType;
  depth: number;
  /** Shown when the node is picked: how it was reached. */
  detail: string;
  /** The console page of the node, when it has one. */
  href?: string;
}

export interface GraphLink {
  from: string;
  to: string;
  label: string;
}

/** Shape and colour both say a node's type, so the graph reads without colour vision. */
export const NODE_STYLE: Record<NodeType, { shape: cytoscape.Css.NodeShape; color: string }> = {
  identity: { shape: 'ellipse', color: '#1d5fa8' },
  credential: { shape: 'diamond', color: '#b35c00' },
  session: { shape: 'round-rectangle', color: '#5c6670' },
  resource: { shape: 'barrel', color: '#1b7f4c' },
  team: { shape: 'hexagon', color: '#6b3fa0' },
  location: { shape: 'tag', color: '#8a5a2b' },
};

const STYLESHEET: StylesheetJson = [
  {
    selector: 'node',
    style: {
      label: 'data(label)', 'font-size': 10, 'text-valign': 'bottom', 'text-margin-y': 3, 'text-wrap': 'ellipsis',
      'text-max-width': '120px', 'min-zoomed-font-size': 7, color: '#1f2933', width: 18, height: 18,
      'background-color': 'data(color)', shape: 'data(shape)' as never,
    },
  },
  { selector: 'node[?start]', style: { width: 30, height: 30, 'border-width': 4, 'border-color': '#c0262d', 'font-weight': 'bold' } },
  {
    selector: 'edge',
    style: {
      width: 1.2, 'line-color': '#9aa5b1', 'target-arrow-color': '#9aa5b1', 'target-arrow-shape': 'triangle', 'curve-style': 'straight',
      'arrow-scale': 0.7, label: 'data(label)', 'font-size': 8, color: '#52606d', 'text-rotation': 'autorotate', 'min-zoomed-font-size': 9,
    },
  },
  { selector: 'node:selected', style: { 'border-width': 3, 'border-color': '#f0b429' } },
];

/**
 * Cytoscape puts a one-rule <style> element into the page unless an element with this id is
 * already there. The rule is in styles.css instead, so the Content-Security-Policy can refuse
 * inline styles.
 */
function claimCytoscapeStylesheet(): void {
  const id = '__________cytoscape_stylesheet';
  if (document.getElementById(id)) return;
  const marker = document.createElement('meta');
  marker.id = id;
  marker.name = 'cytoscape-stylesheet';
  marker.content = 'in styles.css';
  document.head.appendChild(marker);
}

/** Fits the graph in view, but never blows a small graph up past its natural size. */
function fitReadably(cy: Core): void {
  cy.fit(undefined, 24);
  if (cy.zoom() > 1.5) {
    cy.zoom(1.5);
    cy.center();
  }
}

/**
 * A node-link drawing on a canvas, laid out by distance from the start, so a few hundred nodes
 * stay readable: branches keep to their sector, labels show once zoomed in far enough to read,
 * and a picked node is described below the drawing. The canvas is not keyboard-readable,
 * so callers list the same nodes in a table beside it.
 */
export default function Graph({ nodes, links, label, focus }: {
  nodes: GraphNode[];
  links: GraphLink[];
  label: string;
  /** A node to show: picked, centred and zoomed to a readable size (a new object each time it is asked). */
  focus?: { key: string } | null;
}) {
  const container = useRef<HTMLDivElement>(null);
  const figure = useRef<HTMLElement>(null);
  const core = useRef<Core | null>(null);
  const [picked, setPicked] = useState<GraphNode | null>(null);
  const byKey = useMemo(() => new Map(nodes.map((n) => [n.key, n])), [nodes]);

  useEffect(() => {
    if (!container.current) return;
    claimCytoscapeStylesheet();
    const large = nodes.length > 40;
    const elements: ElementDefinition[] = [
      ...nodes.map((n) => ({ data: { id: n.key, label: n.label, start: n.depth === 0, color: NODE_STYLE[n.type].color, shape: NODE_STYLE[n.type].shape } })),
      ...links.map((l, i) => ({ data: { id: `e${i}`, source: l.from, target: l.to, label: l.label } })),
    ];
    const cy = cytoscape({
      container: container.current,
      elements,
      style: STYLESHEET,
      layout: large
        // Hundreds of nodes: a radial tree, each branch in its own sector, no node on another.
        ? { name: 'preset', positions: Object.fromEntries(radialTree(nodes, links)), animate: false }
        // A few dozen: rows by distance from the start read as a tree.
        : { name: 'breadthfirst', roots: nodes.filter((n) => n.depth === 0).map((n) => n.key), directed: true, spacingFactor: 1.2, avoidOverlap: true, animate: false },
      minZoom: 0.05,
      maxZoom: 4,
      boxSelectionEnabled: false,
      textureOnViewport: large,
      hideEdgesOnViewport: large,
    });
    cy.on('tap', 'node', (event) => setPicked(byKey.get(String(event.target.id())) ?? null));
    cy.on('tap', (event) => {
      if (event.target === cy) setPicked(null);
    });
    fitReadably(cy);
    core.current = cy;
    return () => {
      core.current = null;
      setPicked(null);
      cy.destroy();
    };
  }, [nodes, links, byKey]);

  useEffect(() => {
    const cy = core.current;
    const node = focus ? cy?.getElementById(focus.key) : undefined;
    if (!cy || !node || node.empty()) return;
    cy.elements().unselect();
    node.select();
    cy.zoom(Math.max(cy.zoom(), 1.2));
    cy.center(node);
    setPicked(byKey.get(node.id()) ?? null);
    figure.current?.scrollIntoView({ block: 'center' });
  }, [focus, byKey]);

  const zoom = (factor: number) => {
    const cy = core.current;
    if (cy) cy.zoom({ level: cy.zoom() * factor, renderedPosition: { x: cy.width() / 2, y: cy.height() / 2 } });
  };
  return (
    <figure className="graph-figure" ref={figure}>
      <div className="graph-toolbar" role="toolbar" aria-label="Graph view">
        <button type="button" className="secondary" onClick={() => zoom(1.25)}>Zoom in</button>
        <button type="button" className="secondary" onClick={() => zoom(0.8)}>Zoom out</button>
        <button type="button" className="secondary" onClick={() => core.current && fitReadably(core.current)}>Fit</button>
      </div>
      <div ref={container} className="graph" role="img" aria-label={label} data-nodes={nodes.length} data-edges={links.length} />
      <p className="graph-picked" aria-live="polite">
        {picked
          ? <><strong>{picked.label}</strong> ({picked.type}): {picked.detail}{picked.href ? <> · <Link to={picked.href}>Open</Link></> : null}</>
          : <span className="muted">Click a node to see what it is and how it was reached; scroll or use the buttons to zoom, drag to pan.</span>}
      </p>
      <figcaption className="graph-legend">
        {Object.entries(NODE_STYLE).map(([type, style]) => (
          <span key={type}><span className={`legend-mark legend-${type}`} aria-hidden="true" /> {type} ({style.shape})</span>
        ))}
        <span>The start has a red ring.</span>
      </figcaption>
    </figure>
  );
}
