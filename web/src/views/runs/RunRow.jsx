/* RunRow.jsx — one run in the list: name, status, chips with counts per
 * task status, age and a progress bar. The whole row opens the run. */
import { href, navigate } from '../../app/router.js';
import { fmtAge, fmtTime, shortId } from './format.js';
import { ProgressBar, StatusBadge, StatusChips } from './widgets.jsx';

export default function RunRow({ run }) {
  const counts = run.counts || {};
  const open = (e) => {
    if (e.target.closest('a')) return;   /* the link navigates itself */
    navigate(`/runs/${run.id}`);
  };
  return (
    <tr class="rv-row" data-testid="run-row" data-id={run.id} onClick={open}>
      <td><a href={href(`/runs/${run.id}`)}>{run.name || <span class="rv-muted">(unnamed)</span>}</a></td>
      <td class="rv-mono" title={run.id}>{shortId(run.id)}</td>
      <td>{run.namespace || '—'}</td>
      <td><StatusBadge status={run.status} testid="run-status" /></td>
      <td><span class="rv-total">{counts.total ?? '—'}</span> <StatusChips counts={counts} /></td>
      <td title={fmtTime(run.created_at)}>{fmtAge(run.created_at)}</td>
      <td class="rv-progress-cell"><ProgressBar counts={counts} total={counts.total} slim /></td>
    </tr>
  );
}
