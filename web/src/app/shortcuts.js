/*
 * shortcuts.js — the keyboard.
 *
 * The shell's own keys: `g` then a nav key goes to that view, `/` focuses
 * the view's search box (the element with data-shortcut="search"), `?`
 * shows the help overlay, Esc closes the topmost overlay. A view adds its
 * own while it is mounted:
 *
 *   useShortcuts({ c: cancelSelected, x: exportCsv },
 *                { c: 'Cancel the selected tasks', x: 'Export CSV' });
 *
 * (the second argument may also be one string describing every key). Keys
 * never fire while the focus is in a text field, or with Ctrl/Alt/Meta.
 */
import { useEffect, useRef } from 'preact/hooks';

const registrations = new Set();   // {handlers: ref, descriptions}
const helpListeners = new Set();
const escapeStack = [];            // overlays' close functions, topmost last

export function useShortcuts(handlers, descriptions) {
  const ref = useRef(handlers);
  ref.current = handlers;
  const keys = Object.keys(handlers).join('');
  useEffect(() => {
    const d = typeof descriptions === 'string'
      ? Object.fromEntries(Object.keys(ref.current).map((k) => [k, descriptions]))
      : { ...descriptions };
    const reg = { handlers: ref, descriptions: d };
    registrations.add(reg);
    notifyHelp();
    return () => { registrations.delete(reg); notifyHelp(); };
  }, [keys]);
}

/* [{key, description}] of the views' shortcuts now mounted. */
export function viewShortcuts() {
  const out = [];
  for (const r of registrations) {
    for (const k of Object.keys(r.handlers.current)) out.push({ key: k, description: r.descriptions[k] || '' });
  }
  return out;
}

export function onShortcutsChange(fn) { helpListeners.add(fn); return () => helpListeners.delete(fn); }
function notifyHelp() { for (const fn of helpListeners) fn(); }

/* While `open`, Esc calls onClose (the latest opened overlay first). */
export function useEscape(open, onClose) {
  const ref = useRef(onClose);
  ref.current = onClose;
  useEffect(() => {
    if (!open) return undefined;
    const close = () => ref.current();
    escapeStack.push(close);
    return () => {
      const i = escapeStack.lastIndexOf(close);
      if (i >= 0) escapeStack.splice(i, 1);
    };
  }, [open]);
}

export function isTyping(target) {
  if (!target || !target.tagName) return false;
  const tag = target.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag === 'INPUT') return !['checkbox', 'radio', 'button', 'submit', 'reset'].includes(target.type);
  return target.isContentEditable;
}

/*
 * The document's keydown handler, installed once by the shell.
 * `actions`: {navigateKey(key) → bool, showHelp()}.
 */
export function installKeyboard(actions) {
  let afterG = 0;
  const onKey = (e) => {
    if (e.key === 'Escape' && escapeStack.length) {
      e.preventDefault();
      escapeStack[escapeStack.length - 1]();
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented || isTyping(e.target)) return;
    if (escapeStack.length) return;   // an overlay has the keyboard
    const now = Date.now();
    if (now - afterG < 1500) {
      afterG = 0;
      if (actions.navigateKey(e.key)) { e.preventDefault(); return; }
    }
    if (e.key === 'g') { afterG = now; return; }
    if (e.key === '/') {
      const box = document.querySelector('[data-shortcut="search"]');
      if (box) { e.preventDefault(); box.focus(); if (box.select) box.select(); }
      return;
    }
    if (e.key === '?') { e.preventDefault(); actions.showHelp(); return; }
    for (const r of [...registrations].reverse()) {
      const fn = r.handlers.current[e.key];
      if (fn) { e.preventDefault(); fn(e); return; }
    }
  };
  document.addEventListener('keydown', onKey);
  return () => document.removeEventListener('keydown', onKey);
}
