import { useEffect, useState } from 'preact/hooks';
import { api, type HistoryEntry, type Hit, type MemoryRecord, type Relation } from '../api';
import {
  ConfirmDialog,
  ErrorMessage,
  formatDate,
  PageTitle,
  preview,
  RELATION_TYPES,
  relationColour,
  shortId,
  TypeBadge,
} from '../components';
import { useLiveEvents } from '../live';
import { navigate } from '../router';

type Piece = { kind: 'same' | 'added' | 'removed'; text: string };

/** A word-level diff (longest common subsequence; long texts fall back to removed + added). */
export function diffWords(before: string, after: string): Piece[] {
  const a = before.split(/(\s+)/);
  const b = after.split(/(\s+)/);
  if (a.length * b.length > 250_000)
    return [
      { kind: 'removed', text: before },
      { kind: 'added', text: after },
    ];
  const table: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      const row = table[i] as number[];
      row[j] =
        a[i] === b[j]
          ? ((table[i + 1] as number[])[j + 1] as number) + 1
          : Math.max((table[i + 1] as number[])[j] as number, row[j + 1] as number);
    }
  }
  const pieces: Piece[] = [];
  const push = (kind: Piece['kind'], text: string) => {
    const last = pieces[pieces.length - 1];
    if (last && last.kind === kind) last.text += text;
    else pieces.push({ kind, text });
  };
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      push('same', a[i] as string);
      i++;
      j++;
    } else if (((table[i + 1] as number[])[j] as number) >= ((table[i] as number[])[j + 1] as number)) push('removed', a[i++] as string);
    else push('added', b[j++] as string);
  }
  while (i < a.length) push('removed', a[i++] as string);
  while (j < b.length) push('added', b[j++] as string);
  return pieces;
}

