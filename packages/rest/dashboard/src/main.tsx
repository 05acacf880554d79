import './styles.css';
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, onUnauthorized, type Stats, storedKey, storeKey, subscribeEvents } from './api';
import { ErrorMessage } from './components';
import { publish } from './live';
import { BrowsePage } from './pages/browse';
import { ConsolidationPage } from './pages/consolidation';
import { GraphPage } from './pages/graph';
import { MemoryPage } from './pages/memory';
import { SearchPage } from './pages/search';
import { StatsPage } from './pages/stats';
import { TransferPage } from './pages/transfer';
import { linkClick, navigate, useRoute } from './router';

const PAGES = [
  { path: '/', label: 'Browse' },
  { path: '/search', label: 'Search' },
  { path: '/graph', label: 'Graph' },
  { path: '/stats', label: 'Stats' },
  { path: '/transfer', label: 'Import/Export' },
  { path: '/consolidation', label: 'Consolidation' },
];

type Session = { state: 'checking' } | { state: 'locked'; error?: unknown } | { state: 'open'; stats: Stats };

function KeyForm({ error, onOpen }: { error?: unknown; onOpen: (stats: Stats) => void }) {
  const [key, setKey] = useState('');
  const [failure, setFailure] = useState<unknown>(error);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    try {
      const stats = await api.probe(key.trim());
      storeKey(key.trim());
      onOpen(stats);
    } catch (caught) {
      setFailure(caught);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main" class="sign-in">
      <h1>Engram</h1>
      <p>This server needs an API key. It is kept in this tab only (sessionStorage) and sent with every request.</p>
      <form onSubmit={submit}>
        <label for="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autocomplete="off"
          required
          value={key}
          onInput={(event) => setKey(event.currentTarget.value)}
        />
        <button type="submit" disabled={busy}>
          Open dashboard
        </button>
      </form>
      <ErrorMessage error={failure} />
      <p class="hint">
        Create one with <code>engram keys create --tenant &lt;name&gt;</code>.
      </p>
    </main>
  );
}

function Page({ path, parameters }: { path: string; parameters: URLSearchParams }) {
  if (path === '/' || path === '/browse') return <BrowsePage />;
  if (path === '/search') return <SearchPage parameters={parameters} />;
  if (path.startsWith('/memories/')) return <MemoryPage id={decodeURIComponent(path.slice('/memories/'.length))} />;
  if (path === '/graph') return <GraphPage parameters={parameters} />;
  if (path === '/stats') return <StatsPage />;
  if (path === '/transfer') return <TransferPage />;
  if (path === '/consolidation') return <ConsolidationPage />;
  return (
    <>
      <h1>Not found</h1>
      <p>
        There is no dashboard page at <code>{path}</code>. <a href="/">Browse memories</a>.
      </p>
    </>
  );
}

function App() {
  const [session, setSession] = useState<Session>({ state: 'checking' });
  const [live, setLive] = useState(false);
  const [menuOpen, setMenuOpen] = useState(false);
  const route = useRoute();
  const main = useRef<HTMLElement>(null);

  useEffect(() => {
    api
      .probe(storedKey() ?? '')
      .then((stats) => setSession({ state: 'open', stats }))
      .catch((error) => {
        if (storedKey()) storeKey(null);
        setSession({ state: 'locked', ...(storedKey() === null && error?.status !== 401 ? { error } : {}) });
      });
    return onUnauthorized(() => {
      storeKey(null);
      setSession({ state: 'locked', error: new Error('The server refused the key (revoked or unknown): enter a valid one') });
    });
  }, []);

  useEffect(() => {
    if (session.state !== 'open') return;
    return subscribeEvents(publish, setLive);
  }, [session.state]);

  // On navigation, move focus to the page so screen readers announce it and Tab starts there.
  useEffect(() => {
    setMenuOpen(false);
    main.current?.querySelector('h1')?.focus();
    const title = PAGES.find((page) => page.path === route.path)?.label ?? (route.path.startsWith('/memories/') ? 'Memory' : 'Engram');
    document.title = `${title} · Engram`;
  }, [route.path]);

  if (session.state === 'checking') return <p class="loading">Connecting…</p>;
  if (session.state === 'locked') return <KeyForm error={session.error} onOpen={(stats) => setSession({ state: 'open', stats })} />;

  const signOut = () => {
    storeKey(null);
    setSession({ state: 'locked' });
    navigate('/');
  };
  const active = (path: string) =>
    path === route.path || (path === '/' && (route.path === '/browse' || route.path.startsWith('/memories/')));

  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: delegates link clicks to the router; links stay links.
    // biome-ignore lint/a11y/useKeyWithClickEvents: keyboard activation of a link fires the same click event.
    <div class="shell" onClick={linkClick}>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="/">
          Engram
        </a>
        <button
          type="button"
          class="menu-toggle"
          aria-expanded={menuOpen}
          aria-controls="primary-navigation"
          onClick={(event) => {
            event.stopPropagation();
            setMenuOpen(!menuOpen);
          }}
        >
          Menu
        </button>
        <nav id="primary-navigation" aria-label="Pages" class={menuOpen ? 'open' : ''}>
          <ul>
            {PAGES.map((page) => (
              <li key={page.path}>
                <a href={page.path} aria-current={active(page.path) ? 'page' : undefined}>
                  {page.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="session">
          <output class={`live ${live ? 'on' : 'off'}`}>{live ? 'Live' : 'Offline'}</output>
          <span>
            tenant <strong data-testid="tenant">{session.stats.tenant}</strong>
          </span>
          {storedKey() ? (
            <button type="button" onClick={signOut}>
              Sign out
            </button>
          ) : null}
        </div>
      </header>
      <main id="main" ref={main}>
        <Page path={route.path} parameters={route.parameters} />
      </main>
    </div>
  );
}

const root = document.getElementById('app');
if (root) render(<App />, root);
