/*
 * Workers — the pull workers the server has seen (registered by claiming):
 * state, queues, jobs in flight, last heartbeat; drain one (it finishes what
 * it holds and claims nothing more), with a detail panel
 * (#/workers?id=W&ns=NS).
 */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { get, post, url } from '../../app/api.js';
import { navigate } from '../../app/router.js';
import useCursorList from './useCursorList.js';
import useTasksChanged from './useTasksChanged.js';
import { ago, show, time } from './format.js';
import { ActionButton, Chip, ErrorBox, Fields, ListWithPanel, Notice, openOnEnter, Panel, ViewRoot } from './widgets.jsx';

function workerPath(w, action = '') {
  return url(`/v1/workers/${encodeURIComponent(w.id)}${action}`, { namespace: w.namespace });
}

function DrainButton({ worker, onDone }) {
  if (worker.state === 'draining') return <span class="muted">draining</span>;
  return (
    <ActionButton label="Drain" testid="action-drain" danger
      confirm={`Drain ${worker.id}? It finishes its jobs and claims no more.`}
      onRun={() => onDone(post(workerPath(worker, '/drain')), `Worker ${worker.id} is draining.`)} />
  );
}

function WorkerPanel({ worker, onClose, onDone, version }) {
  const [w, setW] = useState(null);
  const [error, setError] = useState(null);
  const load = useCallback(async () => {
    try { setW(await get(workerPath(worker))); setError(null); } catch (e) { setError(e); }
  }, [worker.id, worker.namespace]);
  useEffect(() => { load(); }, [load, version]);
  return (
    <Panel title={`Worker ${worker.id}`} onClose={onClose}>
      <ErrorBox error={error} />
      {w ? (
        <Fields rows={[
          ['State', <span><Chip status={w.state} testid="panel-worker-state" /> <DrainButton worker={w} onDone={onDone} /></span>],
          ['Namespace', show(w.namespace)],
          ['Hostname', show(w.hostname)],
          ['Queues', (w.queues || []).map((q) => <a key={q} href={`#/queues?name=${encodeURIComponent(q)}&ns=${encodeURIComponent(w.namespace)}`}>{q} </a>)],
          ['Jobs in flight', show(w.in_flight)],
          ['Last heartbeat', `${ago(w.last_heartbeat_at)} (${time(w.last_heartbeat_at)})`],
          ['First seen', time(w.first_seen_at)],
        ]} />
      ) : null}
    </Panel>
  );
}

export default function Workers({ route }) {
  const list = useCursorList('/v1/workers', 'workers', {}, 100);
  const [notice, setNotice] = useState(null);
  const [version, setVersion] = useState(0);
  useTasksChanged(list.reload);
  const open = route.query.id ? { id: route.query.id, namespace: route.query.ns } : null;

  const act = async (promise, text) => {
    try { await promise; setNotice({ text }); } catch (error) { setNotice({ error }); }
    list.reload();
    setVersion((v) => v + 1);
  };

  return (
    <ViewRoot name="workers" title="Workers" ready={list.ready} error={list.error}>
      <Notice notice={notice} onClose={() => setNotice(null)} />
      <ListWithPanel list={list} empty="No workers yet. A worker appears here once it claims from a queue."
        panel={open ? <WorkerPanel key={`${open.namespace}/${open.id}`} worker={open} version={version}
          onDone={act} onClose={() => navigate('/workers')} /> : null}>
        <thead><tr>
          <th>Worker</th><th>Namespace</th><th>State</th><th>Queues</th>
          <th class="num">In flight</th><th>Last heartbeat</th><th>Hostname</th><th />
        </tr></thead>
        <tbody>
          {list.items.map((w) => (
            <tr key={`${w.namespace}/${w.id}`} data-testid="worker-row" data-worker={w.id}
              tabIndex={0} onKeyDown={openOnEnter}
              class={`sys-click ${open && open.id === w.id ? 'sys-selected' : ''}`}
              onClick={() => navigate('/workers', { id: w.id, ns: w.namespace })}>
              <td>{w.id}</td>
              <td>{show(w.namespace)}</td>
              <td><Chip status={w.state} testid="worker-state" /></td>
              <td>{(w.queues || []).join(', ') || '—'}</td>
              <td class="num">{show(w.in_flight)}</td>
              <td title={time(w.last_heartbeat_at)}>{ago(w.last_heartbeat_at)}</td>
              <td>{show(w.hostname)}</td>
              <td onClick={(e) => e.stopPropagation()}><DrainButton worker={w} onDone={act} /></td>
            </tr>
          ))}
        </tbody>
      </ListWithPanel>
    </ViewRoot>
  );
}
