/*
 * StatusBar — counts by status as one stacked bar, with a legend.
 *   counts: {status: n}; order: statuses in display order (default: the
 *   keys of counts); legend: show the chips under it (default true).
 */
import StatusChip from './StatusChip.jsx';

export default function StatusBar({ counts, order, legend = true }) {
  const keys = (order || Object.keys(counts || {})).filter((k) => (counts || {})[k] > 0);
  const total = keys.reduce((n, k) => n + counts[k], 0);
  return (
    <div class="status-bar" data-testid="status-bar">
      <div class="bar" role="img" aria-label={keys.map((k) => `${k} ${counts[k]}`).join(', ') || 'none'}>
        {keys.map((k) => (
          <span key={k} title={`${k}: ${counts[k]}`} style={{ flexGrow: counts[k], background: `var(--status-${k}, var(--muted))` }} />
        ))}
        {total === 0 && <span class="none" />}
      </div>
      {legend && <div class="legend">{keys.map((k) => <StatusChip key={k} status={k} count={counts[k]} />)}</div>}
    </div>
  );
}
