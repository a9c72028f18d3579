/*
 * TaskDetails.jsx — everything about one task: its fields, metadata,
 * input and result, error, actions, attempts, deliveries, event trail,
 * workflow steps (a workflow run is a lone job whose id is the run's) and
 * logs. Used by the task page and by the run page's side panel.
 *
 * `liveStatus`, when given, is the status the run page sees on its feed;
 * a change reads the task again. Without it, the task follows the feed of
 * its own run. onLoad(error or null) is called after each read.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { get } from '../../app/api.js';
import { href } from '../../app/router.js';
import { DASH, fmtDuration, fmtTime, taskDuration } from './format.js';
import { isTerminal, kindOf } from './status.js';
import { useChangeFeed, useThrottled } from '../../components/live.js';
import TaskActions from './TaskActions.jsx';
import TaskLogs from './TaskLogs.jsx';
import { Attempts, Deliveries, EventTrail, WorkflowSteps } from './TaskHistory.jsx';
import { StatusBadge } from './widgets.jsx';
import JsonView from '../../components/JsonView.jsx';
import ErrorBox from '../../components/ErrorBox.jsx';
import './task.css';

function Field({ label, children, testid }) {
  return <><dt>{label}</dt><dd data-testid={testid}>{children ?? DASH}</dd></>;
}

export default function TaskDetails({ id, liveStatus, onLoad }) {
  const [task, setTask] = useState(null);
  const [error, setError] = useState(null);
  const [version, setVersion] = useState(0);
  const [workflow, setWorkflow] = useState(null);

  const show = useCallback((t) => { setTask(t); setVersion((v) => v + 1); }, []);
  const loaded = useRef(onLoad);
  loaded.current = onLoad;
  const load = useCallback(async () => {
    try {
      show(await get(`/v1/tasks/${id}`));
      setError(null);
      if (loaded.current) loaded.current(null);
    } catch (e) {
      setError(e);
      if (loaded.current) loaded.current(e);
    }
  }, [id, show]);

  useEffect(() => { load(); }, [load, liveStatus]);

  const standalone = liveStatus === undefined;
  const refresh = useThrottled(load, 2000);
  useChangeFeed(standalone && task ? { run: task.run_id } : null,
    (list) => { if (list.some((t) => t.id === id)) refresh(); }, { onReset: refresh });

  /* Only a lone job can be a workflow run (its job is named after the
   * workflow's type). The list filtered to it answers 200 also when it is
   * none, where GET /v1/workflows/{id} would put a 404 in the console. */
  const maybeWorkflow = task && task.executor === 'queue' && task.run_id === task.id;
  useEffect(() => {
    if (!maybeWorkflow) return;
    const at = Date.parse(task.created_at);
    const around = (d) => new Date(at + d).toISOString();
    get('/v1/workflows', { namespace: task.namespace, type: task.name, queue: task.queue,
      created_after: around(-1000), created_before: around(1000), limit: 100 })
      .then((page) => setWorkflow((page.workflows || []).find((w) => w.id === id) || null), () => setWorkflow(null));
  }, [maybeWorkflow, id, version]);

  if (error && !task) return <ErrorBox error={error} />;
  if (!task) return <p class="rv-muted">Loading…</p>;
  return (
    <div class="rv-task" data-testid="task-details" data-id={task.id}>
      <header class="rv-task-head">
        <h2 data-testid="task-name">{task.name}</h2>
        <StatusBadge status={task.status} />
        {task.dead_letter && <span class="rv-badge" style={{ '--c': 'var(--status-failure, #e74c3c)' }}>dead letter</span>}
      </header>
      <ErrorBox error={error} />
      <TaskActions task={task} onChanged={(t) => show(t)} />
      {task.error && (
        <p class="rv-error" data-testid="task-error"><strong>{task.error.code}</strong>: {task.error.message}</p>
      )}
      <dl class="rv-fields">
        <Field label="Id"><span class="rv-mono">{task.id}</span></Field>
        <Field label="Run"><a href={href(`/runs/${task.run_id}`)} class="rv-mono">{task.run_id}</a></Field>
        <Field label="Namespace">{task.namespace}</Field>
        <Field label="Kind">{kindOf(task)}</Field>
        <Field label="Executor">{task.executor}</Field>
        <Field label="Queue">{task.queue}</Field>
        <Field label="Attempt" testid="task-attempt">{task.attempt} of {task.max_attempts === -1 ? '∞' : task.max_attempts}</Field>
        <Field label="Priority">{task.priority}</Field>
        <Field label="Created">{fmtTime(task.created_at)}</Field>
        <Field label="Started">{fmtTime(task.started_at)}</Field>
        <Field label="Ended">{fmtTime(task.ended_at)}</Field>
        <Field label="Duration">{fmtDuration(taskDuration(task))}</Field>
        {task.lease && <Field label="Held by">{task.lease.worker_id} until {fmtTime(task.lease.lease_until)}</Field>}
      </dl>
      <section><h3>Logs</h3><TaskLogs key={task.id} taskId={task.id} follow={!isTerminal(task.status)} onEnd={load} /></section>
      <h3>Metadata</h3><JsonView value={task.metadata} open={1} />
      <h3>Input</h3><JsonView value={task.input} />
      <h3>Result</h3><div data-testid="task-result"><JsonView value={task.result} /></div>
      {workflow && (
        <section>
          <h3>Workflow {workflow.type}: {workflow.status}</h3>
          {workflow.suspended && (
            <p class="rv-muted">Suspended ({workflow.suspended.reason}){workflow.suspended.wake_at ? ` until ${fmtTime(workflow.suspended.wake_at)}` : ''}
              {workflow.suspended.signal ? `, waiting for signal ${workflow.suspended.signal}` : ''}</p>
          )}
          <WorkflowSteps runId={task.id} version={version} />
        </section>
      )}
      <section><h3>Attempts</h3><Attempts attempts={task.attempts} /></section>
      <section><h3>Action deliveries</h3><Deliveries taskId={task.id} version={version} /></section>
      <section><h3>Events</h3><EventTrail taskId={task.id} version={version} /></section>
    </div>
  );
}
