/*
 * PublishForm — publishes a test event (POST /v1/events) and links to it,
 * so an operator can check which subscriptions it starts.
 */
import { useState } from 'preact/hooks';
import { namespace as currentNamespace, post } from '../../app/api.js';
import { href } from '../../app/router.js';
import { ErrorBox, parseJsonField } from './ui.jsx';

const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

export default function PublishForm({ onDone }) {
  const [topic, setTopic] = useState('');
  const [payload, setPayload] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [done, setDone] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true); setError(null); setDone(null);
    try {
      const body = { topic, payload: parseJsonField(payload, 'payload') };
      if (currentNamespace()) body.namespace = currentNamespace();
      const r = await post('/v1/events', body);
      setDone(r);
      onDone();
    } catch (err) { setError(err); }
    setBusy(false);
  };
  return (
    <form class="d-form" onSubmit={submit} data-testid="publish-form">
      <label>Topic<input required maxLength={128} pattern="[A-Za-z0-9_.:\-]{1,128}" value={topic} onInput={(e) => setTopic(e.currentTarget.value)} data-testid="publish-topic" placeholder="orders.created" /></label>
      <label>Payload (JSON, optional)<textarea value={payload} onInput={(e) => setPayload(e.currentTarget.value)} data-testid="publish-payload" /></label>
      <div><button type="submit" disabled={busy || !topic} data-testid="publish-send">Publish</button></div>
      <ErrorBox error={error} testid="publish-error" />
      {done && (
        <p class="d-ok" data-testid="publish-done">
          Published <a href={href('/subscriptions', { event: done.id, namespace: done.namespace })} data-testid="publish-link">{done.id}</a>:
          {' '}{plural((done.deliveries || []).length, 'delivery', 'deliveries')}.
        </p>
      )}
    </form>
  );
}
