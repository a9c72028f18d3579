/*
 * DagGraph.jsx — a run's DAG drawn with Cytoscape.
 *
 *   <DagGraph tasks={[{id, name, kind, executor, status, barrier, started_at, ended_at}]}
 *             edges={[{from, to, required}]}
 *             critical={Set (or array) of task ids | null}
 *             onSelect={(taskId) => …}         click on a task
 *             onSelectGroup={(tasks) => …}     click on a group (grouped mode; optional)
 *             fitRef={ref} />                  ref.current = {fit(), zoomIn(), zoomOut()}
 *
 * The page owns keyboard shortcuts and toolbars; this component only draws
 * and exposes methods.  All the work is in graphController.js; this file
 * ties it to the component's life and props.  window.__weftGraph lets
 * browser tests read what the canvas shows.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { GraphController } from './graphController.js';

export default function DagGraph({ tasks, edges, critical = null, onSelect, onSelectGroup, fitRef }) {
  const container = useRef(null);
  const controller = useRef(null);
  const callbacks = useRef({});
  const [mode, setMode] = useState('tasks');
  const [groupCount, setGroupCount] = useState(0);

  /* The controller reads the callbacks from this object when a click
     happens, so new closures from the parent do not rebuild anything. */
  callbacks.current.onSelect = onSelect;
  callbacks.current.onSelectGroup = onSelectGroup;
  callbacks.current.onMode = setMode;

  useEffect(() => {
    const ctrl = new GraphController(container.current, callbacks.current);
    controller.current = ctrl;
    const hook = {
      nodes: () => ctrl.nodes(),
      get mode() { return ctrl.mode; },
      fit: () => ctrl.fit(),
      flashing: () => ctrl.flashing(),
      zoom: () => ctrl.cy.zoom(),
    };
    window.__weftGraph = hook;
    const methods = { fit: () => ctrl.fit(), zoomIn: () => ctrl.zoomBy(1.25), zoomOut: () => ctrl.zoomBy(0.8) };
    if (fitRef) fitRef.current = methods;

    const themeWatch = new MutationObserver(() => ctrl.restyle());
    themeWatch.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
    /* Cytoscape reads its container's size once; follow later changes (a
       graph first drawn in a hidden tab has no size to fit into). */
    const resizeWatch = new ResizeObserver(() => ctrl.resized());
    resizeWatch.observe(container.current);

    return () => {
      themeWatch.disconnect();
      resizeWatch.disconnect();
      if (window.__weftGraph === hook) delete window.__weftGraph;
      if (fitRef && fitRef.current === methods) fitRef.current = null;
      ctrl.destroy();
      controller.current = null;
    };
  }, []);

  useEffect(() => {
    const ctrl = controller.current;
    ctrl.setData(tasks || [], edges || []);
    setGroupCount(ctrl.mode === 'grouped' ? ctrl.grouping.groups.length : 0);
  }, [tasks, edges]);

  useEffect(() => {
    controller.current.setCritical(critical);
  }, [critical]);

  return (
    <div class="dag-graph" style={{ position: 'relative', width: '100%', height: '100%', minHeight: '320px' }}>
      <div ref={container} data-testid="dag-graph" style={{ position: 'absolute', inset: 0 }} />
      {mode === 'grouped' && (
        <div data-testid="graph-mode" style={noteStyle}>
          {(tasks || []).length.toLocaleString('en')} tasks shown as {groupCount.toLocaleString('en')} groups
          (by level and kind). Click a group for its tasks.
        </div>
      )}
    </div>
  );
}

const noteStyle = {
  position: 'absolute', left: '8px', top: '8px', padding: '2px 8px', fontSize: '12px',
  background: 'var(--panel, #f8fafc)', color: 'var(--muted, #6b7280)',
  border: '1px solid var(--line, #e5e7eb)', borderRadius: '4px', pointerEvents: 'none',
};
