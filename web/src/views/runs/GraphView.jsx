/* GraphView.jsx — the run as a DAG (the graph package's DagGraph). */
import DagGraph from '../../graph/DagGraph.jsx';

export default function GraphView({ tasks, edges, critical, fitRef, onSelect, onSelectGroup, withEdges }) {
  return (
    <div class="rv-graph" data-testid="graph">
      {!withEdges && <p class="rv-muted rv-note">This server does not list the run's edges: tasks are shown without links.</p>}
      <DagGraph tasks={tasks} edges={edges} critical={critical} onSelect={onSelect}
        onSelectGroup={onSelectGroup} fitRef={fitRef} />
    </div>
  );
}
