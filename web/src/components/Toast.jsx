/*
 * Toast — the notices of app/toast.js, bottom right. Mounted once by the
 * shell; each notice has data-testid="toast" and data-kind.
 */
import { useEffect, useState } from 'preact/hooks';
import { dismiss, onToasts } from '../app/toast.js';

export default function Toast() {
  const [list, setList] = useState([]);
  useEffect(() => onToasts(setList), []);
  return (
    <div class="toasts" role="status" aria-live="polite">
      {list.map((t) => (
        <div key={t.id} class={`toast ${t.kind}`} data-testid="toast" data-kind={t.kind}>
          <span>{t.message}</span>
          <button type="button" class="icon" aria-label="Dismiss" onClick={() => dismiss(t.id)}>×</button>
        </div>
      ))}
    </div>
  );
}
