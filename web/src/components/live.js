/*
 * live.js — data hooks for views.
 *
 *   const {data, error, loading, reload} = useAsync(() => get('/v1/queues', nsQuery()), [deps]);
 *     Runs the call on mount, when deps change and when the token or the
 *     namespace changes; a late answer to an older call is dropped.
 *
 *   useChangeFeed({run: id}, (tasks) => …, {onReset})
 *     Follows GET /v1/changes (server-sent events) while mounted: onTasks
 *     gets each `tasks` event's task list, onReset a `reset` (the feed fell
 *     behind: reload what is shown). Restarts when the query, token or
 *     namespace changes. `query` null: no feed; nsQuery({}) follows the
 *     namespace chosen in the header ({} alone: every namespace).
 *
 *   const live = useLive(() => get(`/v1/runs/${id}`), {deps: [id], feed: {run: id}});
 *     useAsync that also reloads on change-feed events, at most once per
 *     `every` ms (default 2,000), keeping the shown data while reloading.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { onSettingsChange, stream } from '../app/api.js';

/* A number that changes whenever the token or the namespace does. */
export function useSettingsEpoch() {
  const [epoch, setEpoch] = useState(0);
  useEffect(() => onSettingsChange(() => setEpoch((n) => n + 1)), []);
  return epoch;
}

export function useAsync(fn, deps = []) {
  const epoch = useSettingsEpoch();
  const [state, setState] = useState({ data: undefined, error: null, loading: true });
  const seq = useRef(0);
  const fnRef = useRef(fn);
  fnRef.current = fn;
  const reload = useCallback(() => {
    const mine = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    return Promise.resolve()
      .then(() => fnRef.current())
      .then(
        (data) => { if (mine === seq.current) setState({ data, error: null, loading: false }); },
        (error) => { if (mine === seq.current) setState((s) => ({ data: s.data, error, loading: false })); },
      );
  }, []);
  useEffect(() => { reload(); }, [...deps, epoch]);
  // Answers arriving after unmount are dropped.
  useEffect(() => () => { seq.current = -1; }, []);
  return { ...state, reload };
}

export function useChangeFeed(query, onTasks, { onReset } = {}) {
  const epoch = useSettingsEpoch();
  const handlers = useRef({ onTasks, onReset });
  handlers.current = { onTasks, onReset };
  const key = query ? JSON.stringify(query) : null;
  useEffect(() => {
    if (key === null) return undefined;
    return stream('/v1/changes', JSON.parse(key), (ev) => {
      const h = handlers.current;
      if (ev.event === 'tasks' && ev.data && Array.isArray(ev.data.tasks)) h.onTasks(ev.data.tasks);
      else if (ev.event === 'reset' && h.onReset) h.onReset();
    });
  }, [key, epoch]);
}

/* Calls fn at most once per `every` ms: at once if it has been that long, else at the end of the wait. */
export function useThrottled(fn, every) {
  const fnRef = useRef(fn);
  fnRef.current = fn;
  const last = useRef(0);
  const timer = useRef(null);
  useEffect(() => () => clearTimeout(timer.current), []);
  return useCallback(() => {
    if (timer.current) return;
    const wait = last.current + every - Date.now();
    const fire = () => { timer.current = null; last.current = Date.now(); fnRef.current(); };
    if (wait <= 0) fire(); else timer.current = setTimeout(fire, wait);
  }, [every]);
}

export function useLive(fn, { deps = [], feed = null, every = 2000, onTasks } = {}) {
  const result = useAsync(fn, deps);
  const throttled = useThrottled(result.reload, every);
  useChangeFeed(feed, (tasks) => {
    if (onTasks) onTasks(tasks);
    throttled();
  }, { onReset: throttled });
  return result;
}
