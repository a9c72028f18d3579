/*
 * dev.jsx — a page to look at and time <DagGraph> on synthetic DAGs without
 * a server: index.html?shape=layered|chain|fanout|diamonds&n=1000.
 * Not part of the application build (vite builds from web/index.html only);
 * run `npx vite` in web/ and open /src/graph/dev/index.html?shape=chain&n=500.
 * window.__devTiming.firstRender is the time from handing the tasks to the
 * component to the first frame drawn after the layout.
 */
import { render } from 'preact';
import { useMemo, useRef, useState } from 'preact/hooks';
import DagGraph from '../DagGraph.jsx';
import { criticalPathByDepth } from '../layering.js';
import { synth, churn } from './synth.js';

const params = new URLSearchParams(location.search);
const shape = params.get('shape') || 'layered';
const initialSize = Number(params.get('n') || 1000);

function afterNextFrame() {
  return new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
}

/* Effects run after paint, so wait for the graph to hold nodes, then for a
   frame to be drawn with them. */
async function afterGraphDrawn() {
  while (!(window.__weftGraph && window.__weftGraph.nodes().length)) await afterNextFrame();
  await afterNextFrame();
}

window.__devTiming = {};
const generated = performance.now();
const initial = synth(shape, initialSize);
window.__devTiming.generate = Math.round(performance.now() - generated);

function Dev() {
  const [data, setData] = useState(initial);
  const [critical, setCritical] = useState(null);
  const [selected, setSelected] = useState('');
  const [round, setRound] = useState(1);
  const [shown, setShown] = useState(true);
  const fitRef = useRef(null);
  const criticalPath = useMemo(() => new Set(criticalPathByDepth(data.tasks, data.edges)), [data.edges]);

  const timed = async (label, change) => {
    const started = performance.now();
    change();
    await afterNextFrame();
    window.__devTiming[label] = Math.round(performance.now() - started);
  };
  const grow = () => {
    const more = synth(shape, Math.round(data.tasks.length * 1.1), 1);
    const byId = new Map(data.tasks.map((t) => [t.id, t]));
    setData({ tasks: more.tasks.map((t) => byId.get(t.id) || t), edges: more.edges });
  };

  return (
    <>
      <div id="bar">
        <b>{shape} · {data.tasks.length.toLocaleString('en')} tasks</b>
        <button data-testid="dev-churn" onClick={() => { setRound(round + 1); timed('statusUpdate', () => setData({ ...data, tasks: churn(data.tasks, 0.01, round) })); }}>Change 1% of statuses</button>
        <button data-testid="dev-grow" onClick={() => timed('grow', grow)}>Add 10% tasks</button>
        <button data-testid="dev-critical" onClick={() => setCritical(critical ? null : criticalPath)}>Critical path</button>
        <button onClick={() => fitRef.current.fit()}>Fit</button>
        <button onClick={() => fitRef.current.zoomIn()}>+</button>
        <button onClick={() => fitRef.current.zoomOut()}>−</button>
        <button data-testid="dev-theme" onClick={() => {
          const root = document.documentElement;
          root.dataset.theme = root.dataset.theme === 'dark' ? 'light' : 'dark';
        }}>Theme</button>
        <button data-testid="dev-unmount" onClick={() => setShown(!shown)}>{shown ? 'Unmount' : 'Mount'}</button>
        <span data-testid="dev-selected">{selected}</span>
      </div>
      <div id="graph">
        {shown && <DagGraph tasks={data.tasks} edges={data.edges} critical={critical} fitRef={fitRef}
          onSelect={(id) => setSelected(`task ${id}`)} />}
      </div>
    </>
  );
}

const started = performance.now();
render(<Dev />, document.getElementById('app'));
afterGraphDrawn().then(() => { window.__devTiming.firstRender = Math.round(performance.now() - started); });
