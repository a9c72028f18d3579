"""Idempotency-Key on mutating requests: a client that lost an answer
retries with the same key and neither creates nor counts twice; the retry
gets the first answer, marked with Idempotent-Replayed."""

import threading

import pytest
import requests

from harness import HTTP_TIMEOUT, Api, metric

KEY = "Idempotency-Key"


def h(key):
    return {KEY: key}


def test_post_with_a_key_creates_once(api, mock):
    body = [api.task("a"), api.task("b", deps=["a"])]
    first = api.post("/task", json=body, headers=h("post-1"))
    assert first.status_code == 201, first.text
    assert "Idempotent-Replayed" not in first.headers
    again = api.post("/task", json=body, headers=h("post-1"))
    assert again.status_code == 201, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["X-Batch-ID"] == first.headers["X-Batch-ID"]
    # the same answer: the same ids, statuses and creation times
    assert again.json() == first.json()
    listed = api.list_tasks(batch_id=first.headers["X-Batch-ID"])
    assert sorted(t["id"] for t in listed) == sorted(t["id"] for t in first.json())
    assert len(api.list_tasks()) == 2
    mock.wait_hits("/start/a", 1)
    assert mock.count("/start/a") == 1


def test_put_with_a_key_counts_once(api):
    t = api.running("a")
    for _ in range(3):
        r = api.put("/task/" + t["id"], json={"new_success": 5}, headers=h("put-1"))
        assert r.status_code == 202, r.text
    assert api.get_task(t["id"])["success"] == 5
    # another key counts again
    assert api.put("/task/" + t["id"], json={"new_success": 5}, headers=h("put-2")).status_code == 202
    assert api.get_task(t["id"])["success"] == 10


def test_patch_replay_answers_as_the_first_time(api):
    t = api.running("a")
    first = api.patch("/task/" + t["id"], json={"status": "Success"}, headers=h("patch-1"))
    assert first.status_code == 200, first.text
    again = api.patch("/task/" + t["id"], json={"status": "Success"}, headers=h("patch-1"))
    assert (again.status_code, again.text) == (first.status_code, first.text)
    assert again.headers["Idempotent-Replayed"] == "true"
    # a conflict is remembered as a conflict
    other = api.running("b")
    api.succeed(other["id"])
    c1 = api.patch("/task/" + other["id"], json={"status": "Failure", "failure_reason": "x"}, headers=h("patch-2"))
    c2 = api.patch("/task/" + other["id"], json={"status": "Failure", "failure_reason": "x"}, headers=h("patch-2"))
    assert c1.status_code == c2.status_code == 409
    assert c1.json() == c2.json()


def test_a_key_reused_for_another_request_is_refused(api):
    t = api.running("a")
    assert api.put("/task/" + t["id"], json={"new_success": 1}, headers=h("k")).status_code == 202
    r = api.put("/task/" + t["id"], json={"new_success": 2}, headers=h("k"))
    assert r.status_code == 422, r.text
    assert "Idempotency-Key 'k' was already used with a different request" in r.json()["error"]
    r = api.post("/task", json=[api.task("z")], headers=h("k"))
    assert r.status_code == 422, r.text
    assert api.get_task(t["id"])["success"] == 1


def test_malformed_keys_are_refused(api):
    t = api.running("a")
    for bad in ["", "x" * 256, "with space", "tab\tbed"]:
        r = api.put("/task/" + t["id"], json={"new_success": 1}, headers=h(bad))
        assert r.status_code == 400, (bad, r.text)
        assert "Idempotency-Key must be 1 to 255 visible ASCII characters" in r.text
    assert api.put("/task/" + t["id"], json={"new_success": 1}, headers=h('"quoted"')).status_code == 202
    assert api.put("/task/" + t["id"], json={"new_success": 1}, headers=h("quoted")).headers.get(
        "Idempotent-Replayed") == "true"
    assert api.put("/task/" + t["id"], json={"new_success": 1}, headers=h("x" * 255)).status_code == 202
    assert api.get_task(t["id"])["success"] == 2


def test_a_failed_request_leaves_its_key_free(api):
    # refused by validation: nothing reached the engine, nothing remembered
    r = api.post("/task", json=[{"id": "a"}], headers=h("v"))
    assert r.status_code == 400
    ok = api.post("/task", json=[api.task("a")], headers=h("v"))
    assert ok.status_code == 201 and "Idempotent-Replayed" not in ok.headers


def test_concurrent_requests_with_one_key_apply_once(api):
    t = api.running("a")
    url = api.server.url("/task/" + t["id"])
    codes = []

    def one():
        r = requests.put(url, json={"new_success": 1}, headers=h("race"), timeout=HTTP_TIMEOUT)
        codes.append((r.status_code, r.headers.get("Idempotent-Replayed")))

    threads = [threading.Thread(target=one) for _ in range(16)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert [c for c, _ in codes] == [202] * 16
    assert sum(1 for _, rep in codes if rep is None) == 1
    assert api.get_task(t["id"])["success"] == 1


def test_keys_are_forgotten_after_their_ttl(make_api):
    api = make_api(IDEMPOTENCY_TTL_SECS="60")
    t = api.running("a")
    assert api.put("/task/" + t["id"], json={"new_success": 1}, headers=h("ttl")).status_code == 202
    assert api.put("/task/" + t["id"], json={"new_success": 1}, headers=h("ttl")).headers["Idempotent-Replayed"] == "true"
    api.advance(61)
    r = api.put("/task/" + t["id"], json={"new_success": 1}, headers=h("ttl"))
    assert r.status_code == 202 and "Idempotent-Replayed" not in r.headers
    assert api.get_task(t["id"])["success"] == 2
    assert metric(api.metrics(), "idempotency_keys_expired_total") == 1


def test_get_ignores_the_header(api):
    t = api.running("a")
    r = api.get("/task/" + t["id"], headers=h(""))
    assert r.status_code == 200


@pytest.mark.postgres_only
def test_one_key_sent_to_two_nodes_applies_once(weft_factory, mock):
    """Two nodes on one database take a key in turn: the second waits for
    the first's transaction, then answers with its outcome."""
    first = weft_factory.start()
    second = weft_factory.start(db=first.db)
    api = Api(first, mock)
    t = api.running("a")
    codes = []

    def one(srv):
        r = requests.put(srv.url("/task/" + t["id"]), json={"new_success": 1}, headers=h("two-nodes"),
                         timeout=HTTP_TIMEOUT)
        codes.append((r.status_code, r.headers.get("Idempotent-Replayed")))

    threads = [threading.Thread(target=one, args=(srv,)) for srv in (first, second) * 8]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert [c for c, _ in codes] == [202] * 16
    assert sum(1 for _, rep in codes if rep is None) == 1
    assert api.get_task(t["id"])["success"] == 1
