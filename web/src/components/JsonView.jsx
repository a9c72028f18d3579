/*
 * JsonView — a JSON value, pretty-printed, with objects and arrays folded
 * and unfolded by a click.
 *   value: any JSON value; open: levels unfolded at first (default 2);
 *   limit: characters shown before a "show all" button (default 20,000),
 *   so a large input or result cannot stall the page.
 */
import { useState } from 'preact/hooks';

function Node({ value, depth, open, name }) {
  const [folded, setFolded] = useState(depth >= open);
  const key = name !== undefined ? <span class="json-key">{JSON.stringify(name)}: </span> : null;
  if (value === null || typeof value !== 'object') {
    const cls = value === null ? 'json-null' : `json-${typeof value}`;
    return <div class="json-line">{key}<span class={cls}>{JSON.stringify(value)}</span></div>;
  }
  const arr = Array.isArray(value);
  const entries = arr ? value.map((v, i) => [i, v]) : Object.entries(value);
  const [o, c] = arr ? ['[', ']'] : ['{', '}'];
  if (entries.length === 0) return <div class="json-line">{key}{o}{c}</div>;
  return (
    <div class="json-node">
      <button type="button" class="json-toggle" aria-expanded={!folded} onClick={() => setFolded(!folded)}>
        {folded ? '▸' : '▾'}
      </button>
      {key}{o}
      {folded
        ? <span class="muted"> {entries.length} {arr ? 'item' : 'key'}{entries.length === 1 ? '' : 's'} {c}</span>
        : <>
            <div class="json-children">
              {entries.map(([k, v]) => <Node key={k} name={arr ? undefined : k} value={v} depth={depth + 1} open={open} />)}
            </div>
            {c}
          </>}
    </div>
  );
}

export default function JsonView({ value, open = 2, limit = 20000 }) {
  const [all, setAll] = useState(false);
  if (value === undefined) return <span class="muted">—</span>;
  const text = JSON.stringify(value, null, 2) ?? 'null';
  if (text.length > limit && !all) {
    return (
      <div class="json" data-testid="json">
        <pre>{text.slice(0, limit)}…</pre>
        <button type="button" onClick={() => setAll(true)}>Show all ({Math.round(text.length / 1024)} KiB)</button>
      </div>
    );
  }
  return <div class="json" data-testid="json"><Node value={value} depth={0} open={open} /></div>;
}
