/*
 * synth.js — synthetic DAGs for the graph dev page and its measurements:
 * chains, fan-out/fan-in, chained diamonds and layered random graphs.
 */
const KINDS = ['fetch', 'parse', 'transform', 'load', 'report'];
const STATUSES = ['waiting', 'pending', 'claimed', 'running', 'succeeded', 'failed', 'paused', 'canceled', 'skipped'];

/* Small deterministic PRNG so a shape and size always give the same graph. */
export function random(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x / 4294967296;
  };
}

function makeTask(i, rnd, kind) {
  return {
    id: `t${i}`,
    name: `${kind}-${i}`,
    kind,
    executor: 'http',
    status: STATUSES[Math.floor(rnd() * STATUSES.length)],
    barrier: rnd() < 0.02,
    started_at: null,
    ended_at: null,
  };
}

export function synth(shape, n, seed = 1) {
  const rnd = random(seed);
  const tasks = [];
  const edges = [];
  const kindAt = (i) => KINDS[i % KINDS.length];
  const link = (a, b) => edges.push({ from: `t${a}`, to: `t${b}`, required: rnd() > 0.2 });
  if (shape === 'chain') {
    for (let i = 0; i < n; i++) { tasks.push(makeTask(i, rnd, kindAt(i))); if (i) link(i - 1, i); }
  } else if (shape === 'fanout') {
    for (let i = 0; i < n; i++) tasks.push(makeTask(i, rnd, i === 0 ? 'split' : i === n - 1 ? 'join' : kindAt(i)));
    for (let i = 1; i < n - 1; i++) { link(0, i); link(i, n - 1); }
  } else if (shape === 'diamonds') {
    for (let i = 0; i < n; i++) tasks.push(makeTask(i, rnd, kindAt(i % 4)));
    for (let top = 0; top + 3 < n; top += 3) { link(top, top + 1); link(top, top + 2); link(top + 1, top + 3); link(top + 2, top + 3); }
  } else {
    /* layered: ~sqrt(n) layers, each task has 1-3 parents in earlier layers,
       mostly the one just above. */
    const width = Math.max(2, Math.round(Math.sqrt(n) * 1.5));
    for (let i = 0; i < n; i++) {
      const layer = Math.floor(i / width);
      tasks.push(makeTask(i, rnd, KINDS[(layer + Math.floor(rnd() * 2)) % KINDS.length]));
      if (layer === 0) continue;
      const parents = 1 + Math.floor(rnd() * 3);
      const seen = new Set();
      for (let p = 0; p < parents; p++) {
        const back = rnd() < 0.8 ? 1 : 1 + Math.floor(rnd() * Math.min(layer, 4));
        const from = (layer - back) * width + Math.floor(rnd() * width);
        if (from < i && !seen.has(from)) { seen.add(from); link(from, i); }
      }
    }
  }
  return { tasks, edges };
}

/* A copy of tasks where about `fraction` of them moved to another status. */
export function churn(tasks, fraction, seed) {
  const rnd = random(seed);
  return tasks.map((t) => (rnd() < fraction ? { ...t, status: STATUSES[Math.floor(rnd() * STATUSES.length)] } : t));
}
