/*
 * Dashboard — the home page: current totals, and throughput, error, latency
 * and load charts over a chosen range from the history the server keeps
 * (GET /v1/metrics/history). Totals follow the change feed (at most every
 * 2 s); the history is fetched again every 30 s.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { get } from '../../app/api.js';
import { navigate } from '../../app/router.js';
import { ErrorBox, ViewRoot } from '../system/widgets.jsx';
import Chart from './Chart.jsx';
import Totals from './Totals.jsx';
import { CHARTS, RANGES } from './history.js';

const HISTORY_EVERY_MS = 30e3;

function useHistory(range) {
  const [state, setState] = useState({ samples: null, step: null, span: null, error: null, missing: false, done: false });
  const load = useCallback(async () => {
    const until = new Date();
    const since = new Date(until.getTime() - range.ms);
    try {
      const h = await get('/v1/metrics/history', { since: since.toISOString(), until: until.toISOString() });
      const span = [since.getTime() / 1000, until.getTime() / 1000];
      setState({ samples: (h && h.samples) || [], step: h && h.step_secs, span, error: null, missing: false, done: true });
    } catch (error) {
      setState({ samples: null, step: null, span: null, error: error.status === 404 ? null : error, missing: error.status === 404, done: true });
    }
  }, [range.key]);
  useEffect(() => {
    load();
    const timer = setInterval(load, HISTORY_EVERY_MS);
    return () => clearInterval(timer);
  }, [load]);
  return state;
}

export default function Dashboard({ route }) {
  const range = RANGES.find((r) => r.key === route.query.range) || RANGES[1];
  const history = useHistory(range);
  const [totalsDone, setTotalsDone] = useState(false);
  const onTotals = useRef(() => setTotalsDone(true)).current;

  const tools = (
    <div class="sys-tools" role="group" aria-label="Time range">
      {RANGES.map((r) => (
        <button key={r.key} data-testid={`range-${r.key}`} class={r.key === range.key ? 'sys-on' : ''}
          aria-pressed={r.key === range.key} onClick={() => navigate('/dashboard', { range: r.key }, { replace: true })}>{r.label}</button>
      ))}
    </div>
  );

  return (
    <ViewRoot name="dashboard" title="Dashboard" tools={tools} ready={history.done && totalsDone} error={history.error}>
      <Totals onLoaded={onTotals} />
      <ErrorBox error={history.error} />
      {history.missing ? (
        <p class="empty" data-testid="history-missing">
          This server keeps no metrics history yet (GET /v1/metrics/history is not available), so there are no charts.
        </p>
      ) : null}
      {history.samples && history.samples.length === 0
        ? <p class="empty" data-testid="empty">No samples in the last {range.label} yet.</p> : null}
      {history.samples && history.samples.length > 0 ? (
        <div class="sys-charts">
          {CHARTS.map((c) => <Chart key={c.key} testid={`chart-${c.key}`} title={c.title}
            series={c.series} format={c.format} samples={history.samples} span={history.span} />)}
        </div>
      ) : null}
      {history.step ? <p class="muted">One point per {history.step} s.</p> : null}
    </ViewRoot>
  );
}
