/*
 * Schedules — cron schedules with their zone, target, next and last fire,
 * fires skipped by the overlap rule, and paused state; pause, resume,
 * trigger now and delete, and the next fire times in the panel
 * (#/schedules?name=N&ns=NS).
 */
import { useState } from 'preact/hooks';
import { navigate } from '../../app/router.js';
import useCursorList from './useCursorList.js';
import SchedulePanel from './SchedulePanel.jsx';
import { ago, show, time } from './format.js';
import { Chip, ListWithPanel, Notice, openOnEnter, ViewRoot } from './widgets.jsx';
import { ScheduleActions, targetText } from './scheduleActions.jsx';

export default function Schedules({ route }) {
  const list = useCursorList('/v1/schedules', 'schedules', {}, 100);
  const [notice, setNotice] = useState(null);
  const [version, setVersion] = useState(0);
  const open = route.query.name ? { name: route.query.name, namespace: route.query.ns } : null;

  const act = async (promise, text, { closes = false } = {}) => {
    try { await promise; setNotice({ text }); } catch (error) { setNotice({ error }); }
    list.reload();
    setVersion((v) => v + 1);
    if (closes) navigate('/schedules');
  };

  return (
    <ViewRoot name="schedules" title="Schedules" ready={list.ready} error={list.error}>
      <Notice notice={notice} onClose={() => setNotice(null)} />
      <ListWithPanel list={list} empty="No schedules. Create one with POST /v1/schedules or `weft schedules create`."
        panel={open ? <SchedulePanel key={`${open.namespace}/${open.name}`} schedule={open} version={version}
          onDone={act} onClose={() => navigate('/schedules')} /> : null}>
        <thead><tr>
          <th>Schedule</th><th>Namespace</th><th>State</th><th /><th>Cron</th><th>Zone</th><th>Target</th>
          <th>Next fire</th><th>Last fire</th><th class="num">Fires</th><th class="num">Skipped</th>
        </tr></thead>
        <tbody>
          {list.items.map((s) => (
            <tr key={`${s.namespace}/${s.name}`} data-testid="schedule-row" data-schedule={s.name}
              tabIndex={0} onKeyDown={openOnEnter}
              class={`sys-click ${open && open.name === s.name && open.namespace === s.namespace ? 'sys-selected' : ''}`}
              onClick={() => navigate('/schedules', { name: s.name, ns: s.namespace })}>
              <td>{s.name}</td>
              <td>{show(s.namespace)}</td>
              <td><Chip status={s.paused ? 'paused' : 'active'} testid="schedule-state" /></td>
              <td onClick={(e) => e.stopPropagation()}><ScheduleActions schedule={s} onDone={act} /></td>
              <td><code>{show(s.cron)}</code></td>
              <td>{show(s.timezone)}</td>
              <td>{targetText(s.target)}</td>
              <td title={time(s.next_fire_at)}>{s.paused ? '—' : ago(s.next_fire_at)}</td>
              <td title={time(s.last_fire_at)}>{ago(s.last_fire_at)}</td>
              <td class="num">{show(s.fires)}</td>
              <td class="num" title={s.last_skipped_at ? `last ${time(s.last_skipped_at)}` : ''}>{show(s.skipped_fires)}</td>
            </tr>
          ))}
        </tbody>
      </ListWithPanel>
    </ViewRoot>
  );
}
