/*
 * Dialog — a modal box over the page.
 *   open: bool; onClose(): called on Esc, on the backdrop, on the × button;
 *   title: heading; children: the body; actions: buttons for the footer;
 *   testid: data-testid of the box (default "dialog").
 * The first field (or button) in the body gets the focus when it opens.
 */
import { useEffect, useRef } from 'preact/hooks';
import { useEscape } from '../app/shortcuts.js';

export default function Dialog({ open, onClose, title, children, actions, testid = 'dialog' }) {
  const box = useRef(null);
  useEscape(open, onClose);
  useEffect(() => {
    if (!open || !box.current) return;
    const fields = 'input, textarea, select, button';
    const first = box.current.querySelector(`.dialog-body :is(${fields}), footer button.primary`) || box.current.querySelector('button');
    if (first) first.focus();
  }, [open]);
  if (!open) return null;
  return (
    <div class="backdrop" onMouseDown={(e) => { if (e.target === e.currentTarget) onClose(); }}>
      <div class="dialog" role="dialog" aria-modal="true" aria-label={title} data-testid={testid} ref={box}>
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
