#!/usr/bin/env python3
"""Tables of a bench/peers run: bulk enqueue and drain, jobs/s per system and
configuration (median of the repetitions), and the ratio weft / peer; or,
for `run.sh --workload workflows`, workflow runs/s of weft and DBOS and the
ratio weft / DBOS.

    report.py DIR        DIR as written by run.sh (results.jsonl, machine.json, ...)
    report.py FILE.jsonl only the tables

Each line of results.jsonl is one run: a peer's (graphile.mjs, pgboss.mjs:
system, workload, config, n, jobs_per_s, lost, dup, ok) or weft's (the JSON
report of `weft bench --queue`, with the label run.sh gave it); for
workflows, dbos/workflows.mjs's line (runs_per_s, p50_ms, p99_ms, ok) or
the report of `weft bench workflows`. A run that
lost or duplicated a job, or failed, is never a number: its row says failed.
Standard library only.
"""

import json
import os
import statistics
import sys

WORKLOADS = (("enqueue", "Bulk enqueue"), ("drain", "Drain of pre-inserted jobs"))
# The weft configurations a peer on the same PostgreSQL is compared with.
RATIO_AGAINST = ("postgres 1 node", "postgres 3 nodes")


def peer_label(r):
    """The configuration as the table shows it, with the values that matter."""
    p = r.get("params") or {}
    cfg = r.get("config", "?")
    if r["system"] == "graphile-worker" and r["workload"] == "drain" and p:
        if cfg == "batched":
            return "batched: localQueue %s, completeJobBatchDelay %s, failJobBatchDelay %s, concurrency %s" % (
                p.get("localQueueSize"), p.get("completeJobBatchDelay"), p.get("failJobBatchDelay"),
                p.get("concurrency"))
        return "unbatched, concurrency %s" % p.get("concurrency")
    if r["system"] == "pg-boss" and r["workload"] == "drain" and p:
        return "batchSize %s, %s workers, polling %s s" % (p.get("batchSize"), p.get("workers"),
                                                          p.get("pollingIntervalSeconds"))
    if r["workload"] == "enqueue" and p:
        return "%s, %s per call, %s calls in flight" % (cfg, p.get("batch"), p.get("clients"))
    return cfg


def weft_rows(d):
    """A `weft bench --queue` report as one row per workload."""
    label = d.get("label") or d.get("backend", "?")
    common = {"system": "weft", "config": label, "n": d.get("jobs") or d.get("n")}
    if d.get("workload") == "all" or "queue_enqueue_per_s" not in d and "queue_drain_per_s" not in d:
        why = d.get("error") or "no figures"
        return [dict(common, workload=w, ok=False, error=why) for w, _ in WORKLOADS] + \
            [dict(common, workload="latency", ok=False, error=why)]
    rows = []
    for w, _ in WORKLOADS:
        rate = d.get("queue_%s_per_s" % w)
        lost = d.get("queue_%s_lost" % w, 0 if rate is not None else -1)
        dup = d.get("queue_%s_dup" % w, 0 if rate is not None else -1)
        ok = rate is not None and lost == 0 and dup == 0
        rows.append(dict(common, workload=w, ok=ok, jobs_per_s=rate if ok else None, lost=lost, dup=dup,
                         error=None if ok else d.get("error") or "lost %s, dup %s" % (lost, dup)))
    p50, p99 = d.get("queue_latency_p50_ms"), d.get("queue_latency_p99_ms")
    rows.append(dict(common, workload="latency", ok=p50 is not None, p50=p50, p99=p99,
                     rate=d.get("queue_latency_rate"), error=None if p50 is not None else d.get("error")))
    return rows


def weft_workflow_row(d):
    """A `weft bench workflows` report (or run.sh's line for one that gave none)."""
    rate = d.get("wf_runs_per_s")
    ok = bool(d.get("ok")) and rate is not None
    return {"system": "weft", "workload": "workflows", "config": d.get("label") or d.get("config") or
            d.get("backend", "?"), "n": d.get("runs") or d.get("n"), "ok": ok, "runs_per_s": rate if ok else None,
            "steps_per_s": d.get("wf_steps_per_s"), "p50_ms": d.get("wf_latency_p50_ms"),
            "p99_ms": d.get("wf_latency_p99_ms"), "in_flight": d.get("in_flight"),
            "error": None if ok else d.get("error") or "verification failed"}


