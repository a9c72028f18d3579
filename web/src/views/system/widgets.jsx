/*
 * widgets.jsx — small pieces every system view uses: the view root with its
 * ready marker, error and notice boxes, status chips, a JSON block, the
 * "Load more" pager, a scrolling table frame, a detail panel and a button
 * that asks before an action that cannot be undone.
 */
import { useState } from 'preact/hooks';
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

/* The server's message, then one line per field at fault ("path: problem"). */
export function ErrorBox({ error, hint }) {
  if (!error) return null;
  const details = (error.body && error.body.error && error.body.error.details) || [];
  return (
    <div class="sys-error" role="alert" data-testid="error">
      <strong>{error.status ? `${error.status} ` : ''}{error.message || String(error)}</strong>
      {error.field ? <div>Field: {error.field}</div> : null}
      {details.map((d) => <div key={d}>{d}</div>)}
      {hint ? <div class="sys-muted">{hint}</div> : null}
    </div>
  );
}

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

/* The shared status colours, with their hex values until the theme defines them. */
const STATUS_HEX = {
  waiting: '#666666', pending: '#f39c12', claimed: '#1abc9c', running: '#3498db', succeeded: '#27ae60',
  failed: '#e74c3c', paused: '#9b59b6', canceled: '#95a5a6', skipped: '#b0b7c3',
};
/* Other states shown as chips, by the status whose colour fits them. */
const STATUS_ALIAS = {
  success: 'succeeded', failure: 'failed', active: 'running', retrying: 'pending', draining: 'paused', stale: 'canceled',
};

export function statusColor(status) {
  const s = STATUS_ALIAS[status] || status;
  return STATUS_HEX[s] ? `var(--status-${s}, ${STATUS_HEX[s]})` : 'var(--muted, #6b7280)';
}

/* A coloured status label. */
export function Chip({ status, testid }) {
  const s = String(status || 'unknown');
  return <span class="sys-chip" data-testid={testid} data-status={s} style={{ '--chip': statusColor(s) }}>{s}</span>;
}

export function Json({ value }) {
  if (value === undefined) return <span class="sys-muted">—</span>;
  return <pre class="sys-json">{JSON.stringify(value, null, 2)}</pre>;
}

export function LoadMore({ list }) {
  if (!list.next) return null;
  return (
    <button class="sys-more" data-testid="load-more" disabled={list.loading} onClick={list.loadMore}>
      {list.loading ? 'Loading…' : 'Load more'}
    </button>
  );
}

export function Empty({ children }) {
  return <p class="sys-empty" data-testid="empty">{children}</p>;
}

/* Wide tables scroll sideways inside this frame instead of widening the page. */
export function TableFrame({ children }) {
  return <div class="sys-table-frame"><table class="sys-table">{children}</table></div>;
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
    <dl class="sys-fields">
      {rows.map(([k, v]) => [<dt key={`${k}-k`}>{k}</dt>, <dd key={`${k}-v`}>{v}</dd>])}
    </dl>
  );
}

/*
 * A button for an action. With `confirm` it first asks (inline, so tests and
 * keyboards need no native dialog); while the action runs it is disabled.
 */
export function ActionButton({ label, confirm, onRun, testid, danger, disabled }) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const run = async () => {
    setAsking(false);
    setBusy(true);
    try { await onRun(); } finally { setBusy(false); }
  };
  if (asking) {
    return (
      <span class="sys-confirm" data-testid="confirm">
        <span>{confirm}</span>
        <button class={danger ? 'sys-danger' : ''} data-testid="confirm-yes" onClick={run}>Yes</button>
        <button data-testid="confirm-no" onClick={() => setAsking(false)}>No</button>
      </span>
    );
  }
  return (
    <button class={danger ? 'sys-danger' : ''} data-testid={testid} disabled={busy || disabled}
      onClick={(e) => { e.stopPropagation(); if (confirm) setAsking(true); else run(); }}>
      {busy ? '…' : label}
    </button>
  );
}
