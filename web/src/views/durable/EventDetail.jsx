/*
 * EventDetail — one published event (GET /v1/events/{id}) with the run
 * each subscription started for it and that run's outcome now.
 */
import { get } from '../../app/api.js';
import { href } from '../../app/router.js';
import { useLoad } from './data.js';
import { Empty, ErrorBox, Json, StatusChip, Time, ViewRoot, dash } from './ui.jsx';

/* What a delivery's run_id names: a workflow run, a template's run, or a job (a task). */
const PAGE_OF = { workflow: '/workflows/', template: '/runs/', job: '/tasks/' };

function RunLink({ d }) {
  if (!d.run_id) return <span class="muted">{dash}</span>;
  const to = `${PAGE_OF[d.target_kind] || '/runs/'}${d.run_id}`;
  return <a href={href(to)} data-testid="delivery-run">{d.run_id}</a>;
}

export default function EventDetail({ id, namespace }) {
  const ev = useLoad(() => get(`/v1/events/${encodeURIComponent(id)}`, namespace ? { namespace } : {}), `${namespace}/${id}`);
  const e = ev.data;
  const deliveries = (e && e.deliveries) || [];
  return (
    <ViewRoot name="event" ready={ev.ready} error={ev.error}>
      <nav class="crumbs" aria-label="Breadcrumb"><a href={href('/subscriptions')}>Events and subscriptions</a> /</nav>
      <h1>Event <span data-testid="event-id">{id}</span></h1>
      <ErrorBox error={ev.error} />
      {e && (
        <>
          <dl class="fields">
            <dt>Topic</dt><dd data-testid="event-topic">{e.topic || dash}</dd>
            <dt>Namespace</dt><dd>{e.namespace || dash}</dd>
            <dt>Source</dt><dd>{e.source || dash}</dd>
            <dt>Published</dt><dd><Time at={e.created_at} /></dd>
          </dl>
          <h2>Payload</h2>
          <Json value={e.payload} testid="event-payload" />
          <h2>Deliveries</h2>
          {deliveries.length === 0 ? <Empty>No subscription matched this event.</Empty> : (
            <div class="table-wrap">
              <table class="data" data-testid="event-deliveries">
                <thead><tr><th>Subscription</th><th>Target</th><th>Run</th><th>Outcome</th><th>At</th></tr></thead>
                <tbody>
                  {deliveries.map((d) => (
                    <tr key={d.subscription} data-testid="event-delivery" data-subscription={d.subscription}>
                      <td><a href={href('/subscriptions', { subscription: d.subscription, namespace: e.namespace })}>{d.subscription}</a></td>
                      <td>{d.target_kind || dash}</td>
                      <td><RunLink d={d} /></td>
                      <td><StatusChip status={d.outcome} testid="delivery-outcome" /></td>
                      <td><Time at={d.created_at} /></td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
    </ViewRoot>
  );
}
