/*
 * theme.js — light or dark, as data-theme on <html>. The choice is kept in
 * localStorage `weft-theme`; without one the browser's preferred colour
 * scheme decides (and keeps deciding when it changes).
 */
const THEME_KEY = 'weft-theme';
const prefersDark = () => window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches;

export function storedTheme() {
  const t = localStorage.getItem(THEME_KEY);
  return t === 'light' || t === 'dark' ? t : null;
}

export function currentTheme() { return storedTheme() || (prefersDark() ? 'dark' : 'light'); }

export function applyTheme() {
  document.documentElement.dataset.theme = currentTheme();
}

export function setTheme(theme) {
  localStorage.setItem(THEME_KEY, theme);
  applyTheme();
}

/* Called once at start: the theme now, and again when the preference changes. */
export function initTheme() {
  applyTheme();
  if (window.matchMedia) window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', applyTheme);
}
