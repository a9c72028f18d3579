/*
 * ui.jsx — small widgets the durable views share: JSON blocks, times,
 * "Load more", action buttons and the view root, over the shell's shared
 * components (status chips and error boxes come from there as they are).
 */
import { useState } from 'preact/hooks';
import Empty from '../../components/Empty.jsx';
import ErrorBox from '../../components/ErrorBox.jsx';
import JsonView from '../../components/JsonView.jsx';
import SharedTime, { formatDuration } from '../../components/Time.jsx';
import './durable.css';

export const dash = '—';

export { default as StatusChip } from '../../components/StatusChip.jsx';
export { default as ErrorBox } from '../../components/ErrorBox.jsx';

export function Json({ value, testid }) {
  if (value === undefined || value === null) return <span class="muted" data-testid={testid}>{dash}</span>;
  return <div data-testid={testid} data-json={JSON.stringify(value)}><JsonView value={value} /></div>;
}

export function Time({ at }) {
  return <SharedTime value={at} />;
}

/* The time between two RFC 3339 times, as "1.2 s"; "—" when either is missing. */
export function duration(from, to) {
  return from && to ? formatDuration(Date.parse(to) - Date.parse(from)) : dash;
}

/* "workflow order-flow on orders": a target in a few words. */
export function targetSummary(t) {
  if (!t || !t.kind) return dash;
  if (t.kind === 'template') return `template ${t.template || dash}`;
  if (t.kind === 'workflow') return `workflow ${t.type || dash} on ${t.queue || dash}`;
  return `job on ${t.queue || dash}`;
}

export function LoadMore({ page }) {
  if (!page.next) return null;
  return (
    <button type="button" class="d-more" data-testid="load-more" disabled={page.loading} onClick={page.loadMore}>
      {page.loading ? 'Loading…' : 'Load more'}
    </button>
  );
}

export { default as Empty } from '../../components/Empty.jsx';

/*
 * A list read by usePaged, as a table: the list's error, its empty sentence or
 * the table (children: its thead and tbody; testid on the table), "Load more".
 */
export function PagedTable({ page, testid, empty, errorTestid, children }) {
  return (
    <>
      <ErrorBox error={page.error} testid={errorTestid} />
      {page.ready && !page.error && page.items.length === 0 && <Empty>{empty}</Empty>}
      {page.items.length > 0 && (
        <div class="table-wrap"><table class="data" data-testid={testid}>{children}</table></div>
      )}
      <LoadMore page={page} />
    </>
  );
}

/*
 * A button for an action that can be undone (a retry): it runs at once and
 * shows the server's error beside it; onDone lets the caller refetch.
 */
export function ActionButton({ label, action, onDone, testid }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const go = async () => {
    setBusy(true); setError(null);
    try {
      const r = await action();
      if (onDone) onDone(r);
    } catch (e) { setError(e); }
    setBusy(false);
  };
  return (
    <span class="d-action">
      <button type="button" data-testid={testid} disabled={busy} onClick={go}>{label}</button>
      <ErrorBox error={error} testid={`${testid}-error`} />
    </span>
  );
}

/* Parses a JSON text field; '' gives `empty`. Throws an Error naming the field. */
export function parseJsonField(text, field, empty = null) {
  if (!text.trim()) return empty;
  try { return JSON.parse(text); } catch (e) {
    const err = new Error(`${field} is not valid JSON: ${e.message}`);
    err.details = [`${field}: not valid JSON`];
    throw err;
  }
}

/* The root of each view, carrying the ready marker the tests and the bench wait for. */
export function ViewRoot({ name, ready, error, children }) {
  return (
    <section class="view" data-view={name} data-ready={ready ? 'true' : undefined}
      data-error={error ? 'true' : undefined}>
      {children}
    </section>
  );
}
