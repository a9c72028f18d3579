/*
 * TemplateSteps — a template version's steps laid out by level: a step's
 * level is one more than its deepest parent's, so each row runs only after
 * the rows above it. Optional edges (requires_success: false) are marked.
 */
import { dash } from './ui.jsx';

/* Steps list their parents before themselves (the server checks it), so one pass suffices. */
export function levels(steps) {
  const depth = new Map();
  const rows = [];
  for (const s of steps) {
    const parents = s.parents || [];
    const d = parents.reduce((m, p) => Math.max(m, (depth.get(p.ref) ?? -1) + 1), 0);
    depth.set(s.ref, d);
    (rows[d] = rows[d] || []).push(s);
  }
  return rows;
}

function Step({ step }) {
  const parents = step.parents || [];
  const after = parents.map((p) => (p.requires_success === false ? `${p.ref} (any end)` : p.ref)).join(', ');
  const title = `${step.ref}: ${step.kind || 'webhook'}${step.queue ? ` on ${step.queue}` : ''}${after ? `; after ${after}` : ''}`;
  return (
    <span class="d-node" title={title} data-testid="template-step" data-ref={step.ref}>
      <strong>{step.ref}</strong> <span class="d-muted">{step.queue ? `queue ${step.queue}` : step.kind || 'webhook'}</span>
      {step.decision && <span class="d-kind">decision</span>}
    </span>
  );
}

export default function TemplateSteps({ steps }) {
  if (!steps || steps.length === 0) return <p class="d-muted">{dash}</p>;
  return (
    <div class="d-levels" data-testid="template-steps">
      {levels(steps).map((row, i) => (
        <div class="d-level" key={i} data-testid="template-level">
          <span class="d-muted">{i + 1}</span>
          {row.map((s) => <Step key={s.ref} step={s} />)}
        </div>
      ))}
    </div>
  );
}
