/*
 * Queues — every queue with its depth by state, throughput, the age of its
 * oldest ready job and whether it is paused; pause and resume in the row, a
 * queue's settings and recent jobs in the panel (#/queues?name=Q&ns=NS).
 */
import { useState } from 'preact/hooks';
import { navigate } from '../../app/router.js';
import useCursorList from './useCursorList.js';
import useTasksChanged from './useTasksChanged.js';
import QueuePanel from './QueuePanel.jsx';
import { PauseToggle, limits } from './queueActions.jsx';
import { duration, show } from './format.js';
import { Chip, ListWithPanel, Notice, openOnEnter, ViewRoot } from './widgets.jsx';

const DEPTHS = ['ready', 'scheduled', 'running', 'retrying', 'paused', 'dead'];

function rate(t) {
  return t ? `${show(t['1m'])} / ${show(t['5m'])} / ${show(t['15m'])}` : '—';
}

export default function Queues({ route }) {
  const list = useCursorList('/v1/queues', 'queues', {}, 100);
  const [notice, setNotice] = useState(null);
  useTasksChanged(list.reload);
  const open = route.query.name ? { name: route.query.name, namespace: route.query.ns } : null;

  /* Runs an action, shows its outcome and reloads what it changed. */
  const act = async (promise, text) => {
    try { await promise; setNotice({ text }); } catch (error) { setNotice({ error }); }
    list.reload();
  };

  return (
    <ViewRoot name="queues" title="Queues" ready={list.ready} error={list.error}>
      <Notice notice={notice} onClose={() => setNotice(null)} />
      <ListWithPanel list={list} empty="No queues yet. A queue appears when a job is first enqueued to it."
        panel={open ? <QueuePanel key={`${open.namespace}/${open.name}`} queue={open} onChanged={list.reload}
          onClose={() => navigate('/queues')} /> : null}>
        <thead><tr>
          <th>Queue</th><th>Namespace</th><th>State</th><th />
          {DEPTHS.map((d) => <th key={d} class="num">{d}</th>)}
          <th class="num">Oldest ready</th><th>Completed 1m/5m/15m</th><th>Failed 1m/5m/15m</th>
          <th>Limits</th>
        </tr></thead>
        <tbody>
          {list.items.map((q) => (
            <tr key={`${q.namespace}/${q.name}`} data-testid="queue-row" data-queue={q.name}
              tabIndex={0} onKeyDown={openOnEnter}
              class={`sys-click ${open && open.name === q.name && open.namespace === q.namespace ? 'sys-selected' : ''}`}
              onClick={() => navigate('/queues', { name: q.name, ns: q.namespace })}>
              <td>{q.name}</td>
              <td>{show(q.namespace)}</td>
              <td><Chip status={q.paused ? 'paused' : 'active'} testid="queue-state" /></td>
              <td onClick={(e) => e.stopPropagation()}><PauseToggle queue={q} onDone={act} /></td>
              {DEPTHS.map((d) => <td key={d} class="num">{show(q.depth && q.depth[d])}</td>)}
              <td class="num">{duration(q.oldest_ready_age_ms)}</td>
              <td>{rate(q.throughput && q.throughput.completed)}</td>
              <td>{rate(q.throughput && q.throughput.failed)}</td>
              <td>{limits(q)}</td>
            </tr>
          ))}
        </tbody>
      </ListWithPanel>
    </ViewRoot>
  );
}
