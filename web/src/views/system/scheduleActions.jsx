/*
 * scheduleActions.jsx — pause, resume, trigger now and delete, shared by the
 * schedule list and its panel. Triggering starts work and deleting loses the
 * schedule, so both ask first; pausing is undone by resuming.
 */
import { del, post, url } from '../../app/api.js';
import { show } from './format.js';
import { ActionButton } from './widgets.jsx';

/* 'job → emails', 'workflow nightly', 'template etl@v2'. */
export function targetText(t) {
  if (!t) return '—';
  if (t.kind === 'job') return `job → ${show(t.queue)}${t.name ? ` (${t.name})` : ''}`;
  if (t.kind === 'workflow') return `workflow ${show(t.type || t.name)}${t.queue ? ` on ${t.queue}` : ''}`;
  if (t.kind === 'template') return `template ${show(t.template)}`;
  return show(t.kind);
}

export function schedulePath(s, action = '', query = {}) {
  return url(`/v1/schedules/${encodeURIComponent(s.name)}${action}`, { namespace: s.namespace, ...query });
}

export function ScheduleActions({ schedule: s, onDone }) {
  return (
    <span class="sys-row-actions">
      {s.paused
        ? <ActionButton label="Resume" testid="action-resume" onRun={() => onDone(post(schedulePath(s, '/resume')), `Resumed ${s.name}.`)} />
        : <ActionButton label="Pause" testid="action-pause" onRun={() => onDone(post(schedulePath(s, '/pause')), `Paused ${s.name}: it fires nothing until resumed.`)} />}
      <ActionButton label="Trigger now" testid="action-trigger" confirm={`Start ${s.name}'s target now?`}
        onRun={() => onDone(post(schedulePath(s, '/trigger')), `Triggered ${s.name}.`)} />
      <ActionButton label="Delete" testid="action-delete" danger confirm={`Delete schedule ${s.name}?`}
        onRun={() => onDone(del(schedulePath(s)), `Deleted ${s.name}.`, { closes: true })} />
    </span>
  );
}
