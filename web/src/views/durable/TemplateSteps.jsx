/*
 * TemplateSteps — a template version's steps in rows by level
 * (templateLevels.js); a step's parents and optional edges
 * (requires_success: false) are in its title.
 */
import { levels } from './templateLevels.js';
import { dash } from './ui.jsx';

function Step({ step }) {
  const parents = step.parents || [];
  const after = parents.map((p) => (p.requires_success === false ? `${p.ref} (any end)` : p.ref)).join(', ');
  const executor = step.executor || 'queue';
  const title = `${step.ref}: ${executor}${step.queue ? ` on ${step.queue}` : ''}${after ? `; after ${after}` : ''}`;
  return (
    <span class="d-node" title={title} data-testid="template-step" data-ref={step.ref}>
      <strong>{step.ref}</strong> <span class="muted">{step.queue ? `queue ${step.queue}` : executor}</span>
      {step.decision && <span class="d-kind">decision</span>}
    </span>
  );
}

export default function TemplateSteps({ steps }) {
  if (!steps || steps.length === 0) return <p class="muted">{dash}</p>;
  return (
    <div class="d-levels" data-testid="template-steps">
      {levels(steps).map((row, i) => (
        <div class="d-level" key={i} data-testid="template-level">
          <span class="muted">{i + 1}</span>
          {row.map((s) => <Step key={s.ref} step={s} />)}
        </div>
      ))}
    </div>
  );
}
