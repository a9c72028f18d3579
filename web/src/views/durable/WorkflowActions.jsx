/*
 * WorkflowActions — what an operator may do to a run: cancel and terminate
 * (asked first: a handler cannot undo them), retry an ended run, and send
 * a signal with a JSON payload. Each shows its error and refreshes the run.
 */
import { useState } from 'preact/hooks';
import { post } from '../../app/api.js';
import ConfirmButton from '../../components/Confirm.jsx';
import { ActionButton, ErrorBox, parseJsonField } from './ui.jsx';

const ACTIVE = ['pending', 'running', 'suspended'];
const RETRYABLE = ['failed', 'canceled', 'terminated'];

function SignalForm({ run, onDone }) {
  const [name, setName] = useState(run.suspended && run.suspended.signal ? run.suspended.signal : '');
  const [payload, setPayload] = useState('');
  const [error, setError] = useState(null);
  const [sent, setSent] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setError(null); setSent(null); setBusy(true);
    try {
      const body = { name, payload: parseJsonField(payload, 'payload') };
      const r = await post(`/v1/workflows/${encodeURIComponent(run.id)}/signals`, body);
      setSent(r);
      onDone();
    } catch (err) { setError(err); }
    setBusy(false);
  };
  return (
    <form class="d-form" onSubmit={submit} data-testid="signal-form">
      <label>Signal name<input required maxLength={255} value={name} onInput={(e) => setName(e.currentTarget.value)} data-testid="signal-name" /></label>
      <label>Payload (JSON, optional)<textarea value={payload} onInput={(e) => setPayload(e.currentTarget.value)} data-testid="signal-payload" placeholder='{"approved": true}' /></label>
      <div><button type="submit" disabled={busy || !name} data-testid="signal-send">Send signal</button></div>
      <ErrorBox error={error} testid="signal-error" />
      {sent && (
        <p class="d-ok" data-testid="signal-sent">
          Signal {sent.name} #{sent.id} sent; {sent.woke ? 'it woke the run' : 'stored until the run waits for it'} (run {sent.run_status}).
        </p>
      )}
    </form>
  );
}

export default function WorkflowActions({ run, onDone }) {
  const path = `/v1/workflows/${encodeURIComponent(run.id)}`;
  const active = ACTIVE.includes(run.status);
  return (
    <div>
      <div class="d-actions">
        {active && <ConfirmButton label="Cancel" title="Cancel this run?" testid="action-cancel" danger
          message="The run ends as canceled; its handler is refused at its next call."
          onConfirm={() => post(`${path}/cancel`, {}).then(onDone)} />}
        {active && <ConfirmButton label="Terminate" title="Terminate this run?" testid="action-terminate" danger
          message="The run ends as terminated; no handler runs it again unless it is retried."
          onConfirm={() => post(`${path}/terminate`, {}).then(onDone)} />}
        {RETRYABLE.includes(run.status) && <ActionButton label="Retry" testid="action-retry" onDone={onDone}
          action={() => post(`${path}/retry`, {})} />}
      </div>
      {active && <SignalForm run={run} onDone={onDone} />}
    </div>
  );
}
