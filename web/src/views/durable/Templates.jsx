/*
 * Templates — registered template versions (GET /v1/templates), newest
 * first, optionally of one name; `?name=N&version=V` opens one version.
 * (Detail lives in the query because the route table gives templates no
 * '/templates/ID' page.)
 */
import { get, nsQuery } from '../../app/api.js';
import { href, navigate } from '../../app/router.js';
import { usePaged } from './data.js';
import TemplateVersion from './TemplateVersion.jsx';
import { dash, PagedTable, Time, ViewRoot } from './ui.jsx';

function TemplateList({ query }) {
  const page = usePaged(async (cursor) => {
    const r = await get('/v1/templates', nsQuery({ name: query.name, cursor, limit: 50 }));
    return { items: r.templates || [], next: r.next_cursor };
  }, query.name || '');
  const onSubmit = (e) => {
    e.preventDefault();
    navigate('/templates', { name: new FormData(e.currentTarget).get('name') }, { replace: true });
  };
  return (
    <ViewRoot name="templates" ready={page.ready} error={page.error}>
      <h1>Templates</h1>
      <form class="toolbar" onSubmit={onSubmit}>
        <input name="name" placeholder="template name" defaultValue={query.name || ''} aria-label="Name" data-testid="filter-name" data-shortcut="search" />
        <button type="submit">Filter</button>
      </form>
      <PagedTable page={page} testid="template-list" empty="No templates registered.">
        <thead><tr><th>Name</th><th>Version</th><th>Steps</th><th>Namespace</th><th>Hash</th><th>Created</th></tr></thead>
        <tbody>
          {page.items.map((t) => (
            <tr key={t.id} data-testid="template-row" data-name={t.name} data-version={t.version}>
              <td><a href={href('/templates', { name: t.name })}>{t.name}</a></td>
              <td><a href={href('/templates', { name: t.name, version: t.version, namespace: t.namespace })} data-testid="template-link">{t.version}</a></td>
              <td>{t.steps ?? dash}</td>
              <td>{t.namespace || dash}</td>
              <td><code title={t.body_hash}>{t.body_hash ? t.body_hash.slice(0, 12) : dash}</code></td>
              <td><Time at={t.created_at} /></td>
            </tr>
          ))}
        </tbody>
      </PagedTable>
    </ViewRoot>
  );
}

export default function Templates({ route }) {
  const q = route.query;
  if (q.name && q.version) return <TemplateVersion name={q.name} version={q.version} namespace={q.namespace || ''} />;
  return <TemplateList query={q} />;
}
