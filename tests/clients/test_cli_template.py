"""`weft template [apply|ls|show|run]` against a real server: a YAML file
applied twice registers its version once, a changed body under the same
version is refused with the conflict named (exit 6), and a run started
with --context carries it to the claimed jobs; a repeat answers the same
run."""

from cli_util import as_json, fields, ok, rows_by, weft

TEMPLATE_YAML = """\
name: nightly-report
version: "1.0"
description: Build and mail the report
steps:
  - ref: build
    queue: cli-tpl-build
    input: {format: pdf}
  - ref: mail
    queue: cli-tpl-mail
    parents: [{ref: build}]
"""


def test_apply_twice_then_a_changed_body_is_refused(server, tmp_path):
    f = tmp_path / "report.yaml"
    f.write_text(TEMPLATE_YAML)
    r = ok(server.base, "template", "apply", str(f))
    assert "nightly-report@1.0 registered (2 steps" in r, r
    r = ok(server.base, "template", "apply", str(f))
    assert "nightly-report@1.0 unchanged" in r, r

    f.write_text(TEMPLATE_YAML.replace("format: pdf", "format: html"))
    r = weft(server.base, "template", "apply", str(f))
    assert r.returncode == 6, (r.returncode, r.stdout, r.stderr)
    assert "nightly-report@1.0" in r.stderr and "another body" in r.stderr, r.stderr
    shown = as_json(server.base, "template", "show", "nightly-report@1.0")
    assert shown["body"]["steps"][0]["input"] == {"format": "pdf"}

    # a new version is fine, and both are listed, newest first
    f.write_text(TEMPLATE_YAML.replace('version: "1.0"', 'version: "1.1"').replace("format: pdf", "format: html"))
    assert "nightly-report@1.1 registered" in ok(server.base, "template", "apply", str(f))
    _, rows = rows_by(ok(server.base, "template", "ls"), "VERSION")
    assert set(rows) == {"1.0", "1.1"} and rows["1.0"]["STEPS"] == "2"
    listed = as_json(server.base, "template", "ls", "--name", "nightly-report")["templates"]
    assert [t["version"] for t in listed] == ["1.1", "1.0"]
    f2 = fields(ok(server.base, "template", "show", "nightly-report@1.1"))
    assert f2["Name"] == "nightly-report" and f2["Steps"] == "2"


def test_errors_name_the_step(server, tmp_path):
    f = tmp_path / "bad.json"
    f.write_text('{"name": "bad", "version": "1", "steps": [{"ref": "a", "queue": "q", "max_attempts": 0}]}')
    r = weft(server.base, "template", "apply", str(f))
    assert r.returncode == 2 and "steps[0].max_attempts" in r.stderr, (r.returncode, r.stderr)
    r = weft(server.base, "template", "show", "no-at-sign")
    assert r.returncode == 2 and "NAME@VERSION" in r.stderr, r.stderr
    r = weft(server.base, "template", "run", "bad@1", "--context", "{nope")
    assert r.returncode == 2 and "--context" in r.stderr, r.stderr
    r = weft(server.base, "template", "show", "nothing@1")
    assert r.returncode == 5, (r.returncode, r.stderr)


def test_run_with_context(server, api, tmp_path):
    f = tmp_path / "report.yaml"
    f.write_text(TEMPLATE_YAML)
    ok(server.base, "template", "apply", str(f))
    ctx = tmp_path / "ctx.json"
    ctx.write_text('{"day": "2026-12-05"}')
    run = as_json(server.base, "template", "run", "nightly-report@1.0", "--context", "@" + str(ctx))
    assert run["created"] is True and run["name"] == "nightly-report@1.0"
    again = as_json(server.base, "template", "run", "nightly-report@1.0", "--context", '{"day":"2026-12-05"}')
    assert again["id"] == run["id"] and again["created"] is False
    keyed = as_json(server.base, "template", "run", "nightly-report@1.0", "--key", "k-1")
    assert keyed["id"] != run["id"]
    r = api.post("/v1/jobs/claim", json={"queues": ["cli-tpl-build"], "worker_id": "w", "max_jobs": 5})
    jobs = r.json()["jobs"]
    assert sorted(j["input"]["context"]["day"] if j["input"]["context"] else "-" for j in jobs) == [
        "-", "2026-12-05"]
    assert all(j["input"]["config"] == {"format": "pdf"} for j in jobs)
