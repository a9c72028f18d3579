/*
 * RunModals.jsx — run-level changes that need a dialog: editing the rules
 * of a kind of task (PATCH /v1/runs/{id}/rules) and canceling the run
 * (POST /v1/runs/{id}/cancel).
 */
import { useEffect, useState } from 'preact/hooks';
import { get, patch, post } from '../../app/api.js';
import { isTerminal, kindOf } from './status.js';
import ErrorBox from '../../components/ErrorBox.jsx';
import Dialog from '../../components/Dialog.jsx';

/* ArcRun's Edit Rules: pick a kind among the unfinished tasks; the text is
 * the rules of the first unfinished task of that kind, when the task's
 * body carries them, else an empty list. */
export function EditRulesModal({ runId, tasks, onClose, onDone }) {
  const kinds = [...new Set(tasks.filter((t) => !isTerminal(t.status)).map(kindOf))].sort();
  const [kind, setKind] = useState(kinds[0] || '');
  const [text, setText] = useState('[]');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    const first = tasks.find((t) => !isTerminal(t.status) && kindOf(t) === kind);
    if (!first) return undefined;
    let live = true;
    get(`/v1/tasks/${first.id}`)
      .then((t) => { if (live) setText(JSON.stringify(t.rules || [], null, 2)); })
      .catch(() => { if (live) setText('[]'); });
    return () => { live = false; };
  }, [kind]);

  const submit = async (e) => {
    e.preventDefault();
    let rules;
    try {
      rules = JSON.parse(text);
    } catch (err) {
      setError({ field: 'rules', message: `not JSON: ${err.message}` });
      return;
    }
    setBusy(true);
    try {
      const res = await patch(`/v1/runs/${runId}/rules`, { kind, rules });
      onDone(`Rules of ${kind} updated on ${res && res.updated !== undefined ? res.updated : '?'} tasks`);
      onClose();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog open title="Edit rules" onClose={onClose} testid="edit-rules">
      {kinds.length === 0 ? <p>No unfinished task: there is nothing to change.</p> : (
        <form onSubmit={submit}>
          <label>Kind{' '}
            <select value={kind} data-testid="rules-kind" onChange={(e) => setKind(e.currentTarget.value)}>
              {kinds.map((k) => <option key={k} value={k}>{k}</option>)}
            </select>
          </label>
          <p class="rv-muted">Rules (JSON list), applied to every unfinished task of this kind:</p>
          <textarea value={text} data-testid="rules-json" spellcheck={false} aria-label="Rules as JSON"
            onInput={(e) => setText(e.currentTarget.value)} />
          <ErrorBox error={error} />
          <div class="rv-actions">
            <button type="button" onClick={onClose}>Close</button>
            <button type="submit" class="primary" disabled={busy} data-testid="rules-submit">Save rules</button>
          </div>
        </form>
      )}
    </Dialog>
  );
}

export function CancelRunModal({ runId, unfinished, onClose, onDone }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const confirm = async () => {
    setBusy(true);
    try {
      const res = await post(`/v1/runs/${runId}/cancel`, {});
      onDone(`Run canceled: ${res.canceled} tasks canceled, ${res.already_ended} had ended`);
      onClose();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog open title="Cancel run" onClose={onClose} testid="cancel-run">
      <p>Cancel every unfinished task of this run ({unfinished} now)? This cannot be undone.</p>
      <ErrorBox error={error} />
      <div class="rv-actions">
        <button type="button" onClick={onClose}>Keep running</button>
        <button type="button" class="primary" disabled={busy} onClick={confirm} data-testid="confirm-cancel-run">Cancel run</button>
      </div>
    </Dialog>
  );
}
