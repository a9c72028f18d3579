/*
 * queueActions.jsx — what the queue list and the queue panel share: pause
 * and resume, and a one-line summary of a queue's limits.
 */
import { post, url } from '../../app/api.js';
import { duration } from './format.js';
import { ActionButton } from './widgets.jsx';

/* Pause or resume; the queue's namespace goes with it, since names repeat across namespaces. */
export async function setQueuePaused(q, paused) {
  return post(url(`/v1/queues/${encodeURIComponent(q.name)}/${paused ? 'pause' : 'resume'}`, { namespace: q.namespace }));
}

export function PauseToggle({ queue, onDone }) {
  return queue.paused
    ? <ActionButton label="Resume" testid="action-resume" onRun={() => onDone(setQueuePaused(queue, false), `Resumed ${queue.name}.`)} />
    : <ActionButton label="Pause" testid="action-pause" onRun={() => onDone(setQueuePaused(queue, true), `Paused ${queue.name}: workers claim nothing from it until resumed.`)} />;
}

export function limits(q) {
  const parts = [];
  if (q.concurrency_limit) parts.push(`${q.concurrency_limit} at once`);
  if (q.key_concurrency_limit) parts.push(`${q.key_concurrency_limit} per key`);
  if (q.rate_limit) parts.push(`${q.rate_limit.limit} per ${duration(q.rate_limit.period_ms || 1000)}`);
  return parts.length ? parts.join(', ') : 'none';
}
