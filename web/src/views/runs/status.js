/*
 * status.js — task statuses as the runs views show them: their order,
 * colours (ArcRun's, as CSS variables with the hex as fallback), which are
 * terminal, and which operator actions each allows (the server's rules in
 * engine/commands/operator.c).
 */

/* Display order: the life of a task, then its endings. */
export const STATUSES = [
  'waiting', 'pending', 'claimed', 'running', 'paused', 'retrying',
  'success', 'failure', 'canceled', 'skipped',
];

const FALLBACK = {
  waiting: '#666666', pending: '#f39c12', claimed: '#1abc9c', running: '#3498db',
  paused: '#9b59b6', retrying: '#e67e22', success: '#27ae60', failure: '#e74c3c',
  canceled: '#95a5a6', skipped: '#b0b7c3', active: '#3498db',
};

export function statusVar(status) {
  return `var(--status-${status}, ${FALLBACK[status] || '#888888'})`;
}

/* A concrete colour for canvas drawing, which cannot use CSS variables. */
export function statusColor(status, el) {
  const v = el && getComputedStyle(el).getPropertyValue(`--status-${status}`).trim();
  return v || FALLBACK[status] || '#888888';
}

export const TERMINAL = new Set(['success', 'failure', 'canceled', 'skipped']);
export const isTerminal = (s) => TERMINAL.has(s);

/* Which operator action the server accepts in which status. retry also
 * takes a pending task delayed to a later start, which the list cannot
 * tell; the server's 409 covers that case. */
export const ACTIONS = {
  cancel: (s) => !TERMINAL.has(s),
  pause: (s) => s === 'pending' || s === 'waiting',
  resume: (s) => s === 'paused',
  retry: (s) => s === 'retrying' || s === 'failure' || s === 'canceled',
  resolve: (s) => !TERMINAL.has(s) || s === 'failure',
};

/* ArcRun's "kind": a webhook task's kind, else a job's queue, else its executor. */
export function kindOf(t) {
  return t.kind || t.queue || t.executor || '—';
}

/* Counts by status of a list of tasks. */
export function countByStatus(tasks) {
  const c = {};
  for (const t of tasks) c[t.status] = (c[t.status] || 0) + 1;
  return c;
}
