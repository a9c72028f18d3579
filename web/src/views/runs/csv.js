/*
 * csv.js — a run's tasks as CSV with ArcRun's columns, built in the
 * browser and saved through a Blob download.
 *
 * ArcRun's success/failures count reports a task received; weft keeps
 * attempts instead: success is 1 for a succeeded task, failures the
 * attempts that did not succeed. weft has no expected_count (empty), and
 * batch_id is the run's id.
 */
import { kindOf } from './status.js';

export const CSV_COLUMNS = ['id', 'name', 'kind', 'status', 'created_at', 'started_at', 'ended_at',
  'success', 'failures', 'expected_count', 'batch_id'];

function failedAttempts(t) {
  const n = t.attempt || 0;
  if (t.status === 'failure') return n;
  return Math.max(0, n - 1);
}

function cell(v) {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function tasksCsv(tasks, runId) {
  const rows = [CSV_COLUMNS.join(',')];
  for (const t of tasks) {
    rows.push([t.id, t.name, kindOf(t), t.status, t.created_at, t.started_at, t.ended_at,
      t.status === 'success' ? 1 : 0, failedAttempts(t), '', t.run_id || runId].map(cell).join(','));
  }
  return `${rows.join('\r\n')}\r\n`;
}

export function downloadCsv(tasks, runId) {
  const blob = new Blob([tasksCsv(tasks, runId)], { type: 'text/csv;charset=utf-8' });
  const link = document.createElement('a');
  link.href = URL.createObjectURL(blob);
  link.download = `run-${runId}.csv`;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}
