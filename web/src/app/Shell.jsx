/*
 * Shell.jsx — the frame around every view: the sidebar (a menu at phone
 * width), the header (namespace, theme, token, help), the view the route
 * names, the token dialog, the shortcuts' help and the notices.
 */
import { useEffect, useState } from 'preact/hooks';
import { nav, viewFor } from '../views.js';
import { navigate, useRoute } from './router.js';
import { onUnauthorized, onSettingsChange, token } from './api.js';
import { installKeyboard, useEscape } from './shortcuts.js';
import { currentTheme, setTheme } from './theme.js';
import TokenDialog from './TokenDialog.jsx';
import HelpOverlay from './HelpOverlay.jsx';
import NamespaceSwitcher from './NamespaceSwitcher.jsx';
import Toast from '../components/Toast.jsx';

function ThemeToggle() {
  const [theme, setOwn] = useState(currentTheme());
  const next = theme === 'dark' ? 'light' : 'dark';
  return (
    <button type="button" class="icon" data-testid="theme-toggle" title={`Switch to the ${next} theme`}
      aria-label={`Switch to the ${next} theme`} onClick={() => { setTheme(next); setOwn(next); }}>
      {theme === 'dark' ? '☀' : '☾'}
    </button>
  );
}

export default function Shell() {
  const route = useRoute();
  const [menuOpen, setMenuOpen] = useState(false);
  const [helpOpen, setHelpOpen] = useState(false);
  const [tokenAsk, setTokenAsk] = useState({ open: false, refused: false });
  const [tok, setTok] = useState(token());
  // Bumped when the token or the namespace is set (even to the same value,
  // as when a token is entered again after a 401): the view mounts afresh
  // and reads again.
  const [epoch, setEpoch] = useState(0);

  useEffect(() => {
    onUnauthorized(() => setTokenAsk((a) => (a.open ? a : { open: true, refused: true })));
    const offSettings = onSettingsChange(() => {
      setTok(token());
      setEpoch((n) => n + 1);
    });
    const offKeys = installKeyboard({
      navigateKey: (key) => {
        const n = nav.find((x) => x.key === key);
        if (n) navigate(n.path);
        return !!n;
      },
      showHelp: () => setHelpOpen(true),
    });
    return () => { onUnauthorized(() => {}); offSettings(); offKeys(); };
  }, []);

  const View = viewFor(route);
  const here = `/${route.parts[0] || 'dashboard'}`;
  const section = nav.find((n) => n.path === here);
  useEffect(() => { document.title = section ? `${section.label} · weft` : 'weft'; }, [here]);
  useEscape(menuOpen, () => setMenuOpen(false));
  const closeToken = () => setTokenAsk({ open: false, refused: false });
  return (
    <div class={`shell ${menuOpen ? 'menu-open' : ''}`} data-testid="shell">
      <nav class="sidebar" data-testid="nav" aria-label="Views" onClick={(e) => { if (e.target.closest('a')) setMenuOpen(false); }}>
        <a class="brand" href="#/dashboard">weft</a>
        {nav.map((n) => (
          <a key={n.path} href={`#${n.path}`} data-testid={`nav-${n.path.slice(1)}`}
            class={here === n.path ? 'active' : ''} aria-current={here === n.path ? 'page' : undefined}>
            {n.label}
          </a>
        ))}
      </nav>
      <div class="main">
        <header class="topbar">
          <button type="button" class="icon menu-button" data-testid="menu-toggle" aria-label="Menu"
            aria-expanded={menuOpen} onClick={() => setMenuOpen(!menuOpen)}>☰</button>
          <NamespaceSwitcher currentToken={tok} />
          <span class="spacer" />
          <button type="button" class="icon" title="Keyboard shortcuts (?)" aria-label="Keyboard shortcuts"
            onClick={() => setHelpOpen(true)}>?</button>
          <ThemeToggle />
          <button type="button" data-testid="token-button" onClick={() => setTokenAsk({ open: true, refused: false })}>
            {tok ? 'Token ✓' : 'Token'}
          </button>
        </header>
        <main class="content" data-testid="content">
          {View
            ? <View route={route} key={`${route.path}#${epoch}`} />
            : <section class="view"><h1>Not found</h1><p>No view at {route.path}.</p></section>}
        </main>
      </div>
      {menuOpen && <div class="menu-backdrop" onClick={() => setMenuOpen(false)} />}
      <TokenDialog open={tokenAsk.open} refused={tokenAsk.refused} onClose={closeToken} />
      <HelpOverlay open={helpOpen} onClose={() => setHelpOpen(false)} />
      <Toast />
    </div>
  );
}
