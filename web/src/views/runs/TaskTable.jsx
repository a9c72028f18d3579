/*
 * TaskTable.jsx — a run's tasks as a sortable, filterable table with row
 * selection and bulk cancel. Rows are windowed (useWindow), so a run of
 * 10,000 tasks renders the few dozen rows in view.
 */
import { useMemo, useState } from 'preact/hooks';
import { post } from '../../app/api.js';
import { toast } from '../../app/toast.js';
import { fmtDuration, fmtTime, ms, taskDuration, errorText } from './format.js';
import { isTerminal, kindOf, STATUSES } from './status.js';
import { eachLimited } from './pool.js';
import { useWindow } from './useWindow.js';
import { StatusBadge } from './widgets.jsx';
import Dialog from '../../components/Dialog.jsx';
import './table.css';

const ROW = 30;
const CANCEL_CONCURRENCY = 8;

const COLUMNS = [
  { id: 'name', label: 'Name', key: (t) => t.name || '' },
  { id: 'kind', label: 'Kind', key: kindOf },
  { id: 'status', label: 'Status', key: (t) => STATUSES.indexOf(t.status) },
  { id: 'created', label: 'Created', key: (t) => ms(t.created_at) ?? -1 },
  { id: 'started', label: 'Started', key: (t) => ms(t.started_at) ?? -1 },
  { id: 'ended', label: 'Ended', key: (t) => ms(t.ended_at) ?? -1 },
  { id: 'attempt', label: 'Attempt', key: (t) => t.attempt || 0 },
  { id: 'duration', label: 'Duration', key: (t) => taskDuration(t) ?? -1 },
];

/* Names sort as people read them: task-9 before task-10. */
const collator = new Intl.Collator(undefined, { numeric: true });

function compare(a, b) {
  if (typeof a === 'string' || typeof b === 'string') return collator.compare(String(a), String(b));
  return a - b;
}

export default function TaskTable({ tasks, onSelect, selectedId }) {
  const [sort, setSort] = useState({ by: 'created', desc: false });
  const [nameFilter, setNameFilter] = useState('');
  const [kindFilter, setKindFilter] = useState('');
  const [picked, setPicked] = useState(new Set());
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);

  const rows = useMemo(() => {
    const n = nameFilter.trim().toLowerCase();
    const k = kindFilter.trim().toLowerCase();
    const col = COLUMNS.find((c) => c.id === sort.by);
    const list = tasks.filter((t) => (!n || (t.name || '').toLowerCase().includes(n))
      && (!k || kindOf(t).toLowerCase().includes(k)));
    const keyed = list.map((t) => [col.key(t), t]);
    keyed.sort((a, b) => compare(a[0], b[0]) * (sort.desc ? -1 : 1));
    return keyed.map((x) => x[1]);
  }, [tasks, sort, nameFilter, kindFilter]);

  const win = useWindow(rows.length, ROW);
  const cancelable = rows.filter((t) => picked.has(t.id) && !isTerminal(t.status));
  const allPicked = rows.length > 0 && rows.every((t) => picked.has(t.id));

  const pick = (id) => {
    const next = new Set(picked);
    if (next.has(id)) next.delete(id); else next.add(id);
    setPicked(next);
  };
  const pickAll = () => setPicked(allPicked ? new Set() : new Set(rows.map((t) => t.id)));
  const sortBy = (id) => setSort((s) => ({ by: id, desc: s.by === id ? !s.desc : false }));

  const bulkCancel = async () => {
    setConfirming(false);
    setBusy(true);
    const { ok, failed } = await eachLimited(cancelable, CANCEL_CONCURRENCY,
      (t) => post(`/v1/tasks/${t.id}/cancel`, { reason: 'bulk cancel from the web UI' }));
    setBusy(false);
    setPicked(new Set());
    toast(`Canceled ${ok.length} task${ok.length === 1 ? '' : 's'}${failed.length ? `, ${failed.length} failed` : ''}`,
      failed.length ? 'error' : 'info');
    for (const f of failed.slice(0, 3)) toast(`${f.item.name}: ${errorText(f.error)}`, 'error');
  };

  return (
    <div class="rv-task-table">
      <div class="rv-toolbar">
        <input type="search" placeholder="Filter by name" value={nameFilter} aria-label="Filter by name"
          data-testid="table-filter-name" data-shortcut="search" onInput={(e) => setNameFilter(e.currentTarget.value)} />
        <input type="search" placeholder="Filter by kind" value={kindFilter} aria-label="Filter by kind"
          data-testid="table-filter-kind" onInput={(e) => setKindFilter(e.currentTarget.value)} />
        <span class="rv-muted">{rows.length} shown, {picked.size} selected</span>
        <button type="button" class="danger" disabled={busy || cancelable.length === 0}
          data-testid="bulk-cancel" onClick={() => setConfirming(true)}>
          {busy ? 'Canceling…' : `Cancel selected (${cancelable.length})`}
        </button>
      </div>
      <div class="rv-table-window" ref={win.ref}>
        <table class="rv-table" data-testid="task-table">
          <thead>
            <tr>
              <th><input type="checkbox" checked={allPicked} onChange={pickAll} aria-label="Select all shown" /></th>
              {COLUMNS.map((c) => (
                <th key={c.id} class="rv-sortable" onClick={() => sortBy(c.id)} data-testid={`sort-${c.id}`}
                  aria-sort={sort.by === c.id ? (sort.desc ? 'descending' : 'ascending') : 'none'}>
                  {c.label}{sort.by === c.id ? (sort.desc ? ' ▼' : ' ▲') : ''}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {win.before > 0 && <tr style={{ height: `${win.before}px` }} aria-hidden="true" />}
            {rows.slice(win.first, win.last).map((t) => (
              <tr key={t.id} class={`rv-row${t.id === selectedId ? ' selected' : ''}`} data-testid="task-row" data-id={t.id}
                onClick={(e) => { if (!e.target.closest('input')) onSelect(t.id); }}>
                <td><input type="checkbox" checked={picked.has(t.id)} onChange={() => pick(t.id)} aria-label={`Select ${t.name}`} /></td>
                <td class="rv-name">{t.name}</td>
                <td>{kindOf(t)}</td>
                <td><StatusBadge status={t.status} /></td>
                <td>{fmtTime(t.created_at)}</td>
                <td>{fmtTime(t.started_at)}</td>
                <td>{fmtTime(t.ended_at)}</td>
                <td>{t.attempt ?? '—'}</td>
                <td>{fmtDuration(taskDuration(t))}</td>
              </tr>
            ))}
            {win.after > 0 && <tr style={{ height: `${win.after}px` }} aria-hidden="true" />}
          </tbody>
        </table>
      </div>
      {confirming && (
        <Dialog open title="Cancel tasks" onClose={() => setConfirming(false)} testid="confirm-bulk-cancel">
          <p>Cancel {cancelable.length} unfinished task{cancelable.length === 1 ? '' : 's'}? This cannot be undone.</p>
          <div class="rv-actions">
            <button type="button" onClick={() => setConfirming(false)}>Keep them</button>
            <button type="button" class="primary" onClick={bulkCancel} data-testid="confirm-bulk-cancel-ok">Cancel tasks</button>
          </div>
        </Dialog>
      )}
    </div>
  );
}
