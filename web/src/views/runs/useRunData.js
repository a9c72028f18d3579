/*
 * useRunData.js — a run with all its tasks and edges, kept current by the
 * change feed without refetching.
 *
 * Tasks come from GET /v1/runs/{id}/graph (pages of up to 10,000 with the
 * edges of their tasks); on a server without that route, from
 * GET /v1/runs/{id}/tasks, without edges.
 * Feed events that arrive while the pages load are held and applied after,
 * except one that would take a task back from an end it reached in the
 * snapshot (it happened before the snapshot was read).
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { get } from '../../app/api.js';
import { useChangeFeed } from '../../components/live.js';
import { isTerminal } from './status.js';
import { serverHas } from './routes.js';

const GRAPH_PAGE = 10000;
const TASKS_PAGE = 1000;
const LIVE_FIELDS = ['status', 'attempt', 'started_at', 'ended_at'];

async function loadGraph(id, onProgress) {
  const tasks = [];
  const edges = [];
  let cursor = null;
  do {
    const page = await get(`/v1/runs/${id}/graph`, { cursor, limit: GRAPH_PAGE });
    tasks.push(...page.tasks);
    edges.push(...(page.edges || []));
    cursor = page.next_cursor;
    onProgress(tasks.length, page.total);
  } while (cursor);
  return { tasks, edges, withEdges: true };
}

async function loadTaskPages(id, run, onProgress) {
  const tasks = [...(run.tasks || [])];
  let cursor = run.tasks_next_cursor;
  const total = run.counts ? run.counts.total : null;
  while (cursor) {
    onProgress(tasks.length, total);
    const page = await get(`/v1/runs/${id}/tasks`, { cursor, limit: TASKS_PAGE });
    tasks.push(...page.tasks);
    cursor = page.next_cursor;
  }
  return { tasks, edges: [], withEdges: false };
}

/* The run's status from its tasks, as the server derives it. */
export function runStatusOf(tasks) {
  if (tasks.some((t) => !isTerminal(t.status))) return 'active';
  if (tasks.some((t) => t.status === 'failure')) return 'failure';
  if (tasks.some((t) => t.status === 'canceled')) return 'canceled';
  return 'success';
}

export function useRunData(id, onChanges) {
  const [state, setState] = useState({
    run: null, tasks: [], edges: [], withEdges: false, error: null, ready: false, progress: null,
  });
  const index = useRef(new Map());
  const held = useRef(null);        /* events during a load, else null */
  const loadSeq = useRef(0);

  /* The tasks as last rendered; the feed's changes are computed from it. */
  const current = useRef([]);
  const notify = useRef(onChanges);
  notify.current = onChanges;

  const applyTasks = useCallback((list, fromHold) => {
    const changes = [];
    let tasks = null;
    for (const u of list) {
      const at = index.current.get(u.id);
      if (at === undefined) continue;
      const cur = (tasks || current.current)[at];
      if (LIVE_FIELDS.every((f) => u[f] === undefined || u[f] === cur[f])) continue;
      if (fromHold && isTerminal(cur.status) && !isTerminal(u.status) && (u.attempt || 0) <= (cur.attempt || 0)) continue;
      if (!tasks) tasks = current.current.slice();
      const next = { ...cur };
      for (const f of LIVE_FIELDS) if (u[f] !== undefined) next[f] = u[f];
      tasks[at] = next;
      if (next.status !== cur.status) changes.push({ id: u.id, name: cur.name, from: cur.status, to: next.status });
    }
    if (!tasks) return;
    current.current = tasks;
    setState((s) => ({ ...s, tasks }));
    if (changes.length && notify.current) notify.current(changes);
  }, []);

  const load = useCallback(async () => {
    const seq = ++loadSeq.current;
    held.current = [];
    const progress = (loaded, total) => {
      if (seq === loadSeq.current) setState((s) => ({ ...s, progress: { loaded, total } }));
    };
    try {
      const run = await get(`/v1/runs/${id}`);
      const data = await serverHas('/v1/runs/{id}/graph')
        ? await loadGraph(id, progress)
        : await loadTaskPages(id, run, progress);
      if (seq !== loadSeq.current) return;
      index.current = new Map(data.tasks.map((t, i) => [t.id, i]));
      current.current = data.tasks;
      setState({ run, ...data, error: null, ready: true, progress: null });
      const pending = held.current;
      held.current = null;
      if (pending.length) applyTasks(pending, true);
    } catch (e) {
      if (seq !== loadSeq.current) return;
      held.current = null;
      setState((s) => ({ ...s, error: e, ready: true, progress: null }));
    }
  }, [id, applyTasks]);

  useEffect(() => { load(); }, [load]);

  useChangeFeed({ run: id }, (list) => {
    if (held.current) held.current.push(...list); else applyTasks(list, false);
  }, { onReset: load });

  return { ...state, reload: load };
}
