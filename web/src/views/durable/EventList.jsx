/*
 * EventList — published events (GET /v1/events), newest first, of one
 * topic or all, paged by cursor. useEvents() loads them; the view that
 * shows the list owns the page, so its ready marker waits for it.
 */
import { get, nsQuery } from '../../app/api.js';
import { href } from '../../app/router.js';
import { usePaged } from './data.js';
import { dash, PagedTable, Time } from './ui.jsx';

/* namespace: a fixed one (a subscription's), else the shell's setting. */
export function useEvents(topic, namespace) {
  return usePaged(async (cursor) => {
    const q = { topic, cursor, limit: 50 };
    const r = await get('/v1/events', namespace ? { namespace, ...q } : nsQuery(q));
    return { items: r.events || [], next: r.next_cursor };
  }, `${namespace || ''}/${topic || ''}`);
}

export default function EventList({ page }) {
  return (
    <div>
      <PagedTable page={page} testid="event-list" empty="No events published." errorTestid="events-error">
        <thead><tr><th>Event</th><th>Topic</th><th>Namespace</th><th>Source</th><th>Published</th></tr></thead>
        <tbody>
          {page.items.map((e) => (
            <tr key={`${e.namespace}/${e.id}`} data-testid="event-row" data-id={e.id}>
              <td><a href={href('/subscriptions', { event: e.id, namespace: e.namespace })} data-testid="event-link">{e.id}</a></td>
              <td>{e.topic || dash}</td>
              <td>{e.namespace || dash}</td>
              <td>{e.source || dash}</td>
              <td><Time at={e.created_at} /></td>
            </tr>
          ))}
        </tbody>
      </PagedTable>
    </div>
  );
}
