/*
 * TemplateVersion — one template version (GET /v1/templates/{name}/{version}):
 * its description, hash and steps, and a form that starts a run of it
 * (POST .../runs with a JSON context and an optional idempotency key),
 * linking to the run it started.
 */
import { useState } from 'preact/hooks';
import { get, post } from '../../app/api.js';
import { href } from '../../app/router.js';
import { useLoad } from './data.js';
import TemplateSteps from './TemplateSteps.jsx';
import { ErrorBox, Time, ViewRoot, dash, parseJsonField } from './ui.jsx';

function RunForm({ path, namespace }) {
  const [context, setContext] = useState('');
  const [key, setKey] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [started, setStarted] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true); setError(null); setStarted(null);
    try {
      const body = { context: parseJsonField(context, 'context') };
      if (key) body.idempotency_key = key;
      setStarted(await post(`${path}/runs`, body, { query: namespace ? { namespace } : undefined }));
    } catch (err) { setError(err); }
    setBusy(false);
  };
  return (
    <form class="d-form" onSubmit={submit} data-testid="template-run-form">
      <label>Context (JSON, optional)<textarea value={context} onInput={(e) => setContext(e.currentTarget.value)} data-testid="template-context" placeholder='{"customer": 42}' /></label>
      <label>Idempotency key (optional)<input maxLength={255} value={key} onInput={(e) => setKey(e.currentTarget.value)} data-testid="template-key" /></label>
      <div><button type="submit" disabled={busy} data-testid="template-run">Run</button></div>
      <ErrorBox error={error} testid="template-run-error" />
      {started && (
        <p class="d-ok" data-testid="template-run-started">
          {started.created ? 'Started' : 'Already started (same identity)'}: <a href={href(`/runs/${started.id}`)} data-testid="template-run-link">run {started.id}</a>
        </p>
      )}
    </form>
  );
}

export default function TemplateVersion({ name, version, namespace }) {
  const path = `/v1/templates/${encodeURIComponent(name)}/${encodeURIComponent(version)}`;
  const t = useLoad(() => get(path, namespace ? { namespace } : {}), `${namespace}/${name}/${version}`);
  const body = t.data && t.data.body ? t.data.body : {};
  return (
    <ViewRoot name="template" ready={t.ready} error={t.error}>
      <nav class="crumbs" aria-label="Breadcrumb"><a href={href('/templates')}>Templates</a> /</nav>
      <h1>Template {name} <span class="muted">{version}</span></h1>
      <ErrorBox error={t.error} />
      {t.data && (
        <>
          <dl class="fields">
            <dt>Description</dt><dd>{t.data.description || dash}</dd>
            <dt>Namespace</dt><dd>{t.data.namespace || dash}</dd>
            <dt>Steps</dt><dd>{t.data.steps ?? dash}</dd>
            <dt>Hash</dt><dd><code>{t.data.body_hash || dash}</code></dd>
            <dt>Created</dt><dd><Time at={t.data.created_at} /></dd>
          </dl>
          <h2>Steps</h2>
          <TemplateSteps steps={body.steps} />
          <h2>Run</h2>
          <RunForm path={path} namespace={t.data.namespace} />
        </>
      )}
    </ViewRoot>
  );
}
