"""GET /v1/whoami: any token reads its own name, role and namespaces (a
client token, refused by the admin-only /v1/tokens, learns here what it may
see), and the namespace a request naming none falls in. Without configured
tokens the server answers for everyone: no name, admin, every namespace. A
missing or unknown token is refused like on every other route (401)."""

ROOT = "admin-token-0123456789"          # AUTH_TOKEN: every namespace, admin
TEAM = "token-of-team-ab-0123"           # namespaces a and b, client
ONE = "token-of-billing-0123"            # namespace billing only, client
OPS = "token-of-ops-admin-01"            # namespace ops only, admin
TOKENS = ";".join([
    "team %s a,b client" % TEAM,
    "billing %s billing client" % ONE,
    "ops %s ops admin" % OPS,
])


def h(token):
    return {"Authorization": "Bearer " + token}


def whoami(api, token=None):
    r = api.get("/v1/whoami", headers=h(token) if token else {})
    assert r.status_code == 200, r.text
    return r.json()


def test_without_configured_tokens_everyone_is_an_anonymous_admin(api):
    assert whoami(api) == {"token": None, "admin": True, "namespaces": ["*"], "default_namespace": "default"}


def test_the_auth_token_is_an_admin_of_every_namespace(make_api):
    api = make_api(AUTH_TOKEN=ROOT)
    assert whoami(api, ROOT) == {"token": "auth_token", "admin": True, "namespaces": ["*"],
                                 "default_namespace": "default"}


def test_a_scoped_token_sees_its_namespaces_and_its_role(make_api):
    api = make_api(AUTH_TOKEN=ROOT, WEFT_TOKENS=TOKENS)
    # Two namespaces: a request naming none still means "default".
    assert whoami(api, TEAM) == {"token": "team", "admin": False, "namespaces": ["a", "b"],
                                 "default_namespace": "default"}
    # One namespace: it is the token's default.
    assert whoami(api, ONE) == {"token": "billing", "admin": False, "namespaces": ["billing"],
                                "default_namespace": "billing"}
    assert whoami(api, OPS) == {"token": "ops", "admin": True, "namespaces": ["ops"],
                                "default_namespace": "ops"}
    # The same token is refused the token list: whoami is its way to know.
    assert api.get("/v1/tokens", headers=h(TEAM)).status_code == 403


def test_a_token_made_over_the_api_reads_itself(make_api):
    api = make_api(AUTH_TOKEN=ROOT)
    r = api.post("/v1/tokens", json={"name": "ci", "namespaces": ["build", "test"], "role": "client"},
                 headers=h(ROOT))
    assert r.status_code == 201, r.text
    assert whoami(api, r.json()["secret"]) == {"token": "ci", "admin": False, "namespaces": ["build", "test"],
                                               "default_namespace": "default"}


def test_a_missing_or_wrong_token_is_refused(make_api):
    api = make_api(AUTH_TOKEN=ROOT, WEFT_TOKENS=TOKENS)
    for headers in ({}, h("not-a-token-of-this-server"), h("wft_" + "A" * 43)):
        r = api.get("/v1/whoami", headers=headers)
        assert r.status_code == 401, r.text
        assert r.json()["error"]["code"] == "unauthorized"


def test_query_parameters_are_refused(api):
    r = api.get("/v1/whoami", params={"namespace": "a"})
    assert r.status_code == 400, r.text
