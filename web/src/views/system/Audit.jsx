/*
 * Audit log — who changed what (GET /v1/audit), newest first, filtered by
 * time range, actor, action and object. Only admin tokens may read it; any
 * other token gets the server's 403, shown with what to do about it.
 */
import { useState } from 'preact/hooks';
import useCursorList from './useCursorList.js';
import { show, time } from './format.js';
import { Empty, ErrorBox, Json, LoadMore, TableFrame, ViewRoot } from './widgets.jsx';

const FILTERS = [
  ['actor', 'Actor'], ['action', 'Action'], ['object_kind', 'Object kind'], ['object_id', 'Object ID'],
];

/* A datetime-local box's value ('2026-12-05T16:50', local time) as RFC 3339 UTC. */
function isoOrEmpty(local) {
  if (!local) return '';
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

export default function Audit() {
  const [form, setForm] = useState({ since: '', until: '', actor: '', action: '', object_kind: '', object_id: '' });
  const [applied, setApplied] = useState({});
  const list = useCursorList('/v1/audit', 'entries', applied, 100);
  const forbidden = list.error && list.error.status === 403;

  const apply = (e) => {
    e.preventDefault();
    const q = { since: isoOrEmpty(form.since), until: isoOrEmpty(form.until) };
    for (const [k] of FILTERS) q[k] = form[k].trim();
    setApplied(q);
  };
  const box = (k, label, type = 'text') => (
    <label key={k}>{label}<input type={type} data-testid={`filter-${k}`} value={form[k]}
      onInput={(e) => setForm({ ...form, [k]: e.currentTarget.value })} /></label>
  );

  return (
    <ViewRoot name="audit" title="Audit log" ready={list.ready} error={list.error}>
      <form class="sys-filters" onSubmit={apply}>
        {box('since', 'Since', 'datetime-local')}
        {box('until', 'Until', 'datetime-local')}
        {FILTERS.map(([k, label]) => box(k, label))}
        <button type="submit" data-testid="filter-apply">Filter</button>
      </form>
      <ErrorBox error={list.error}
        hint={forbidden ? 'The audit log is for admin tokens only. Set an admin token to read it.' : null} />
      {list.ready && !list.error && list.items.length === 0 ? <Empty>No audit entries match.</Empty> : null}
      {list.items.length > 0 ? (
        <TableFrame>
          <thead><tr><th>At</th><th>Actor</th><th>Action</th><th>Object</th><th>Namespace</th><th>Detail</th></tr></thead>
          <tbody>
            {list.items.map((a) => (
              <tr key={a.id} data-testid="audit-row">
                <td>{time(a.at)}</td>
                <td>{show(a.actor)}</td>
                <td>{show(a.action)}</td>
                <td>{show(a.object_kind)} {show(a.object_id)}</td>
                <td>{show(a.namespace)}</td>
                <td>{a.detail && Object.keys(a.detail).length
                  ? <details><summary>{Object.keys(a.detail).join(', ')}</summary><Json value={a.detail} /></details> : '—'}</td>
              </tr>
            ))}
          </tbody>
        </TableFrame>
      ) : null}
      <LoadMore list={list} />
    </ViewRoot>
  );
}
