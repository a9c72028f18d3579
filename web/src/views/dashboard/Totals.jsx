/*
 * Totals — the numbers at the top of the dashboard, from cheap calls only:
 * one page of queues (depth and dead letters are per-queue counters), one
 * page of workers, and the task status gauges of /metrics (kept as counters
 * by the server, so no table is counted). Runs by status are left out: the
 * API has no run totals, and counting pages would scan.
 */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { get, namespace, nsQuery, onSettingsChange } from '../../app/api.js';
import useTasksChanged from '../system/useTasksChanged.js';
import ErrorBox from '../../components/ErrorBox.jsx';
import { statusColor } from '../../components/StatusChip.jsx';

/* tasks_by_status{status="RetryPending"} 3 → {retrying: 3}; weft's labels, the UI's names. */
const GAUGE_NAMES = {
  Waiting: 'waiting', Pending: 'pending', Claimed: 'claimed', Running: 'running', RetryPending: 'retrying',
  Paused: 'paused', Success: 'succeeded', Failure: 'failed', Canceled: 'canceled', Skipped: 'skipped',
};

export function taskGauges(text) {
  const out = {};
  for (const m of String(text).matchAll(/^tasks_by_status\{status="(\w+)"\} (\d+)/gm)) {
    if (GAUGE_NAMES[m[1]]) out[GAUGE_NAMES[m[1]]] = Number(m[2]);
  }
  return Object.keys(out).length ? out : null;
}

function sumQueues(page) {
  const t = { queued: 0, running: 0, dead: 0, paused: 0, more: Boolean(page.next_cursor) };
  for (const q of page.queues || []) {
    const d = q.depth || {};
    t.queued += (d.ready || 0) + (d.scheduled || 0) + (d.retrying || 0);
    t.running += d.running || 0;
    t.dead += d.dead || 0;
    if (q.paused) t.paused += 1;
  }
  return t;
}

async function loadTotals() {
  const [queues, workers, metrics] = await Promise.allSettled([
    get('/v1/queues', nsQuery({ limit: 100 })),
    get('/v1/workers', nsQuery({ limit: 1000 })),
    namespace() ? Promise.reject(new Error('server-wide')) : get('/metrics'),
  ]);
  if (queues.status === 'rejected' && workers.status === 'rejected') throw queues.reason;
  return {
    queues: queues.status === 'fulfilled' ? sumQueues(queues.value) : null,
    workers: workers.status === 'fulfilled' ? {
      online: (workers.value.workers || []).filter((w) => w.state === 'active').length,
      more: Boolean(workers.value.next_cursor),
    } : null,
    tasks: metrics.status === 'fulfilled' ? taskGauges(metrics.value) : null,
  };
}

/* One number; with `to`, a link to the view that lists what it counts. */
function Card({ label, value, more, testid, status, to }) {
  const body = (
    <>
      <div class="sys-card-value">{value === null || value === undefined ? '—' : `${value}${more ? '+' : ''}`}</div>
      <div class="sys-card-label">{label}</div>
    </>
  );
  const style = status ? { borderLeft: `4px solid ${statusColor(status)}` } : undefined;
  return to
    ? <a class="sys-card sys-card-link" href={to} data-testid={testid} style={style}>{body}</a>
    : <div class="sys-card" data-testid={testid} style={style}>{body}</div>;
}

export default function Totals({ onLoaded }) {
  const [t, setT] = useState(null);
  const [error, setError] = useState(null);
  const load = useCallback(async () => {
    try { setT(await loadTotals()); setError(null); } catch (e) { setError(e); }
    onLoaded();
  }, [onLoaded]);
  useEffect(() => { load(); return onSettingsChange(load); }, [load]);
  useTasksChanged(load);

  const q = t && t.queues;
  const w = t && t.workers;
  return (
    <div>
      <ErrorBox error={error} />
      <div class="sys-cards" data-testid="totals">
        <Card label="Jobs queued" value={q && q.queued} more={q && q.more} testid="total-queued" status="pending" to="#/queues" />
        <Card label="Jobs running" value={q && q.running} more={q && q.more} testid="total-running" status="running" to="#/queues" />
        <Card label="Dead letters" value={q && q.dead} more={q && q.more} testid="total-dead" status="failed" to="#/dead-letters" />
        <Card label="Paused queues" value={q && q.paused} more={q && q.more} testid="total-paused-queues" status="paused" to="#/queues" />
        <Card label="Workers online" value={w && w.online} more={w && w.more} testid="total-workers" status="succeeded" to="#/workers" />
      </div>
      {t && t.tasks ? (
        <>
          <h3>Tasks by status <span class="muted">(all namespaces)</span></h3>
          <div class="sys-cards" data-testid="task-totals">
            {Object.entries(t.tasks).map(([s, n]) => <Card key={s} label={s} value={n} testid={`tasks-${s}`} status={s} />)}
          </div>
        </>
      ) : null}
    </div>
  );
}
