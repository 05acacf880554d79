import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type StatsBreakdown } from '../api';
import { CountBar, ErrorMessage, formatBytes, PageTitle } from '../components';

const TYPE_COLOURS: Record<string, string> = {
  observation: '#1f5fbf',
  decision: '#137333',
  learning: '#7b3fa6',
  error: '#c0271b',
  pattern: '#a34f00',
};

function CountTable({
  title,
  counts,
  id,
  noneLabel = 'none',
}: {
  title: string;
  /** Counts by name, or rows in order (a null name: none, labelled `noneLabel`). */
  counts: Record<string, number> | Array<{ name: string | null; count: number }>;
  id: string;
  noneLabel?: string;
}) {
  const rows: Array<readonly [string | null, number]> = Array.isArray(counts)
    ? counts.map(({ name, count }) => [name, count] as const)
    : Object.entries(counts).sort((a, b) => b[1] - a[1]);
  const max = Math.max(0, ...rows.map(([, count]) => count));
  return (
    <section aria-labelledby={id} class="card">
      <h2 id={id}>{title}</h2>
      {rows.length === 0 ? (
        <p>None yet.</p>
      ) : (
        <table class="counts">
          <thead>
            <tr>
              <th scope="col">name</th>
              <th scope="col">memories</th>
            </tr>
          </thead>
          <tbody>
            {rows.map(([name, count]) => (
              <tr key={name ?? '\u0000none'}>
                <th scope="row">{name ?? <em class="none">{noneLabel}</em>}</th>
                <td>
                  <CountBar count={count} max={max} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Timeline({ breakdown }: { breakdown: StatsBreakdown }) {
  const container = useRef<HTMLDivElement>(null);
  const types = Object.keys(TYPE_COLOURS);
  useEffect(() => {
    let chart: { destroy(): void } | undefined;
    let disposed = false;
    void Promise.all([import('uplot'), import('uplot/dist/uPlot.min.css')]).then(([{ default: UPlot }]) => {
      if (disposed || !container.current) return;
      const x = breakdown.timeline.map((entry) => Date.parse(`${entry.day}T00:00:00Z`) / 1000);
      const series = types.map((type) => breakdown.timeline.map((entry) => entry.byType[type] ?? 0));
      const width = Math.max(280, container.current.clientWidth);
      chart = new UPlot(
        {
          width,
          height: 240,
          scales: { x: { time: true } },
          axes: [{ stroke: '#333' }, { stroke: '#333', label: 'memories created' }],
          series: [{}, ...types.map((type) => ({ label: type, stroke: TYPE_COLOURS[type], width: 2, points: { show: true, size: 4 } }))],
        },
        [x, ...series],
        container.current,
      );
    });
    return () => {
      disposed = true;
      chart?.destroy();
    };
  }, [breakdown]);
  const total = breakdown.timeline.reduce((sum, entry) => sum + Object.values(entry.byType).reduce((a, b) => a + b, 0), 0);
  return (
    <section aria-labelledby="timeline-heading" class="card wide">
      <h2 id="timeline-heading">Memories created per day, by type (last {breakdown.timeline.length} days)</h2>
      <div
        ref={container}
        class="chart"
        role="img"
        aria-label={`Line chart: ${total} memories created in the last ${breakdown.timeline.length} days; the table below holds the same numbers`}
      />
      <details>
        <summary>The numbers</summary>
        <div class="table-wrap">
          <table class="counts">
            <thead>
              <tr>
                <th scope="col">day</th>
                {types.map((type) => (
                  <th key={type} scope="col">
                    {type}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {breakdown.timeline
                .filter((entry) => Object.keys(entry.byType).length > 0)
                .map((entry) => (
                  <tr key={entry.day}>
                    <th scope="row">{entry.day}</th>
                    {types.map((type) => (
                      <td key={type}>{entry.byType[type] ?? 0}</td>
                    ))}
                  </tr>
                ))}
            </tbody>
          </table>
        </div>
      </details>
    </section>
  );
}

export function StatsPage() {
  const [breakdown, setBreakdown] = useState<StatsBreakdown | null>(null);
  const [error, setError] = useState<unknown>();
  const [days, setDays] = useState(30);

  useEffect(() => {
    let cancelled = false;
    api
      .breakdown(days)
      .then((result) => !cancelled && setBreakdown(result))
      .catch((caught) => !cancelled && setError(caught));
    return () => {
      cancelled = true;
    };
  }, [days]);

  return (
    <>
      <PageTitle>Stats</PageTitle>
      <ErrorMessage error={error} />
      <div class="filters">
        <div>
          <label for="stats-days">Timeline window</label>
          <select id="stats-days" value={String(days)} onChange={(event) => setDays(Number(event.currentTarget.value))}>
            <option value="7">7 days</option>
            <option value="30">30 days</option>
            <option value="90">90 days</option>
            <option value="365">365 days</option>
          </select>
        </div>
      </div>
      {breakdown ? (
        <>
          <dl class="summary" data-testid="stats-summary">
            <div>
              <dt>Memories</dt>
              <dd>{breakdown.total.toLocaleString()}</dd>
            </div>
            <div>
              <dt>Superseded</dt>
              <dd>{breakdown.superseded.toLocaleString()}</dd>
            </div>
            <div>
              <dt>Relations</dt>
              <dd>{breakdown.relations.toLocaleString()}</dd>
            </div>
            <div>
              <dt>Store</dt>
              <dd>
                {breakdown.store.name}, {formatBytes(breakdown.store.bytes)}
              </dd>
            </div>
            <div>
              <dt>Embedder</dt>
              <dd>
                {breakdown.embedder.id} ({breakdown.embedder.dimensions} dimensions)
              </dd>
            </div>
            <div>
              <dt>Index health</dt>
              <dd class={breakdown.index.healthy ? 'ok' : 'warn'}>
                {breakdown.index.healthy ? 'healthy' : 'vectors missing: run engram reembed'}
                {breakdown.index.vectors !== null ? `, ${breakdown.index.vectors.toLocaleString()} vectors` : ''}, lexical{' '}
                {breakdown.index.lexical}
              </dd>
            </div>
          </dl>
          <div class="cards">
            <Timeline breakdown={breakdown} />
            <CountTable id="by-type" title="By type" counts={breakdown.byType} />
            <CountTable id="by-subtype" title="By subtype" counts={breakdown.bySubtype} />
            <CountTable
              id="by-user"
              title="By user"
              counts={breakdown.byUser.map(({ userId, count }) => ({ name: userId, count }))}
              noneLabel="no user"
            />
            <CountTable
              id="by-agent"
              title="By agent"
              counts={breakdown.byAgent.map(({ agentId, count }) => ({ name: agentId, count }))}
              noneLabel="no agent"
            />
            <CountTable id="by-tag" title="Top tags" counts={breakdown.topTags.map(({ tag, count }) => ({ name: tag, count }))} />
          </div>
        </>
      ) : error ? null : (
        <p aria-busy="true">Counting…</p>
      )}
    </>
  );
}
