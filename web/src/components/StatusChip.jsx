/*
 * StatusChip — a status word on its status colour (--status-<status>).
 *   status: 'running', 'failed', …; label: text instead of the status;
 *   count: a number after it. data-testid="status-chip", data-status.
 */
export default function StatusChip({ status, label, count }) {
  const s = String(status || 'unknown').toLowerCase();
  return (
    <span class="chip" data-testid="status-chip" data-status={s} style={{ '--chip': `var(--status-${s}, var(--muted))` }}>
      {label || s}{count !== undefined && count !== null ? <b>{count}</b> : null}
    </span>
  );
}
