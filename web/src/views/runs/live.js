/*
 * live.js — the change feed (GET /v1/changes, server-sent events) for the
 * runs views, and a throttle so that a burst of events costs one refetch.
 */
import { useEffect, useRef } from 'preact/hooks';
import { stream } from '../../app/api.js';

/* Calls fn at most once per `gap` ms: the first call runs at once, later
 * ones within the gap collapse into one call at its end. */
export function throttle(fn, gap) {
  let last = 0;
  let timer = null;
  const fire = () => { timer = null; last = Date.now(); fn(); };
  const call = () => {
    if (timer) return;
    const wait = last + gap - Date.now();
    if (wait <= 0) fire(); else timer = setTimeout(fire, wait);
  };
  call.cancel = () => { if (timer) clearTimeout(timer); timer = null; };
  return call;
}

/*
 * Follows the feed with `query` while mounted (and while `enabled`).
 * handlers.tasks(list) gets each `tasks` event's tasks, handlers.reset()
 * each `reset`. A server without the feed (404) is not asked again.
 */
export function useChangeFeed(query, handlers, deps, enabled = true) {
  const ref = useRef(handlers);
  ref.current = handlers;
  useEffect(() => {
    if (!enabled) return undefined;
    let stop = null;
    stop = stream('/v1/changes', query, (ev) => {
      if (ev.event === 'tasks' && ev.data && Array.isArray(ev.data.tasks)) ref.current.tasks(ev.data.tasks);
      else if (ev.event === 'reset' && ref.current.reset) ref.current.reset();
    }, {
      onError: (e) => { if (e && (e.status === 404 || e.status === 403) && stop) stop(); },
    });
    return () => stop();
  }, deps);
}
