/*
 * harness.mjs — what every browser test uses: a real weft server and a
 * Chromium page pointed at its web UI.
 *
 *   const server = await startServer({token, env, args, apiToken});
 *     One `weft serve` (build/weft, or $WEFT_BIN) on a free port with a
 *     temporary SQLite database. `token` sets AUTH_TOKEN; `apiToken` is the
 *     token api() sends (default `token`; for tokens set in env.WEFT_TOKENS). Returns
 *     {url, uiUrl, log(), api(method, path, body), stop()}; api() sends the
 *     token when set, answers the parsed JSON body (or the text) and throws
 *     on non-2xx an Error with `status` and `body`.
 *
 *   const ui = await openPage(server, {token, width, height, theme, allow});
 *     A fresh browser context (its own localStorage) at 1280×800 by default;
 *     `token` is put in localStorage first (as if entered once before),
 *     `theme` ('light' | 'dark') is the preferred colour scheme. Returns
 *     {page, errors, goto(hashPath), idle(), shot(name), close()}.
 *     `errors` collects console errors and uncaught page errors, except
 *     those matching one of the `allow` regular expressions; close() fails
 *     the test when any were collected.
 *
 * Servers and the browser still open when a test file ends are closed then.
 * Chromium is Debian's (/usr/bin/chromium, or $WEFT_CHROMIUM), installed by
 * `scripts/deps.sh browser`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, readlinkSync, readFileSync, rmSync, openSync, closeSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after } from 'node:test';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '../..');
export const outDir = join(here, 'out');
const weftBin = process.env.WEFT_BIN || join(repoRoot, 'build/weft');
const chromiumPath = process.env.WEFT_CHROMIUM || '/usr/bin/chromium';

/* How long a condition may take before a wait fails (ms): generous, since
 * `make check` runs this beside the sanitizer builds on few cores. */
export const TIMEOUT = 30_000;

const liveServers = new Set();
let browserPromise = null;

after(async () => {
  for (const s of [...liveServers]) await s.stop().catch(() => {});
  if (browserPromise) await (await browserPromise).close();
});

function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

/* Whether process `pid` itself holds a listening TCP socket on `port`:
 * another process may answer on a port that was free when chosen. */
function listens(pid, port) {
  const inodes = new Set();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
        if (target.startsWith('socket:[')) inodes.add(target.slice(8, -1));
      } catch { /* closed meanwhile */ }
    }
  } catch { return false; }
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text;
    try { text = readFileSync(table, 'utf8'); } catch { continue; }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10) continue;
      const p = parseInt(cols[1].split(':').pop(), 16);
      if (p === port && cols[3] === '0A' && inodes.has(cols[9])) return true;
    }
  }
  return false;
}

const delay = (ms) => new Promise((r) => setTimeout(r, ms));

/* Polls `pred` (sync or async) until it is truthy; fails after `timeout`. */
export async function waitFor(pred, { timeout = TIMEOUT, interval = 25, desc = 'condition' } = {}) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await pred();
    if (v) return v;
    if (Date.now() >= end) throw new Error(`timed out after ${timeout} ms waiting for ${desc}`);
    await delay(interval);
  }
}

function spawnWeft(args, env, logPath, cwd) {
  const log = openSync(logPath, 'a');
  try {
    return spawn(weftBin, args, { env, cwd, stdio: ['ignore', log, log] });
  } finally {
    closeSync(log);
  }
}

