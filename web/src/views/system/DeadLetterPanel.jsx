/*
 * DeadLetterPanel — one dead letter (GET /v1/dead-letters/{id}): its fields,
 * last error, input, metadata and every attempt with its outcome.
 */
import { useEffect, useState } from 'preact/hooks';
import { get } from '../../app/api.js';
import { href } from '../../app/router.js';
import { show, time } from './format.js';
import { ActionButton, ErrorBox, Fields, Json, Panel, TableFrame } from './widgets.jsx';

export default function DeadLetterPanel({ id, onClose, onRequeue }) {
  const [d, setD] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    get(`/v1/dead-letters/${encodeURIComponent(id)}`).then(setD, setError);
  }, [id]);

  return (
    <Panel title={d ? `Dead letter ${d.name || id.slice(0, 8)}` : 'Dead letter'} onClose={onClose}>
      <ErrorBox error={error} />
      {d ? (
        <>
          <div><ActionButton label="Requeue" testid="panel-requeue" confirm="Requeue this job?" onRun={onRequeue} /></div>
          <Fields rows={[
            ['ID', <a href={href(`/tasks/${d.id}`)}>{d.id}</a>],
            ['Queue', show(d.queue)],
            ['Namespace', show(d.namespace)],
            ['Attempts', `${show(d.attempt)} of ${d.max_attempts === -1 ? '∞' : show(d.max_attempts)}`],
            ['Created', time(d.created_at)],
            ['Ended', time(d.ended_at)],
            ['Error', d.error ? `${d.error.code}: ${show(d.error.message)}` : '—'],
          ]} />
          <h3>Input</h3>
          <Json value={d.input} />
          {d.metadata ? <><h3>Metadata</h3><Json value={d.metadata} /></> : null}
          <h3>Attempts</h3>
          <TableFrame>
            <thead><tr><th class="num">#</th><th>Outcome</th><th>Worker</th><th>Ended</th><th>Error</th></tr></thead>
            <tbody>{(d.attempts || []).map((a) => (
              <tr key={a.attempt} data-testid="attempt-row">
                <td class="num">{a.attempt}</td>
                <td>{show(a.outcome)}{a.retryable === false ? ' (not retryable)' : ''}</td>
                <td>{show(a.worker_id)}</td>
                <td>{time(a.ended_at)}</td>
                <td>{a.error ? `${show(a.error.code)}: ${show(a.error.message)}` : '—'}</td>
              </tr>
            ))}</tbody>
          </TableFrame>
        </>
      ) : null}
    </Panel>
  );
}
