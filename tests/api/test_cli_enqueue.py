"""`weft enqueue` against a real server: ids per value from arguments or
stdin lines, the job fields its options set, duplicates, and the exit codes
of bad input (2, before anything is sent) and an unreachable server (4)."""

import json
import os
import subprocess

from harness import SANITIZER_MARKERS, closed_port_url, weft_bin


def run(url, *args, stdin=None):
    env = dict(os.environ)
    env["WEFT_URL"] = url
    for name in ("WEFT_TOKEN", "WEFT_NAMESPACE"):
        env.pop(name, None)
    r = subprocess.run([weft_bin(), "enqueue", *args], env=env, input=stdin, capture_output=True, text=True,
                       timeout=60)
    for marker in SANITIZER_MARKERS:   # under build/asan/weft
        assert marker not in r.stderr, r.stderr
    return r


def job(server, job_id):
    r = server.get("/v1/tasks/" + job_id)
    assert r.status_code == 200, r.text
    return r.json()


def test_one_job_per_argument(server):
    r = run(server.base, "--priority", "7", "--max-attempts", "2", "--metadata", '{"team":"a"}', "cli-q",
            '{"n":1}', '"text"', "3")
    assert r.returncode == 0, r.stderr
    ids = r.stdout.split()
    assert len(ids) == 3
    inputs = [job(server, i)["input"] for i in ids]
    assert inputs == [{"n": 1}, "text", 3]
    first = job(server, ids[0])
    assert first["queue"] == "cli-q"
    assert first["priority"] == 7
    assert first["max_attempts"] == 2
    assert first["metadata"] == {"team": "a"}


def test_one_job_per_stdin_line_in_batches(server):
    lines = "".join('{"i":%d}\n' % i for i in range(2500)) + "\n   \n"
    r = run(server.base, "cli-bulk", stdin=lines)
    assert r.returncode == 0, r.stderr
    ids = r.stdout.split()
    assert len(ids) == 2500 and len(set(ids)) == 2500
    assert job(server, ids[0])["input"] == {"i": 0}
    assert job(server, ids[-1])["input"] == {"i": 2499}   # the third request's last


def test_duplicate_is_marked(server):
    a = run(server.base, "--dedup-key", "k1", "cli-dedup", "1")
    b = run(server.base, "--dedup-key", "k1", "cli-dedup", "2")
    assert a.returncode == 0 and b.returncode == 0, (a.stderr, b.stderr)
    assert b.stdout == a.stdout.strip() + " duplicate\n"


def test_bad_value_exits_2_naming_it_and_sends_nothing(server):
    r = run(server.base, "cli-bad", "1", "{oops}")
    assert r.returncode == 2
    assert "argument 2 is not JSON" in r.stderr
    r = run(server.base, "cli-bad", stdin='{"ok":1}\n\nnot json\n')
    assert r.returncode == 2
    assert "line 3 is not JSON" in r.stderr
    assert "a string needs double quotes" in r.stderr
    assert r.stdout == ""
    lst = server.get("/v1/tasks?queue=cli-bad")
    assert lst.status_code == 200 and lst.json()["tasks"] == []


def test_usage_errors_exit_2():
    url = closed_port_url("")
    assert run(url).returncode == 2                          # no queue
    assert run(url, "--delay", "soon", "q", "1").returncode == 2
    assert run(url, "--backoff", "1s,2", "q", "1").returncode == 2
    assert run(url, "--metadata", "[1]", "q", "1").returncode == 2
    r = run(url, "--nope", "q", "1")
    assert r.returncode == 2 and "unknown option '--nope'" in r.stderr


def test_unreachable_server_exits_4_naming_the_url():
    url = closed_port_url("")
    r = run(url, "q", "1")
    assert r.returncode == 4
    assert "cannot reach the weft server at %s" % url in r.stderr
    assert "WEFT_URL" in r.stderr


def test_json_prints_the_answer(server):
    r = run(server.base, "--json", "cli-json", "1", "2")
    assert r.returncode == 0, r.stderr
    jobs = json.loads(r.stdout)["jobs"]
    assert [j["duplicate"] for j in jobs] == [False, False]
    assert [job(server, j["id"])["input"] for j in jobs] == [1, 2]
