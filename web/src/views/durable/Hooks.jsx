/*
 * Hooks — incoming webhooks (GET /v1/hooks), paged by cursor;
 * `?name=N&namespace=NS` opens one (the route table gives hooks no
 * '/hooks/ID' page).
 */
import { get, nsQuery } from '../../app/api.js';
import { href } from '../../app/router.js';
import { usePaged } from './data.js';
import HookDetail from './HookDetail.jsx';
import { dash, PagedTable, targetSummary, Time, ViewRoot } from './ui.jsx';

function HookList() {
  const page = usePaged(async (cursor) => {
    const r = await get('/v1/hooks', nsQuery({ cursor, limit: 50 }));
    return { items: r.hooks || [], next: r.next_cursor };
  }, '');
  return (
    <ViewRoot name="hooks" ready={page.ready} error={page.error}>
      <h1>Hooks</h1>
      <PagedTable page={page} testid="hook-list" empty="No hooks. Create one with POST /v1/hooks.">
        <thead><tr><th>Name</th><th>Namespace</th><th>Target</th><th>Scheme</th><th>Deliveries</th><th>Last delivery</th></tr></thead>
        <tbody>
          {page.items.map((h) => (
            <tr key={`${h.namespace}/${h.name}`} data-testid="hook-row" data-name={h.name}>
              <td><a href={href('/hooks', { name: h.name, namespace: h.namespace })} data-testid="hook-link">{h.name}</a></td>
              <td>{h.namespace || dash}</td>
              <td>{targetSummary(h.target)}</td>
              <td>{h.scheme || dash}</td>
              <td>{h.deliveries ?? dash}</td>
              <td><Time at={h.last_delivery_at} /></td>
            </tr>
          ))}
        </tbody>
      </PagedTable>
    </ViewRoot>
  );
}

export default function Hooks({ route }) {
  const q = route.query;
  if (q.name) return <HookDetail name={q.name} namespace={q.namespace || ''} />;
  return <HookList />;
}
