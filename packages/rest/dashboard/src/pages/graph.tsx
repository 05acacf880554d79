import type { Core, ElementDefinition } from 'cytoscape';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type MemoryRecord, type Relation } from '../api';
import { ErrorMessage, PageTitle, preview, RELATION_COLOURS, relationColour, shortId } from '../components';
import { useLiveEvents } from '../live';
import { navigate } from '../router';

interface GraphData {
  nodes: Map<string, MemoryRecord>;
  edges: Map<string, Relation>;
  expanded: Set<string>;
}

const edgeKey = (edge: Relation) => `${edge.sourceId}|${edge.targetId}|${edge.type}`;

function merge(data: GraphData, nodes: MemoryRecord[], edges: Relation[]): GraphData {
  const next: GraphData = { nodes: new Map(data.nodes), edges: new Map(data.edges), expanded: new Set(data.expanded) };
  for (const node of nodes) next.nodes.set(node.id, node);
  for (const edge of edges) if (next.nodes.has(edge.sourceId) && next.nodes.has(edge.targetId)) next.edges.set(edgeKey(edge), edge);
  return next;
}

function elements(data: GraphData): ElementDefinition[] {
  return [
    ...[...data.nodes.values()].map((node) => ({
      group: 'nodes' as const,
      data: { id: node.id, label: preview(node.content, 40), type: node.type },
      classes: [node.supersededBy ? 'superseded' : '', data.expanded.has(node.id) ? 'expanded' : ''].join(' ').trim(),
    })),
    ...[...data.edges.values()].map((edge) => ({
      group: 'edges' as const,
      data: { id: edgeKey(edge), source: edge.sourceId, target: edge.targetId, type: edge.type, colour: relationColour(edge.type) },
    })),
  ];
}

/** Cytoscape's force-directed layout, fitted to the view without blowing a handful of nodes up to full size. */
function runLayout(graph: Core): void {
  graph.layout({ name: 'cose', animate: false, fit: true, padding: 60 }).run();
  if (graph.zoom() > 1.2) {
    graph.zoom(1.2);
    graph.center();
  }
}

const CYTOSCAPE_STYLESHEET_ID = '__________cytoscape_stylesheet';

const EMPTY: GraphData = { nodes: new Map(), edges: new Map(), expanded: new Set() };

