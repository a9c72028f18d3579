/*
 * QueuePanel — one queue: its numbers, its settings (PATCH /v1/queues/{name}:
 * concurrency, per-key concurrency, rate limit; an empty box clears the
 * limit), its recent changes and its most recent jobs.
 */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { get, patch, url } from '../../app/api.js';
import { href } from '../../app/router.js';
import useCursorList from './useCursorList.js';
import { PauseToggle, limits } from './queueActions.jsx';
import { ago, duration, show, time } from './format.js';
import { Chip, Empty, ErrorBox, Fields, Json, LoadMore, Notice, Panel, TableFrame } from './widgets.jsx';

function queuePath(q) {
  return url(`/v1/queues/${encodeURIComponent(q.name)}`, { namespace: q.namespace });
}

/* A limit as the text of its input box: '' when there is none. */
function boxText(v) {
  return v === null || v === undefined ? '' : String(v);
}

/* '' → null (no limit); anything else must be a whole number. */
function limitValue(text) {
  const t = String(text).trim();
  return t === '' ? null : Number(t);
}

function SettingsForm({ queue, onSaved, onFailed }) {
  const rl = queue.rate_limit || {};
  const [f, setF] = useState({
    concurrency: boxText(queue.concurrency_limit),
    perKey: boxText(queue.key_concurrency_limit),
    rate: boxText(rl.limit),
    period: boxText(rl.period_ms),
    burst: boxText(rl.burst),
  });
  const [error, setError] = useState(null);
  const input = (k, label) => (
    [<label key={`${k}-l`} for={`q-${k}`}>{label}</label>,
      <input key={k} id={`q-${k}`} data-testid={`queue-${k}`} inputmode="numeric" value={f[k]}
        onInput={(e) => setF({ ...f, [k]: e.currentTarget.value })} />]
  );
  const save = async (e) => {
    e.preventDefault();
    const rate = limitValue(f.rate);
    const body = {
      concurrency_limit: limitValue(f.concurrency),
      key_concurrency_limit: limitValue(f.perKey),
      rate_limit: rate === null ? null : {
        limit: rate,
        ...(limitValue(f.period) !== null ? { period_ms: limitValue(f.period) } : {}),
        ...(limitValue(f.burst) !== null ? { burst: limitValue(f.burst) } : {}),
      },
    };
    try { setError(null); onSaved(await patch(queuePath(queue), body), 'Settings saved.'); } catch (err) { setError(err); onFailed(); }
  };
  return (
    <form class="sys-form" onSubmit={save} data-testid="queue-settings">
      {input('concurrency', 'Jobs at once')}
      {input('perKey', 'Per concurrency key')}
      {input('rate', 'Rate limit (jobs)')}
      {input('period', 'per (ms)')}
      {input('burst', 'Burst')}
      <div class="sys-form-actions"><button type="submit" data-testid="queue-save">Save settings</button>
        <span class="muted">Empty: no limit.</span></div>
      <div class="sys-form-actions"><ErrorBox error={error} /></div>
    </form>
  );
}

function RecentJobs({ queue }) {
  const jobs = useCursorList('/v1/tasks', 'tasks', { queue: queue.name, namespace: queue.namespace }, 20);
  return (
    <div>
      <h3>Recent jobs</h3>
      <ErrorBox error={jobs.error} />
      {jobs.ready && !jobs.error && jobs.items.length === 0 ? <Empty>No jobs in this queue.</Empty> : null}
      {jobs.items.length > 0 ? (
        <TableFrame>
          <thead><tr><th>Job</th><th>Status</th><th class="num">Attempt</th><th>Created</th></tr></thead>
          <tbody>{jobs.items.map((t) => (
            <tr key={t.id} data-testid="queue-job-row">
              <td><a href={href(`/tasks/${t.id}`)}>{t.name || t.id.slice(0, 8)}</a></td>
              <td><Chip status={t.status} /></td>
              <td class="num">{show(t.attempt)}/{t.max_attempts === -1 ? '∞' : show(t.max_attempts)}</td>
              <td title={time(t.created_at)}>{ago(t.created_at)}</td>
            </tr>
          ))}</tbody>
        </TableFrame>
      ) : null}
      <LoadMore list={jobs} />
    </div>
  );
}

export default function QueuePanel({ queue, onClose, onChanged }) {
  const [q, setQ] = useState(null);
  const [error, setError] = useState(null);
  const [notice, setNotice] = useState(null);
  const load = useCallback(async () => {
    try { setQ(await get(queuePath(queue))); setError(null); } catch (e) { setError(e); }
  }, [queue.name, queue.namespace]);
  useEffect(() => { load(); }, [load]);

  const done = (updated, text) => { if (updated) setQ(updated); setNotice({ text }); onChanged(); };
  const act = async (promise, text) => {
    try { done(await promise, text); } catch (e) { setNotice({ error: e }); }
  };

  return (
    <Panel title={`Queue ${queue.name}`} onClose={onClose}>
      <ErrorBox error={error} />
      <Notice notice={notice} onClose={() => setNotice(null)} />
      {q ? (
        <>
          <Fields rows={[
            ['Namespace', show(q.namespace)],
            ['State', <span><Chip status={q.paused ? 'paused' : 'active'} testid="panel-queue-state" /> <PauseToggle queue={q} onDone={act} /></span>],
            ['Depth', Object.entries(q.depth || {}).map(([k, v]) => `${k} ${v}`).join(', ') || '—'],
            ['Oldest ready', duration(q.oldest_ready_age_ms)],
            ['Limits', limits(q)],
            ['Updated', `${time(q.updated_at)}${q.updated_by ? ` by ${q.updated_by}` : ''}`],
          ]} />
          <h3>Settings</h3>
          <SettingsForm key={q.updated_at} queue={q} onSaved={done} onFailed={() => setNotice(null)} />
          {q.recent_changes && q.recent_changes.length ? (
            <div><h3>Recent changes</h3>
              {q.recent_changes.map((c) => (
                <div key={`${c.at}-${c.action}`}>{time(c.at)} · {c.actor} · {c.action}
                  {c.detail ? <Json value={c.detail} /> : null}</div>
              ))}</div>
          ) : null}
          <RecentJobs queue={q} />
        </>
      ) : null}
    </Panel>
  );
}
