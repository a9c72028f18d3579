/*
 * router.js — a hash router: '#/runs/ID?view=table' gives
 * {path: '/runs/ID', parts: ['runs', 'ID'], query: {view: 'table'}}.
 * The hash keeps every view a static asset of /ui, so the server needs one
 * route for the whole app.
 */
import { useEffect, useState } from 'preact/hooks';

export function parseHash(hash) {
  const h = (hash || '').replace(/^#/, '') || '/';
  const q = h.indexOf('?');
  const path = q < 0 ? h : h.slice(0, q);
  const query = Object.fromEntries(new URLSearchParams(q < 0 ? '' : h.slice(q + 1)));
  return { path, parts: path.split('/').filter(Boolean).map(decodeURIComponent), query };
}

export function href(path, query) {
  const s = new URLSearchParams(
    Object.entries(query || {}).filter(([, v]) => v !== null && v !== undefined && v !== ''),
  ).toString();
  return `#${path}${s ? `?${s}` : ''}`;
}

export function navigate(path, query, { replace = false } = {}) {
  const h = href(path, query);
  if (replace) history.replaceState(null, '', h); else location.hash = h;
  if (replace) window.dispatchEvent(new HashChangeEvent('hashchange'));
}

export function useRoute() {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseHash(location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}
