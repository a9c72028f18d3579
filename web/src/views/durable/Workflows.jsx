/*
 * Workflows — the workflow runs (GET /v1/workflows), filtered by status
 * chips, type, queue and creation time, in the shell's namespace, paged by
 * the server's cursor. The filters live in the URL so a view can be shared;
 * the change feed keeps the first page current.
 */
import { get, nsQuery } from '../../app/api.js';
import { href, navigate } from '../../app/router.js';
import { useChangeFeed, usePaged } from './data.js';
import { dash, PagedTable, StatusChip, Time, ViewRoot } from './ui.jsx';

const STATUSES = ['pending', 'running', 'suspended', 'completed', 'failed', 'canceled', 'terminated'];
const FILTERS = ['status', 'type', 'queue', 'created_after', 'created_before'];
const PAGE = 50;

/* A datetime-local value ("2026-12-05T10:00") as RFC 3339 UTC, '' kept. */
function toRfc3339(local) {
  if (!local) return '';
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? local : d.toISOString();
}

function StatusChips({ value, onPick }) {
  return (
    <div class="d-chips" role="group" aria-label="Status">
      {['', ...STATUSES].map((s) => (
        <button key={s || 'all'} type="button" aria-pressed={value === s ? 'true' : 'false'}
          data-testid={`chip-${s || 'all'}`} onClick={() => onPick(s)}>{s || 'all'}</button>
      ))}
    </div>
  );
}

function Filters({ query, set }) {
  const onSubmit = (e) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    set({ type: f.get('type'), queue: f.get('queue'), created_after: f.get('created_after'), created_before: f.get('created_before') });
  };
  return (
    <form class="toolbar" onSubmit={onSubmit} data-testid="workflow-filters">
      <input name="type" placeholder="type" defaultValue={query.type || ''} aria-label="Type" data-testid="filter-type" data-shortcut="search" />
      <input name="queue" placeholder="queue" defaultValue={query.queue || ''} aria-label="Queue" data-testid="filter-queue" />
      <label>from <input type="datetime-local" name="created_after" defaultValue={query.created_after || ''} /></label>
      <label>to <input type="datetime-local" name="created_before" defaultValue={query.created_before || ''} /></label>
      <button type="submit" data-testid="filter-apply">Filter</button>
    </form>
  );
}

/* Ids are UUIDv7: their start is the creation time, shared by neighbours; their end tells them apart. */
const shortId = (id) => id.slice(-12);

function Row({ w }) {
  return (
    <tr data-testid="workflow-row" data-id={w.id}>
      <td><StatusChip status={w.status} testid="workflow-status" /></td>
      <td><a href={href(`/workflows/${w.id}`)} class="d-id" title={w.id} data-testid="workflow-link">…{shortId(w.id)}</a></td>
      <td>{w.type || dash}</td>
      <td>{w.queue || dash}</td>
      <td>{w.namespace || dash}</td>
      <td>{w.replays ?? dash}</td>
      <td><Time at={w.created_at} /></td>
      <td><Time at={w.ended_at} /></td>
    </tr>
  );
}

export default function Workflows({ route }) {
  const query = route.query;
  const key = JSON.stringify(FILTERS.map((f) => query[f] || ''));
  const page = usePaged(async (cursor) => {
    const r = await get('/v1/workflows', nsQuery({
      status: query.status, type: query.type, queue: query.queue,
      created_after: toRfc3339(query.created_after), created_before: toRfc3339(query.created_before),
      cursor, limit: PAGE,
    }));
    return { items: r.workflows || [], next: r.next_cursor };
  }, key);
  // Status changes refresh the first page; pages loaded further are kept until asked.
  useChangeFeed(nsQuery({}), () => { if (!page.next || page.items.length <= PAGE) page.reload(); });
  const set = (change) => navigate('/workflows', { ...query, ...change }, { replace: true });
  return (
    <ViewRoot name="workflows" ready={page.ready} error={page.error}>
      <h1>Workflows</h1>
      <StatusChips value={query.status || ''} onPick={(status) => set({ status })} />
      <Filters query={query} set={set} />
      <PagedTable page={page} testid="workflow-list" empty="No workflow runs match.">
        <thead><tr><th>Status</th><th>Run</th><th>Type</th><th>Queue</th><th>Namespace</th><th>Attempts</th><th>Created</th><th>Ended</th></tr></thead>
        <tbody>{page.items.map((w) => <Row key={w.id} w={w} />)}</tbody>
      </PagedTable>
    </ViewRoot>
  );
}
