/*
 * usePaged + LoadMore — a list read page by page with the server's cursor.
 *
 *   const pager = usePaged((cursor) => get('/v1/runs', nsQuery({cursor, limit: 50})), {deps: [filter]});
 *   <DataTable rows={pager.items} …/> <LoadMore pager={pager} />
 *
 * fetchPage(cursor) answers a /v1 list body: its items are `body[key]`
 * (default: its first array) and the next page's cursor `next_cursor`
 * (null or missing: the last page). The list restarts from the first page
 * when deps, the token or the namespace change, or on pager.reload().
 * pager: {items, error, loading, more, loadMore(), reload(), setItems}.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { useSettingsEpoch } from './live.js';
import ErrorBox from './ErrorBox.jsx';

const itemsOf = (body, key) => {
  if (!body || typeof body !== 'object') return [];
  if (key) return Array.isArray(body[key]) ? body[key] : [];
  const first = Object.values(body).find(Array.isArray);
  return first || [];
};

export function usePaged(fetchPage, { deps = [], key } = {}) {
  const epoch = useSettingsEpoch();
  const [state, setState] = useState({ items: [], cursor: null, more: false, loading: true, error: null });
  const fetchRef = useRef(fetchPage);
  fetchRef.current = fetchPage;
  const seq = useRef(0);

  const load = useCallback((cursor, append) => {
    const mine = ++seq.current;
    setState((s) => ({ ...s, loading: true, error: null }));
    return Promise.resolve()
      .then(() => fetchRef.current(cursor || undefined))
      .then((body) => {
        if (mine !== seq.current) return;
        const next = body && body.next_cursor ? body.next_cursor : null;
        setState((s) => ({
          items: append ? [...s.items, ...itemsOf(body, key)] : itemsOf(body, key),
          cursor: next, more: next !== null, loading: false, error: null,
        }));
      }, (error) => {
        if (mine === seq.current) setState((s) => ({ ...s, loading: false, error }));
      });
  }, [key]);

  const reload = useCallback(() => load(null, false), [load]);
  useEffect(() => { reload(); }, [...deps, epoch]);
  useEffect(() => () => { seq.current = -1; }, []);

  return {
    ...state,
    reload,
    loadMore: () => (state.more && !state.loading ? load(state.cursor, true) : Promise.resolve()),
    setItems: (f) => setState((s) => ({ ...s, items: typeof f === 'function' ? f(s.items) : f })),
  };
}

export default function LoadMore({ pager, label = 'Load more' }) {
  return (
    <div class="load-more">
      <ErrorBox error={pager.error} onRetry={pager.more ? pager.loadMore : pager.reload} />
      {pager.loading && <span class="muted" data-testid="loading">Loading…</span>}
      {!pager.loading && pager.more && (
        <button type="button" data-testid="load-more" onClick={pager.loadMore}>{label}</button>
      )}
    </div>
  );
}
