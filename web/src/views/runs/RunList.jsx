/*
 * RunList.jsx — #/runs: runs newest first, paged by the server's cursor.
 * Filters: run status (server side), name or id text (on the loaded pages:
 * GET /v1/runs has no name parameter), the shell's namespace (a new one
 * mounts the view afresh). Refreshes the first page when the feed reports
 * task changes, at most every 2 s.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { get, nsQuery } from '../../app/api.js';
import { href, navigate, useRoute } from '../../app/router.js';
import { useChangeFeed, useThrottled } from '../../components/live.js';
import { recentRuns } from './recent.js';
import RunRow from './RunRow.jsx';
import ErrorBox from '../../components/ErrorBox.jsx';
import { statusVar } from './status.js';
import './runs.css';

const PAGE = 50;
const RUN_STATUSES = ['active', 'success', 'failure', 'canceled'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/* The first page replaces what it covers; older loaded pages keep their rows. */
function mergeFirstPage(fresh, old) {
  const seen = new Set(fresh.map((r) => r.id));
  return [...fresh, ...old.filter((r) => !seen.has(r.id))];
}

export default function RunList() {
  const route = useRoute();
  const status = route.query.status || '';
  const [runs, setRuns] = useState([]);
  const [cursor, setCursor] = useState(null);
  const [error, setError] = useState(null);
  const [ready, setReady] = useState(false);
  const [busy, setBusy] = useState(false);
  const [search, setSearch] = useState('');
  const generation = useRef(0);

  /* replace: a new filter starts over; else the feed's refresh merges. */
  const loadFirst = async (replace) => {
    const gen = replace ? ++generation.current : generation.current;
    try {
      const page = await get('/v1/runs', nsQuery({ status, limit: PAGE }));
      if (gen !== generation.current) return;
      setRuns((old) => (replace ? page.runs : mergeFirstPage(page.runs, old)));
      if (replace) setCursor(page.next_cursor);
      setError(null);
    } catch (e) {
      if (gen === generation.current) setError(e);
    } finally {
      if (gen === generation.current) setReady(true);
    }
  };

  useEffect(() => {
    setRuns([]); setCursor(null); setReady(false); setError(null);
    loadFirst(true);
  }, [status]);

  const refresh = useThrottled(() => loadFirst(false), 2000);
  useChangeFeed(nsQuery({}), refresh, { onReset: refresh });

  const loadMore = async () => {
    setBusy(true);
    const gen = generation.current;
    try {
      const page = await get('/v1/runs', nsQuery({ status, limit: PAGE, cursor }));
      if (gen !== generation.current) return;
      setRuns((old) => [...old, ...page.runs.filter((r) => !old.some((o) => o.id === r.id))]);
      setCursor(page.next_cursor);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const needle = search.trim().toLowerCase();
  const shown = needle
    ? runs.filter((r) => (r.name || '').toLowerCase().includes(needle) || r.id.startsWith(needle))
    : runs;

  return (
    <section class="view rv" data-view="runs" data-ready={ready ? 'true' : undefined}
      data-error={error ? 'true' : undefined}>
      <h1>Runs</h1>
      <PasteRunId />
      {!needle && <RecentRuns />}
      <div class="rv-toolbar">
        <input type="search" placeholder="Search by name or id" value={search} data-testid="run-search" data-shortcut="search"
          onInput={(e) => setSearch(e.currentTarget.value)} aria-label="Search runs by name or id" />
        <span class="rv-chips">
          <a class={`rv-chip${status ? ' off' : ''}`} href={href('/runs', {})} data-testid="run-filter">all</a>
          {RUN_STATUSES.map((s) => (
            <a key={s} class={`rv-chip${status === s ? '' : ' off'}`} href={href('/runs', { status: s })}
              data-testid="run-filter" data-status={s}><i style={{ background: statusVar(s) }} />{s}</a>
          ))}
        </span>
      </div>
      <ErrorBox error={error} />
      <div class="rv-scroll">
        <table class="rv-table" data-testid="run-table">
          <thead><tr><th>Name</th><th>Id</th><th>Namespace</th><th>Status</th><th>Tasks</th><th>Created</th><th>Progress</th></tr></thead>
          <tbody>{shown.map((r) => <RunRow key={r.id} run={r} />)}</tbody>
        </table>
      </div>
      {ready && shown.length === 0 && !error && (
        <p class="rv-muted" data-testid="empty">{needle && runs.length ? 'No loaded run matches; load more to search further.' : 'No runs.'}</p>
      )}
      {cursor && (
        <button type="button" class="rv-more" disabled={busy} onClick={loadMore} data-testid="load-more">
          {busy ? 'Loading…' : 'Load more'}
        </button>
      )}
    </section>
  );
}

function PasteRunId() {
  const [value, setValue] = useState('');
  const [bad, setBad] = useState(false);
  const go = (e) => {
    e.preventDefault();
    const id = value.trim();
    if (!UUID.test(id)) { setBad(true); return; }
    navigate(`/runs/${id}`);
  };
  return (
    <form class="rv-paste" onSubmit={go}>
      <input placeholder="Paste a run id" value={value} data-testid="paste-run-id" aria-label="Run id"
        onInput={(e) => { setValue(e.currentTarget.value); setBad(false); }} />
      <button type="submit">Go</button>
      {bad && <span class="rv-error">expected a run id (a UUID)</span>}
    </form>
  );
}

function RecentRuns() {
  const list = recentRuns();
  if (!list.length) return null;
  return (
    <div class="rv-recent" data-testid="recent-runs">
      <span class="rv-muted">Recently viewed:</span>
      {list.map((r) => (
        <a key={r.id} class="rv-chip" href={href(`/runs/${r.id}`)} title={r.id}>{r.name || r.id.slice(0, 8)}</a>
      ))}
    </div>
  );
}
