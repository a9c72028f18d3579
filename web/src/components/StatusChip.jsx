/*
 * StatusChip — a status word on its status colour (--status-<status>).
 *   status: 'running', 'failed', … or a state of another object (a workflow's
 *   'completed', a queue's 'active'), drawn in the colour of the task status it
 *   means (STATUS_TONE); label: text instead of the status; count: a number after
 *   it; testid: data-testid (default "status-chip"). data-status is the status as
 *   given, data-tone the colour's status.
 */
const STATUS_TONE = {
  success: 'succeeded', completed: 'succeeded', failure: 'failed', not_started: 'failed',
  active: 'running', retrying: 'pending', suspended: 'paused', sleeping: 'paused', draining: 'paused',
  terminated: 'canceled', stale: 'canceled',
};

export function statusTone(status) {
  const s = String(status || 'unknown').toLowerCase();
  return STATUS_TONE[s] || s;
}

export function statusColor(status) {
  return `var(--status-${statusTone(status)}, var(--muted))`;
}

export default function StatusChip({ status, label, count, testid = 'status-chip' }) {
  const s = String(status || 'unknown').toLowerCase();
  return (
    <span class="chip" data-testid={testid} data-status={s} data-tone={statusTone(s)} style={{ '--chip': statusColor(s) }}>
      {label || s}{count !== undefined && count !== null ? <b>{count}</b> : null}
    </span>
  );
}
