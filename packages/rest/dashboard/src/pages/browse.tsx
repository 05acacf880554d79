import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, type MemoryRecord } from '../api';
import { baseTypes, ConfirmDialog, ErrorMessage, errorText, formatDate, PageTitle, preview, TypeBadge } from '../components';
import { useLiveEvents } from '../live';

type SortKey = 'createdAt' | 'content' | 'type' | 'importance' | 'accessCount';
const SORTS: Array<{ key: SortKey; label: string }> = [
  { key: 'content', label: 'Content' },
  { key: 'type', label: 'Type' },
  { key: 'importance', label: 'Importance' },
  { key: 'accessCount', label: 'Reads' },
  { key: 'createdAt', label: 'Created' },
];

interface Filters {
  types: string;
  tags: string;
  userId: string;
  agentId: string;
  time: string;
  includeSuperseded: boolean;
  limit: string;
}

const EMPTY: Filters = { types: '', tags: '', userId: '', agentId: '', time: '', includeSuperseded: false, limit: '25' };

function compare(a: MemoryRecord, b: MemoryRecord, key: SortKey): number {
  const left = a[key];
  const right = b[key];
  if (typeof left === 'number' && typeof right === 'number') return left - right;
  return String(left).localeCompare(String(right));
}

export function BrowsePage() {
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [types, setTypes] = useState<string[]>([]);
  // Cursors of the pages before this one, so "Previous" works on a cursor-paged list.
  const [cursors, setCursors] = useState<Array<string | undefined>>([undefined]);
  const [items, setItems] = useState<MemoryRecord[]>([]);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>();
  const [sort, setSort] = useState<{ key: SortKey; descending: boolean }>({ key: 'createdAt', descending: true });
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [bulkTag, setBulkTag] = useState('');
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [status, setStatus] = useState('');
  const [reloads, setReloads] = useState(0);
  const reloadTimer = useRef<ReturnType<typeof setTimeout>>(undefined);

  const cursor = cursors[cursors.length - 1];

  useEffect(() => {
    baseTypes()
      .then(setTypes)
      .catch(() => {});
  }, []);

  useEffect(() => {
    let cancelled = false;
    setLoading(true);
    api
      .list({
        limit: filters.limit,
        cursor,
        types: filters.types || undefined,
        tags: filters.tags || undefined,
        userId: filters.userId || undefined,
        agentId: filters.agentId || undefined,
        time: filters.time || undefined,
        includeSuperseded: filters.includeSuperseded ? 'true' : undefined,
      })
      .then((page) => {
        if (cancelled) return;
        setItems(page.items);
        setNextCursor(page.nextCursor);
        setError(undefined);
        setSelected((previous) => new Set(page.items.map((item) => item.id).filter((id) => previous.has(id))));
      })
      .catch((caught) => !cancelled && setError(caught))
      .finally(() => !cancelled && setLoading(false));
    return () => {
      cancelled = true;
    };
  }, [filters, cursor, reloads]);

  // Live: another agent's write refreshes the page (debounced, so a batch is one reload).
  useLiveEvents((event) => {
    if (!event.name.startsWith('memory:')) return;
    clearTimeout(reloadTimer.current);
    reloadTimer.current = setTimeout(() => setReloads((count) => count + 1), 300);
  });

  const sorted = useMemo(() => {
    const copy = [...items];
    copy.sort((a, b) => compare(a, b, sort.key) * (sort.descending ? -1 : 1));
    return copy;
  }, [items, sort]);

  const apply = (event: Event) => {
    event.preventDefault();
    setCursors([undefined]);
    setFilters(draft);
  };
  const field = (name: keyof Filters) => ({
    id: `filter-${name}`,
    name,
    value: draft[name] as string,
    onInput: (event: Event) => setDraft({ ...draft, [name]: (event.currentTarget as HTMLInputElement).value }),
  });

  const toggle = (id: string) => {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setSelected(next);
  };
  const allSelected = items.length > 0 && selected.size === items.length;

  const bulk = async (action: 'tag' | 'untag' | 'delete') => {
    const chosen = items.filter((item) => selected.has(item.id));
    const tag = bulkTag.trim().toLowerCase();
    if (action !== 'delete' && !tag) {
      setStatus('Type a tag first.');
      return;
    }
    let done = 0;
    const failures: string[] = [];
    for (const item of chosen) {
      try {
        if (action === 'delete') await api.remove(item.id);
        else {
          const tags = action === 'tag' ? [...new Set([...item.tags, tag])] : item.tags.filter((existing) => existing !== tag);
          await api.update(item.id, { tags });
        }
        done++;
      } catch (caught) {
        failures.push(`${item.id}: ${errorText(caught)}`);
      }
    }
    const verb = action === 'delete' ? 'Deleted' : action === 'tag' ? `Tagged “${tag}”:` : `Removed “${tag}” from`;
    setStatus(`${verb} ${done} ${done === 1 ? 'memory' : 'memories'}.${failures.length ? ` Failed: ${failures.join('; ')}` : ''}`);
    setSelected(new Set());
    setReloads((count) => count + 1);
  };

  const sortButton = (key: SortKey, label: string) => {
    const active = sort.key === key;
    return (
      <button
        type="button"
        class="sort"
        onClick={() => setSort({ key, descending: active ? !sort.descending : key === 'createdAt' || key === 'importance' })}
      >
        {label}
        <span aria-hidden="true">{active ? (sort.descending ? ' ▼' : ' ▲') : ''}</span>
      </button>
    );
  };

  return (
    <>
      <PageTitle>Browse</PageTitle>
      <form class="filters" onSubmit={apply} aria-label="Filters">
        <div>
          <label for="filter-types">Type</label>
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
          <label for="filter-tags">Tags (any, comma-separated)</label>
          <input {...field('tags')} />
        </div>
        <div>
          <label for="filter-userId">User</label>
          <input {...field('userId')} />
        </div>
        <div>
          <label for="filter-agentId">Agent</label>
          <input {...field('agentId')} />
        </div>
        <div>
          <label for="filter-time">Time</label>
          <input {...field('time')} placeholder="last week" />
        </div>
        <div>
          <label for="filter-limit">Per page</label>
          <select {...field('limit')}>
            {['10', '25', '50', '100'].map((size) => (
              <option key={size} value={size}>
                {size}
              </option>
            ))}
          </select>
        </div>
        <div class="checkbox">
          <input
            id="filter-superseded"
            type="checkbox"
            checked={draft.includeSuperseded}
            onChange={(event) => setDraft({ ...draft, includeSuperseded: event.currentTarget.checked })}
          />
          <label for="filter-superseded">Include superseded</label>
        </div>
        <button type="submit">Apply filters</button>
      </form>

      <fieldset class="bulk">
        <legend class="visually-hidden">Bulk actions on selected memories</legend>
        <span>{selected.size} selected</span>
        <label for="bulk-tag">Tag</label>
        <input id="bulk-tag" value={bulkTag} onInput={(event) => setBulkTag(event.currentTarget.value)} />
        <button type="button" disabled={selected.size === 0} onClick={() => void bulk('tag')}>
          Add tag
        </button>
        <button type="button" disabled={selected.size === 0} onClick={() => void bulk('untag')}>
          Remove tag
        </button>
        <button type="button" class="danger" disabled={selected.size === 0} onClick={() => setConfirmDelete(true)}>
          Delete…
        </button>
      </fieldset>
      <output class="status">{status}</output>
      <ErrorMessage error={error} />

      <div class="table-wrap">
        <table class="memories" aria-busy={loading}>
          <caption class="visually-hidden">Memories, newest first unless sorted by a column</caption>
          <thead>
            <tr>
              <th scope="col">
                <input
                  type="checkbox"
                  aria-label="Select all on this page"
                  checked={allSelected}
                  onChange={() => setSelected(allSelected ? new Set() : new Set(items.map((item) => item.id)))}
                />
              </th>
              {SORTS.map(({ key, label }) => (
                <th
                  key={key}
                  scope="col"
                  aria-sort={sort.key === key ? (sort.descending ? 'descending' : 'ascending') : undefined}
                  class={`column-${key}`}
                >
                  {sortButton(key, label)}
                </th>
              ))}
              <th scope="col">Tags</th>
              <th scope="col" class="column-scope">
                Scope
              </th>
            </tr>
          </thead>
          <tbody>
            {sorted.map((item) => (
              <tr key={item.id} class={item.supersededBy ? 'superseded' : ''}>
                <td>
                  <input
                    type="checkbox"
                    aria-label={`Select: ${preview(item.content, 60)}`}
                    checked={selected.has(item.id)}
                    onChange={() => toggle(item.id)}
                  />
                </td>
                <td class="column-content">
                  <a href={`/memories/${encodeURIComponent(item.id)}`}>{preview(item.content)}</a>
                  {item.supersededBy ? <span class="tag muted"> superseded</span> : null}
                </td>
                <td class="column-type">
                  <TypeBadge type={item.type} subtype={item.subtype} />
                </td>
                <td class="column-importance">{item.importance.toFixed(2)}</td>
                <td class="column-accessCount">{item.accessCount}</td>
                <td class="column-createdAt">
                  <time dateTime={item.createdAt}>{formatDate(item.createdAt)}</time>
                </td>
                <td>
                  {item.tags.map((tag) => (
                    <span key={tag} class="tag">
                      {tag}
                    </span>
                  ))}
                </td>
                <td class="column-scope">{[item.scope.userId, item.scope.agentId].filter(Boolean).join(' · ') || '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {!loading && items.length === 0 ? <p>No memories match. Store one with the CLI, an agent, or POST /api/memories.</p> : null}
      <nav class="pager" aria-label="Pages of memories">
        <button type="button" disabled={cursors.length <= 1} onClick={() => setCursors(cursors.slice(0, -1))}>
          Previous page
        </button>
        <span>Page {cursors.length}</span>
        <button type="button" disabled={nextCursor === null} onClick={() => nextCursor && setCursors([...cursors, nextCursor])}>
          Next page
        </button>
      </nav>

      <ConfirmDialog
        open={confirmDelete}
        title={`Delete ${selected.size} ${selected.size === 1 ? 'memory' : 'memories'}?`}
        confirmLabel="Delete"
        onCancel={() => setConfirmDelete(false)}
        onConfirm={() => {
          setConfirmDelete(false);
          void bulk('delete');
        }}
      >
        <p>Deletes are soft: each memory's history keeps it, and search stops returning it.</p>
      </ConfirmDialog>
    </>
  );
}
