/*
 * usePaged.js — a list read page by page with the server's cursor:
 * {items, more, loadMore, error, ready, reload}.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { get } from '../../app/api.js';

export function usePaged(path, field, query) {
  const [state, setState] = useState({ items: [], cursor: null, error: null, ready: false });
  const seq = useRef(0);
  const fetchPage = useCallback(async (cursor) => {
    const mine = seq.current;
    try {
      const page = await get(path, { ...query, cursor });
      if (mine !== seq.current) return;
      setState((s) => ({ items: cursor ? [...s.items, ...(page[field] || [])] : (page[field] || []),
        cursor: page.next_cursor || null, error: null, ready: true }));
    } catch (e) {
      if (mine !== seq.current) return;
      setState((s) => ({ ...s, error: e, ready: true }));
    }
  }, [path, JSON.stringify(query)]);
  const reload = useCallback(() => { seq.current++; fetchPage(null); }, [fetchPage]);
  useEffect(() => { reload(); }, [reload]);
  return { ...state, more: !!state.cursor, loadMore: () => fetchPage(state.cursor), reload };
}