function show(value: unknown): string {
  if (value === null || value === undefined) return '—';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function Change({ field, from, to }: { field: string; from: unknown; to: unknown }) {
  if (typeof from === 'string' && typeof to === 'string') {
    return (
      <div class="change">
        <span class="field">{field}</span>
        <span class="diff">
          {diffWords(from, to).map((piece, index) =>
            piece.kind === 'same' ? (
              <span key={index}>{piece.text}</span>
            ) : piece.kind === 'added' ? (
              <ins key={index}>{piece.text}</ins>
            ) : (
              <del key={index}>{piece.text}</del>
            ),
          )}
        </span>
      </div>
    );
  }
  return (
    <div class="change">
      <span class="field">{field}</span>
      <span class="diff">
        <del>{show(from)}</del> → <ins>{show(to)}</ins>
      </span>
    </div>
  );
}

const FIELDS: string[] = [
  'id',
  'type',
  'subtype',
  'importance',
  'quality',
  'confidence',
  'source',
  'key',
  'conversationId',
  'accessCount',
  'lastAccessedAt',
  'createdAt',
  'updatedAt',
  'validFrom',
  'validTo',
  'supersededBy',
  'contentHash',
];

/** Fields the card and the rows below show in their own way. */
const SHOWN_ELSEWHERE = new Set(['content', 'tags', 'scope', 'metadata']);

function EditForm({ memory, onSaved, onCancel }: { memory: MemoryRecord; onSaved: (memory: MemoryRecord) => void; onCancel: () => void }) {
  const [content, setContent] = useState(memory.content);
  const [type, setType] = useState(memory.subtype ?? memory.type);
  const [tags, setTags] = useState(memory.tags.join(', '));
  const [importance, setImportance] = useState(String(memory.importance));
  const [metadata, setMetadata] = useState(JSON.stringify(memory.metadata, null, 2));
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const save = async (event: Event) => {
    event.preventDefault();
    const patch: Record<string, unknown> = {};
    if (content !== memory.content) patch.content = content;
    if (type !== (memory.subtype ?? memory.type)) patch.type = type;
    const tagList = tags
      .split(',')
      .map((tag) => tag.trim())
      .filter(Boolean);
    if (tagList.join(',') !== memory.tags.join(',')) patch.tags = tagList;
    if (Number(importance) !== memory.importance) patch.importance = Number(importance);
    try {
      const parsed = JSON.parse(metadata || '{}');
      if (JSON.stringify(parsed) !== JSON.stringify(memory.metadata)) patch.metadata = parsed;
    } catch {
      setError(new Error('Metadata must be a JSON object, e.g. {"priority": 2}'));
      return;
    }
    if (Object.keys(patch).length === 0) {
      onCancel();
      return;
    }
    setBusy(true);
    try {
      onSaved((await api.update(memory.id, patch)).memory);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="edit" onSubmit={save} aria-label="Edit memory">
      <label for="edit-content">Content</label>
      <textarea id="edit-content" rows={5} value={content} onInput={(event) => setContent(event.currentTarget.value)} />
      <div class="filters">
        <div>
          <label for="edit-type">Type or subtype</label>
          <input id="edit-type" value={type} onInput={(event) => setType(event.currentTarget.value)} />
        </div>
        <div>
          <label for="edit-tags">Tags (comma-separated)</label>
          <input id="edit-tags" value={tags} onInput={(event) => setTags(event.currentTarget.value)} />
        </div>
        <div>
          <label for="edit-importance">Importance (0–1)</label>
          <input
            id="edit-importance"
            type="number"
            min={0}
            max={1}
            step={0.05}
            value={importance}
            onInput={(event) => setImportance(event.currentTarget.value)}
          />
        </div>
      </div>
      <label for="edit-metadata">Metadata (JSON)</label>
      <textarea id="edit-metadata" rows={4} class="code" value={metadata} onInput={(event) => setMetadata(event.currentTarget.value)} />
      <ErrorMessage error={error} />
      <div class="actions">
        <button type="submit" disabled={busy}>
          Save
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function LinkForm({ memory, onLinked }: { memory: MemoryRecord; onLinked: () => void }) {
  const [text, setText] = useState('');
  const [candidates, setCandidates] = useState<Hit[]>([]);
  const [target, setTarget] = useState('');
  const [type, setType] = useState<string>('related');
  const [direction, setDirection] = useState<'out' | 'in'>('out');
  const [error, setError] = useState<unknown>();

  useEffect(() => {
    const query = text.trim();
    if (query.length < 2) {
      setCandidates([]);
      return;
    }
    const timer = setTimeout(() => {
      api
        .search({ query, limit: 8 })
        .then((result) => setCandidates(result.hits.filter((hit) => hit.memory.id !== memory.id)))
        .catch(() => setCandidates([]));
    }, 200);
    return () => clearTimeout(timer);
  }, [text, memory.id]);

  const link = async (event: Event) => {
    event.preventDefault();
    const other = target || text.trim();
    if (!other) {
      setError(new Error('Choose the memory to link to (search for it, or paste its id)'));
      return;
    }
    try {
      if (direction === 'out') await api.link(memory.id, other, type);
      else await api.link(other, memory.id, type);
      setText('');
      setTarget('');
      setError(undefined);
      onLinked();
    } catch (caught) {
      setError(caught);
    }
  };

  return (
    <form class="link-form" onSubmit={link} aria-label="Link to another memory">
      <div class="filters">
        <div>
          <label for="link-type">Relationship</label>
          <select id="link-type" value={type} onChange={(event) => setType(event.currentTarget.value)}>
            {RELATION_TYPES.map((relation) => (
              <option key={relation} value={relation}>
                {relation}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="link-direction">Direction</label>
          <select id="link-direction" value={direction} onChange={(event) => setDirection(event.currentTarget.value as 'out' | 'in')}>
            <option value="out">this → other</option>
            <option value="in">other → this</option>
          </select>
        </div>
        <div class="grow">
          <label for="link-target">Other memory (search, or paste an id)</label>
          <input
            id="link-target"
            value={text}
            autocomplete="off"
            onInput={(event) => {
              setText(event.currentTarget.value);
              setTarget('');
            }}
          />
        </div>
      </div>
      {candidates.length > 0 ? (
        <fieldset class="candidates">
          <legend>Matching memories</legend>
          {candidates.map((hit) => (
            <div key={hit.memory.id} class="checkbox">
              <input
                type="radio"
                id={`candidate-${hit.memory.id}`}
                name="link-candidate"
                value={hit.memory.id}
                checked={target === hit.memory.id}
                onChange={() => setTarget(hit.memory.id)}
              />
              <label for={`candidate-${hit.memory.id}`}>{preview(hit.memory.content, 100)}</label>
            </div>
          ))}
        </fieldset>
      ) : null}
      <ErrorMessage error={error} />
      <button type="submit">Link</button>
    </form>
  );
}

export function MemoryPage({ id }: { id: string }) {
  const [memory, setMemory] = useState<MemoryRecord | null>(null);
  const [history, setHistory] = useState<HistoryEntry[]>([]);
  const [relations, setRelations] = useState<Relation[]>([]);
  const [others, setOthers] = useState<Record<string, MemoryRecord | null>>({});
  const [error, setError] = useState<unknown>();
  const [editing, setEditing] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [status, setStatus] = useState('');
  const [version, setVersion] = useState(0);

  useEffect(() => {
    let cancelled = false;
    Promise.all([api.get(id), api.history(id), api.relations(id)])
      .then(async ([got, changes, edges]) => {
        if (cancelled) return;
        setMemory(got.memory);
        setHistory(changes.history);
        setRelations(edges.relations);
        setError(undefined);
        const ids = [...new Set(edges.relations.map((edge) => (edge.sourceId === id ? edge.targetId : edge.sourceId)))];
        const fetched: Record<string, MemoryRecord | null> = {};
        await Promise.all(
          ids.map((other) =>
            api
              .get(other)
              .then((result) => {
                fetched[other] = result.memory;
              })
              .catch(() => {
                fetched[other] = null;
              }),
          ),
        );
        if (!cancelled) setOthers(fetched);
      })
      .catch((caught) => !cancelled && setError(caught));
    return () => {
      cancelled = true;
    };
  }, [id, version]);

  useLiveEvents((event) => {
    const concerned =
      event.data.id === id || event.data.relation?.sourceId === id || event.data.relation?.targetId === id || event.data.memory?.id === id;
    if (concerned && !editing) setVersion((value) => value + 1);
  });

  const refresh = () => setVersion((value) => value + 1);

  if (error && !memory) {
    return (
      <>
        <PageTitle>Memory not found</PageTitle>
        <ErrorMessage error={error} />
        <p>
          <a href="/">Back to Browse</a>
        </p>
      </>
    );
  }
  if (!memory) return <p aria-busy="true">Loading…</p>;

  const unlink = async (edge: Relation) => {
    try {
      await api.unlink(edge.sourceId, edge.targetId, edge.type);
      setStatus(`Removed the ${edge.type} link.`);
      refresh();
    } catch (caught) {
      setError(caught);
    }
  };
  const resolve = async (winnerId: string, loserId: string) => {
    try {
      await api.resolve(winnerId, loserId, 'resolved in the dashboard');
      setStatus(winnerId === id ? 'Kept this memory; the other is superseded.' : 'Kept the other memory; this one is superseded.');
      refresh();
    } catch (caught) {
      setError(caught);
    }
  };

  const outgoing = relations.filter((edge) => edge.sourceId === id);
  const incoming = relations.filter((edge) => edge.sourceId !== id);
  const edgeRow = (edge: Relation, other: string) => {
    const otherMemory = others[other];
    return (
      <li key={`${edge.sourceId}-${edge.targetId}-${edge.type}`} class="relation">
        <span class="edge-type" style={{ borderColor: relationColour(edge.type) }}>
          {edge.type}
        </span>{' '}
        {otherMemory ? (
          <a href={`/memories/${encodeURIComponent(other)}`}>{preview(otherMemory.content, 90)}</a>
        ) : (
          <span>{shortId(other)} (not visible)</span>
        )}
        {otherMemory?.supersededBy ? <span class="tag muted">superseded</span> : null}
        <span class="relation-actions">
          {edge.type === 'contradicts' && !memory.supersededBy && otherMemory && !otherMemory.supersededBy ? (
            <>
              <button type="button" onClick={() => void resolve(id, other)}>
                Keep this
              </button>
              <button type="button" onClick={() => void resolve(other, id)}>
                Keep other
              </button>
            </>
          ) : null}
          <button
            type="button"
            onClick={() => void unlink(edge)}
            aria-label={`Unlink ${edge.type} ${otherMemory ? preview(otherMemory.content, 40) : other}`}
          >
            Unlink
          </button>
        </span>
      </li>
    );
  };

  return (
    <>
      <PageTitle>Memory</PageTitle>
      <output class="status">{status}</output>
      <ErrorMessage error={error} />
      <section aria-labelledby="content-heading" class={`memory-card ${memory.supersededBy ? 'superseded' : ''}`}>
        <h2 id="content-heading" class="visually-hidden">
          What is remembered
        </h2>
        <div class="memory-head">
          <TypeBadge type={memory.type} subtype={memory.subtype} />
          {memory.tags.map((tag) => (
            <span key={tag} class="tag">
              {tag}
            </span>
          ))}
          {memory.supersededBy ? (
            <span>
              superseded by <a href={`/memories/${encodeURIComponent(memory.supersededBy)}`}>{shortId(memory.supersededBy)}</a>
            </span>
          ) : null}
        </div>
        {editing ? (
          <EditForm
            memory={memory}
            onCancel={() => setEditing(false)}
            onSaved={(saved) => {
              setMemory(saved);
              setEditing(false);
              setStatus('Saved.');
              refresh();
            }}
          />
        ) : (
          <>
            <p class="content" data-testid="memory-content">
              {memory.content}
            </p>
            <div class="actions">
              <button type="button" onClick={() => setEditing(true)}>
                Edit
              </button>
              <a class="button" href={`/graph?id=${encodeURIComponent(memory.id)}`}>
                Show in graph
              </a>
              <button type="button" class="danger" onClick={() => setConfirmDelete(true)}>
                Delete…
              </button>
            </div>
          </>
        )}
      </section>

      <div class="columns">
        <section aria-labelledby="fields-heading">
          <h2 id="fields-heading">Fields</h2>
          <dl class="fields">
            {[...FIELDS, ...Object.keys(memory).filter((field) => !FIELDS.includes(field) && !SHOWN_ELSEWHERE.has(field))].map((field) => (
              <div key={field}>
                <dt>{field}</dt>
                <dd>
                  {field.endsWith('At') || field === 'validFrom' || field === 'validTo'
                    ? formatDate(memory[field] as string | null)
                    : show(memory[field])}
                </dd>
              </div>
            ))}
            <div>
              <dt>scope</dt>
              <dd>{JSON.stringify(memory.scope)}</dd>
            </div>
            <div>
              <dt>metadata</dt>
              <dd>
                <code>{JSON.stringify(memory.metadata)}</code>
              </dd>
            </div>
          </dl>
        </section>

        <section aria-labelledby="relations-heading">
          <h2 id="relations-heading">Relations</h2>
          <h3>Outgoing ({outgoing.length})</h3>
          {outgoing.length ? <ul class="relations">{outgoing.map((edge) => edgeRow(edge, edge.targetId))}</ul> : <p>None.</p>}
          <h3>Incoming ({incoming.length})</h3>
          {incoming.length ? <ul class="relations">{incoming.map((edge) => edgeRow(edge, edge.sourceId))}</ul> : <p>None.</p>}
          <h3>Add a link</h3>
          <LinkForm
            memory={memory}
            onLinked={() => {
              setStatus('Linked.');
              refresh();
            }}
          />
        </section>
      </div>

      <section aria-labelledby="history-heading">
        <h2 id="history-heading">History</h2>
        <ol class="timeline" data-testid="history">
          {history.map((entry, index) => (
            <li key={`${entry.at}-${index}`} class={`event-${entry.event}`}>
              <div class="timeline-head">
                <strong>{entry.event}</strong> <time dateTime={entry.at}>{formatDate(entry.at)}</time>
                {entry.reason ? <span class="reason"> — {entry.reason}</span> : null}
              </div>
              {Object.entries(entry.changes).map(([field, change]) => (
                <Change key={field} field={field} from={change.from} to={change.to} />
              ))}
            </li>
          ))}
        </ol>
      </section>

      <ConfirmDialog
        open={confirmDelete}
        title="Delete this memory?"
        confirmLabel="Delete"
        onCancel={() => setConfirmDelete(false)}
        onConfirm={async () => {
          setConfirmDelete(false);
          try {
            await api.remove(memory.id);
            navigate('/');
          } catch (caught) {
            setError(caught);
          }
        }}
      >
        <p>{preview(memory.content, 200)}</p>
        <p>The delete is soft: the history keeps the memory, and search stops returning it.</p>
      </ConfirmDialog>
    </>
  );
}
