/*
 * api.js — every call the UI makes to the server goes through here.
 *
 * The bearer token and the namespace live in localStorage, so a token is
 * entered once per browser. Errors come back as ApiError carrying the
 * server's /v1 error body ({error: {code, message, details}}), where each
 * detail reads "field: problem"; `field` is the first detail's field.
 */

const TOKEN_KEY = 'weft-token';
const NAMESPACE_KEY = 'weft-namespace';

export class ApiError extends Error {
  constructor(status, body) {
    const e = body && body.error ? body.error : null;
    super(e && e.message ? e.message : `HTTP ${status}`);
    this.status = status;
    this.code = e ? e.code : null;
    this.details = e && Array.isArray(e.details) ? e.details : [];
    const first = this.details[0];
    this.field = typeof first === 'string' && first.includes(':') ? first.slice(0, first.indexOf(':')) : null;
    this.body = body;
  }
}

export function token() { return localStorage.getItem(TOKEN_KEY) || ''; }
export function setToken(t) {
  if (t) localStorage.setItem(TOKEN_KEY, t); else localStorage.removeItem(TOKEN_KEY);
  notify();
}

/* '' means every namespace the token may see (no namespace parameter). */
export function namespace() { return localStorage.getItem(NAMESPACE_KEY) || ''; }
export function setNamespace(ns) {
  if (ns) localStorage.setItem(NAMESPACE_KEY, ns); else localStorage.removeItem(NAMESPACE_KEY);
  notify();
}

/* Views re-read when the token or namespace changes. */
const listeners = new Set();
export function onSettingsChange(fn) { listeners.add(fn); return () => listeners.delete(fn); }
function notify() { for (const fn of listeners) fn(); }

/* A 401 anywhere asks the shell for a token. */
let unauthorized = () => {};
export function onUnauthorized(fn) { unauthorized = fn; }

function headers(extra) {
  const h = { Accept: 'application/json', ...extra };
  const t = token();
  if (t) h.Authorization = `Bearer ${t}`;
  return h;
}

/* Builds '/v1/x?a=1&b=2', leaving out null, undefined and '' values. */
export function url(path, query) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query || {})) {
    if (v === null || v === undefined || v === '') continue;
    if (Array.isArray(v)) v.forEach((x) => q.append(k, x)); else q.append(k, String(v));
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/* The namespace query parameter for routes that take one. */
export function nsQuery(query) {
  const ns = namespace();
  return ns ? { namespace: ns, ...query } : { ...query };
}

export async function request(method, path, { query, body, signal } = {}) {
  const init = { method, headers: headers(body !== undefined ? { 'Content-Type': 'application/json' } : {}), signal };
  if (body !== undefined) init.body = JSON.stringify(body);
  const res = await fetch(url(path, query), init);
  const text = await res.text();
  let parsed = null;
  if (text) {
    try { parsed = JSON.parse(text); } catch { parsed = text; }
  }
  if (res.status === 401) unauthorized();
  if (!res.ok) throw new ApiError(res.status, parsed);
  return parsed;
}

export const get = (path, query, opts) => request('GET', path, { ...opts, query });
export const post = (path, body, opts) => request('POST', path, { ...opts, body: body === undefined ? {} : body });
export const patch = (path, body, opts) => request('PATCH', path, { ...opts, body });
export const del = (path, opts) => request('DELETE', path, opts);

/*
 * Follows a server-sent event stream with the token in a header (EventSource
 * cannot send one). Calls onEvent({event, data, id}) per event, data parsed as
 * JSON when it is JSON. Reconnects after a drop, resuming from the last id.
 * Returns a function that stops it.
 */
export function stream(path, query, onEvent, { onError } = {}) {
  const ctl = new AbortController();
  let lastId = null;
  let stopped = false;
  // After a failure wait 1 s, then twice as long each time up to 30 s, so a
  // server that is down or refuses the stream is not asked every second.
  let backoff = 1000;
  const run = async () => {
    while (!stopped) {
      try {
        const h = headers({ Accept: 'text/event-stream' });
        if (lastId !== null) h['Last-Event-ID'] = lastId;
        const res = await fetch(url(path, query), { headers: h, signal: ctl.signal });
        if (res.status === 401) { unauthorized(); return; }
        if (!res.ok || !res.body) throw new ApiError(res.status, null);
        backoff = 1000;
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let pending = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          pending += value;
          let cut;
          while ((cut = pending.indexOf('\n\n')) >= 0) {
            const block = pending.slice(0, cut);
            pending = pending.slice(cut + 2);
            const ev = { event: 'message', data: '', id: null };
            for (const line of block.split('\n')) {
              if (line.startsWith(':')) continue;
              const c = line.indexOf(':');
              const k = c < 0 ? line : line.slice(0, c);
              const v = c < 0 ? '' : line.slice(c + 1).replace(/^ /, '');
              if (k === 'event') ev.event = v;
              else if (k === 'data') ev.data = ev.data ? `${ev.data}\n${v}` : v;
              else if (k === 'id') ev.id = v;
            }
            if (ev.id !== null) lastId = ev.id;
            try { ev.data = JSON.parse(ev.data); } catch { /* plain text */ }
            onEvent(ev);
          }
        }
      } catch (e) {
        if (stopped) return;
        if (onError) onError(e);
      }
      if (!stopped) {
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 30000);
      }
    }
  };
  run();
  return () => { stopped = true; ctl.abort(); };
}
