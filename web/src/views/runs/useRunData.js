/*
 * useRunData.js — a run with all its tasks and edges, kept current by the
 * change feed without refetching.
 *
 * The run's summary comes from GET /v1/runs/{id}?tasks=false (without its
 * first 1,000 tasks and their inputs and results, which the page does not
 * show); its tasks from GET /v1/runs/{id}/graph (pages of up to 10,000 with
 * the edges of their tasks).
 * Feed events that arrive while the pages load are held and applied after,
 * except one that would take a task back from an end it reached in the
 * snapshot (it happened before the snapshot was read).
 * A run finishing thousands of tasks sends an event per commit: the
 * updates gathered over FLUSH_MS are applied as one new tasks array, so
 * the page and the graph render once per flush, not once per commit.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { get } from '../../app/api.js';
import { useChangeFeed } from '../../components/live.js';
import { isTerminal } from './status.js';

const GRAPH_PAGE = 10000;
const FLUSH_MS = 200;
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
  return { tasks, edges };
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
    run: null, tasks: [], edges: [], error: null, ready: false, progress: null,
  });
  const index = useRef(new Map());
  const held = useRef(null);        /* events during a load, else null */
  const queued = useRef([]);        /* events waiting for the next flush */
  const flushTimer = useRef(null);
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
    /* Updates not yet applied predate the snapshot: held, like those
     * arriving while it loads. */
    clearTimeout(flushTimer.current);
    flushTimer.current = null;
    held.current = [...(held.current || []), ...queued.current];
    queued.current = [];
    const progress = (loaded, total) => {
      if (seq === loadSeq.current) setState((s) => ({ ...s, progress: { loaded, total } }));
    };
    try {
      /* The run's name and status only: its tasks come from the graph. */
      const [run, data] = await Promise.all([get(`/v1/runs/${id}`, { tasks: false }), loadGraph(id, progress)]);
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
  useEffect(() => () => clearTimeout(flushTimer.current), []);

  const flush = useCallback(() => {
    flushTimer.current = null;
    const list = queued.current;
    queued.current = [];
    applyTasks(list, false);
  }, [applyTasks]);

  useChangeFeed({ run: id }, (list) => {
    if (held.current) { held.current.push(...list); return; }
    queued.current.push(...list);
    if (!flushTimer.current) flushTimer.current = setTimeout(flush, FLUSH_MS);
  }, { onReset: load });

  return { ...state, reload: load };
}
