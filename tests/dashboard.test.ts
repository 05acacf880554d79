import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ServerHandle, serve, tenantMemoryFactory } from '@engram/rest';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGUMENTS, CHROMIUM_PATH, chromiumSkipReason } from './support/chromium.js';

// The dashboard in a real browser: Debian's Chromium (headless) driven by playwright-core, against
// a real server (serve(), the same as engram serve) on real SQLite stores, one per tenant, with
// the dashboard build that `npm run build` put in packages/rest/dist/dashboard. Every page gets
// an axe-core check. Screenshots go to artifacts/dashboard/ (git-ignored); with
// ENGRAM_DOCS_SCREENSHOTS=1 (npm run docs:screenshots) they also replace docs/images/dashboard/.

const root = fileURLToPath(new URL('..', import.meta.url));
const artifacts = join(root, 'artifacts', 'dashboard');
const docsImages = join(root, 'docs', 'images', 'dashboard');
const writeDocsImages = process.env.ENGRAM_DOCS_SCREENSHOTS === '1';
const build = join(root, 'packages', 'rest', 'dist', 'dashboard', 'index.html');
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const keys = { team_a: 'dashboard-key-of-team-a-0123456789', team_b: 'dashboard-key-of-team-b-0123456789' };
const skip = chromiumSkipReason();
const FOCUSED_TEXT = 'document.activeElement?.textContent';

let server: ServerHandle;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let directory: string;
const ids: Record<string, string> = {};
const consoleProblems: string[] = [];

// biome-ignore lint/suspicious/noExplicitAny: tests read response bodies field by field (as packages/rest/src/testing/call.ts).
type Json = any;

async function rest(method: string, path: string, body: unknown, key: string): Promise<{ status: number; json: Json }> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, json: await response.json() };
}

async function seed(): Promise<void> {
  const memories = [
    ['cache', { content: 'The CI cache key must include the lockfile hash', type: 'gotcha', tags: ['ci', 'cache'], importance: 0.8 }],
    ['flaky', { content: 'Flaky integration tests came from a shared temp folder', type: 'bug', tags: ['ci', 'tests'] }],
    ['isolate', { content: 'Give every test worker its own temp folder', type: 'best_practice', tags: ['tests'] }],
    ['postgres', { content: 'Team A runs Postgres 16 in production', type: 'configuration', tags: ['db'], scope: { userId: 'alice' } }],
    ['friday', { content: 'Deploys are frozen on Fridays', type: 'decision', tags: ['deploy'], scope: { userId: 'bob' } }],
    ['old', { content: 'Deploys happen any day of the week', type: 'decision', tags: ['deploy'] }],
  ] as const;
  for (const [name, body] of memories) ids[name] = (await rest('POST', '/api/memories', body, keys.team_a)).json.memory.id;
  await rest('POST', '/api/relations', { sourceId: ids.friday, targetId: ids.old, type: 'contradicts' }, keys.team_a);
  await rest('POST', '/api/resolve', { winnerId: ids.friday, loserId: ids.old, reason: 'policy changed' }, keys.team_a);
  await rest('POST', '/api/relations', { sourceId: ids.flaky, targetId: ids.cache, type: 'related' }, keys.team_a);
  ids.secret = (
    await rest('POST', '/api/memories', { content: 'Team B launch code is swordfish', tags: ['secret'] }, keys.team_b)
  ).json.memory.id;
}

async function signIn(target: Page, key: string): Promise<void> {
  await target.goto(`${server.url}/`);
  await target.getByLabel('API key').fill(key);
  await target.getByRole('button', { name: 'Open dashboard' }).click();
  await target.getByRole('heading', { level: 1, name: 'Browse' }).waitFor();
}

