/*
 * TaskLogs.jsx — a task's log lines. An ended task's lines are read in
 * pages (GET /v1/tasks/{id}/logs); an unfinished task's are followed as
 * server-sent events (?follow=true: the stored lines, then new ones, then
 * `end`). Lines are keyed by (attempt, seq), so a stream that reconnects
 * and sends them again adds nothing. The view keeps the newest
 * MAX_LINES lines, renders only those in sight, and sticks to the bottom
 * unless paused.
 */
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { get, stream } from '../../app/api.js';
import { fmtTime } from './format.js';
import { useWindow } from './useWindow.js';
import ErrorBox from '../../components/ErrorBox.jsx';
import './logs.css';

const PAGE = 500;
const MAX_LINES = 20000;
const LINE_H = 18;

function useLogLines(taskId, follow, onEnd) {
  const ended = useRef(onEnd);
  ended.current = onEnd;
  const [lines, setLines] = useState([]);
  const [state, setState] = useState({ cursor: null, more: false, error: null, live: false, ready: false });
  const keys = useRef(new Set());

  const add = (list) => {
    const fresh = list.filter((l) => {
      const k = `${l.attempt}:${l.seq}`;
      if (keys.current.has(k)) return false;
      keys.current.add(k);
      return true;
    });
    if (fresh.length) setLines((old) => [...old, ...fresh].slice(-MAX_LINES));
  };

  const page = async (cursor) => {
    try {
      const p = await get(`/v1/tasks/${taskId}/logs`, { cursor, limit: PAGE });
      add(p.lines);
      setState({ cursor: p.next_cursor, more: p.more, error: null, live: false, ready: true });
    } catch (e) {
      setState((s) => ({ ...s, error: e, ready: true }));
    }
  };

  useEffect(() => {
    keys.current = new Set();
    setLines([]);
    if (!follow) { page(null); return undefined; }
    setState({ cursor: null, more: false, error: null, live: true, ready: true });
    let stop = null;
    let pending = [];
    let frame = 0;
    /* Lines come one event each: add them once a frame. */
    const flush = () => { frame = 0; const l = pending; pending = []; add(l); };
    stop = stream(`/v1/tasks/${taskId}/logs`, { follow: 'true' }, (ev) => {
      if (ev.event === 'line' && ev.data && typeof ev.data === 'object') {
        pending.push(ev.data);
        if (!frame) frame = requestAnimationFrame(flush);
      } else if (ev.event === 'end') {
        stop();
        setState((s) => ({ ...s, live: false }));
        if (ended.current) ended.current();
      }
    }, { onError: (e) => { if (e && e.status === 404 && stop) { stop(); setState((s) => ({ ...s, error: e, live: false })); } } });
    return () => { stop(); if (frame) cancelAnimationFrame(frame); };
  }, [taskId, follow]);

  return { lines, ...state, loadMore: () => page(state.cursor) };
}

/* follow is read once: a followed stream ends by itself with the task,
 * and then calls onEnd. */
export default function TaskLogs({ taskId, follow, onEnd }) {
  const [followed] = useState(follow);
  const logs = useLogLines(taskId, followed, onEnd);
  const [paused, setPaused] = useState(false);
  const [only, setOnly] = useState('');
  const shown = only ? logs.lines.filter((l) => l.stream === only) : logs.lines;
  const win = useWindow(shown.length, LINE_H);

  useLayoutEffect(() => {
    const el = win.ref.current;
    if (el && !paused) el.scrollTop = el.scrollHeight;
  }, [shown.length, paused]);

  return (
    <div class="rv-logs" data-testid="task-logs" data-live={logs.live ? 'true' : 'false'}>
      <div class="rv-toolbar">
        {logs.live && <span class="rv-live" data-testid="logs-live">● live</span>}
        <span class="rv-muted">{shown.length} lines</span>
        <select value={only} aria-label="Stream" onChange={(e) => setOnly(e.currentTarget.value)}>
          <option value="">all streams</option><option value="stdout">stdout</option>
          <option value="stderr">stderr</option><option value="system">system</option>
        </select>
        <button type="button" class={paused ? 'on' : ''} aria-pressed={paused} data-testid="logs-pause"
          onClick={() => setPaused(!paused)}>{paused ? 'Resume scrolling' : 'Pause scrolling'}</button>
        {!logs.live && logs.more && <button type="button" onClick={logs.loadMore} data-testid="logs-more">Load more</button>}
      </div>
      <ErrorBox error={logs.error} />
      <div class="rv-log-window" ref={win.ref}>
        <div style={{ height: `${win.before}px` }} />
        {shown.slice(win.first, win.last).map((l) => (
          <div key={`${l.attempt}:${l.seq}`} class={`rv-log-line ${l.stream} ${l.level}`} data-testid="log-line" data-stream={l.stream}>
            <span class="rv-log-at" title={fmtTime(l.at)}>{l.attempt}·{l.seq}</span>
            <span class="rv-log-stream">{l.stream}</span>
            <span class="rv-log-text">{l.text}</span>
          </div>
        ))}
        <div style={{ height: `${win.after}px` }} />
        {logs.ready && shown.length === 0 && <p class="rv-muted">{logs.live ? 'Waiting for lines…' : 'No lines.'}</p>}
      </div>
    </div>
  );
}
