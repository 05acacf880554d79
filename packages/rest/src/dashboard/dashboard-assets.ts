import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context } from 'hono';
import { compress } from 'hono/compress';
import type { EngramHono } from '../routes/app-env.js';

/**
 * The dashboard's Content-Security-Policy: everything from this origin, nothing inline, nothing
 * from elsewhere (the build ships every script, style and font; it never needs a CDN).
 */
export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** Paths the dashboard never answers, even as the single-page fallback: they belong to the API. */
const RESERVED = /^\/(?:api(?:\/|$)|openapi\.json$|docs\/?$)/;

/**
 * Where the built dashboard is: beside the bundle in dist/ (`dist/dashboard`), or, when this file
 * runs from the sources (tests), in the package's dist/ folder. Undefined when it was never built.
 */
export function defaultDashboardDirectory(): string | undefined {
  const candidates = [
    fileURLToPath(new URL('./dashboard', import.meta.url)),
    fileURLToPath(new URL('../../dist/dashboard', import.meta.url)),
  ];
  return candidates.find((directory) => existsSync(join(directory, 'index.html')));
}

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Engram dashboard not built</title></head>
<body><main><h1>The Engram dashboard is not built</h1>
<p>This copy of @engram/rest has no dashboard assets. In a clone of the repository, run <code>npm run build</code>.
The REST API is unaffected: see <a href="/docs">/docs</a>.</p></main></body></html>`;

interface Asset {
  body: Uint8Array;
  type: string;
}

/**
 * Serves the dashboard's static build: hashed files under /assets/ are cached for a year
 * (their names change when their content does), index.html is revalidated on every load, and
 * any other GET that asks for HTML and is not an API path gets index.html (the client routes it).
 */
export function registerDashboard(app: EngramHono, directory: string | undefined): void {
  // Only files that exist are cached (the build is immutable while the server runs); misses are
  // not, so requests for made-up paths cannot grow the cache.
  const cache = new Map<string, Asset>();
  const read = (relative: string, folder = ''): Asset | null => {
    if (!directory) return null;
    const key = `${folder}\0${relative}`;
    const cached = cache.get(key);
    if (cached !== undefined) return cached;
    const path = normalize(join(directory, relative));
    // Never outside the folder the route serves (the build, or its assets/), whatever the URL says.
    if (!path.startsWith(normalize(join(directory, folder)) + sep)) return null;
    let asset: Asset | null = null;
    if (existsSync(path) && statSync(path).isFile()) {
      asset = { body: readFileSync(path), type: CONTENT_TYPES[extname(path)] ?? 'application/octet-stream' };
    }
    if (asset) cache.set(key, asset);
    return asset;
  };

  const send = (context: Context, asset: Asset, cacheControl: string) => {
    context.header('content-type', asset.type);
    context.header('cache-control', cacheControl);
    context.header('x-content-type-options', 'nosniff');
    if (asset.type.startsWith('text/html')) {
      context.header('content-security-policy', DASHBOARD_CSP);
      context.header('referrer-policy', 'no-referrer');
    }
    return context.body(asset.body as Uint8Array<ArrayBuffer>, 200);
  };

  const page = (context: Context) => {
    const index = read('index.html');
    if (!index) {
      context.header('content-security-policy', DASHBOARD_CSP);
      return context.html(NOT_BUILT, 503);
    }
    return send(context, index, 'no-cache');
  };

  // Scripts and styles shrink to a third with gzip (Cytoscape: 450 KB → 143 KB).
  app.use('/assets/*', compress());
  app.get('/assets/*', (context) => {
    let relative: string;
    try {
      relative = decodeURIComponent(context.req.path.slice(1));
    } catch {
      return context.notFound();
    }
    const asset = read(relative, 'assets');
    if (!asset) return context.notFound();
    return send(context, asset, 'public, max-age=31536000, immutable');
  });
  app.get('/favicon.svg', (context) => {
    const asset = read('favicon.svg');
    return asset ? send(context, asset, 'public, max-age=86400') : context.notFound();
  });

  // The fallback: after every API route, so it can never shadow one.
  app.get('*', (context) => {
    const path = context.req.path;
    if (RESERVED.test(path) || path.startsWith('/assets/')) return context.notFound();
    const accept = context.req.header('accept') ?? '';
    if (path !== '/' && !accept.includes('text/html')) return context.notFound();
    return page(context);
  });
}
