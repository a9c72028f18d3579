"""`weft queues`, `weft workers` and `weft dead-letters` against a real
server, in --json (values checked) and table output (header and rows)."""

from cli_util import as_json, claim, enqueue, fail, fields, ok, rows_by, table, weft


def test_queues_ls_and_show(server):
    enqueue(server, "mail", 1, 2, 3)
    header, rows = rows_by(ok(server.base, "queues"), "NAME")
    assert header[:3] == ["NAME", "PAUSED", "READY"] and "CONCURRENCY" in header
    assert rows["mail"]["READY"] == "3" and rows["mail"]["PAUSED"] == "no"
    doc = as_json(server.base, "queues", "ls")
    (q,) = [q for q in doc["queues"] if q["name"] == "mail"]
    assert q["depth"]["ready"] == 3
    f = fields(ok(server.base, "queues", "show", "mail"))
    assert f["Name"] == "mail" and f["Ready"] == "3" and f["Namespace"] == "default"
    assert as_json(server.base, "queues", "show", "mail")["depth"]["ready"] == 3
    assert [q["name"] for q in as_json(server.base, "queues", "--all")] == ["mail"]
    assert rows_by(ok(server.base, "queues", "ls", "--all"), "NAME")[1]["mail"]["READY"] == "3"


def test_queues_pause_resume_set(server):
    enqueue(server, "sms", 1)
    _, rows = rows_by(ok(server.base, "queues", "pause", "sms"), "NAME")
    assert rows["sms"]["PAUSED"] == "yes"
    assert as_json(server.base, "queues", "resume", "sms")["paused"] is False
    assert as_json(server.base, "queues", "pause", "sms")["paused"] is True
    _, rows = rows_by(ok(server.base, "queues", "resume", "sms"), "NAME")
    assert rows["sms"]["PAUSED"] == "no"
    doc = as_json(server.base, "queues", "set", "sms", "--concurrency", "4", "--key-concurrency", "2",
                  "--rate", "10/1m", "--burst", "20")
    assert doc["concurrency_limit"] == 4 and doc["key_concurrency_limit"] == 2
    assert doc["rate_limit"] == {"limit": 10, "period_ms": 60000, "burst": 20}
    _, rows = rows_by(ok(server.base, "queues", "set", "sms", "--concurrency", "none", "--rate", "none"), "NAME")
    assert rows["sms"]["CONCURRENCY"] == "-"
    q = server.get("/v1/queues/sms").json()
    assert q["concurrency_limit"] is None and q["rate_limit"] is None and q["key_concurrency_limit"] == 2
    out = ok(server.base, "queues", "show", "sms")
    assert "Recent changes:" in out and "configure" in out and "pause" in out
    assert as_json(server.base, "queues", "set", "sms", "--rate", "7/m")["rate_limit"]["period_ms"] == 60000
    assert as_json(server.base, "queues", "set", "sms", "--rate", "7")["rate_limit"]["period_ms"] == 1000
    r = weft(server.base, "queues", "set", "sms")
    assert r.returncode == 2 and "nothing to set" in r.stderr
    r = weft(server.base, "queues", "set", "sms", "--concurrency", "0")
    assert r.returncode == 2 and "--concurrency" in r.stderr


def test_workers_ls_show_drain(server):
    enqueue(server, "wq", 1)
    claim(server, "wq", worker="w-17", hostname="box-3")
    header, rows = rows_by(ok(server.base, "workers"), "ID")
    assert header == ["ID", "HOSTNAME", "STATE", "QUEUES", "IN_FLIGHT", "LAST_SEEN"]
    assert rows["w-17"]["HOSTNAME"] == "box-3" and rows["w-17"]["STATE"] == "active"
    assert rows["w-17"]["QUEUES"] == "wq" and rows["w-17"]["IN_FLIGHT"] == "1"
    (w,) = as_json(server.base, "workers", "ls", "--queue", "wq")["workers"]
    assert w["id"] == "w-17" and w["in_flight"] == 1
    assert as_json(server.base, "workers", "ls", "--queue", "other")["workers"] == []
    f = fields(ok(server.base, "workers", "show", "w-17"))
    assert f["Hostname"] == "box-3" and f["Queues"] == "wq"
    assert as_json(server.base, "workers", "show", "w-17")["state"] == "active"
    _, rows = rows_by(ok(server.base, "workers", "drain", "w-17"), "ID")
    assert rows["w-17"]["STATE"] == "draining"
    assert as_json(server.base, "workers", "drain", "w-17")["state"] == "draining"
    r = weft(server.base, "workers", "show", "nobody")
    assert r.returncode == 5 and "nobody" in r.stderr


def kill(server, queue, n):
    ids = enqueue(server, queue, *range(n), max_attempts=1)
    for job in claim(server, queue, n=n):
        fail(server, job, message="gave up")
    return ids


def test_dead_letters_ls_show_requeue(server):
    a, b, c = kill(server, "dlq", 3)
    header, rows = rows_by(ok(server.base, "dead-letters"), "ID")
    assert header == ["ID", "NAME", "QUEUE", "ATTEMPT", "ERROR", "ENDED"]
    assert set(rows) == {a, b, c} and rows[a]["ERROR"] == "gave up"
    assert {t["id"] for t in as_json(server.base, "dead-letters", "ls", "--queue", "dlq")["dead_letters"]} == {a, b, c}
    f = fields(ok(server.base, "dead-letters", "show", a))
    assert f["ID"] == a and f["Dead letter"] == "yes"
    assert as_json(server.base, "dead-letters", "show", a)["dead_letter"] is True
    doc = as_json(server.base, "dead-letters", "requeue", a, "--reason", "fixed")
    assert doc == {"requeued": [a], "skipped": []}
    header, rows = rows_by(ok(server.base, "dead-letters", "requeue", a, b), "ID")
    assert header == ["ID", "RESULT"] and rows[b]["RESULT"] == "requeued"
    assert rows[a]["RESULT"] == "skipped: not_dead_letter"
    assert server.get("/v1/tasks/" + b).json()["status"] == "pending"
    r = weft(server.base, "dead-letters", "requeue")
    assert r.returncode == 2


def test_dead_letters_requeue_a_whole_queue(server):
    ids = kill(server, "dl-all", 4)
    kill(server, "dl-other", 1)
    doc = as_json(server.base, "dead-letters", "requeue", "--queue", "dl-all", "--all")
    assert sorted(doc["requeued"]) == sorted(ids) and doc["skipped"] == []
    assert as_json(server.base, "dead-letters", "ls", "--queue", "dl-all")["dead_letters"] == []
    assert len(as_json(server.base, "dead-letters", "ls", "--queue", "dl-other")["dead_letters"]) == 1
    _, rows = table(ok(server.base, "dead-letters", "requeue", "--queue", "dl-other", "--limit", "5"))
    assert len(rows) == 1 and rows[0][1] == "requeued"
