import { useEffect, useState } from 'preact/hooks';

// A small history router: the server answers index.html for every dashboard path (and never for
// /api, /openapi.json or /docs), so paths are real URLs that survive a reload or a shared link.

export interface Route {
  path: string;
  parameters: URLSearchParams;
}

function current(): Route {
  return { path: location.pathname, parameters: new URLSearchParams(location.search) };
}

const listeners = new Set<() => void>();
window.addEventListener('popstate', () => {
  for (const listener of listeners) listener();
});

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (to === `${location.pathname}${location.search}`) return;
  if (options.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  for (const listener of listeners) listener();
}

export function useRoute(): Route {
  const [route, setRoute] = useState(current);
  useEffect(() => {
    const update = () => setRoute(current());
    listeners.add(update);
    return () => {
      listeners.delete(update);
    };
  }, []);
  return route;
}

/** Click handler for links: same-origin navigation without a reload (modifier clicks open tabs as usual). */
export function linkClick(event: MouseEvent): void {
  const anchor = (event.target as Element).closest('a');
  if (!anchor || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  if (anchor.target || anchor.hasAttribute('download') || anchor.origin !== location.origin) return;
  if (anchor.pathname.startsWith('/api') || anchor.pathname === '/docs' || anchor.pathname === '/openapi.json') return;
  event.preventDefault();
  navigate(`${anchor.pathname}${anchor.search}`);
}
