/*
 * templateLevels.js — a template's steps in rows by level: a step's level
 * is one more than its deepest parent's (0 without parents), so each row
 * runs only after the rows above it. Steps list their parents before
 * themselves (the server checks it), so one pass suffices; a parent not
 * listed counts as level −1, leaving its child in the first row.
 */
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