def load(path):
    rows = []
    with open(path) as f:
        for k, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                d = json.loads(line)
            except ValueError as e:
                print("report.py: %s line %d is not JSON (%s); skipped" % (path, k, e), file=sys.stderr)
                continue
            if d.get("mode") == "workflows" or (d.get("system") == "weft" and d.get("workload") == "workflows"):
                rows.append(weft_workflow_row(d))
            elif d.get("workload") == "workflows":
                d["ok"] = bool(d.get("ok")) and d.get("runs_per_s") is not None
                rows.append(d)
            elif d.get("system") == "weft" and "workload" in d and "queue_drain_per_s" not in d:
                rows.extend(weft_rows(dict(d, label=d.get("config"))))
            elif d.get("mode") == "queue" or "label" in d:
                rows.extend(weft_rows(d))
            else:
                d["ok"] = bool(d.get("ok")) and d.get("lost") == 0 and d.get("dup") == 0
                d["config"] = peer_label(d)
                rows.append(d)
    return rows


def group(rows, workload):
    """(system, config) -> runs, in order of first appearance."""
    out = {}
    for r in rows:
        if r.get("workload") == workload:
            out.setdefault((r["system"], r["config"]), []).append(r)
    return out


def summary(runs):
    """(median jobs/s or None, text for the rate column, range text, why it failed or None)."""
    bad = [r for r in runs if not r.get("ok")]
    if bad:
        r = bad[0]
        why = r.get("error") or "lost %s, dup %s" % (r.get("lost"), r.get("dup"))
        return None, "failed", "", "%d of %d runs failed; the first: %s" % (len(bad), len(runs), why)
    rates = [float(r["jobs_per_s"]) for r in runs]
    med = statistics.median(rates)
    rng = "%.0f-%.0f" % (min(rates), max(rates)) if len(rates) > 1 else ""
    return med, "%.0f" % med, rng, None


def fmt_table(header, body):
    widths = [max(len(str(x)) for x in col) for col in zip(header, *body)]
    lines = ["  ".join(str(x).ljust(w) if i < 2 else str(x).rjust(w) for i, (x, w) in enumerate(zip(row, widths)))
             .rstrip() for row in [header] + body]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def failure_lines(notes):
    """One line per distinct reason, naming every row that failed for it."""
    by = {}
    for who, why in notes:
        by.setdefault(why, []).append(who)
    return ["  failed (%s): %s" % ("; ".join(who), why) for why, who in by.items()]


def table(rows, workload, title):
    groups = group(rows, workload)
    if not groups:
        return ""
    med = {k: summary(v) for k, v in groups.items()}
    has_peers = any(k[0] != "weft" for k in groups)
    weft_ref = [(c, med[("weft", c)][0]) for c in RATIO_AGAINST if ("weft", c) in med] if has_peers else []
    ns = sorted({r.get("n") for v in groups.values() for r in v if r.get("n")})
    header = ["system", "configuration", "jobs/s (median)", "range", "runs"] + \
        ["weft %s / this" % c for c, _ in weft_ref]
    body, notes = [], []
    for (system, config), runs in groups.items():
        m, text, rng, why = med[(system, config)]
        ratios = []
        for _, ref in weft_ref:
            ratios.append("%.2f" % (ref / m) if ref and m and system != "weft" else "")
        body.append([system, config, text, rng, str(len(runs))] + ratios)
        if why:
            notes.append(("%s %s" % (system, config), why))
    out = ["%s (N = %s; durable commits on every system)" % (title, ", ".join(str(n) for n in ns)),
           fmt_table(header, body)] + failure_lines(notes)
    peers = [(med[k][0], k) for k in groups if k[0] != "weft" and med[k][0]]
    if peers:
        best, (bs, bc) = max(peers)
        out.append("best peer: %s, %s: %.0f jobs/s" % (bs, bc, best))
        for (system, config), (m, _, _, _) in med.items():
            if system == "weft" and m:
                out.append("  weft %s / best peer: %.2f" % (config, m / best))
    return "\n".join(out) + "\n"


def latency_table(rows):
    runs = [r for r in rows if r.get("workload") == "latency"]
    if not runs:
        return ""
    by = {}
    for r in runs:
        by.setdefault(r["config"], []).append(r)
    body, notes = [], []
    for config, rs in by.items():
        ok = [r for r in rs if r.get("ok")]
        if len(ok) < len(rs):
            body.append([config, "failed", "", str(len(rs))])
            notes.append((config, next(r for r in rs if not r.get("ok")).get("error")))
            continue
        body.append([config, "%.2f" % statistics.median(r["p50"] for r in ok),
                     "%.2f" % statistics.median(r["p99"] for r in ok), str(len(ok))])
    return "weft enqueue -> claim latency at 1,000 jobs/s, open loop (median over runs)\n" + \
        "\n".join([fmt_table(["configuration", "p50 ms", "p99 ms", "runs"], body)] + failure_lines(notes)) + "\n"


