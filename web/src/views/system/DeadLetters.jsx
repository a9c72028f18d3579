/*
 * Dead letters — jobs that used up their attempts, newest first, filtered by
 * queue; inspect one in the panel (#/dead-letters?id=ID), requeue one, the
 * selected ones, or the newest of the filter. A requeued job is pending
 * again at once with a fresh retry budget, so it leaves this list.
 */
import { useState } from 'preact/hooks';
import { namespace, post } from '../../app/api.js';
import { navigate } from '../../app/router.js';
import useCursorList from './useCursorList.js';
import DeadLetterPanel from './DeadLetterPanel.jsx';
import { ago, show, time } from './format.js';
import { ActionButton, ListWithPanel, Notice, openOnEnter, ViewRoot } from './widgets.jsx';

/* POST /v1/dead-letters/requeue; the answer lists what moved and what was skipped and why. */
async function requeue(body) {
  const r = await post('/v1/dead-letters/requeue', body);
  const skipped = (r.skipped || []).map((s) => `${s.id.slice(0, 8)} (${s.reason.replace(/_/g, ' ')})`);
  return `Requeued ${(r.requeued || []).length}.${skipped.length ? ` Skipped ${skipped.length}: ${skipped.join(', ')}.` : ''}`;
}

export default function DeadLetters({ route }) {
  const [queue, setQueue] = useState(route.query.queue || '');
  const [applied, setApplied] = useState(route.query.queue || '');
  const list = useCursorList('/v1/dead-letters', 'dead_letters', { queue: applied }, 50);
  const [selected, setSelected] = useState(new Set());
  const [notice, setNotice] = useState(null);
  const openId = route.query.id || null;

  const act = async (body) => {
    try { setNotice({ text: await requeue(body) }); } catch (error) { setNotice({ error }); }
    setSelected(new Set());
    list.reload();
  };
  const toggle = (id) => {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id); else next.add(id);
    setSelected(next);
  };
  const allShown = list.items.length > 0 && list.items.every((d) => selected.has(d.id));
  const bulkBody = { queue: applied || undefined, namespace: namespace() || undefined, limit: 100 };

  const tools = (
    <>
      <form class="sys-filters" onSubmit={(e) => { e.preventDefault(); setApplied(queue.trim()); }}>
        <label>Queue<input data-testid="filter-queue" data-shortcut="search" value={queue} placeholder="any"
          onInput={(e) => setQueue(e.currentTarget.value)} /></label>
        <button type="submit">Filter</button>
      </form>
      <ActionButton label={`Requeue selected (${selected.size})`} testid="action-requeue-selected"
        disabled={selected.size === 0} confirm={`Requeue ${selected.size} dead letter(s)?`}
        onRun={() => act({ ids: [...selected] })} />
      <ActionButton label="Requeue newest 100" testid="action-requeue-all" disabled={list.items.length === 0}
        confirm={`Requeue the newest 100 dead letters${applied ? ` of queue ${applied}` : ''}?`}
        onRun={() => act(bulkBody)} />
    </>
  );

  return (
    <ViewRoot name="dead-letters" title="Dead letters" ready={list.ready} error={list.error} tools={tools}>
      <Notice notice={notice} onClose={() => setNotice(null)} />
      <ListWithPanel list={list} empty={`No dead letters${applied ? ` in queue ${applied}` : ''}. Jobs land here when they fail their last attempt.`}
        panel={openId ? <DeadLetterPanel key={openId} id={openId}
          onRequeue={async () => { await act({ ids: [openId] }); navigate('/dead-letters', { queue: applied }); }}
          onClose={() => navigate('/dead-letters', { queue: applied })} /> : null}>
        <thead><tr>
          <th><input type="checkbox" aria-label="Select all shown" checked={allShown}
            onChange={() => setSelected(allShown ? new Set() : new Set(list.items.map((d) => d.id)))} /></th>
          <th>Job</th><th>Queue</th><th>Namespace</th><th class="num">Attempts</th><th>Error</th><th>Dead since</th><th />
        </tr></thead>
        <tbody>
          {list.items.map((d) => (
            <tr key={d.id} data-testid="dead-letter-row" data-id={d.id}
              tabIndex={0} onKeyDown={openOnEnter}
              class={`sys-click ${openId === d.id ? 'sys-selected' : ''}`}
              onClick={() => navigate('/dead-letters', { id: d.id, queue: applied })}>
              <td onClick={(e) => e.stopPropagation()}>
                <input type="checkbox" data-testid="dead-letter-select" aria-label={`Select ${d.id}`}
                  checked={selected.has(d.id)} onChange={() => toggle(d.id)} /></td>
              <td title={d.id}>{d.name || d.id.slice(0, 8)}</td>
              <td>{show(d.queue)}</td>
              <td>{show(d.namespace)}</td>
              <td class="num">{show(d.attempt)}</td>
              <td>{d.error ? `${d.error.code}: ${show(d.error.message)}`.slice(0, 80) : '—'}</td>
              <td title={time(d.ended_at)}>{ago(d.ended_at)}</td>
              <td onClick={(e) => e.stopPropagation()}>
                <ActionButton label="Requeue" testid="action-requeue" confirm="Requeue this job?"
                  onRun={() => act({ ids: [d.id] })} />
              </td>
            </tr>
          ))}
        </tbody>
      </ListWithPanel>
    </ViewRoot>
  );
}
