/* recent.js — the last runs opened in this browser (ArcRun's "Recently
 * Viewed"), newest first, kept in localStorage. */

const KEY = 'weft-recent-runs';
const KEEP = 10;

export function recentRuns() {
  try {
    const list = JSON.parse(localStorage.getItem(KEY) || '[]');
    return Array.isArray(list) ? list.filter((r) => r && typeof r.id === 'string').slice(0, KEEP) : [];
  } catch {
    return [];
  }
}

export function rememberRun(id, name) {
  const list = [{ id, name: name || null }, ...recentRuns().filter((r) => r.id !== id)].slice(0, KEEP);
  localStorage.setItem(KEY, JSON.stringify(list));
}
