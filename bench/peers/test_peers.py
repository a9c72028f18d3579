"""Checks of the bench's own logic, without PostgreSQL or the peers:

- `weft bench --queue` against the real server: a clean run reports rates
  and passes its exactly-once checks;
- against faulty_server.py, a server with faults the real one must never
  have: one that hands out a completed job again fails the run and reports
  no drain rate; one without the /v1 job routes fails with the message that
  says so;
- report.py: the median of the runs, the weft / peer ratio, and a run that
  lost or duplicated a job shown as failed, never as a number.

    make build/weft && /usr/bin/python3 -m pytest -q bench/peers/test_peers.py

Not part of `make check` (it starts servers and takes about 5 s).
"""

import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
WEFT = os.environ.get("WEFT_BIN", os.path.join(ROOT, "build", "weft"))
FAULTY = os.path.join(HERE, "faulty_server.py")
REPORT = os.path.join(HERE, "report.py")


def bench(tmp_path, *args, env=None):
    e = dict(os.environ, TMPDIR=str(tmp_path))
    e.update(env or {})
    p = subprocess.run([WEFT, "bench", "--queue", "--json"] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, env=e, timeout=120)
    return p.returncode, json.loads(p.stdout), p.stderr


@pytest.fixture(autouse=True)
def need_weft():
    if not os.access(WEFT, os.X_OK):
        pytest.skip("build/weft is not built")


def test_clean_run_reports_rates_and_exactly_once(tmp_path):
    rc, d, err = bench(tmp_path, "--jobs", "3000", "--latency-secs", "1")
    assert rc == 0, err
    assert d["ok"] is True and d["mode"] == "queue" and d["jobs"] == 3000
    assert d["queue_enqueue_lost"] == 0 and d["queue_enqueue_dup"] == 0
    assert d["queue_drain_lost"] == 0 and d["queue_drain_dup"] == 0
    assert d["queue_drain_server_success"] == 3000
    assert d["queue_enqueue_per_s"] > 0 and d["queue_drain_per_s"] > 0
    assert 0 <= d["queue_latency_p50_ms"] <= d["queue_latency_p99_ms"] <= d["queue_latency_max_ms"]


def test_a_job_claimed_twice_fails_the_run_without_a_rate(tmp_path):
    rc, d, _ = bench(tmp_path, "--jobs", "20000", "--latency-secs", "0", "--server", FAULTY,
                     env={"FAULTY_FAIL_EVERY": "7"})
    assert rc == 1 and d["ok"] is False
    assert d["queue_drain_dup"] > 0
    assert "queue_drain_per_s" not in d
    assert "duplicated" in d["error"]


def test_a_server_without_job_routes_is_named(tmp_path):
    rc, d, err = bench(tmp_path, "--jobs", "10", "--latency-secs", "0", "--server", FAULTY,
                       env={"FAULTY_NO_JOB_ROUTES": "1"})
    assert rc == 1 and d["ok"] is False
    assert "the server answers 404 for /v1/jobs" in d["error"]
    assert "the server answers 404 for /v1/jobs" in err


def report(tmp_path, lines):
    path = tmp_path / "results.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    p = subprocess.run([sys.executable, REPORT, str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    return p.stdout


def peer(rate, lost=0, dup=0, config="batch1000"):
    return {"system": "pg-boss", "workload": "drain", "config": config, "n": 1000, "jobs_per_s": rate,
            "lost": lost, "dup": dup, "ok": lost == 0 and dup == 0}


def weft(drain, label="postgres 1 node"):
    return {"mode": "queue", "label": label, "jobs": 1000, "queue_enqueue_per_s": 5000, "queue_enqueue_lost": 0,
            "queue_enqueue_dup": 0, "queue_drain_per_s": drain, "queue_drain_lost": 0, "queue_drain_dup": 0,
            "queue_latency_p50_ms": 1.0, "queue_latency_p99_ms": 2.0, "ok": True}


def row(text, start):
    return next(line for line in text.splitlines() if line.startswith(start))


def test_report_median_and_ratio(tmp_path):
    out = report(tmp_path, [peer(100), peer(300), peer(200), weft(1000), weft(900), weft(5000)])
    assert "200" in row(out, "pg-boss").split()   # median of 100, 300, 200
    assert "100-300" in row(out, "pg-boss")
    assert "5.00" in row(out, "pg-boss")          # weft's median 1000 / 200
    assert "weft postgres 1 node / best peer: 5.00" in out


def test_report_never_shows_a_number_for_a_lost_or_duplicated_job(tmp_path):
    out = report(tmp_path, [peer(100), peer(100000, dup=1), peer(100), weft(1000)])
    line = row(out, "pg-boss")
    assert "failed" in line and "100000" not in line
    assert "1 of 3 runs failed" in out
    assert "best peer" not in out.split("Drain")[1]   # no peer figure to compare with


def wf_weft(rate, label, ok=True):
    d = {"mode": "workflows", "label": label, "runs": 1000, "in_flight": 64, "ok": ok,
         "wf_steps_per_s": rate * 10, "wf_latency_p50_ms": 5.0, "wf_latency_p99_ms": 9.0}
    if ok:
        d["wf_runs_per_s"] = rate
    else:
        d["error"] = "workflows: 0 not started once, 3 lost"
    return d


def wf_dbos(rate):
    return {"system": "dbos", "workload": "workflows", "config": "in-flight 64, pool default", "n": 1000,
            "runs_per_s": rate, "steps_per_s": rate * 10, "p50_ms": 7.0, "p99_ms": 11.0, "ok": True}


def test_report_workflows_median_and_ratio_per_repetition(tmp_path):
    out = report(tmp_path, [wf_weft(400, "sqlite synchronous FULL"), wf_weft(100, "postgres 1 node"), wf_dbos(50),
                            wf_weft(600, "sqlite synchronous FULL"), wf_weft(300, "postgres 1 node"), wf_dbos(100),
                            wf_weft(500, "sqlite synchronous FULL"), wf_weft(200, "postgres 1 node"), wf_dbos(200)])
    assert "500.0" in row(out, "weft    sqlite").split() and "400.0-600.0" in row(out, "weft    sqlite")
    assert "weft postgres 1 node / dbos: 2.00" in out          # medians 200 / 100
    assert "weft sqlite synchronous FULL / dbos per repetition: 8.00, 6.00, 2.50" in out


def test_report_workflows_never_shows_a_number_for_a_failed_verification(tmp_path):
    out = report(tmp_path, [wf_weft(400, "postgres 1 node", ok=False), wf_dbos(100)])
    assert "failed" in row(out, "weft") and "400" not in row(out, "weft")
    assert "3 lost" in out and "/ dbos" not in out
