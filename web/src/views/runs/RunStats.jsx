/*
 * RunStats.jsx — ArcRun's stats line, the stacked progress bar, and the
 * filter chips by status and by kind (kinds only when there are several).
 */
import { ProgressBar, StatusChips } from './widgets.jsx';
import { STATUSES } from './status.js';

const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;

export default function RunStats({ total, edges, counts, kinds, statusFilter, kindFilter, onStatus, onKind }) {
  const byStatus = STATUSES.filter((s) => counts[s] > 0).map((s) => `${s}: ${counts[s]}`).join(' | ');
  return (
    <div class="rv-stats">
      <p class="rv-muted" data-testid="run-stats">
        {plural(total, 'task')}{`, ${plural(edges, 'link')}`}{byStatus ? ` | ${byStatus}` : ''}
      </p>
      <ProgressBar counts={counts} total={total} />
      <div class="rv-toolbar">
        <span class="rv-muted">Status</span>
        <StatusChips counts={counts} active={statusFilter} onToggle={onStatus} testid="filter-status" />
        {kinds.length > 1 && (
          <>
            <span class="rv-muted">Kind</span>
            <span class="rv-chips">
              {kinds.map(([k, n]) => (
                <button type="button" key={k} class={`rv-chip${kindFilter.size === 0 || kindFilter.has(k) ? '' : ' off'}`}
                  aria-pressed={kindFilter.has(k)} data-testid="filter-kind" onClick={() => onKind(k)}>{k} {n}</button>
              ))}
            </span>
          </>
        )}
      </div>
    </div>
  );
}
