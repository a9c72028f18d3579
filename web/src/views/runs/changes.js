/* changes.js — task status changes seen on the feed, as notices: ArcRun's
 * rule, up to three listed one by one, else a summary. */
export function describeChanges(changes) {
  if (changes.length <= 3) return changes.map((c) => `${c.name}: ${c.from} → ${c.to}`);
  const by = {};
  for (const c of changes) by[c.to] = (by[c.to] || 0) + 1;
  const parts = Object.entries(by).map(([s, n]) => `${n} ${s}`);
  return [`${changes.length} tasks changed: ${parts.join(', ')}`];
}
