/*
 * widgets.jsx — small pieces every system view uses: the view root with its
 * ready marker, notice boxes, a JSON block, the "Load more" pager, a scrolling table frame, a detail panel and a button
 * that asks before an action that cannot be undone.
 */
import { useState } from 'preact/hooks';
import ConfirmButton from '../../components/Confirm.jsx';
import SharedEmpty from '../../components/Empty.jsx';
import JsonView from '../../components/JsonView.jsx';
import ErrorBox from '../../components/ErrorBox.jsx';
import './system.css';

/* The root of a view: data-ready once the first answer (or error) is shown. */
export function ViewRoot({ name, title, ready, error, children, tools }) {
  return (
    <section class="view sys-view" data-view={name} data-ready={ready ? 'true' : undefined}
      data-error={error ? 'true' : undefined}>
      <header class="sys-head">
        <h1>{title}</h1>
        {tools ? <div class="sys-tools">{tools}</div> : null}
      </header>
      {children}
    </section>
  );
}

export { default as ErrorBox } from '../../components/ErrorBox.jsx';

/* The outcome of the last action, success or failure. */
export function Notice({ notice, onClose }) {
  if (!notice) return null;
  if (notice.error) return <div class="sys-notice-wrap"><ErrorBox error={notice.error} /><button class="sys-link" onClick={onClose}>Dismiss</button></div>;
  return (
    <div class="sys-notice" role="status" data-testid="notice">
      {notice.text} <button class="sys-link" onClick={onClose}>Dismiss</button>
    </div>
  );
}

export { default as Chip, statusColor } from '../../components/StatusChip.jsx';

export function Json({ value }) {
  if (value === undefined) return <span class="muted">—</span>;
  return <div class="sys-json"><JsonView value={value} /></div>;
}

export function LoadMore({ list }) {
  if (!list.next) return null;
  return (
    <button class="sys-more" data-testid="load-more" disabled={list.loading} onClick={list.loadMore}>
      {list.loading ? 'Loading…' : 'Load more'}
    </button>
  );
}

export const Empty = SharedEmpty;

/*
 * The body of a list view: the list's error, its empty sentence or its table
 * (children: the thead and tbody), "Load more", and beside it the panel of the
 * item opened (panel, or null).
 */
export function ListWithPanel({ list, empty, panel, children }) {
  return (
    <div class="sys-split">
      <div class="sys-main">
        <ErrorBox error={list.error} />
        {list.ready && !list.error && list.items.length === 0 ? <Empty>{empty}</Empty> : null}
        {list.items.length > 0 ? <TableFrame>{children}</TableFrame> : null}
        <LoadMore list={list} />
      </div>
      {panel}
    </div>
  );
}

/* Wide tables scroll sideways inside this frame instead of widening the page. */
export function TableFrame({ children }) {
  return <div class="table-wrap"><table class="data">{children}</table></div>;
}

export function Panel({ title, onClose, children, testid = 'detail-panel' }) {
  return (
    <aside class="sys-panel" data-testid={testid}>
      <header class="sys-panel-head">
        <h2>{title}</h2>
        <button class="sys-link" data-testid="panel-close" onClick={onClose} aria-label="Close">✕</button>
      </header>
      {children}
    </aside>
  );
}

/* Two-column list of label/value pairs. */
export function Fields({ rows }) {
  return (
    <dl class="fields">
      {rows.map(([k, v]) => [<dt key={`${k}-k`}>{k}</dt>, <dd key={`${k}-v`}>{v}</dd>])}
    </dl>
  );
}

/*
 * A button for an action. With `confirm` (the question) it opens the shared
 * confirmation dialog first; while the action runs it is disabled. onRun
 * reports its own outcome, so it never rejects.
 */
export function ActionButton({ label, confirm, onRun, testid, danger, disabled }) {
  const [busy, setBusy] = useState(false);
  if (confirm) {
    return <ConfirmButton label={label} message={confirm} onConfirm={onRun} testid={testid} danger={danger} disabled={disabled} />;
  }
  const run = async (e) => {
    e.stopPropagation();
    setBusy(true);
    try { await onRun(); } finally { setBusy(false); }
  };
  return <button type="button" class={danger ? 'danger' : ''} data-testid={testid} disabled={busy || disabled} onClick={run}>{label}</button>;
}

/* Rows that open a panel on click open it on Enter too, for keyboard users. */
export function openOnEnter(e) {
  if (e.key === 'Enter' && e.target === e.currentTarget) e.currentTarget.click();
}