def workflows_table(rows):
    """Runs/s of the 10-step workflow per system and configuration, the
    median of the repetitions, and weft / DBOS per weft configuration."""
    groups = group(rows, "workflows")
    if not groups:
        return ""
    body, notes, med = [], [], {}
    for (system, config), runs in groups.items():
        bad = [r for r in runs if not r.get("ok")]
        if bad:
            body.append([system, config, "failed", "", "", "", "", str(len(runs))])
            notes.append(("%s %s" % (system, config), "%d of %d runs failed; the first: %s" % (
                len(bad), len(runs), bad[0].get("error"))))
            continue
        rates = [float(r["runs_per_s"]) for r in runs]
        med[(system, config)] = m = statistics.median(rates)
        body.append([system, config, "%.1f" % m, "%.1f-%.1f" % (min(rates), max(rates)) if len(rates) > 1 else "",
                     "%.0f" % statistics.median(float(r["steps_per_s"]) for r in runs),
                     "%.1f" % statistics.median(float(r["p50_ms"]) for r in runs),
                     "%.1f" % statistics.median(float(r["p99_ms"]) for r in runs), str(len(runs))])
    ns = sorted({r.get("n") for v in groups.values() for r in v if r.get("n")})
    out = ["Workflow runs, 10 no-op steps each, closed loop (N = %s runs; durable commits on every system)" %
           ", ".join(str(n) for n in ns),
           fmt_table(["system", "configuration", "runs/s (median)", "range", "steps/s", "p50 ms", "p99 ms", "runs"],
                     body)] + failure_lines(notes)
    dbos = [(k, m) for k, m in med.items() if k[0] == "dbos"]
    for (_, dc), dm in dbos:
        for (system, config), m in med.items():
            if system == "weft":
                out.append("  weft %s / dbos: %.2f" % (config, m / dm))
    # The same ratio within each repetition (the i-th run of each side), so
    # that the machine's drift between repetitions cancels out.
    for (_, dc), _ in dbos:
        d_runs = groups[("dbos", dc)]
        for (system, config), runs in groups.items():
            if system != "weft" or (system, config) not in med:
                continue
            per = ["%.2f" % (w["runs_per_s"] / d["runs_per_s"]) for w, d in zip(runs, d_runs) if d.get("ok")]
            if per:
                out.append("  weft %s / dbos per repetition: %s" % (config, ", ".join(per)))
    return "\n".join(out) + "\n"


def machine_text(d):
    lines = []
    mpath = os.path.join(d, "machine.json")
    if os.path.exists(mpath):
        m = json.load(open(mpath))
        fs = m.get("pg_test_fsync_fdatasync") or {}
        lines.append("machine: %s, %s cores, %s MiB, kernel %s; data on %s; load before %.2f" % (
            m.get("cpu_model"), m.get("cores"), m.get("mem_mib"), m.get("kernel"), m.get("filesystem"),
            m.get("load_before", 0)))
        if fs:
            lines.append("pg_test_fsync: fdatasync %.0f ops/s (%s us/op)" % (fs["ops_per_s"], fs["usecs_per_op"]))
    lpath = os.path.join(d, "load_after.txt")
    if os.path.exists(lpath):
        lines.append("load average at the end (1, 5, 15 min): %s" % open(lpath).read().strip())
    for name in ("pg_version.txt", "pg_settings.txt"):
        p = os.path.join(d, name)
        if os.path.exists(p):
            text = open(p).read().strip()
            lines.append(text if name == "pg_version.txt" else "settings: " + ", ".join(text.splitlines()))
    return "\n".join(lines) + "\n" if lines else ""


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    path = argv[1]
    head = ""
    if os.path.isdir(path):
        head = machine_text(path)
        path = os.path.join(path, "results.jsonl")
    rows = load(path)
    if not rows:
        print("report.py: no results in %s" % path, file=sys.stderr)
        return 1
    parts = [head] if head else []
    for w, title in WORKLOADS:
        t = table(rows, w, title)
        if t:
            parts.append(t)
    wt = workflows_table(rows)
    if wt:
        parts.append(wt)
    lt = latency_table(rows)
    if lt:
        parts.append(lt)
    print("\n".join(parts), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
