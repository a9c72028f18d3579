/*
 * WorkflowSteps — a run's memo (GET /v1/workflows/{id}/steps) as a
 * timeline: each step, sleep and signal wait with its status, attempts,
 * result or error, timings, a sleep's wake time, a wait's timeout.
 */
import { Empty, ErrorBox, Json, LoadMore, StatusChip, Time, duration } from './ui.jsx';

/* What next_attempt_at means depends on the row's kind and status. */
function dueLabel(row) {
  if (row.kind === 'sleep') return 'wakes at';
  if (row.kind === 'signal') return 'times out at';
  return row.status === 'retrying' ? 'retries at' : 'next attempt';
}

function StepRow({ row }) {
  const kindLabel = row.kind === 'signal' ? 'signal wait' : row.kind || 'step';
  return (
    <li data-testid="workflow-step" data-kind={row.kind} data-name={row.name} data-status={row.status}>
      <div class="d-row">
        <span class="d-kind" data-testid="step-kind">{kindLabel}</span>
        <strong data-testid="step-name">{row.name}</strong>
        {row.seq > 1 && <span class="muted">#{row.seq}</span>}
        <StatusChip status={row.status} testid="step-status" />
        <span class="muted">attempts {row.attempts ?? '—'}</span>
      </div>
      <div class="d-row muted">
        <span>started <Time at={row.started_at} /></span>
        {row.ended_at && <span>ended <Time at={row.ended_at} /> ({duration(row.started_at, row.ended_at)})</span>}
        {row.next_attempt_at && <span data-testid="step-due">{dueLabel(row)} <Time at={row.next_attempt_at} /></span>}
        {row.kind === 'signal' && !row.next_attempt_at && row.status === 'waiting' && <span>no timeout</span>}
      </div>
      {row.error && <ErrorBox error={{ message: `${row.error.code}${row.error.message ? `: ${row.error.message}` : ''}` }} testid="step-error" />}
      {row.output !== undefined && row.output !== null && <details><summary>result</summary><Json value={row.output} testid="step-output" /></details>}
    </li>
  );
}

export default function WorkflowSteps({ page }) {
  return (
    <div data-testid="workflow-steps">
      <ErrorBox error={page.error} />
      {page.ready && !page.error && page.items.length === 0 && <Empty>No steps yet: the run has not reached one.</Empty>}
      {page.items.length > 0 && (
        <ol class="d-timeline">
          {page.items.map((row) => <StepRow key={`${row.kind}/${row.name}/${row.seq}`} row={row} />)}
        </ol>
      )}
      <LoadMore page={page} />
    </div>
  );
}
