/*
 * WorkflowPage — one workflow run (GET /v1/workflows/{id}): its status,
 * input, output, error and attempts, its steps, and the operator's
 * actions. It refetches when the change feed reports the run's job moved
 * (at most once per 2 s), so a signal or a worker's step shows up live.
 */
import { get } from '../../app/api.js';
import { href } from '../../app/router.js';
import { useChangeFeed, useLoad, usePaged } from './data.js';
import WorkflowActions from './WorkflowActions.jsx';
import WorkflowSteps from './WorkflowSteps.jsx';
import { ErrorBox, Json, StatusChip, Time, ViewRoot, dash } from './ui.jsx';

function Suspension({ s }) {
  if (!s) return dash;
  return (
    <span data-testid="workflow-suspended">
      {s.reason === 'signal' ? `waiting for signal ${s.signal || '—'}` : s.reason}
      {s.wake_at ? <> until <Time at={s.wake_at} /></> : s.reason === 'signal' ? ' (no timeout)' : ''}
    </span>
  );
}

function RunFields({ run }) {
  return (
    <dl class="fields">
      <dt>Status</dt><dd><StatusChip status={run.status} testid="workflow-status" /></dd>
      <dt>Suspended</dt><dd><Suspension s={run.suspended} /></dd>
      <dt>Type</dt><dd>{run.type || dash}</dd>
      <dt>Queue</dt><dd>{run.queue || dash}</dd>
      <dt>Namespace</dt><dd>{run.namespace || dash}</dd>
      <dt>Attempts</dt><dd data-testid="workflow-attempts">{run.replays ?? dash}</dd>
      <dt>Key</dt><dd>{run.idempotency_key || dash}</dd>
      <dt>Job</dt><dd><a href={href(`/tasks/${run.id}`)}>task {run.id}</a></dd>
      <dt>Created</dt><dd><Time at={run.created_at} /></dd>
      <dt>Updated</dt><dd><Time at={run.updated_at} /></dd>
      <dt>Ended</dt><dd><Time at={run.ended_at} /></dd>
    </dl>
  );
}

export default function WorkflowPage({ route }) {
  const id = route.parts[1];
  const path = `/v1/workflows/${encodeURIComponent(id)}`;
  const run = useLoad(() => get(path), id);
  const steps = usePaged(async (cursor) => {
    const r = await get(`${path}/steps`, { cursor, limit: 200 });
    return { items: r.steps || [], next: r.next_cursor };
  }, id);
  const refresh = () => { run.reload(); steps.reload(); };
  useChangeFeed({ run: id }, refresh);
  const w = run.data;
  return (
    <ViewRoot name="workflow" ready={run.ready && steps.ready} error={run.error}>
      <nav class="crumbs" aria-label="Breadcrumb"><a href={href('/workflows')}>Workflows</a> /</nav>
      <h1>Workflow run <span data-testid="workflow-id">{id}</span></h1>
      <ErrorBox error={run.error} />
      {w && (
        <>
          <RunFields run={w} />
          <WorkflowActions run={w} onDone={refresh} />
          {w.error && <ErrorBox testid="workflow-error" error={{ message: `${w.error.code}${w.error.message ? `: ${w.error.message}` : ''}` }} />}
          <div class="d-split">
            <div><h2>Input</h2><Json value={w.input} testid="workflow-input" /></div>
            <div><h2>Output</h2><Json value={w.output} testid="workflow-output" /></div>
          </div>
          <h2>Steps</h2>
          <WorkflowSteps page={steps} />
        </>
      )}
    </ViewRoot>
  );
}
