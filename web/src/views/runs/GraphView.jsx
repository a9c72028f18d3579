/*
 * GraphView.jsx — the run as a DAG (the graph package's DagGraph).
 *
 * DagGraph brings Cytoscape and dagre (about 520 KB minified), which no
 * other view needs: it is loaded on the first graph shown, so every other
 * view's first load stays small.
 */
import { useEffect, useState } from 'preact/hooks';

let loading = null;
function loadDagGraph() {
  if (!loading) loading = import('../../graph/DagGraph.jsx').then((m) => m.default);
  return loading;
}

export default function GraphView({ tasks, edges, critical, fitRef, onSelect, onSelectGroup }) {
  const [DagGraph, setDagGraph] = useState(null);
  const [failed, setFailed] = useState(null);
  useEffect(() => {
    let live = true;
    loadDagGraph().then((c) => live && setDagGraph(() => c), (e) => live && setFailed(e));
    return () => { live = false; };
  }, []);
  return (
    <div class="rv-graph" data-testid="graph">
      {failed && <p class="rv-muted rv-note" role="alert">The graph could not be loaded: {String(failed.message || failed)}</p>}
      {DagGraph && (
        <DagGraph tasks={tasks} edges={edges} critical={critical} onSelect={onSelect}
          onSelectGroup={onSelectGroup} fitRef={fitRef} />
      )}
    </div>
  );
}
