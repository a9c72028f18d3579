/*
 * load.mjs — how long each view of the web UI takes to load with 10,000
 * tasks in the database and a 10,000-node DAG (bench/ui/README.md).
 *
 *   node bench/ui/load.mjs [--loads N]
 *
 * Starts build/weft (or $WEFT_BIN) on a temporary SQLite database through
 * the browser tests' harness, seeds it (seed.mjs), then opens each view N
 * times (default 3) in Debian's Chromium and prints the median time from
 * navigation to the view's ready marker (its root's data-ready="true"),
 * or, for a view without one, to network idle; then the bundle's sizes.
 * A measurement, not a test: nothing here fails on a slow figure.
 */
import { gzipSync } from 'node:zlib';
import { openPage, startServer } from '../../tests/browser/harness.mjs';
import { seed } from './seed.mjs';

const argLoads = process.argv.indexOf('--loads');
const LOADS = argLoads > 0 ? Number(process.argv[argLoads + 1]) : 3;
const READY_TIMEOUT = 120_000;
/* ui.idle() answers 300 ms after the last request ended. */
const IDLE_QUIET_MS = 300;

const log = (s) => process.stderr.write(`${s}\n`);

function views(ids) {
  return [
    ['dashboard', '/dashboard'],
    ['runs', '/runs'],
    ['run graph (10,000-node DAG)', `/runs/${ids.dagRun}?view=graph`],
    ['run table (10,000-node DAG)', `/runs/${ids.dagRun}?view=table`],
    ['run timeline (10,000-node DAG)', `/runs/${ids.dagRun}?view=timeline`],
    ['run graph (10,000 independent)', `/runs/${ids.flatRun}?view=graph`],
    ['task', `/tasks/${ids.task}`],
    ['queues', '/queues'],
    ['workers', '/workers'],
    ['dead letters', '/dead-letters'],
    ['workflows', '/workflows'],
    ['schedules', '/schedules'],
    ['audit', '/audit'],
    ['templates', '/templates'],
    ['hooks', '/hooks'],
    ['events', '/subscriptions'],
  ];
}

/* One load from a blank page: ms to the ready marker, or to network idle when the view has none. */
async function loadOnce(ui, path) {
  const { page } = ui;
  await page.goto('about:blank');
  const t0 = Date.now();
  await page.goto(`${ui.uiUrl}#${path}`);
  const ready = page.waitForSelector('[data-view][data-ready="true"]', { timeout: READY_TIMEOUT })
    .then(() => ({ ms: Date.now() - t0, by: 'ready' }));
  ready.catch(() => {});
  const idle = (async () => {
    await ui.idle();
    const at = Date.now() - IDLE_QUIET_MS - t0;
    if (await page.$('[data-view]')) return ready;   // a marked view: its marker decides
    return { ms: at, by: 'idle' };
  })();
  let r = await Promise.race([ready, idle]);
  /* A graph view is loaded when the graph is drawn, not when its data is in. */
  if (path.includes('view=graph') && r.by === 'ready') {
    await page.waitForFunction(() => window.__weftGraph && window.__weftGraph.nodes().length > 0,
      null, { timeout: READY_TIMEOUT, polling: 'raf' });
    r = { ms: Date.now() - t0, by: 'graph drawn' };
  }
  const failed = await page.$('[data-view][data-error="true"]');
  return { ...r, error: Boolean(failed) };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/*
 * The page's assets as the server sends them, their size and gzip'd at
 * level 9: what index.html names and what the views loaded later (split chunks).
 */
async function bundleSizes(uiUrl, loaded) {
  const index = await (await fetch(uiUrl)).text();
  const named = index.match(/assets\/[^"' )]+/g) || [];
  const files = [...new Set([...named, ...loaded])].sort();
  const rows = [['index.html', Buffer.byteLength(index), gzipSync(index, { level: 9 }).length]];
  for (const f of files) {
    const raw = Buffer.from(await (await fetch(new URL(f, uiUrl))).arrayBuffer());
    rows.push([f, raw.length, gzipSync(raw, { level: 9 }).length]);
  }
  return rows;
}

const countOf = (seen) => (seen ? [...seen.values()].reduce((a, b) => a + b, 0) : 0);
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;

async function main() {
  const server = await startServer();
  try {
    const t0 = Date.now();
    const ids = await seed(server.api, log);
    log(`seeded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const ui = await openPage(server, { allow: [/./] });
    ui.uiUrl = server.uiUrl;
    const consoleErrors = new Map();
    let current = '';
    const assets = new Set();
    ui.page.on('response', (r) => {
      const m = new URL(r.url()).pathname.match(/assets\/[^/]+$/);
      if (m) assets.add(m[0]);
    });
    ui.page.on('console', (m) => {
      if (m.type() !== 'error') return;
      const seen = consoleErrors.get(current) || new Map();
      const text = `${m.text()}${m.location() && m.location().url ? ` (${new URL(m.location().url).pathname})` : ''}`;
      seen.set(text, (seen.get(text) || 0) + 1);
      consoleErrors.set(current, seen);
    });
    const rows = [];
    for (const [name, path] of views(ids)) {
      current = name;
      const runs = [];
      for (let i = 0; i < LOADS; i++) runs.push(await loadOnce(ui, path).catch((e) => ({ ms: NaN, by: `failed: ${e.message.split('\n')[0]}` })));
      const ms = median(runs.map((r) => r.ms));
      rows.push([name, Number.isFinite(ms) ? `${ms} ms` : '—', runs[0].by, runs.some((r) => r.error) ? 'error shown' : '', countOf(consoleErrors.get(name))]);
      log(`${name}: ${runs.map((r) => r.ms).join(', ')} ms (${runs[0].by})`);
    }
    await ui.page.context().close();
    console.log(`\nView load times, median of ${LOADS} (10,000+ tasks in the database; 10,000-node DAG)\n`);
    console.log('| view | median | measured to | note | console errors |\n|---|---|---|---|---|');
    for (const r of rows) console.log(`| ${r.join(' | ')} |`);
    for (const [view, seen] of consoleErrors) {
      for (const [text, n] of seen) console.log(`\nconsole error in ${view} (${n}×): ${text}`);
    }
    console.log('\nBundle (the entry page and what it loads)\n\n| file | size | gzip -9 |\n|---|---|---|');
    let raw = 0; let gz = 0;
    for (const [f, r, g] of await bundleSizes(server.uiUrl, assets)) { raw += r; gz += g; console.log(`| ${f} | ${kib(r)} | ${kib(g)} |`); }
    console.log(`| total | ${kib(raw)} | ${kib(gz)} |`);
  } finally {
    await server.stop();
  }
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
