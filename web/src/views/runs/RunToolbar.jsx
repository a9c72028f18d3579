/*
 * RunToolbar.jsx — the run page's bar: back to the runs, the view
 * switcher, fit and critical path (graph), and the run's actions.
 */
import { href } from '../../app/router.js';
import { shortId } from './format.js';
import { StatusBadge } from './widgets.jsx';

export const VIEWS = [
  { id: 'graph', label: 'Graph', key: '1' },
  { id: 'table', label: 'Table', key: '2' },
  { id: 'timeline', label: 'Timeline', key: '3' },
];

export default function RunToolbar({ run, status, view, onView, onFit, critical, onCritical, actions }) {
  return (
    <div class="rv-toolbar" data-testid="run-toolbar">
      <nav class="rv-crumbs" aria-label="Breadcrumb">
        <a href={href('/runs')}>Runs</a> / <strong title={run ? run.id : ''}>{(run && run.name) || shortId(run && run.id)}</strong>
      </nav>
      <StatusBadge status={status} testid="run-status" />
      <span class="rv-switch" role="tablist">
        {VIEWS.map((v) => (
          <button type="button" key={v.id} role="tab" aria-selected={view === v.id} class={view === v.id ? 'on' : ''}
            title={`${v.label} (${v.key})`} data-testid={`view-${v.id}`} onClick={() => onView(v.id)}>{v.label}</button>
        ))}
      </span>
      {view === 'graph' && <button type="button" onClick={onFit} title="Fit (F)" data-testid="fit">Fit</button>}
      <button type="button" class={critical ? 'on' : ''} onClick={onCritical} title="Critical path (C)"
        aria-pressed={!!critical} data-testid="critical-path">Critical path</button>
      <span class="rv-grow" />
      {actions.canEdit && <button type="button" onClick={actions.editRules} data-testid="edit-rules-open">Edit rules</button>}
      {actions.canPause && <button type="button" onClick={actions.pause} data-testid="pause-run">Pause run</button>}
      {actions.canResume && <button type="button" onClick={actions.resume} data-testid="resume-run">Resume run</button>}
      {actions.canCancel && <button type="button" class="danger" onClick={actions.cancel} data-testid="cancel-run-open">Cancel run</button>}
      <button type="button" onClick={actions.exportCsv} data-testid="export-csv">Export CSV</button>
    </div>
  );
}
