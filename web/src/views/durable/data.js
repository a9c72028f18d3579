/*
 * data.js — loading hooks of the durable views: one object, and one list
 * paged by the server's cursor. Both reload when the token or namespace
 * setting changes, and report `ready` after their first answer (also an
 * error), which the views turn into their data-ready marker.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { onSettingsChange, stream } from '../../app/api.js';

/* Bumps when the token or the namespace changes, so effects re-run. */
export function useSettingsVersion() {
  const [version, setVersion] = useState(0);
  useEffect(() => onSettingsChange(() => setVersion((v) => v + 1)), []);
  return version;
}

/* load() → Promise of one object; reloads when `key` changes. */
export function useLoad(load, key) {
  const settings = useSettingsVersion();
  const [state, setState] = useState({ data: null, error: null, ready: false });
  const seq = useRef(0);
  const reload = useCallback(async () => {
    const mine = ++seq.current;
    try {
      const data = await load();
      if (mine === seq.current) setState({ data, error: null, ready: true });
    } catch (error) {
      if (mine === seq.current) setState((s) => ({ data: s.data, error, ready: true }));
    }
  }, [key, settings]);
  useEffect(() => { reload(); }, [reload]);
  return { ...state, reload };
}

/*
 * fetchPage(cursor) → Promise of {items, next}; the first page loads when
 * `key` (the filters) changes, "Load more" appends the next one.
 */
export function usePaged(fetchPage, key) {
  const settings = useSettingsVersion();
  const [state, setState] = useState({ items: [], next: null, error: null, loading: true, ready: false });
  const seq = useRef(0);
  const fetchFrom = async (cursor, append) => {
    const mine = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    try {
      const page = await fetchPage(cursor);
      if (mine !== seq.current) return;
      setState((s) => ({
        items: append ? s.items.concat(page.items) : page.items,
        next: page.next || null, error: null, loading: false, ready: true,
      }));
    } catch (error) {
      if (mine === seq.current) setState((s) => ({ ...s, error, loading: false, ready: true }));
    }
  };
  const reload = useCallback(() => fetchFrom(null, false), [key, settings]);
  useEffect(() => { reload(); }, [reload]);
  return { ...state, reload, loadMore: () => fetchFrom(state.next, true) };
}

/*
 * Calls onChange at most once per `minMs` while the change feed reports
 * events for `query` (e.g. {run: ID}). The feed may not exist on an older
 * server: its errors are swallowed, and the stream's own back-off retries.
 */
export function useChangeFeed(query, onChange, minMs = 2000) {
  const latest = useRef(onChange);
  latest.current = onChange;
  const key = JSON.stringify(query);
  useEffect(() => {
    let last = 0;
    let timer = null;
    const fire = () => { timer = null; last = Date.now(); latest.current(); };
    /* Without a feed on the server (404) retrying every second helps nobody. */
    const stop = stream('/v1/changes', query, (ev) => {
      if (ev.event !== 'tasks' && ev.event !== 'reset') return;
      if (timer) return;
      timer = setTimeout(fire, Math.max(0, last + minMs - Date.now()));
    }, { onError: (e) => { if (e && e.status === 404) stop(); } });
    return () => { stop(); if (timer) clearTimeout(timer); };
  }, [key]);
}
