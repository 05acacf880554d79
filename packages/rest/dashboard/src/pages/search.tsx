import { useEffect, useState } from 'preact/hooks';
import { api, type Explanation, type Hit } from '../api';
import { baseTypes, ErrorMessage, formatDate, PageTitle, ScoreBar, TypeBadge } from '../components';
import { navigate } from '../router';

interface Form {
  query: string;
  mode: string;
  types: string;
  tags: string;
  time: string;
  userId: string;
  agentId: string;
  includeSuperseded: boolean;
}

function formFrom(parameters: URLSearchParams): Form {
  return {
    query: parameters.get('q') ?? '',
    mode: parameters.get('mode') ?? 'hybrid',
    types: parameters.get('types') ?? '',
    tags: parameters.get('tags') ?? '',
    time: parameters.get('time') ?? '',
    userId: parameters.get('userId') ?? '',
    agentId: parameters.get('agentId') ?? '',
    includeSuperseded: parameters.get('includeSuperseded') === 'true',
  };
}

function toParameters(form: Form): string {
  const parameters = new URLSearchParams();
  if (form.query) parameters.set('q', form.query);
  if (form.mode !== 'hybrid') parameters.set('mode', form.mode);
  for (const name of ['types', 'tags', 'time', 'userId', 'agentId'] as const) if (form[name]) parameters.set(name, form[name]);
  if (form.includeSuperseded) parameters.set('includeSuperseded', 'true');
  return parameters.toString();
}

const split = (value: string) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

