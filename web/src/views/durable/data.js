/*
 * data.js — loading hooks of the durable views: one object, and one list
 * paged by the server's cursor. Both reload when the token or namespace
 * setting changes, and report `ready` after their first answer (also an
 * error), which the views turn into their data-ready marker.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { useChangeFeed as useFeed, useSettingsEpoch, useThrottled } from '../../components/live.js';

/* load() → Promise of one object; reloads when `key` changes. */
export function useLoad(load, key) {
  const settings = useSettingsEpoch();
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
  const settings = useSettingsEpoch();
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
 * task changes for `query` (e.g. {run: ID}), and after a reset.
 */
export function useChangeFeed(query, onChange, minMs = 2000) {
  const throttled = useThrottled(onChange, minMs);
  useFeed(query, throttled, { onReset: throttled });
}
