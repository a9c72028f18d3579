/*
 * RunPage.jsx — #/runs/ID?view=graph|table|timeline[&task=TASK]: a run as
 * a graph, a table or a timeline, kept live by the change feed; a task
 * chosen in any view opens beside it.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { post } from '../../app/api.js';
import { navigate } from '../../app/router.js';
import { useShortcuts } from '../../app/shortcuts.js';
import { useRunData, runStatusOf } from './useRunData.js';
import { countByStatus, isTerminal, kindOf } from './status.js';
import { criticalPath } from './critical.js';
import { downloadCsv } from './csv.js';
import { errorText } from './format.js';
import { rememberRun } from './recent.js';
import RunToolbar, { VIEWS } from './RunToolbar.jsx';
import RunStats from './RunStats.jsx';
import { CancelRunModal, EditRulesModal } from './RunModals.jsx';
import { describeChanges } from './changes.js';
import { dismissKey, toast } from '../../app/toast.js';
import GraphView from './GraphView.jsx';
import TaskTable from './TaskTable.jsx';
import Timeline from './Timeline.jsx';
import TaskPanel from './TaskPanel.jsx';
import ErrorBox from '../../components/ErrorBox.jsx';
import './runs.css';
import './run-page.css';

function toggled(set, value) {
  const next = new Set(set);
  if (next.has(value)) next.delete(value); else next.add(value);
  return next;
}

export default function RunPage({ route }) {
  const id = route.parts[1];
  const view = VIEWS.some((v) => v.id === route.query.view) ? route.query.view : 'graph';
  const taskId = route.query.task || null;
  /* One notice per run, replaced by each newer summary and gone when the
     page leaves the run: a stack of them would cover the graph. */
  const changesKey = `run-changes:${id}`;
  const onChanges = useCallback((changes) => toast(describeChanges(changes).join('\n'), 'info', { key: changesKey }), [changesKey]);
  useEffect(() => () => dismissKey(changesKey), [changesKey]);
  const data = useRunData(id, onChanges);
  const [statusFilter, setStatusFilter] = useState(new Set());
  const [kindFilter, setKindFilter] = useState(new Set());
  const [critical, setCritical] = useState(null);
  const [modal, setModal] = useState(null);
  const [group, setGroup] = useState(null);
  const fitRef = useRef(null);

  useEffect(() => { if (data.run) rememberRun(id, data.run.name); }, [data.run]);

  const go = (query) => navigate(`/runs/${id}`, { view, task: taskId, ...query });
  const openTask = useCallback((tid) => { setGroup(null); go({ task: tid }); }, [view, taskId]);
  const setView = (v) => go({ view: v });

  const counts = useMemo(() => countByStatus(data.tasks), [data.tasks]);
  const kinds = useMemo(() => {
    const n = new Map();
    for (const t of data.tasks) n.set(kindOf(t), (n.get(kindOf(t)) || 0) + 1);
    return [...n.entries()].sort((a, b) => a[0].localeCompare(b[0]));
  }, [data.tasks]);
  const shown = useMemo(() => data.tasks.filter((t) => (statusFilter.size === 0 || statusFilter.has(t.status))
    && (kindFilter.size === 0 || kindFilter.has(kindOf(t)))), [data.tasks, statusFilter, kindFilter]);
  const shownEdges = useMemo(() => {
    if (shown.length === data.tasks.length) return data.edges;
    const ids = new Set(shown.map((t) => t.id));
    return data.edges.filter((e) => ids.has(e.from) && ids.has(e.to));
  }, [shown, data.edges]);

  const status = data.tasks.length ? runStatusOf(data.tasks) : (data.run && data.run.status);
  const unfinished = data.tasks.filter((t) => !isTerminal(t.status)).length;

  const toggleCritical = async () => {
    if (critical) { setCritical(null); return; }
    try {
      setCritical(await criticalPath(id));
    } catch (e) {
      toast(`Critical path: ${errorText(e)}`, 'error');
    }
  };

  const runAction = async (verb) => {
    try {
      const res = await post(`/v1/runs/${id}/${verb}`, {});
      toast(verb === 'pause' ? `Paused ${res.paused} tasks (${res.unchanged} unchanged)`
        : `Resumed ${res.resumed} tasks (${res.unchanged} unchanged)`);
    } catch (e) {
      toast(`${verb}: ${errorText(e)}`, 'error');
    }
  };

  const actions = {
    canEdit: unfinished > 0,
    canCancel: unfinished > 0,
    canPause: counts.pending > 0 || counts.waiting > 0,
    canResume: counts.paused > 0,
    editRules: () => setModal('rules'),
    cancel: () => setModal('cancel'),
    pause: () => runAction('pause'),
    resume: () => runAction('resume'),
    exportCsv: () => downloadCsv(shown, id),
  };

  useShortcuts({
    1: () => setView('graph'),
    2: () => setView('table'),
    3: () => setView('timeline'),
    f: () => fitRef.current && fitRef.current.fit(),
    c: toggleCritical,
  }, { 1: 'Graph view', 2: 'Table view', 3: 'Timeline view', f: 'Fit the graph', c: 'Critical path' });
  /* Esc closes the panel, unless an overlay took it first (the shell
   * marks that key handled). The panel is no overlay: the view's keys
   * stay on while it is open. */
  useEffect(() => {
    if (!taskId && !group) return undefined;
    const onKey = (e) => {
      if (e.key === 'Escape' && !e.defaultPrevented) { setGroup(null); go({ task: null }); }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  const ready = data.ready;
  return (
    <section class="view rv rv-run" data-view="run" data-ready={ready ? 'true' : undefined}
      data-error={data.error ? 'true' : undefined}>
      <RunToolbar run={data.run} status={status} view={view} onView={setView}
        onFit={() => fitRef.current && fitRef.current.fit()} critical={critical}
        onCritical={toggleCritical} actions={actions} />
      <ErrorBox error={data.error} />
      {data.progress && (
        <p class="rv-muted" data-testid="loading">Loading tasks: {data.progress.loaded}{data.progress.total ? ` of ${data.progress.total}` : ''}…</p>
      )}
      {ready && !data.error && (
        <RunStats total={data.tasks.length} edges={data.edges.length} counts={counts}
          kinds={kinds} statusFilter={statusFilter} kindFilter={kindFilter}
          onStatus={(s) => setStatusFilter(toggled(statusFilter, s))} onKind={(k) => setKindFilter(toggled(kindFilter, k))} />
      )}
      {ready && !data.error && (
        <div class={`rv-run-body${taskId || group ? ' with-panel' : ''}`}>
          <div class="rv-run-main" data-testid={`run-view-${view}`}>
            {view === 'graph' && <GraphView tasks={shown} edges={shownEdges} critical={critical} fitRef={fitRef}
              onSelect={openTask} onSelectGroup={setGroup} />}
            {view === 'table' && <TaskTable tasks={shown} onSelect={openTask} selectedId={taskId} />}
            {view === 'timeline' && <Timeline tasks={shown} critical={critical} onSelect={openTask} />}
          </div>
          {(taskId || group) && (
            <TaskPanel taskId={taskId} group={group} onSelect={openTask}
              liveStatus={taskId ? (data.tasks.find((t) => t.id === taskId) || {}).status || null : null}
              onClose={() => { setGroup(null); go({ task: null }); }} />
          )}
        </div>
      )}
      {modal === 'rules' && <EditRulesModal runId={id} tasks={data.tasks} onClose={() => setModal(null)} onDone={toast} />}
      {modal === 'cancel' && <CancelRunModal runId={id} unfinished={unfinished} onClose={() => setModal(null)} onDone={toast} />}
    </section>
  );
}
