/*
 * usePaged.js — a list read page by page with the server's cursor:
 * {items, more, loadMore, error, ready, missing, reload}. `missing` is set
 * when the route answers 404 (a server without it, or an object it does
 * not know), which the caller shows as "not available" rather than an
 * error.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { get } from '../../app/api.js';

export function usePaged(path, field, query, enabled = true) {
  const [state, setState] = useState({ items: [], cursor: null, error: null, ready: false, missing: false });
  const seq = useRef(0);
  const fetchPage = useCallback(async (cursor) => {
    const mine = seq.current;
    try {
      const page = await get(path, { ...query, cursor });
      if (mine !== seq.current) return;
      setState((s) => ({ items: cursor ? [...s.items, ...(page[field] || [])] : (page[field] || []),
        cursor: page.next_cursor || null, error: null, ready: true, missing: false }));
    } catch (e) {
      if (mine !== seq.current) return;
      setState((s) => ({ ...s, error: e.status === 404 ? null : e, missing: e.status === 404, ready: true }));
    }
  }, [path, JSON.stringify(query)]);
  const reload = useCallback(() => { seq.current++; fetchPage(null); }, [fetchPage]);
  useEffect(() => { if (enabled) reload(); }, [reload, enabled]);
  return { ...state, more: !!state.cursor, loadMore: () => fetchPage(state.cursor), reload };
}