/** Each signal's share of the score, as the retrieval pipeline reports it (docs/retrieval.md). */
function ExplanationView({ explanation }: { explanation: Explanation }) {
  const rows: Array<[string, number, string]> = [];
  if (explanation.lexical)
    rows.push([
      'lexical',
      explanation.lexical.contribution,
      `rank ${explanation.lexical.rank}, BM25 ${explanation.lexical.score.toFixed(2)}`,
    ]);
  if (explanation.vector)
    rows.push([
      'vector',
      explanation.vector.contribution,
      `rank ${explanation.vector.rank}, similarity ${explanation.vector.similarity.toFixed(3)}`,
    ]);
  if (explanation.date) rows.push(['date', explanation.date.contribution, `cue “${explanation.date.cue}”`]);
  rows.push(['recency', explanation.recency.contribution, `${explanation.recency.ageDays.toFixed(1)} days old`]);
  rows.push(['importance', explanation.importance.contribution, `importance ${explanation.importance.value.toFixed(2)}`]);
  if (explanation.decay) rows.push(['decay', explanation.decay.contribution, `decay score ${explanation.decay.value.toFixed(2)}`]);
  const max = Math.max(...rows.map(([, contribution]) => contribution), 0.0001);
  return (
    <div class="explanation">
      <table>
        <caption>
          Why this hit: fused relevance {explanation.relevance.toFixed(3)}
          {explanation.evidence ? `, ${explanation.evidence.matched} query words matched` : ''}
          {explanation.expansion ? `, reached through the graph (${explanation.expansion.distance} hop)` : ''}
        </caption>
        <thead>
          <tr>
            <th scope="col">signal</th>
            <th scope="col">contribution</th>
            <th scope="col">detail</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(([signal, contribution, detail]) => (
            <tr key={signal}>
              <th scope="row">{signal}</th>
              <td>
                <ScoreBar value={contribution} max={max} label={`${signal} contribution`} />
              </td>
              <td>{detail}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function SearchPage({ parameters }: { parameters: URLSearchParams }) {
  const [form, setForm] = useState<Form>(() => formFrom(parameters));
  const [types, setTypes] = useState<string[]>([]);
  const [hits, setHits] = useState<Hit[] | null>(null);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const submitted = parameters.toString();

  useEffect(() => {
    baseTypes()
      .then(setTypes)
      .catch(() => {});
  }, []);

  // The URL is the search: a reload or a shared link runs it again.
  useEffect(() => {
    const current = formFrom(new URLSearchParams(submitted));
    setForm(current);
    if (!current.query) {
      setHits(null);
      return;
    }
    let cancelled = false;
    setBusy(true);
    api
      .search({
        query: current.query,
        mode: current.mode,
        explain: true,
        limit: 20,
        ...(current.types ? { types: split(current.types) } : {}),
        ...(current.tags ? { tags: split(current.tags) } : {}),
        ...(current.time ? { time: current.time } : {}),
        ...(current.userId || current.agentId
          ? { scope: { ...(current.userId ? { userId: current.userId } : {}), ...(current.agentId ? { agentId: current.agentId } : {}) } }
          : {}),
        ...(current.includeSuperseded ? { includeSuperseded: true } : {}),
      })
      .then((result) => {
        if (cancelled) return;
        setHits(result.hits);
        setError(undefined);
      })
      .catch((caught) => !cancelled && setError(caught))
      .finally(() => !cancelled && setBusy(false));
    return () => {
      cancelled = true;
    };
  }, [submitted]);

  const field = (name: 'query' | 'types' | 'tags' | 'time' | 'userId' | 'agentId' | 'mode') => ({
    id: `search-${name}`,
    name,
    value: form[name],
    onInput: (event: Event) => setForm({ ...form, [name]: (event.currentTarget as HTMLInputElement).value }),
  });

  return (
    <>
      <PageTitle>Search</PageTitle>
      <search>
        <form
          class="search-form"
          onSubmit={(event) => {
            event.preventDefault();
            navigate(`/search?${toParameters(form)}`);
          }}
        >
          <div class="search-main">
            <label for="search-query">Query</label>
            <input {...field('query')} type="search" required placeholder="what did we decide about the CI cache?" />
            <button type="submit" disabled={busy}>
              Search
            </button>
          </div>
          <div class="filters">
            <div>
              <label for="search-mode">Mode</label>
              <select {...field('mode')}>
                <option value="hybrid">hybrid</option>
                <option value="lexical">lexical</option>
                <option value="vector">vector</option>
              </select>
            </div>
            <div>
              <label for="search-types">Type</label>
              <select {...field('types')}>
                <option value="">any</option>
                {types.map((type) => (
                  <option key={type} value={type}>
                    {type}
                  </option>
                ))}
              </select>
            </div>
            <div>
              <label for="search-tags">Tags (any)</label>
              <input {...field('tags')} />
            </div>
            <div>
              <label for="search-time">Time</label>
              <input {...field('time')} placeholder="last month" />
            </div>
            <div>
              <label for="search-userId">User</label>
              <input {...field('userId')} />
            </div>
            <div>
              <label for="search-agentId">Agent</label>
              <input {...field('agentId')} />
            </div>
            <div class="checkbox">
              <input
                id="search-superseded"
                type="checkbox"
                checked={form.includeSuperseded}
                onChange={(event) => setForm({ ...form, includeSuperseded: event.currentTarget.checked })}
              />
              <label for="search-superseded">Include superseded</label>
            </div>
          </div>
        </form>
      </search>
      <ErrorMessage error={error} />
      {hits !== null ? (
        <section aria-labelledby="results-heading">
          <h2 id="results-heading">
            {hits.length} {hits.length === 1 ? 'result' : 'results'}
            {hits.length > 0 ? (
              <>
                {' '}
                · <a href={`/graph?q=${encodeURIComponent(form.query)}`}>see them in the graph</a>
              </>
            ) : null}
          </h2>
          <ol class="hits">
            {hits.map((hit) => (
              <li key={hit.memory.id} class="hit">
                <div class="hit-head">
                  <ScoreBar value={hit.score} label="score" />
                  <TypeBadge type={hit.memory.type} subtype={hit.memory.subtype} />
                  <time dateTime={hit.memory.createdAt}>{formatDate(hit.memory.createdAt)}</time>
                </div>
                <p class="hit-content">
                  <a href={`/memories/${encodeURIComponent(hit.memory.id)}`}>{hit.memory.content}</a>
                </p>
                {hit.memory.tags.length > 0 ? (
                  <p>
                    {hit.memory.tags.map((tag) => (
                      <span key={tag} class="tag">
                        {tag}
                      </span>
                    ))}
                  </p>
                ) : null}
                {hit.explanation ? (
                  <details>
                    <summary>Explanation</summary>
                    <ExplanationView explanation={hit.explanation} />
                  </details>
                ) : null}
              </li>
            ))}
          </ol>
        </section>
      ) : null}
    </>
  );
}
