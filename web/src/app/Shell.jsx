/*
 * Shell.jsx — the frame around every view: navigation, and the view the
 * route names.
 */
import { nav, viewFor } from '../views.js';
import { useRoute } from './router.js';

export default function Shell() {
  const route = useRoute();
  const View = viewFor(route);
  const here = `/${route.parts[0] || 'dashboard'}`;
  return (
    <div class="shell">
      <nav class="sidebar">
        <a class="brand" href="#/dashboard">weft</a>
        {nav.map((n) => (
          <a key={n.path} href={`#${n.path}`} class={here === n.path ? 'active' : ''}>{n.label}</a>
        ))}
      </nav>
      <main class="content">
        {View ? <View route={route} key={route.path} /> : <section class="view"><h1>Not found</h1><p>No view at {route.path}.</p></section>}
      </main>
    </div>
  );
}
