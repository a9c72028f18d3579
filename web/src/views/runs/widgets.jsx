/*
 * widgets.jsx — small pieces the runs views share: a status badge, status
 * chips with counts (or filter toggles), ArcRun's stacked progress bar.
 */
import { STATUSES, statusVar } from './status.js';

export function StatusBadge({ status, testid = 'task-status' }) {
  return (
    <span class="rv-badge" data-testid={testid} data-status={status}
      style={{ '--c': statusVar(status) }}>{status || '—'}</span>
  );
}

/* One chip per status with a count above zero, in life order. With
 * `active`/`onToggle` they are filter toggles. */
export function StatusChips({ counts, active, onToggle, testid = 'status-chip' }) {
  const present = STATUSES.filter((s) => counts && counts[s] > 0);
  return (
    <span class="rv-chips">
      {present.map((s) => {
        const on = !active || active.size === 0 || active.has(s);
        const body = <><i style={{ background: statusVar(s) }} />{s} {counts[s]}</>;
        return onToggle
          ? <button type="button" key={s} class={`rv-chip${on ? '' : ' off'}`} data-testid={testid}
              data-status={s} aria-pressed={active && active.has(s)} onClick={() => onToggle(s)}>{body}</button>
          : <span key={s} class="rv-chip" data-testid={testid} data-status={s}>{body}</span>;
      })}
    </span>
  );
}

/* A bar split by status; the label says how much has ended. */
export function ProgressBar({ counts, total, slim = false }) {
  const sum = total || STATUSES.reduce((n, s) => n + (counts[s] || 0), 0);
  const ended = ['success', 'failure', 'canceled', 'skipped'].reduce((n, s) => n + (counts[s] || 0), 0);
  const pct = sum ? Math.round((ended * 100) / sum) : 0;
  return (
    <div class={`rv-progress${slim ? ' slim' : ''}`} data-testid="progress" title={`${pct}% ended`}>
      <div class="rv-progress-bar">
        {sum > 0 && STATUSES.filter((s) => counts[s] > 0).map((s) => (
          <span key={s} style={{ width: `${(counts[s] * 100) / sum}%`, background: statusVar(s) }} />
        ))}
      </div>
      {!slim && <span class="rv-progress-label">{pct}% ended</span>}
    </div>
  );
}