/** axe-core in the page: every WCAG 2.1 A/AA rule and the best practices; serious or critical fails. */
async function expectAccessible(target: Page, name: string): Promise<void> {
  await target.evaluate(axeSource);
  // Passed as source text: it runs in the page (this file is compiled without the DOM's types).
  const violations = await target.evaluate<Array<{ id: string; impact: string; help: string; nodes: string[] }>>(`
    axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } })
      .then((result) => result.violations.map((violation) => ({
        id: violation.id,
        impact: violation.impact,
        help: violation.help,
        nodes: violation.nodes.slice(0, 3).map((node) => node.target.join(' ')),
      })))
  `);
  const blocking = violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
  expect(blocking, `${name}: ${JSON.stringify(blocking, null, 2)}`).toEqual([]);
}

async function screenshot(target: Page, name: string): Promise<void> {
  const path = join(artifacts, `${name}.png`);
  await target.screenshot({ path, fullPage: false });
  if (writeDocsImages) copyFileSync(path, join(docsImages, `${name}.png`));
}

describe.skipIf(skip !== undefined)(skip ? `the dashboard in Chromium (skipped: ${skip})` : 'the dashboard in Chromium', () => {
  beforeAll(async () => {
    if (!existsSync(build)) throw new Error(`The dashboard is not built (${build} is missing): run npm run build`);
    mkdirSync(artifacts, { recursive: true });
    if (writeDocsImages) mkdirSync(docsImages, { recursive: true });
    directory = mkdtempSync(join(tmpdir(), 'engram-dashboard-e2e-'));
    server = await serve({
      memory: tenantMemoryFactory({ store: { kind: 'sqlite', path: join(directory, 'memory.db') }, embedder: 'hash' }),
      auth: { keys },
      port: 0,
      rateLimit: false,
      eventPollMs: 100,
      log: () => {},
    });
    await seed();
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGUMENTS });
    context = await browser.newContext({ viewport: { width: 1100, height: 720 } });
    page = await context.newPage();
    // A CSP violation or an uncaught error anywhere fails the run (checked in the last test).
    page.on('console', (message) => {
      if (message.type() === 'error') consoleProblems.push(message.text());
    });
    page.on('pageerror', (error) => consoleProblems.push(error.message));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (directory) rmSync(directory, { recursive: true, force: true });
  });

  it('asks for the key once, then opens Browse on the most recent memories', async () => {
    await page.goto(`${server.url}/`);
    await page.getByLabel('API key').waitFor();
    await expectAccessible(page, 'sign-in');
    await page.getByLabel('API key').fill('not-a-key');
    await page.getByRole('button', { name: 'Open dashboard' }).click();
    await page.getByRole('alert').filter({ hasText: 'Unknown or revoked API key' }).waitFor();
    await signIn(page, keys.team_a);
    expect(await page.getByTestId('tenant').textContent()).toBe('team_a');
    const rows = page.locator('table.memories tbody tr');
    await rows.first().waitFor();
    // Newest first; superseded memories are hidden unless asked for.
    expect(await rows.count()).toBe(5);
    expect(await rows.first().textContent()).toContain('Deploys are frozen on Fridays');
    // The key survives a reload (sessionStorage), and a client-side URL reloads into its page.
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Browse' }).waitFor();
    await page.locator('.live.on').waitFor();
    await expectAccessible(page, 'browse');
    await screenshot(page, 'browse');
  });

  it('search finds a memory and shows its explanation', async () => {
    await page.getByRole('link', { name: 'Search', exact: true }).click();
    await page.getByLabel('Query').fill('lockfile cache key');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    const first = page.locator('.hit').first();
    await first.waitFor();
    expect(await first.textContent()).toContain('The CI cache key must include the lockfile hash');
    expect(Number(await first.locator('meter').first().getAttribute('value'))).toBeGreaterThan(0);
    await first.getByText('Explanation').click();
    const explanation = first.locator('.explanation');
    await explanation.waitFor();
    expect(await explanation.textContent()).toMatch(/lexical.*rank 1/s);
    expect(await explanation.textContent()).toContain('recency');
    expect(page.url()).toContain('/search?q=lockfile+cache+key');
    await expectAccessible(page, 'search');
    await screenshot(page, 'search');
  });

  it('opens a memory, edits it, and shows the new history entry with its diff', async () => {
    await page.locator('.hit').first().getByRole('link').click();
    await page.getByRole('heading', { level: 1, name: 'Memory' }).waitFor();
    expect(page.url()).toContain(`/memories/${ids.cache}`);
    await expect.poll(() => page.getByTestId('history').locator('li').count()).toBe(1);
    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('Content', { exact: true }).fill('The CI cache key must include the lockfile hash and the Node version');
    await page.getByLabel('Tags (comma-separated)').fill('ci, cache, node');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    expect(await page.getByTestId('memory-content').textContent()).toBe(
      'The CI cache key must include the lockfile hash and the Node version',
    );
    const history = page.getByTestId('history').locator('li');
    await expect.poll(() => history.count()).toBe(2);
    const entry = history.nth(1);
    expect(await entry.textContent()).toContain('updated');
    expect(await entry.locator('ins').first().textContent()).toContain('and the Node version');
    const stored = await rest('GET', `/api/memories/${ids.cache}`, undefined, keys.team_a);
    expect(stored.json.memory).toMatchObject({ tags: ['ci', 'cache', 'node'] });
    await expectAccessible(page, 'memory');
    await screenshot(page, 'memory');
  });

  it('links two memories and shows the edge in the graph view', async () => {
    await page.goto(`${server.url}/memories/${ids.isolate}`);
    await page.getByRole('heading', { level: 1, name: 'Memory' }).waitFor();
    await page.getByLabel('Relationship').selectOption('fixes');
    await page.getByLabel('Other memory (search, or paste an id)').fill('flaky integration tests');
    await page.getByRole('radio', { name: /Flaky integration tests/ }).check();
    await page.getByRole('button', { name: 'Link', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Linked.' }).waitFor();
    const outgoing = await rest('GET', `/api/memories/${ids.isolate}/relations?direction=out`, undefined, keys.team_a);
    expect(outgoing.json.relations).toMatchObject([{ sourceId: ids.isolate, targetId: ids.flaky, type: 'fixes' }]);

    await page.getByRole('link', { name: 'Show in graph' }).click();
    await page.getByRole('heading', { level: 1, name: 'Graph' }).waitFor();
    const graph = page.getByTestId('graph');
    await expect.poll(() => graph.getAttribute('data-edges')).toBe('1');
    expect(await page.getByTestId('graph-edges').textContent()).toContain('fixes');
    // Cytoscape drew it (its canvases are in the container).
    await expect.poll(() => graph.locator('canvas').count()).toBeGreaterThan(0);
    // Expanding the neighbour brings its own edge (flaky —related— cache) in.
    await page.getByRole('button', { name: /Expand Flaky integration tests/ }).click();
    await expect.poll(() => graph.getAttribute('data-edges')).toBe('2');
    expect(await graph.getAttribute('data-nodes')).toBe('3');
    await expectAccessible(page, 'graph');
    await screenshot(page, 'graph');
  });

  it('resolves a contradiction from the memory page; the graph dims the superseded side', async () => {
    const first = (await rest('POST', '/api/memories', { content: 'Staging uses port 8080', tags: ['staging'] }, keys.team_a)).json.memory
      .id;
    const second = (await rest('POST', '/api/memories', { content: 'Staging uses port 9090', tags: ['staging'] }, keys.team_a)).json.memory
      .id;
    await rest('POST', '/api/relations', { sourceId: second, targetId: first, type: 'contradicts' }, keys.team_a);
    await page.goto(`${server.url}/memories/${second}`);
    await page.getByRole('button', { name: 'Keep this' }).click();
    await page.getByRole('status').filter({ hasText: 'Kept this memory' }).waitFor();
    expect((await rest('GET', `/api/memories/${first}`, undefined, keys.team_a)).json.memory).toMatchObject({ supersededBy: second });
    await page.goto(`${server.url}/graph?id=${second}`);
    await expect.poll(() => page.locator('.graph-list li.superseded').count()).toBe(1);
    // Unlink from the memory page removes the edge.
    await page.goto(`${server.url}/memories/${second}`);
    await page.getByRole('button', { name: /^Unlink contradicts/ }).click();
    await page.getByRole('status').filter({ hasText: 'Removed the contradicts link.' }).waitFor();
    expect((await rest('GET', `/api/memories/${second}/relations`, undefined, keys.team_a)).json.relations).toEqual([]);
  });

  it('updates Browse live when an agent writes (SSE), and bulk-tags and deletes with confirmation', async () => {
    await page.getByRole('link', { name: 'Browse' }).click();
    await page.locator('table.memories tbody tr').first().waitFor();
    await page.locator('.live.on').waitFor();
    await rest('POST', '/api/memories', { content: 'An agent wrote this while the dashboard was open', tags: ['live'] }, keys.team_a);
    await page.locator('table.memories tbody tr').filter({ hasText: 'An agent wrote this' }).waitFor({ timeout: 10_000 });

    const staging = page.locator('table.memories tbody tr').filter({ hasText: 'Staging uses port' });
    await staging.first().getByRole('checkbox').check();
    await page.getByLabel('Tag', { exact: true }).fill('reviewed');
    await page.getByRole('button', { name: 'Add tag' }).click();
    await page.getByRole('status').filter({ hasText: 'Tagged “reviewed”: 1 memory.' }).waitFor();

    const live = page.locator('table.memories tbody tr').filter({ hasText: 'An agent wrote this' });
    await live.getByRole('checkbox').check();
    await page.getByRole('button', { name: 'Delete…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete 1 memory?' });
    await dialog.waitFor();
    await expectAccessible(page, 'browse (delete dialog)');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(await live.count()).toBe(1);
    await page.getByRole('button', { name: 'Delete…' }).click();
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('status').filter({ hasText: 'Deleted 1 memory.' }).waitFor();
    await expect.poll(() => live.count()).toBe(0);
    const tags = await rest('GET', '/api/tags', undefined, keys.team_a);
    expect(tags.json.tags).toContainEqual({ tag: 'reviewed', count: 1 });
  });

  it('shows stats: counts by type, subtype, user and tag, the timeline chart, store size and index health', async () => {
    await page.getByRole('link', { name: 'Stats' }).click();
    const summary = page.getByTestId('stats-summary');
    await summary.waitFor();
    expect(await summary.textContent()).toContain('healthy');
    expect(await summary.textContent()).toMatch(/sqlite, \d+(\.\d)? (KiB|MiB)/);
    await page.locator('.chart canvas').first().waitFor();
    expect(await page.getByRole('region', { name: 'By user' }).textContent()).toContain('alice');
    // Memories without an agent: the API's null, labelled by the page.
    expect(await page.getByRole('region', { name: 'By agent' }).locator('em').textContent()).toBe('no agent');
    expect(await page.getByRole('region', { name: 'By subtype' }).textContent()).toContain('gotcha');
    await expectAccessible(page, 'stats');
    await screenshot(page, 'stats');
  });

  it('exports JSON Lines and imports them (all or nothing, naming the bad line)', async () => {
    await page.getByRole('link', { name: 'Import/Export' }).click();
    await page.getByRole('button', { name: 'Prepare export' }).click();
    const link = page.getByRole('link', { name: /^download engram-export-/ });
    await link.waitFor();
    const downloaded = page.waitForEvent('download');
    await link.click();
    const file = await (await downloaded).path();
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines.length).toBeGreaterThan(5);
    expect(lines.join('\n')).not.toContain('swordfish');

    await page.getByLabel('Or paste lines').fill('{"content": "Imported from the dashboard", "tags": ["imported"]}\n{"content": 42}\n');
    await page.getByRole('button', { name: /^Import/ }).click();
    await page.getByRole('alert').filter({ hasText: 'line 2' }).waitFor();
    expect((await rest('GET', '/api/tags', undefined, keys.team_a)).json.tags).not.toContainEqual({ tag: 'imported', count: 1 });
    await page.getByLabel('Or paste lines').fill('{"content": "Imported from the dashboard", "tags": ["imported"]}\n');
    await page.getByRole('button', { name: /^Import/ }).click();
    await page.getByTestId('import-summary').filter({ hasText: '1 created' }).waitFor();
    await expectAccessible(page, 'import/export');
    await screenshot(page, 'import-export');
  });

  it('previews consolidation (a dry run writes nothing)', async () => {
    const before = (await rest('GET', '/api/stats', undefined, keys.team_a)).json.total;
    await page.getByRole('link', { name: 'Consolidation' }).click();
    await page.getByRole('button', { name: 'Preview (dry run)' }).click();
    const report = page.getByTestId('consolidation-report');
    await report.waitFor();
    expect(await report.textContent()).toMatch(/Dry run: nothing was written · \d+ memories scanned/);
    expect(await report.textContent()).toContain('Relevance');
    expect((await rest('GET', '/api/stats', undefined, keys.team_a)).json.total).toBe(before);
    await expectAccessible(page, 'consolidation');
    await screenshot(page, 'consolidation');
  });

  it("tenant B's key sees none of A's memories", async () => {
    const other = await browser.newContext({ viewport: { width: 1100, height: 720 } });
    const asB = await other.newPage();
    await signIn(asB, keys.team_b);
    expect(await asB.getByTestId('tenant').textContent()).toBe('team_b');
    const rows = asB.locator('table.memories tbody tr');
    await rows.first().waitFor();
    expect(await rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain('swordfish');
    await asB.goto(`${server.url}/search?q=${encodeURIComponent('lockfile cache postgres deploys')}`);
    await asB.getByRole('heading', { name: /results?$/ }).waitFor();
    expect(await asB.locator('.hit').count()).toBe(0);
    await asB.goto(`${server.url}/memories/${ids.cache}`);
    await asB.getByRole('heading', { level: 1, name: 'Memory not found' }).waitFor();
    await asB.goto(`${server.url}/stats`);
    await asB.getByTestId('stats-summary').waitFor();
    expect(await asB.getByTestId('stats-summary').textContent()).toMatch(/^Memories1/);
    // And A's tab, in its own session, never saw B's memory.
    await page.goto(`${server.url}/`);
    await page.locator('table.memories tbody tr').first().waitFor();
    expect(await page.locator('table.memories').textContent()).not.toContain('swordfish');
    await other.close();
  });

  it('works on a phone: the menu collapses, nothing scrolls sideways', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const small = await phone.newPage();
    await signIn(small, keys.team_a);
    const navigation = small.getByRole('navigation', { name: 'Pages', exact: true });
    expect(await navigation.isVisible()).toBe(false);
    await small.getByRole('button', { name: 'Menu' }).click();
    await small.getByRole('link', { name: 'Search', exact: true }).click();
    await small.getByRole('heading', { level: 1, name: 'Search' }).waitFor();
    const overflow = await small.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await expectAccessible(small, 'phone search');
    await small.goto(`${server.url}/`);
    await small.locator('table.memories tbody tr').first().waitFor();
    await screenshot(small, 'phone-browse');
    await phone.close();
  });

  it('is usable from the keyboard: skip link, then the pages in order', async () => {
    await page.goto(`${server.url}/`);
    await page.getByRole('heading', { level: 1, name: 'Browse' }).waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate<string>(FOCUSED_TEXT)).toBe('Skip to content');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await page.evaluate<string>(FOCUSED_TEXT)).toBe('Browse');
    await page.keyboard.press('Tab');
    expect(await page.evaluate<string>(FOCUSED_TEXT)).toBe('Search');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Search' }).waitFor();
    // Focus moved to the page heading, so the next Tab is inside the page.
    expect(await page.evaluate<string>('document.activeElement?.tagName')).toBe('H1');
  });

  it('loaded without a CSP violation or a script error', () => {
    // Refused requests (the wrong key, the bad import line) are logged by the browser as failed
    // loads: those are the point of their steps. Anything else is a problem.
    expect(consoleProblems.filter((text) => !text.startsWith('Failed to load resource'))).toEqual([]);
  });
});
