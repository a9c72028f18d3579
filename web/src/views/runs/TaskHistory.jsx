/*
 * TaskHistory.jsx — what happened to a task: its failed attempts (from the
 * task's body), its actions' delivery attempts, its event trail, and a
 * workflow run's steps and sleeps.
 */
import { useEffect, useRef } from 'preact/hooks';
import { fmtDuration, fmtTime, ms } from './format.js';
import { usePaged } from './usePaged.js';
import { StatusBadge } from './widgets.jsx';
import ErrorBox from '../../components/ErrorBox.jsx';

/* version changes when the task did: read the list again. */
function useReloadOn(version, reload) {
  const seen = useRef(version);
  useEffect(() => {
    if (seen.current !== version) { seen.current = version; reload(); }
  }, [version]);
}

function MoreButton({ list }) {
  return list.more ? <button type="button" onClick={list.loadMore}>Load more</button> : null;
}

export function Attempts({ attempts }) {
  if (!attempts || attempts.length === 0) return <p class="rv-muted">No failed attempt.</p>;
  return (
    <div class="rv-scroll">
      <table class="rv-table" data-testid="task-attempts">
        <thead><tr><th>#</th><th>Outcome</th><th>Worker</th><th>Started</th><th>Ended</th><th>Error</th><th>Retryable</th></tr></thead>
        <tbody>
          {attempts.map((a) => (
            <tr key={a.attempt}>
              <td>{a.attempt}</td><td>{a.outcome}</td><td>{a.worker_id || '—'}</td>
              <td>{fmtTime(a.started_at)}</td><td>{fmtTime(a.ended_at)}</td>
              <td class="rv-wrap">{a.error ? `${a.error.code || ''} ${a.error.message || ''}` : '—'}</td>
              <td>{a.retryable ? 'yes' : 'no'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function Deliveries({ taskId, version }) {
  const list = usePaged(`/v1/tasks/${taskId}/deliveries`, 'deliveries', {});
  useReloadOn(version, list.reload);
  if (!list.ready) return <p class="rv-muted">Loading…</p>;
  if (list.error) return <ErrorBox error={list.error} />;
  if (list.items.length === 0) return <p class="rv-muted">No action was called.</p>;
  return (
    <div class="rv-scroll">
      <table class="rv-table" data-testid="task-deliveries">
        <thead><tr><th>Action</th><th>Event</th><th>Attempts</th><th>Status</th><th>HTTP</th><th>Started</th><th>Took</th><th>Error</th></tr></thead>
        <tbody>
          {list.items.map((d, i) => (
            <tr key={i}>
              <td>{d.action}</td><td>{d.event || '—'}</td>
              <td>{d.attempt ?? '—'}{d.max_attempts ? ` of ${d.max_attempts}` : ''}</td><td>{d.status || '—'}</td><td>{d.http_status ?? '—'}</td>
              <td>{fmtTime(d.started_at)}</td>
              <td>{d.ended_at && d.started_at ? fmtDuration(ms(d.ended_at) - ms(d.started_at)) : '—'}</td>
              <td class="rv-wrap">{d.error || '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <MoreButton list={list} />
    </div>
  );
}

export function EventTrail({ taskId, version }) {
  const list = usePaged(`/v1/tasks/${taskId}/events`, 'events', { limit: 100 });
  useReloadOn(version, list.reload);
  if (!list.ready) return <p class="rv-muted">Loading…</p>;
  if (list.error) return <ErrorBox error={list.error} />;
  return (
    <div class="rv-scroll">
      <table class="rv-table" data-testid="task-events">
        <thead><tr><th>At</th><th>From</th><th>To</th><th>Actor</th><th>Reason</th></tr></thead>
        <tbody>
          {list.items.map((ev, i) => (
            <tr key={i}>
              <td>{fmtTime(ev.at)}</td><td>{ev.from ? <StatusBadge status={ev.from} testid="event-from" /> : 'created'}</td>
              <td><StatusBadge status={ev.to} testid="event-to" /></td><td>{ev.actor}</td><td class="rv-wrap">{ev.reason || '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <MoreButton list={list} />
    </div>
  );
}

export function WorkflowSteps({ runId, version }) {
  const list = usePaged(`/v1/workflows/${runId}/steps`, 'steps', { limit: 200 });
  useReloadOn(version, list.reload);
  if (!list.ready) return <p class="rv-muted">Loading…</p>;
  if (list.error) return <ErrorBox error={list.error} />;
  if (list.items.length === 0) return <p class="rv-muted">No step yet.</p>;
  return (
    <div class="rv-scroll">
      <table class="rv-table" data-testid="workflow-steps">
        <thead><tr><th>Kind</th><th>Name</th><th>#</th><th>Status</th><th>Attempts</th><th>Started</th><th>Ended</th><th>Due</th><th>Error</th></tr></thead>
        <tbody>
          {list.items.map((s) => (
            <tr key={`${s.kind}:${s.name}:${s.seq}`}>
              <td>{s.kind}</td><td>{s.name}</td><td>{s.seq}</td><td>{s.status}</td><td>{s.attempts ?? '—'}</td>
              <td>{fmtTime(s.started_at)}</td><td>{fmtTime(s.ended_at)}</td><td>{fmtTime(s.next_attempt_at)}</td>
              <td class="rv-wrap">{s.error ? `${s.error.code || ''} ${s.error.message || ''}` : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <MoreButton list={list} />
    </div>
  );
}
