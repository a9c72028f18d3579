/* TaskPage.jsx — #/tasks/ID: one task on its own page, live by its run's feed. */
import { useState } from 'preact/hooks';
import { href } from '../../app/router.js';
import TaskDetails from './TaskDetails.jsx';
import './runs.css';

export default function TaskPage({ route }) {
  const id = route.parts[1];
  const [state, setState] = useState({ ready: false, error: false });
  return (
    <section class="view rv" data-view="task" data-ready={state.ready ? 'true' : undefined}
      data-error={state.error ? 'true' : undefined}>
      <nav class="rv-crumbs"><a href={href('/runs')}>Runs</a> / task</nav>
      <TaskDetails id={id} onLoad={(e) => setState({ ready: true, error: !!e })} />
    </section>
  );
}
