"""`weft bench workflows` on a small number of runs, so that the mode keeps
working: every run is started once, claimed once, worked through its ten
steps over HTTP and completed, and the bench's own check of the database
(runs `completed` with 10 memo rows and 10 completed steps) agrees. Nothing
here is timed; the rates only have to be reported.

On WEFT_TEST_BACKEND=postgres the bench gets the suite's cluster (--db) and
creates and drops a database of its own there."""

import json
import os
import subprocess

import pgcluster
from harness import BACKEND, weft_bin

RUNS = 30


def bench(tmp_path, *args):
    cmd = [weft_bin(), "bench"] + list(args)
    if BACKEND == "postgres":
        cmd += ["--db", pgcluster.cluster().url("postgres")]
    env = dict(os.environ, TMPDIR=str(tmp_path))
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, timeout=300)


def test_every_run_completes_with_ten_steps(tmp_path):
    p = bench(tmp_path, "workflows", "--runs", str(RUNS), "--workers", "3", "--in-flight", "5", "--json")
    assert p.returncode == 0, p.stderr[-3000:]
    d = json.loads(p.stdout)
    assert d["ok"] is True and d["mode"] == "workflows" and d["backend"] == BACKEND, d
    assert d["runs"] == RUNS and d["steps_per_run"] == 10
    assert d["wf_not_started_once"] == 0 and d["wf_lost"] == 0 and d["wf_dup"] == 0
    assert d["wf_db_runs"] == RUNS and d["wf_db_verified"] == RUNS
    # A start, 10 begins, 10 step completions and a run completion per run,
    # plus the claims.
    assert d["wf_requests"] >= RUNS * 22
    assert d["wf_runs_per_s"] > 0 and d["wf_steps_per_s"] > 0
    assert 0 < d["wf_latency_p50_ms"] <= d["wf_latency_p99_ms"] <= d["wf_latency_max_ms"]
    # The temporary directory (and on PostgreSQL the database) is gone.
    assert not any(n.startswith("weft-bench-") for n in os.listdir(tmp_path))


def test_workflow_options_belong_to_the_mode(tmp_path):
    p = bench(tmp_path, "--runs", "5")
    assert p.returncode == 2 and "belong to `weft bench workflows`" in p.stderr, p.stderr
    p = bench(tmp_path, "workflows", "--queue")
    assert p.returncode == 2 and "choose one" in p.stderr, p.stderr
    p = bench(tmp_path, "workflows", "--runs", "0")
    assert p.returncode == 2 and "--runs needs an integer in [1, 1000000]" in p.stderr, p.stderr
