/*
 * NamespaceSwitcher — which namespace every view shows ('' = all the token
 * may see). GET /v1/whoami (any token) says which namespaces the token may
 * see. A token limited to some is offered exactly those. One that sees
 * every namespace ("*", or none when the server checks no token) is offered
 * "All", the namespaces named by the tokens (GET /v1/tokens, asked only for
 * an admin: it refuses others) and those of the queues (GET /v1/queues),
 * plus the current one; "Other…" lets one type a name.
 */
import { useEffect, useState } from 'preact/hooks';
import { get, namespace, setNamespace } from './api.js';
import { useSettingsEpoch } from '../components/live.js';

const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const OTHER = '\u0000other';
const focusOnMount = (el) => { if (el && document.activeElement !== el) el.focus(); };

/* {all, names, fallback}: whether the token sees every namespace, the
 * names to offer, and for a limited token the namespace the server uses
 * when a request names none. */
async function knownNamespaces() {
  const me = await get('/v1/whoami');
  const mine = me.namespaces || [];
  if (!mine.includes('*')) return { all: false, names: [...mine].sort(), fallback: me.default_namespace };
  const found = new Set();
  const jobs = [
    get('/v1/queues', { limit: 100 }).then((b) => (b.queues || []).forEach((q) => q.namespace && found.add(q.namespace))),
  ];
  if (me.admin) {
    jobs.push(get('/v1/tokens').then(
      (b) => (b.tokens || []).forEach((t) => (t.namespaces || []).forEach((n) => n !== '*' && found.add(n))),
    ));
  }
  await Promise.allSettled(jobs);
  return { all: true, names: [...found].sort() };
}

export default function NamespaceSwitcher({ currentToken }) {
  const epoch = useSettingsEpoch();
  const [known, setKnown] = useState({ all: true, names: [] });
  const [typing, setTyping] = useState(false);
  const [draft, setDraft] = useState('');
  const current = namespace();
  useEffect(() => {
    let live = true;
    knownNamespaces().then((k) => {
      if (!live) return;
      setKnown(k);
      // A limited token has no "All": show one of its own namespaces.
      if (!k.all && k.names.length > 0 && !k.names.includes(current)) {
        setNamespace(k.names.includes(k.fallback) ? k.fallback : k.names[0]);
      }
    }, () => {}); // 401 asks for a token (api.js); otherwise the last choices stay
    return () => { live = false; };
  }, [currentToken, epoch]);

  const { all, names } = known;
  const choices = all && current && !names.includes(current) ? [...names, current].sort() : names;
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
        {all && <option value="">All</option>}
        {choices.map((n) => <option key={n} value={n}>{n}</option>)}
        {all && <option value={OTHER}>Other…</option>}
      </select>
    </label>
  );
}
