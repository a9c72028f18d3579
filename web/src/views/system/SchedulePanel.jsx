/*
 * SchedulePanel — one schedule (GET /v1/schedules/{name}?next=5): its next
 * five fire times in its zone, its last firing and its target.
 */
import { useEffect, useState } from 'preact/hooks';
import { get } from '../../app/api.js';
import { href } from '../../app/router.js';
import { ago, show, time } from './format.js';
import { Chip, ErrorBox, Fields, Json, Panel } from './widgets.jsx';
import { ScheduleActions, schedulePath, targetText } from './scheduleActions.jsx';

export default function SchedulePanel({ schedule, onClose, onDone, version }) {
  const [s, setS] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    get(schedulePath(schedule, '', { next: 5 })).then((v) => { setS(v); setError(null); }, setError);
  }, [schedule.name, schedule.namespace, version]);

  return (
    <Panel title={`Schedule ${schedule.name}`} onClose={onClose}>
      <ErrorBox error={error} />
      {s ? (
        <>
          <ScheduleActions schedule={s} onDone={onDone} />
          <Fields rows={[
            ['State', <Chip status={s.paused ? 'paused' : 'active'} testid="panel-schedule-state" />],
            ['Cron', <code>{show(s.cron)}</code>],
            ['Zone', show(s.timezone)],
            ['Target', targetText(s.target)],
            ['Catch-up', `${show(s.catchup)} (at most ${show(s.catchup_max)})`],
            ['Overlap', show(s.overlap)],
            ['Last fire', s.last_fire_at ? `${time(s.last_fire_at)} (${ago(s.last_fire_at)})` : '—'],
            ['Last run', s.last_run_id
              ? <span><a href={href(`/runs/${s.last_run_id}`)}>{s.last_run_id.slice(0, 8)}</a>{s.last_run_active ? ' (still running)' : ''}</span> : '—'],
            ['Fires', show(s.fires)],
            ['Skipped fires', `${show(s.skipped_fires)}${s.last_skipped_at ? `, last ${time(s.last_skipped_at)}` : ''}`],
          ]} />
          <h3>Next fire times</h3>
          {s.paused ? <p class="muted">Paused: these times apply once resumed.</p> : null}
          <ol data-testid="next-fires">{(s.next || []).map((t) => <li key={t}>{time(t)} ({ago(t)})</li>)}</ol>
          <h3>Target</h3>
          <Json value={s.target} />
        </>
      ) : null}
    </Panel>
  );
}
