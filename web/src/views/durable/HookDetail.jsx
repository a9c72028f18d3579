/*
 * HookDetail — one incoming webhook (GET /v1/hooks/{name}): its target,
 * scheme, window and delivery count; rotate its secret (the new one is
 * shown once, as the server answers it only then) or delete it.
 */
import { useState } from 'preact/hooks';
import { del, get, post } from '../../app/api.js';
import { href, navigate } from '../../app/router.js';
import ConfirmButton from '../../components/Confirm.jsx';
import { useLoad } from './data.js';
import { ErrorBox, Json, Time, ViewRoot, dash } from './ui.jsx';

export default function HookDetail({ name, namespace }) {
  const path = `/v1/hooks/${encodeURIComponent(name)}`;
  const query = namespace ? { namespace } : undefined;
  const hook = useLoad(() => get(path, query), `${namespace}/${name}`);
  const [secret, setSecret] = useState(null);
  const h = hook.data;
  return (
    <ViewRoot name="hook" ready={hook.ready} error={hook.error}>
      <nav class="crumbs" aria-label="Breadcrumb"><a href={href('/hooks')}>Hooks</a> /</nav>
      <h1>Hook {name}</h1>
      <ErrorBox error={hook.error} />
      {h && (
        <>
          <dl class="fields">
            <dt>Namespace</dt><dd>{h.namespace || dash}</dd>
            <dt>Scheme</dt><dd>{h.scheme || dash}</dd>
            <dt>Replay window</dt><dd>{h.replay_window_secs ?? dash} s</dd>
            <dt>Deliveries</dt><dd data-testid="hook-deliveries">{h.deliveries ?? dash} (runs started)</dd>
            <dt>Last delivery</dt><dd><Time at={h.last_delivery_at} /></dd>
            <dt>Receives at</dt><dd><code>POST /v1/hooks/{h.name}?namespace={h.namespace}</code></dd>
            <dt>Created</dt><dd><Time at={h.created_at} /></dd>
            <dt>Updated</dt><dd><Time at={h.updated_at} /></dd>
          </dl>
          <h2>Target</h2>
          <Json value={h.target} testid="hook-target" />
          <div class="d-actions">
            <ConfirmButton label="Rotate secret" title="Rotate the secret?" testid="action-rotate" danger
              message="Senders signing with the old secret are refused from now on. The new one is shown once."
              onConfirm={async () => { setSecret((await post(`${path}/rotate`, {}, { query })).secret); hook.reload(); }} />
            <ConfirmButton label="Delete" title="Delete this hook?" testid="action-delete" danger
              message="Deliveries to it are refused from now on."
              onConfirm={async () => { await del(path, { query }); navigate('/hooks'); }} />
          </div>
          {secret && (
            <div class="d-form" data-testid="hook-secret">
              <strong>New secret: shown this once, copy it now.</strong>
              <code class="d-secret">{secret}</code>
              <div><button type="button" onClick={() => setSecret(null)}>Done</button></div>
            </div>
          )}
        </>
      )}
    </ViewRoot>
  );
}
