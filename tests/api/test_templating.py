"""Webhooks templated from the task's metadata: `{{metadata.key}}` in the
URL (percent-encoded), in header values and in body strings (a string that is
exactly one placeholder keeps the JSON type of the value)."""

import urllib.parse

from harness import webhook

METADATA = {"tenant": "acme corp/eu&1", "region": "eu-west", "n": 42, "flag": True,
            "obj": {"k": [1, 2]}, "ratio": 0.5}


def raw_segment(hit, prefix):
    assert hit.path.startswith(prefix), hit.path
    return hit.path[len(prefix):]


def test_on_start_url_headers_and_body_rendered(api, mock):
    params = {
        "url": mock.url("/t/{{metadata.tenant}}/r") + "?region={{metadata.region}}&who={{metadata.tenant}}",
        "verb": "Post",
        "headers": {"X-Tenant-Region": "{{metadata.region}}", "X-Mixed": "n={{metadata.n}};f={{metadata.flag}}"},
        "body": {"tenant": "{{metadata.tenant}}", "n": "{{metadata.n}}", "flag": "{{metadata.flag}}",
                 "obj": "{{metadata.obj}}", "ratio": "{{metadata.ratio}}", "mixed": "count {{metadata.n}}",
                 "nested": {"list": ["{{metadata.region}}", "{{metadata.n}}"]}, "plain": "no placeholder"},
    }
    t = api.task("a", metadata=METADATA)
    t["on_start"] = {"kind": "Webhook", "params": params}
    created = api.create([t])[0]
    api.wait_status(created["id"], "Running")
    hits = [h for h in mock.hits() if h.path.startswith("/t/")]
    assert len(hits) == 1, [h.path for h in mock.hits()]
    hit = hits[0]
    # URL: percent-encoded value in the path and in the query
    seg = raw_segment(hit, "/t/")
    assert seg.endswith("/r"), hit.path
    seg = seg[:-2]
    assert not any(c in seg for c in " /&"), seg
    assert urllib.parse.unquote(seg) == METADATA["tenant"]
    assert hit.params["region"] == ["eu-west"]
    assert hit.params["who"] == [METADATA["tenant"]]
    assert hit.params["handle"] == ["%s/task/%s" % (api.server.host_url, created["id"])]
    # headers: the text of the value
    assert hit.header("X-Tenant-Region") == "eu-west"
    assert hit.header("X-Mixed") == "n=42;f=true"
    # body: a whole placeholder keeps the type, embedded ones become text
    assert hit.json() == {"tenant": METADATA["tenant"], "n": 42, "flag": True, "obj": {"k": [1, 2]},
                          "ratio": 0.5, "mixed": "count 42", "nested": {"list": ["eu-west", 42]},
                          "plain": "no placeholder"}


def test_end_webhook_rendered_and_enriched(api, mock):
    hook = webhook(mock.url("/done/{{metadata.region}}"), body={"n": "{{metadata.n}}"},
                   headers={"X-Tenant": "{{metadata.region}}"})
    t = api.running("a", metadata=METADATA, on_success=[hook])
    api.succeed(t["id"])
    hit = mock.wait_hits("/done/eu-west", 1)[0]
    assert hit.header("X-Tenant") == "eu-west"
    assert hit.header("Idempotency-Key") == "%s:end:success" % t["id"]
    body = hit.json()
    assert body["n"] == 42
    assert body["arcrun"]["task_id"] == t["id"]

