/*
 * TaskActions.jsx — an operator's actions on a task: cancel (confirmed),
 * pause, resume, retry and resolve (with a result). Each is enabled in the
 * statuses where the server accepts it; the answer is the task after the
 * action, handed to onChanged.
 */
import { useState } from 'preact/hooks';
import { post } from '../../app/api.js';
import { ACTIONS } from './status.js';
import ErrorBox from '../../components/ErrorBox.jsx';
import Dialog from '../../components/Dialog.jsx';

const LABELS = { cancel: 'Cancel', pause: 'Pause', resume: 'Resume', retry: 'Retry', resolve: 'Resolve…' };

export default function TaskActions({ task, onChanged }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(null);
  const [dialog, setDialog] = useState(null);

  const act = async (verb, body = {}) => {
    setBusy(verb);
    setError(null);
    try {
      const after = await post(`/v1/tasks/${task.id}/${verb}`, body);
      setDialog(null);
      onChanged(after, verb);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };
  const click = (verb) => {
    if (verb === 'cancel' || verb === 'resolve') setDialog(verb); else act(verb);
  };

  return (
    <div class="rv-task-actions">
      <div class="rv-toolbar">
        {Object.keys(LABELS).map((verb) => (
          <button type="button" key={verb} class={verb === 'cancel' ? 'danger' : ''} data-testid={`action-${verb}`}
            disabled={busy !== null || !ACTIONS[verb](task.status)} onClick={() => click(verb)}>
            {busy === verb ? '…' : LABELS[verb]}
          </button>
        ))}
      </div>
      <ErrorBox error={error} />
      {dialog === 'cancel' && (
        <Dialog open title="Cancel task" onClose={() => setDialog(null)} testid="confirm-cancel-task">
          <p>Cancel {task.name}? This cannot be undone{task.status === 'running' ? '; its worker learns it at its next heartbeat' : ''}.</p>
          <ErrorBox error={error} />
          <div class="rv-actions">
            <button type="button" onClick={() => setDialog(null)}>Keep it</button>
            <button type="button" class="primary" data-testid="confirm-cancel-task-ok" disabled={busy !== null}
              onClick={() => act('cancel', { reason: 'canceled from the web UI' })}>Cancel task</button>
          </div>
        </Dialog>
      )}
      {dialog === 'resolve' && <ResolveDialog task={task} busy={busy !== null} error={error}
        onClose={() => setDialog(null)} onResolve={(body) => act('resolve', body)} />}
    </div>
  );
}

/* Resolving marks the task succeeded with the given result; its children
 * are released. The server's only outcome is success. */
function ResolveDialog({ task, busy, error, onClose, onResolve }) {
  const [text, setText] = useState('null');
  const [reason, setReason] = useState('');
  const [bad, setBad] = useState(null);
  const submit = (e) => {
    e.preventDefault();
    let result;
    try {
      result = JSON.parse(text);
    } catch (err) {
      setBad({ field: 'result', message: `not JSON: ${err.message}` });
      return;
    }
    setBad(null);
    onResolve(reason ? { result, reason } : { result });
  };
  return (
    <Dialog open title="Resolve manually" onClose={onClose} testid="resolve-task">
      <form onSubmit={submit}>
        <p>{task.name} ends as <strong>success</strong> with this result; its children are released.</p>
        <label>Result (JSON)
          <textarea value={text} data-testid="resolve-result" spellcheck={false} onInput={(e) => setText(e.currentTarget.value)} />
        </label>
        <label>Reason <input value={reason} maxLength={1024} data-testid="resolve-reason" onInput={(e) => setReason(e.currentTarget.value)} /></label>
        <ErrorBox error={bad || error} />
        <div class="rv-actions">
          <button type="button" onClick={onClose}>Close</button>
          <button type="submit" class="primary" disabled={busy} data-testid="resolve-submit">Resolve</button>
        </div>
      </form>
    </Dialog>
  );
}
