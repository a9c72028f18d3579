/*
 * useChangeFeed — calls `onChange` when tasks change, from the server's
 * change feed (GET /v1/changes, events `tasks` and `reset`), at most once
 * every `minGapMs` so a busy server does not make the view refetch in a loop.
 * A server without the feed (404) or a token not allowed it (403) just means
 * no live updates: the view still works from its own loads.
 */
import { useEffect, useRef } from 'preact/hooks';
import { nsQuery, stream } from '../../app/api.js';

export default function useChangeFeed(onChange, minGapMs = 2000) {
  const latest = useRef(onChange);
  latest.current = onChange;
  useEffect(() => {
    let last = 0;
    let timer = null;
    const fire = () => { timer = null; last = Date.now(); latest.current(); };
    const stop = stream('/v1/changes', nsQuery({}), (ev) => {
      if (ev.event !== 'tasks' && ev.event !== 'reset') return;
      if (timer) return;
      timer = setTimeout(fire, Math.max(0, last + minGapMs - Date.now()));
    }, {
      onError: (e) => { if (e && (e.status === 404 || e.status === 403 || e.status === 400)) stop(); },
    });
    return () => { stop(); if (timer) clearTimeout(timer); };
  }, [minGapMs]);
}
