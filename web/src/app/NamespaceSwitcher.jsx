/*
 * NamespaceSwitcher — which namespace every view shows ('' = all the token
 * may see). The choices are the namespaces named by the tokens (GET
 * /v1/tokens, admin tokens only) and those of the queues the token sees
 * (GET /v1/queues), plus the current one; "Other…" lets one type a name.
 */
import { useEffect, useState } from 'preact/hooks';
import { get, namespace, setNamespace } from './api.js';
import { useSettingsEpoch } from '../components/live.js';

const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const OTHER = '\u0000other';
const focusOnMount = (el) => { if (el && document.activeElement !== el) el.focus(); };

/* The token /v1/tokens last refused (a client token), kept so that it is
 * asked once per browser: the browser logs every refused call. No route
 * tells a token its own role and namespaces. */
const NOT_ADMIN_KEY = 'weft-token-not-admin';

async function knownNamespaces(tok) {
  const found = new Set();
  const jobs = [
    get('/v1/queues', { limit: 100 }).then((b) => (b.queues || []).forEach((q) => q.namespace && found.add(q.namespace))),
  ];
  if (localStorage.getItem(NOT_ADMIN_KEY) !== tok) {
    jobs.push(get('/v1/tokens').then(
      (b) => (b.tokens || []).forEach((t) => (t.namespaces || []).forEach((n) => n !== '*' && found.add(n))),
      (e) => { if (e.status === 403) localStorage.setItem(NOT_ADMIN_KEY, tok); },
    ));
  }
  await Promise.allSettled(jobs);
  return [...found].sort();
}

export default function NamespaceSwitcher({ currentToken }) {
  const epoch = useSettingsEpoch();
  const [names, setNames] = useState([]);
  const [typing, setTyping] = useState(false);
  const [draft, setDraft] = useState('');
  const current = namespace();
  useEffect(() => {
    let live = true;
    knownNamespaces(currentToken).then((n) => { if (live) setNames(n); });
    return () => { live = false; };
  }, [currentToken, epoch]);

  const choices = current && !names.includes(current) ? [...names, current].sort() : names;
  if (typing) {
    const ok = NAME.test(draft);
    const commit = (e) => {
      e.preventDefault();
      if (!ok) return;
      setTyping(false);
      setNamespace(draft);
    };
    return (
      <form class="ns-switch" onSubmit={commit}>
        <input data-testid="namespace-input" aria-label="Namespace" placeholder="namespace" value={draft} ref={focusOnMount}
          onInput={(e) => setDraft(e.currentTarget.value.trim())}
          onKeyDown={(e) => { if (e.key === 'Escape') { e.stopPropagation(); setTyping(false); } }}
          title={ok || !draft ? '' : 'letters a-z, digits, - and _, up to 63'} />
        <button type="submit" disabled={!ok}>Go</button>
        <button type="button" onClick={() => setTyping(false)}>×</button>
      </form>
    );
  }
  return (
    <label class="ns-switch">
      <span class="muted">Namespace</span>
      <select data-testid="namespace-select" value={current} onChange={(e) => {
        const v = e.currentTarget.value;
        if (v === OTHER) { setDraft(''); setTyping(true); } else setNamespace(v);
      }}>
        <option value="">All</option>
        {choices.map((n) => <option key={n} value={n}>{n}</option>)}
        <option value={OTHER}>Other…</option>
      </select>
    </label>
  );
}
