/*
 * DataTable — rows as a table that scrolls sideways inside its box.
 *   columns: [{key, label, render(row) → node (default row[key]),
 *             sort: true | (a, b) → number (sortable by a click on the
 *             header; true compares row[key]), class, title}];
 *   rows: the rows; rowKey(row) → unique key (default row.id);
 *   selectable: checkboxes per row and for all; selected: Set of keys;
 *   onSelect(Set) (controlled: pass both);
 *   onRowClick(row); rowTestid: data-testid of each <tr> (default "row");
 *   sort / onSort({key, dir}): controlled sort, for server-side sorting;
 *   without them the table sorts the rows it has.
 *   empty: what to show when there are no rows.
 */
import { useState } from 'preact/hooks';
import Empty from './Empty.jsx';

function compare(a, b) {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

export default function DataTable({
  columns, rows, rowKey = (r) => r.id, selectable, selected, onSelect, onRowClick,
  rowTestid = 'row', sort: sortProp, onSort, empty, testid = 'table',
}) {
  const [ownSort, setOwnSort] = useState(null);
  const sort = onSort ? sortProp : ownSort;
  const setSort = onSort || setOwnSort;
  let shown = rows || [];
  if (!onSort && sort) {
    const col = columns.find((c) => c.key === sort.key);
    if (col && col.sort) {
      const cmp = typeof col.sort === 'function' ? col.sort : (a, b) => compare(a[col.key], b[col.key]);
      shown = [...shown].sort((a, b) => (sort.dir === 'desc' ? -cmp(a, b) : cmp(a, b)));
    }
  }
  const keys = shown.map(rowKey);
  const sel = selected || new Set();
  const allOn = keys.length > 0 && keys.every((k) => sel.has(k));
  const toggle = (k) => {
    const next = new Set(sel);
    if (next.has(k)) next.delete(k); else next.add(k);
    onSelect(next);
  };
  const clickHeader = (c) => {
    if (!c.sort) return;
    const dir = sort && sort.key === c.key && sort.dir === 'asc' ? 'desc' : 'asc';
    setSort({ key: c.key, dir });
  };
  return (
    <div class="table-wrap" data-testid={testid}>
      <table class="data">
        <thead>
          <tr>
            {selectable && (
              <th class="select">
                <input type="checkbox" aria-label="Select all" checked={allOn}
                  onChange={() => onSelect(allOn ? new Set() : new Set(keys))} />
              </th>
            )}
            {columns.map((c) => {
              const on = sort && sort.key === c.key;
              return (
                <th key={c.key} class={`${c.class || ''} ${c.sort ? 'sortable' : ''}`} title={c.title}
                  aria-sort={on ? (sort.dir === 'asc' ? 'ascending' : 'descending') : undefined}
                  onClick={() => clickHeader(c)}>
                  {c.label}{on ? (sort.dir === 'asc' ? ' ▲' : ' ▼') : ''}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>
          {shown.map((r, i) => (
            <tr key={keys[i]} data-testid={rowTestid} class={onRowClick ? 'clickable' : ''}
              onClick={onRowClick ? (e) => { if (!e.target.closest('a, button, input')) onRowClick(r); } : undefined}>
              {selectable && (
                <td class="select">
                  <input type="checkbox" aria-label="Select" checked={sel.has(keys[i])} onChange={() => toggle(keys[i])} />
                </td>
              )}
              {columns.map((c) => <td key={c.key} class={c.class}>{c.render ? c.render(r) : fmt(r[c.key])}</td>)}
            </tr>
          ))}
        </tbody>
      </table>
      {shown.length === 0 && (empty === undefined ? <Empty /> : empty)}
    </div>
  );
}

const fmt = (v) => (v === null || v === undefined || v === '' ? '—' : typeof v === 'object' ? JSON.stringify(v) : String(v));
