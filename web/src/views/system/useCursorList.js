/*
 * useCursorList — one cursor-paged /v1 list: the first page on mount, more
 * pages on demand ("Load more"), the first page again after an action or a
 * change of token or namespace. Only the newest request's answer is kept, so
 * a slow old page never overwrites a newer reload.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { get, nsQuery, onSettingsChange } from '../../app/api.js';

export default function useCursorList(path, itemsKey, query = {}, pageSize = 50) {
  const [state, setState] = useState({ items: [], next: null, error: null, loading: true, ready: false });
  const seq = useRef(0);
  const queryKey = JSON.stringify(query);

  const load = useCallback(async (cursor) => {
    const mine = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    try {
      const page = await get(path, nsQuery({ ...JSON.parse(queryKey), limit: pageSize, cursor }));
      if (mine !== seq.current) return;
      const items = (page && page[itemsKey]) || [];
      setState((s) => ({
        items: cursor ? [...s.items, ...items] : items,
        next: (page && page.next_cursor) || null,
        error: null,
        loading: false,
        ready: true,
      }));
    } catch (error) {
      if (mine !== seq.current) return;
      setState((s) => ({ ...s, error, loading: false, ready: true }));
    }
  }, [path, itemsKey, queryKey, pageSize]);

  useEffect(() => {
    load(null);
    return onSettingsChange(() => load(null));
  }, [load]);

  return {
    ...state,
    reload: () => load(null),
    loadMore: () => state.next && load(state.next),
  };
}
