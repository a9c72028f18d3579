/*
 * TaskPanel.jsx — the side panel of the run page: a task's details, or the
 * tasks of a group the graph drew as one node.
 */
import { href } from '../../app/router.js';
import TaskDetails from './TaskDetails.jsx';
import { StatusBadge } from './widgets.jsx';

const GROUP_SHOWN = 200;

export default function TaskPanel({ taskId, liveStatus, group, onSelect, onClose }) {
  return (
    <aside class="rv-panel" data-testid="task-panel">
      <header>
        {taskId ? <a href={href(`/tasks/${taskId}`)} data-testid="task-open-page">Open as a page</a>
          : <strong>{group.length} tasks</strong>}
        <button type="button" class="rv-x" aria-label="Close (Esc)" onClick={onClose} data-testid="panel-close">×</button>
      </header>
      {taskId ? <TaskDetails key={taskId} id={taskId} liveStatus={liveStatus} /> : (
        <ul class="rv-group">
          {group.slice(0, GROUP_SHOWN).map((t) => (
            <li key={t.id}><a href="#" onClick={(e) => { e.preventDefault(); onSelect(t.id); }}>{t.name}</a> <StatusBadge status={t.status} /></li>
          ))}
          {group.length > GROUP_SHOWN && <li class="rv-muted">and {group.length - GROUP_SHOWN} more (the table view lists them all)</li>}
        </ul>
      )}
    </aside>
  );
}
