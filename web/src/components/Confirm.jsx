/*
 * ConfirmButton — a button whose action runs only after the user confirms
 * it in a dialog, for what cannot be undone (cancel, requeue all).
 *   label: the button's text; title: the dialog's heading (default label);
 *   message: what will happen; confirmLabel (default label);
 *   onConfirm(): may return a promise: the dialog stays open, busy, until it
 *   settles, and shows its error (an ApiError's message and field) if it fails;
 *   danger: red confirm button; disabled; testid: the button's data-testid
 *   (the confirm button inside is "confirm-ok").
 */
import { useState } from 'preact/hooks';
import Dialog from './Dialog.jsx';
import ErrorBox from './ErrorBox.jsx';

export default function ConfirmButton({ label, title, message, confirmLabel, onConfirm, danger, disabled, testid, class: cls }) {
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const close = () => { if (!busy) { setOpen(false); setError(null); } };
  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
      setOpen(false);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" class={`${danger ? 'danger' : ''} ${cls || ''}`} disabled={disabled} data-testid={testid} onClick={() => setOpen(true)}>{label}</button>
      <Dialog open={open} onClose={close} title={title || label} testid="confirm-dialog" actions={[
        <button type="button" key="no" onClick={close} disabled={busy}>Back</button>,
        <button type="button" key="ok" class={danger ? 'danger primary' : 'primary'} data-testid="confirm-ok" disabled={busy} onClick={confirm}>
          {busy ? 'Working…' : confirmLabel || label}
        </button>,
      ]}>
        {message && <p>{message}</p>}
        <ErrorBox error={error} />
      </Dialog>
    </>
  );
}
