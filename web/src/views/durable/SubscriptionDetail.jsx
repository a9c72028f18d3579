/*
 * SubscriptionDetail — one event subscription (GET /v1/subscriptions/{name}):
 * its topic and target, the recent events of its topic, and delete.
 */
import { del, get } from '../../app/api.js';
import { href, navigate } from '../../app/router.js';
import ConfirmButton from '../../components/Confirm.jsx';
import { useLoad } from './data.js';
import EventList, { useEvents } from './EventList.jsx';
import { ErrorBox, Json, Time, ViewRoot, dash } from './ui.jsx';

export default function SubscriptionDetail({ name, namespace }) {
  const path = `/v1/subscriptions/${encodeURIComponent(name)}`;
  const query = namespace ? { namespace } : undefined;
  const sub = useLoad(() => get(path, query), `${namespace}/${name}`);
  const s = sub.data;
  /* A prefix subscription "a.*" has no single topic to filter events by. */
  const exactTopic = s && s.match === 'exact' && s.topic !== '*' ? s.topic : '';
  const events = useEvents(exactTopic, namespace);
  return (
    <ViewRoot name="subscription" ready={sub.ready} error={sub.error}>
      <nav class="crumbs" aria-label="Breadcrumb"><a href={href('/subscriptions')}>Events and subscriptions</a> /</nav>
      <h1>Subscription {name}</h1>
      <ErrorBox error={sub.error} />
      {s && (
        <>
          <dl class="fields">
            <dt>Namespace</dt><dd>{s.namespace || dash}</dd>
            <dt>Topic</dt><dd data-testid="subscription-topic">{s.topic || dash} <span class="muted">({s.match || dash})</span></dd>
            <dt>Created</dt><dd><Time at={s.created_at} /></dd>
          </dl>
          <h2>Target</h2>
          <Json value={s.target} testid="subscription-target" />
          <div class="d-actions">
            <ConfirmButton label="Delete" title="Delete this subscription?" testid="action-delete" danger
              message="Events published from now on start nothing for it."
              onConfirm={async () => { await del(path, { query }); navigate('/subscriptions'); }} />
          </div>
          {exactTopic && (<><h2>Recent events of {exactTopic}</h2><EventList page={events} /></>)}
        </>
      )}
    </ViewRoot>
  );
}
