/*
 * views.js — which view answers which route. `nav` entries appear in the
 * sidebar in this order; `key` is the keyboard shortcut after `g`.
 * A view is a component given {route} (see app/router.js).
 */
import Dashboard from './views/dashboard/Dashboard.jsx';
import RunList from './views/runs/RunList.jsx';
import RunPage from './views/runs/RunPage.jsx';
import TaskPage from './views/runs/TaskPage.jsx';
import Queues from './views/system/Queues.jsx';
import Workers from './views/system/Workers.jsx';
import DeadLetters from './views/system/DeadLetters.jsx';
import Schedules from './views/system/Schedules.jsx';
import Audit from './views/system/Audit.jsx';
import Workflows from './views/durable/Workflows.jsx';
import WorkflowPage from './views/durable/WorkflowPage.jsx';
import Templates from './views/durable/Templates.jsx';
import Hooks from './views/durable/Hooks.jsx';
import Subscriptions from './views/durable/Subscriptions.jsx';

/* [first path part, component for the list, component for '/part/ID'] */
export const routes = {
  '': [Dashboard, null],
  dashboard: [Dashboard, null],
  runs: [RunList, RunPage],
  tasks: [null, TaskPage],
  queues: [Queues, null],
  workers: [Workers, null],
  'dead-letters': [DeadLetters, null],
  schedules: [Schedules, null],
  audit: [Audit, null],
  workflows: [Workflows, WorkflowPage],
  templates: [Templates, null],
  hooks: [Hooks, null],
  subscriptions: [Subscriptions, null],
};

export const nav = [
  { path: '/dashboard', label: 'Dashboard', key: 'd' },
  { path: '/runs', label: 'Runs', key: 'r' },
  { path: '/queues', label: 'Queues', key: 'q' },
  { path: '/workers', label: 'Workers', key: 'w' },
  { path: '/dead-letters', label: 'Dead letters', key: 'l' },
  { path: '/workflows', label: 'Workflows', key: 'f' },
  { path: '/schedules', label: 'Schedules', key: 's' },
  { path: '/templates', label: 'Templates', key: 't' },
  { path: '/hooks', label: 'Hooks', key: 'h' },
  { path: '/subscriptions', label: 'Events', key: 'e' },
  { path: '/audit', label: 'Audit log', key: 'a' },
];

export function viewFor(route) {
  const entry = routes[route.parts[0] || ''];
  if (!entry) return null;
  return route.parts.length > 1 ? entry[1] : entry[0];
}
