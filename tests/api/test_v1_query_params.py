"""Every /v1 route refuses a query parameter it does not take: a filter the
server ignored would answer as if it had applied it. What each route takes
is what /v1/openapi.json declares for its operation, so the document and
the server cannot disagree. ArcRun's routes keep ignoring what they do not
read: their clients must keep working unchanged."""

def refused(r):
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["code"] == "invalid_request", err
    return err


def declared(api, method, path):
    doc = api.get("/v1/openapi.json").json()
    names = []
    for p in doc["paths"][path][method.lower()].get("parameters", []):
        if "$ref" in p:
            p = doc["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]]
        if p["in"] == "query":
            names.append(p["name"])
    return names


def test_a_list_refuses_a_filter_it_does_not_have(api):
    api.post("/v1/schedules", json={"name": "nightly", "cron": "0 3 * * *",
                                    "target": {"kind": "job", "queue": "q"}})
    err = refused(api.get("/v1/schedules", params={"queue": "x"}))
    assert err["details"] == ["queue: not a parameter of GET /v1/schedules (it takes namespace, limit, cursor)"]
    assert "queue" in err["message"]
    # What the route takes still works.
    r = api.get("/v1/schedules", params={"namespace": "default", "limit": "5"})
    assert r.status_code == 200, r.text
    assert [s["name"] for s in r.json()["schedules"]] == ["nightly"]


def test_a_typo_of_a_filter_is_refused_not_ignored(api):
    err = refused(api.get("/v1/workflows", params={"staus": "failed"}))
    taken = ", ".join(declared(api, "GET", "/v1/workflows"))
    assert err["details"] == ["staus: not a parameter of GET /v1/workflows (it takes %s)" % taken]
    assert api.get("/v1/workflows", params={"status": "failed"}).status_code == 200


def test_every_unknown_parameter_is_named(api):
    err = refused(api.get("/v1/tasks", params=[("queue", "q"), ("sort", "asc"), ("page", "2")]))
    assert [d.split(":")[0] for d in err["details"]] == ["sort", "page"]


def test_a_get_of_one_object_takes_none(api):
    r = api.post("/v1/jobs", json={"jobs": [{"queue": "q"}]})
    assert r.status_code == 201, r.text
    job = r.json()["jobs"][0]["id"]
    err = refused(api.get("/v1/tasks/%s" % job, params={"namespace": "default"}))
    assert err["details"] == ["namespace: not a parameter of GET /v1/tasks/{id} (it takes none)"]
    # A name without a value is a parameter too.
    assert refused(api.get("/v1/tasks/%s?verbose" % job))["details"][0].startswith("verbose: ")
    assert api.get("/v1/tasks/%s" % job).status_code == 200


def test_a_post_is_refused_before_it_acts(api):
    err = refused(api.post("/v1/jobs?queue=other", json={"jobs": [{"queue": "q"}]}))
    assert err["details"] == ["queue: not a parameter of POST /v1/jobs (it takes none)"]
    assert api.get("/v1/tasks").json()["tasks"] == []

    assert api.post("/v1/schedules", json={"name": "s", "cron": "0 3 * * *",
                                           "target": {"kind": "job", "queue": "q"}}).status_code == 201
    err = refused(api.post("/v1/schedules/s/trigger?namespace=default&now=1"))
    assert err["details"][0].startswith("now: not a parameter of POST /v1/schedules/{name}/trigger")
    assert api.get("/v1/schedules/s").json()["fires"] == 0
    r = api.post("/v1/schedules/s/trigger?namespace=default")
    assert r.status_code in (200, 201), r.text


def test_a_parameter_given_twice_is_refused(api):
    err = refused(api.get("/v1/schedules", params=[("namespace", "a"), ("namespace", "b")]))
    assert err["details"] == ["namespace: given 2 times; GET /v1/schedules takes one value"]
    # The same value twice is no less ambiguous about what was meant.
    refused(api.get("/v1/runs", params=[("limit", "5"), ("limit", "5")]))


def test_too_many_parameters_are_refused(api):
    err = refused(api.get("/v1/tasks", params=[("p%d" % i, "x") for i in range(40)]))
    assert "more than 32" in err["message"]


def test_what_each_route_declares_is_accepted(api):
    """Each list route answers 200 with every parameter it declares that
    takes a plain value here: the table is the document's."""
    samples = {"namespace": "default", "limit": "5", "queue": "q", "status": None, "executor": None,
               "created_after": "2026-01-01T00:00:00.000Z", "created_before": "2030-01-01T00:00:00.000Z",
               "type": "t", "name": "n"}
    for path in ("/v1/tasks", "/v1/dead-letters", "/v1/workers", "/v1/runs", "/v1/queues", "/v1/workflows",
                 "/v1/templates", "/v1/schedules"):
        params = {k: samples[k] for k in declared(api, "GET", path) if samples.get(k) is not None}
        r = api.get(path, params=params)
        assert r.status_code == 200, (path, params, r.text)


def test_arcrun_still_ignores_unknown_parameters(api):
    t = api.create([api.task("a")])[0]
    r = api.get("/task", params={"no_such_filter": "x"})
    assert r.status_code == 200, r.text
    assert [x["id"] for x in r.json()] == [t["id"]]
    assert api.get("/task/%s" % t["id"], params={"whatever": "1"}).status_code == 200
    assert api.get("/health", params={"verbose": "1"}).status_code == 200


def test_an_unknown_parameter_does_not_get_past_the_token_check(make_api):
    api = make_api(AUTH_TOKEN="secret-token-0123456789")
    r = api.server.request("GET", "/v1/schedules", params={"queue": "x"}, headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"


def test_empty_separators_name_nothing(api):
    """'&&' or a leading '&' separates no parameter (URLSearchParams skips
    it too); '=x' gives a value under an empty name, and is refused."""
    assert api.get("/v1/schedules?&limit=5&&namespace=default&").status_code == 200
    err = refused(api.get("/v1/schedules?=x"))
    assert err["details"] == ['"": not a parameter of GET /v1/schedules (it takes namespace, limit, cursor)']
