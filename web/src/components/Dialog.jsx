/*
 * Dialog — a modal box over the page.
 *   open: bool; onClose(): called on Esc, on the backdrop, on the × button;
 *   title: heading; children: the body; actions: buttons for the footer;
 *   testid: data-testid of the box (default "dialog").
 * The first field (or button) in the body gets the focus when it opens,
 * and the element that had it before gets it back when it closes.
 */
import { useEffect, useRef } from 'preact/hooks';
import { useEscape } from '../app/shortcuts.js';

/* Tab and Shift+Tab go round the dialog's controls, not out to the page behind. */
function keepTabInside(e) {
  if (e.key !== 'Tab') return;
  const all = [...e.currentTarget.querySelectorAll('input, textarea, select, button, a[href]')].filter((el) => !el.disabled);
  if (all.length === 0) return;
  const first = all[0];
  const last = all[all.length - 1];
  if (e.shiftKey && document.activeElement === first) { e.preventDefault(); last.focus(); }
  else if (!e.shiftKey && document.activeElement === last) { e.preventDefault(); first.focus(); }
}

export default function Dialog({ open, onClose, title, children, actions, testid = 'dialog' }) {
  const box = useRef(null);
  useEscape(open, onClose);
  useEffect(() => {
    if (!open || !box.current) return undefined;
    // The focus goes back where it was when the dialog closes.
    const before = document.activeElement;
    const fields = 'input, textarea, select, button';
    const first = box.current.querySelector(`.dialog-body :is(${fields}), footer button.primary`) || box.current.querySelector('button');
    if (first) first.focus();
    return () => { if (before && before.isConnected && before.focus) before.focus(); };
  }, [open]);
  if (!open) return null;
  return (
    <div class="backdrop" onMouseDown={(e) => { if (e.target === e.currentTarget) onClose(); }}>
      <div class="dialog" role="dialog" aria-modal="true" aria-label={title} data-testid={testid} ref={box} onKeyDown={keepTabInside}>
        <header>
          <h2>{title}</h2>
          <button type="button" class="icon" aria-label="Close" onClick={onClose}>×</button>
        </header>
        <div class="dialog-body">{children}</div>
        {actions && <footer>{actions}</footer>}
      </div>
    </div>
  );
}
