/*
 * Subscriptions — event subscriptions (GET /v1/subscriptions), recent
 * events (GET /v1/events, by topic) and a form to publish a test event.
 * `?subscription=N` opens a subscription, `?event=ID` an event with its
 * deliveries (the route table gives this view no '/subscriptions/ID' page).
 */
import { get, nsQuery } from '../../app/api.js';
import { href, navigate } from '../../app/router.js';
import { usePaged } from './data.js';
import EventDetail from './EventDetail.jsx';
import EventList, { useEvents } from './EventList.jsx';
import PublishForm from './PublishForm.jsx';
import SubscriptionDetail from './SubscriptionDetail.jsx';
import { dash, PagedTable, targetSummary, Time, ViewRoot } from './ui.jsx';

function SubscriptionTable({ page }) {
  return (
    <div>
      <PagedTable page={page} testid="subscription-list" empty="No subscriptions. Create one with POST /v1/subscriptions.">
        <thead><tr><th>Name</th><th>Topic</th><th>Namespace</th><th>Target</th><th>Created</th></tr></thead>
        <tbody>
          {page.items.map((s) => (
            <tr key={`${s.namespace}/${s.name}`} data-testid="subscription-row" data-name={s.name}>
              <td><a href={href('/subscriptions', { subscription: s.name, namespace: s.namespace })} data-testid="subscription-link">{s.name}</a></td>
              <td>{s.topic || dash}</td>
              <td>{s.namespace || dash}</td>
              <td>{targetSummary(s.target)}</td>
              <td><Time at={s.created_at} /></td>
            </tr>
          ))}
        </tbody>
      </PagedTable>
    </div>
  );
}

function Overview({ topic }) {
  const subs = usePaged(async (cursor) => {
    const r = await get('/v1/subscriptions', nsQuery({ cursor, limit: 50 }));
    return { items: r.subscriptions || [], next: r.next_cursor };
  }, '');
  const events = useEvents(topic, '');
  const onFilter = (e) => {
    e.preventDefault();
    navigate('/subscriptions', { topic: new FormData(e.currentTarget).get('topic') }, { replace: true });
  };
  return (
    <ViewRoot name="subscriptions" ready={subs.ready && events.ready} error={subs.error || events.error}>
      <h1>Events and subscriptions</h1>
      <h2>Subscriptions</h2>
      <SubscriptionTable page={subs} />
      <h2>Recent events</h2>
      <form class="toolbar" onSubmit={onFilter}>
        <input name="topic" placeholder="topic" defaultValue={topic || ''} aria-label="Topic" data-testid="filter-topic" data-shortcut="search" />
        <button type="submit">Filter</button>
      </form>
      <EventList page={events} />
      <h2>Publish a test event</h2>
      <PublishForm onDone={() => { events.reload(); }} />
    </ViewRoot>
  );
}

export default function Subscriptions({ route }) {
  const q = route.query;
  if (q.event) return <EventDetail id={q.event} namespace={q.namespace || ''} />;
  if (q.subscription) return <SubscriptionDetail name={q.subscription} namespace={q.namespace || ''} />;
  return <Overview topic={q.topic || ''} />;
}
