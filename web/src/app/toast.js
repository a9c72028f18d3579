/*
 * toast.js — short notices in a corner: toast('Run canceled'),
 * toast(err.message, 'error'). Kinds: info, success, error. A notice goes
 * away after `timeout` ms (errors stay longer) or when dismissed.
 */
let nextId = 1;
let toasts = [];
const listeners = new Set();

function publish() { for (const fn of listeners) fn(toasts); }

export function dismiss(id) {
  toasts = toasts.filter((t) => t.id !== id);
  publish();
}

export function toast(message, kind = 'info', { timeout } = {}) {
  const id = nextId++;
  // At most five on screen: the oldest goes first.
  toasts = [...toasts.slice(-4), { id, message: String(message), kind }];
  publish();
  setTimeout(() => dismiss(id), timeout ?? (kind === 'error' ? 10000 : 4000));
  return id;
}

/* The Toast component's subscription; returns the unsubscribe function. */
export function onToasts(fn) {
  listeners.add(fn);
  fn(toasts);
  return () => listeners.delete(fn);
}
