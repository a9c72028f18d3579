/*
 * groupLayout.js — positions for the grouped view, computed here instead of
 * by dagre: groups are already layered (one row per level band), so all that
 * is left is an order within each row.  One top-down barycenter sweep (each
 * group goes under the mean position of its parents) removes most edge
 * crossings in O(groups + group edges) and keeps rows stable when only
 * counts change.
 */

export const ROW_GAP = 70;
export const COLUMN_GAP = 36;

/*
 * groups: [{band}] (from groupTasks), groupEdges: [{from, to}] by group index,
 * sizeOf(index) → {w, h}.  Returns an array of {x, y} centres by group index.
 */
export function layoutGroups(groups, groupEdges, sizeOf) {
  const parentsOf = groups.map(() => []);
  for (const e of groupEdges) parentsOf[e.to].push(e.from);

  const rows = [];
  groups.forEach((g, i) => (rows[g.band] ||= []).push(i));

  const pos = new Array(groups.length);
  let y = 0;
  for (const row of rows) {
    if (!row) continue;
    const key = new Map();
    row.forEach((g) => {
      let sum = 0;
      let count = 0;
      for (const p of parentsOf[g]) {
        if (pos[p]) { sum += pos[p].x; count++; }
      }
      /* Groups without placed parents go right, in creation order. */
      key.set(g, count ? sum / count : Infinity);
    });
    row.sort((a, b) => {
      const d = key.get(a) - key.get(b);
      return d < 0 ? -1 : d > 0 ? 1 : a - b; /* Infinity - Infinity is NaN */
    });

    const sizes = row.map(sizeOf);
    const width = sizes.reduce((s, z) => s + z.w, 0) + COLUMN_GAP * (row.length - 1);
    const height = Math.max(...sizes.map((z) => z.h));
    let x = -width / 2;
    row.forEach((g, k) => {
      pos[g] = { x: x + sizes[k].w / 2, y: y + height / 2 };
      x += sizes[k].w + COLUMN_GAP;
    });
    y += height + ROW_GAP;
  }
  return pos;
}