export async function startServer({ token, env = {}, args = [], apiToken = token } = {}) {
  if (!existsSync(weftBin)) throw new Error(`weft binary not found at ${weftBin} (make build/weft, or set WEFT_BIN)`);
  const dir = mkdtempSync(join(tmpdir(), 'weft-browser-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logPath = join(dir, 'weft.log');
  const childEnv = { ...process.env };
  for (const k of ['DATABASE_URL', 'WEFT_DB', 'AUTH_TOKEN', 'WEFT_TOKENS', 'WEFT_TOKENS_FILE', 'PORT', 'HOST_URL']) delete childEnv[k];
  Object.assign(childEnv, { HOST_URL: url, SKIP_SSRF_VALIDATION: '1' });
  if (token) childEnv.AUTH_TOKEN = token;
  for (const [k, v] of Object.entries(env)) {
    if (v === null || v === undefined) delete childEnv[k]; else childEnv[k] = String(v);
  }
  const argv = ['serve', '--port', String(port), '--db', join(dir, 'weft.db'), ...args];

  let proc;
  let exited = null;
  // A binary being relinked at this instant cannot be executed (ETXTBSY): retry briefly.
  for (const end = Date.now() + 5000; ;) {
    proc = spawnWeft(argv, childEnv, logPath, dir);
    const spawned = await new Promise((ok) => {
      proc.once('spawn', () => ok(true));
      proc.once('error', (e) => ok(e));
    });
    if (spawned === true) break;
    if (Date.now() >= end) throw spawned;
    await delay(100);
  }
  proc.once('exit', (code, signal) => { exited = { code, signal }; });
  const log = () => { try { return readFileSync(logPath, 'utf8'); } catch { return ''; } };

  let stopped = false;
  const server = {
    url,
    uiUrl: `${url}/ui/`,
    dir,
    log,
    async api(method, path, body) {
      const headers = { Accept: 'application/json' };
      if (apiToken) headers.Authorization = `Bearer ${apiToken}`;
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      const res = await fetch(url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await res.text();
      let answer = text || null;
      try { answer = text ? JSON.parse(text) : null; } catch { /* not JSON: the text */ }
      if (!res.ok) {
        throw Object.assign(new Error(`${method} ${path}: HTTP ${res.status}: ${text}`), { status: res.status, body: answer });
      }
      return answer;
    },
    /* SIGTERM, SIGKILL after 10 s; fails when weft had died on its own. */
    async stop() {
      if (stopped) return;
      stopped = true;
      liveServers.delete(server);
      const died = exited;
      if (!exited) {
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
        await new Promise((r) => (exited ? r() : proc.once('exit', r)));
        clearTimeout(timer);
      }
      const text = log();
      rmSync(dir, { recursive: true, force: true });
      if (died) throw new Error(`weft exited during the test (${JSON.stringify(died)})\n${text.slice(-4000)}`);
    },
  };
  liveServers.add(server);

  try {
    await waitFor(async () => {
      if (exited) throw new Error(`weft exited (${JSON.stringify(exited)}) before answering /health\n${log().slice(-4000)}`);
      if (!listens(proc.pid, port)) return false;
      try {
        return (await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) })).status === 200;
      } catch { return false; }
    }, { desc: `GET ${url}/health` });
  } catch (e) {
    await server.stop().catch(() => {});
    throw e;
  }
  return server;
}

function browser() {
  if (!browserPromise) {
    browserPromise = chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      // Containers often have a small /dev/shm and no user namespaces.
      args: ['--disable-dev-shm-usage', '--no-sandbox'],
    });
  }
  return browserPromise;
}

/* Server-sent event streams stay open by design and never make a page busy
 * (the page's api.stream asks for text/event-stream). */
const isStream = (request) => (request.headers().accept || '').includes('text/event-stream');

export async function openPage(server, { token, width = 1280, height = 800, theme = 'light', allow = [] } = {}) {
  const origin = new URL(server.url).origin;
  const context = await (await browser()).newContext({
    viewport: { width, height },
    colorScheme: theme,
    storageState: token ? { cookies: [], origins: [{ origin, localStorage: [{ name: 'weft-token', value: token }] }] } : undefined,
  });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  const errors = [];
  const allowed = (text) => allow.some((re) => re.test(text));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const loc = m.location();
    const text = `console: ${m.text()}${loc && loc.url ? ` (${loc.url})` : ''}`;
    if (!allowed(text)) errors.push(text);
  });
  page.on('pageerror', (e) => {
    const text = `page error: ${e.stack || e.message}`;
    if (!allowed(text)) errors.push(text);
  });

  let inflight = 0;
  let lastChange = Date.now();
  const track = (d) => (r) => { if (!isStream(r)) { inflight += d; lastChange = Date.now(); } };
  page.on('request', track(1));
  page.on('requestfinished', track(-1));
  page.on('requestfailed', track(-1));

  return {
    page,
    errors,
    /* Opens the UI at a hash route ('/runs', '/runs/ID?view=table'). */
    async goto(path = '/') {
      await page.goto(`${server.uiUrl}#${path}`);
      await page.waitForSelector('[data-testid="shell"]');
    },
    /* Resolves once no request but the event streams has been open for 300 ms. */
    async idle() {
      await waitFor(() => inflight <= 0 && Date.now() - lastChange >= 300, { desc: 'no requests in flight' });
    },
    async shot(name) {
      mkdirSync(outDir, { recursive: true });
      await page.screenshot({ path: join(outDir, `${name}.png`), animations: 'disabled' });
    },
    async close() {
      await context.close();
      if (errors.length) throw new Error(`errors in the page:\n${errors.join('\n')}`);
    },
  };
}