export function GraphPage({ parameters }: { parameters: URLSearchParams }) {
  const id = parameters.get('id') ?? '';
  const searchQuery = parameters.get('q') ?? '';
  const container = useRef<HTMLDivElement>(null);
  const cy = useRef<Core | undefined>(undefined);
  const [data, setData] = useState<GraphData>(EMPTY);
  const [error, setError] = useState<unknown>();
  const [text, setText] = useState(searchQuery);
  const [selected, setSelected] = useState<string | null>(null);
  const dataRef = useRef(data);
  dataRef.current = data;

  const expand = async (memoryId: string) => {
    try {
      const subgraph = await api.subgraph(memoryId, 1);
      setData((current) => {
        const next = merge(current, subgraph.nodes, subgraph.edges);
        next.expanded.add(memoryId);
        return next;
      });
    } catch (caught) {
      setError(caught);
    }
  };

  // The starting set: one memory's neighbourhood, or a search's hits and the edges among them and their neighbours.
  useEffect(() => {
    let cancelled = false;
    setData(EMPTY);
    setError(undefined);
    (async () => {
      if (id) {
        const subgraph = await api.subgraph(id, 1);
        if (cancelled) return;
        const next = merge(EMPTY, subgraph.nodes, subgraph.edges);
        next.expanded.add(id);
        setData(next);
        setSelected(id);
      } else if (searchQuery) {
        const { hits } = await api.search({ query: searchQuery, limit: 15 });
        let next = merge(
          EMPTY,
          hits.map((hit) => hit.memory),
          [],
        );
        const edges = await Promise.all(hits.map((hit) => api.relations(hit.memory.id).then((result) => result.relations)));
        next = merge(next, [], edges.flat());
        if (!cancelled) setData(next);
      }
    })().catch((caught) => !cancelled && setError(caught));
    return () => {
      cancelled = true;
    };
  }, [id, searchQuery]);

  // Cytoscape (loaded with this page only) draws the graph; its cose layout places the nodes.
  useEffect(() => {
    let disposed = false;
    void import('cytoscape').then(({ default: cytoscape }) => {
      if (disposed || !container.current) return;
      // Cytoscape adds a <style> element unless one with this id exists; the CSP forbids inline
      // styles, and styles.css already holds its one rule, so a placeholder stands in for it.
      if (!document.getElementById(CYTOSCAPE_STYLESHEET_ID)) {
        const placeholder = document.createElement('meta');
        placeholder.id = CYTOSCAPE_STYLESHEET_ID;
        document.head.append(placeholder);
      }
      cy.current = cytoscape({
        container: container.current,
        minZoom: 0.2,
        maxZoom: 3,
        style: [
          {
            selector: 'node',
            style: {
              label: 'data(label)',
              'font-size': 10,
              'text-wrap': 'ellipsis',
              'text-max-width': '120px',
              'text-valign': 'bottom',
              'text-margin-y': 4,
              color: '#1d1d1f',
              'background-color': '#1f4e8c',
              width: 18,
              height: 18,
            },
          },
          { selector: 'node.expanded', style: { 'border-width': 3, 'border-color': '#0b2a4f' } },
          { selector: 'node.superseded', style: { opacity: 0.35, 'background-color': '#8a8f98' } },
          { selector: 'node:selected', style: { 'background-color': '#c25e00', 'border-width': 3, 'border-color': '#6b3400' } },
          {
            selector: 'edge',
            style: {
              width: 2,
              'line-color': 'data(colour)',
              'target-arrow-color': 'data(colour)',
              'target-arrow-shape': 'triangle',
              'curve-style': 'bezier',
              label: 'data(type)',
              'font-size': 8,
              color: '#333',
              'text-rotation': 'autorotate',
            },
          },
          { selector: 'edge[type = "related"], edge[type = "contradicts"]', style: { 'target-arrow-shape': 'none' } },
        ],
      });
      cy.current.on('tap', 'node', (event) => {
        const nodeId = event.target.id() as string;
        setSelected(nodeId);
        if (!dataRef.current.expanded.has(nodeId)) void expand(nodeId);
      });
      cy.current.on('dbltap', 'node', (event) => navigate(`/memories/${encodeURIComponent(event.target.id() as string)}`));
      cy.current.add(elements(dataRef.current));
      runLayout(cy.current);
    });
    return () => {
      disposed = true;
      cy.current?.destroy();
      cy.current = undefined;
    };
  }, []);

  useEffect(() => {
    const graph = cy.current;
    if (!graph) return;
    graph.elements().remove();
    graph.add(elements(data));
    if (selected && graph.getElementById(selected).nonempty()) graph.getElementById(selected).select();
    runLayout(graph);
  }, [data, selected]);

  // Live: a link or unlink touching a drawn memory updates the edges.
  useLiveEvents((event) => {
    const relation = event.data.relation;
    if (!relation) return;
    if (!dataRef.current.nodes.has(relation.sourceId) && !dataRef.current.nodes.has(relation.targetId)) return;
    if (event.name === 'relation:removed') {
      setData((current) => {
        const next = { ...current, edges: new Map(current.edges) };
        for (const [key, edge] of current.edges)
          if (edge.sourceId === relation.sourceId && edge.targetId === relation.targetId && edge.type === relation.type)
            next.edges.delete(key);
        return next;
      });
    } else {
      const known = dataRef.current.nodes.has(relation.sourceId) ? relation.sourceId : relation.targetId;
      void expand(known);
    }
  });

  const nodes = [...data.nodes.values()];
  const edges = [...data.edges.values()];
  const selectedMemory = selected ? data.nodes.get(selected) : undefined;

  return (
    <>
      <PageTitle>Graph</PageTitle>
      <search>
        <form
          class="search-main"
          onSubmit={(event) => {
            event.preventDefault();
            if (text.trim()) navigate(`/graph?q=${encodeURIComponent(text.trim())}`);
          }}
        >
          <label for="graph-query">Draw the memories that match</label>
          <input id="graph-query" type="search" value={text} onInput={(event) => setText(event.currentTarget.value)} />
          <button type="submit">Draw</button>
        </form>
      </search>
      <ErrorMessage error={error} />
      {!id && !searchQuery ? <p>Search for memories to draw, or open a memory and choose “Show in graph”.</p> : null}
      <ul class="legend" aria-label="Edge colours">
        {Object.entries(RELATION_COLOURS).map(([type, colour]) => (
          <li key={type}>
            <svg width="24" height="8" aria-hidden="true">
              <line x1="0" y1="4" x2="24" y2="4" stroke={colour} stroke-width="3" />
            </svg>
            {type}
          </li>
        ))}
        <li>
          <span class="dimmed-dot" aria-hidden="true" /> superseded (dimmed)
        </li>
      </ul>
      <div class="graph-layout">
        <div
          ref={container}
          class="graph"
          role="img"
          aria-label={`Graph of ${nodes.length} memories and ${edges.length} relations; the same data is listed beside it`}
          data-testid="graph"
          data-nodes={nodes.length}
          data-edges={edges.length}
        />
        <aside aria-labelledby="graph-list-heading" class="graph-list">
          <h2 id="graph-list-heading">Memories drawn ({nodes.length})</h2>
          {selectedMemory ? (
            <p class="selected">
              Selected: <a href={`/memories/${encodeURIComponent(selectedMemory.id)}`}>{preview(selectedMemory.content, 80)}</a>
            </p>
          ) : null}
          <ul>
            {nodes.map((node) => (
              <li key={node.id} class={node.supersededBy ? 'superseded' : ''}>
                <a href={`/memories/${encodeURIComponent(node.id)}`}>{preview(node.content, 60)}</a>
                {data.expanded.has(node.id) ? null : (
                  <button type="button" onClick={() => void expand(node.id)} aria-label={`Expand ${preview(node.content, 40)}`}>
                    Expand
                  </button>
                )}
              </li>
            ))}
          </ul>
          <h2>Relations ({edges.length})</h2>
          <ul data-testid="graph-edges">
            {edges.map((edge) => (
              <li key={edgeKey(edge)}>
                {preview(data.nodes.get(edge.sourceId)?.content ?? shortId(edge.sourceId), 32)}{' '}
                <strong style={{ color: relationColour(edge.type) }}>{edge.type}</strong>{' '}
                {preview(data.nodes.get(edge.targetId)?.content ?? shortId(edge.targetId), 32)}
              </li>
            ))}
          </ul>
        </aside>
      </div>
    </>
  );
}
