/*
 * toast.js — short notices in a corner: toast('Run canceled'),
 * toast(err.message, 'error'). Kinds: info, success, error. A notice goes
 * away after `timeout` ms (errors stay longer) or when dismissed.
 * A notice given a `key` replaces the one shown with the same key (a live
 * summary that updates instead of stacking); dismissKey(key) removes it.
 */
let nextId = 1;
let toasts = [];
const listeners = new Set();

function publish() { for (const fn of listeners) fn(toasts); }

export function dismiss(id) {
  toasts = toasts.filter((t) => t.id !== id);
  publish();
}

export function dismissKey(key) {
  if (!toasts.some((t) => t.key === key)) return;
  toasts = toasts.filter((t) => t.key !== key);
  publish();
}

export function toast(message, kind = 'info', { timeout, key } = {}) {
  const id = nextId++;
  const next = { id, key, message: String(message), kind };
  const old = key === undefined ? -1 : toasts.findIndex((t) => t.key === key);
  if (old >= 0) {
    /* In place, with a new id: the old notice's timer then finds nothing. */
    toasts = toasts.map((t, i) => (i === old ? next : t));
  } else {
    // At most five on screen: the oldest goes first.
    toasts = [...toasts.slice(-4), next];
  }
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
