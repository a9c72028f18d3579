"""Fixtures for the black-box API suite.

Every test gets its own weft process(es), database file and mock webhook
server, so tests are independent and can run in parallel (pytest -n 2).

* ``mock``          — MockWebhook on 127.0.0.1 (records requests, per-path answers)
* ``weft_factory``  — ServerFactory: ``weft_factory.start(env={...})`` starts a
                      server; ``server.restart()``, ``server.kill()`` for
                      durability tests. All servers are stopped with SIGTERM at
                      teardown and their logs checked for sanitizer reports.
* ``server``        — one server with the default environment
* ``api``           — Api bound to ``server`` and ``mock``
* ``make_api``      — start a server with custom env and get an Api for it
* ``pg``            — the suite's PostgreSQL cluster (pgcluster.Cluster), for
                      tests marked postgres_only

Backend: WEFT_TEST_BACKEND=sqlite (default) gives each server a database
file; WEFT_TEST_BACKEND=postgres gives each server a fresh database in a
throwaway PostgreSQL cluster that this process starts on first use and
removes at the end (pgcluster.py). Tests marked ``sqlite_only`` or
``postgres_only`` (pytest.ini) are skipped on the other backend.

At the end of the session, every route a test reached (recorded by the
harness) must be listed in ``harness.EXERCISED_ROUTES``, the list that
test_openapi.py checks against the OpenAPI document.
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import pgcluster  # noqa: E402
from harness import (BACKEND, BACKENDS, EXERCISED_ROUTES, Api, mock_webhook, server_factory,  # noqa: E402
                     recorded_routes, weft_bin)


def pytest_configure(config):
    if BACKEND not in BACKENDS:
        raise pytest.UsageError("WEFT_TEST_BACKEND=%r: expected one of %s" % (BACKEND, ", ".join(BACKENDS)))


def pytest_report_header(config):
    return "weft: %s, backend %s" % (weft_bin(), BACKEND)


def _skip_reason(marker, label):
    why = marker.args[0] if marker.args else marker.kwargs.get("reason")
    return "%s: %s" % (label, why) if why else label


def pytest_collection_modifyitems(config, items):
    for item in items:
        m = item.get_closest_marker("sqlite_only")
        if m is not None and BACKEND != "sqlite":
            item.add_marker(pytest.mark.skip(reason=_skip_reason(m, "SQLite only")))
        m = item.get_closest_marker("postgres_only")
        if m is not None and BACKEND != "postgres":
            item.add_marker(pytest.mark.skip(reason=_skip_reason(m, "PostgreSQL only (WEFT_TEST_BACKEND=postgres)")))


def pytest_unconfigure(config):
    # also reached after a failure or Ctrl-C; atexit and pgcluster's
    # watchdog cover the remaining ways out
    pgcluster.shutdown()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    """Stops the test's servers right after the test body, so that a crash,
    a hang on SIGTERM or a sanitizer report fails the test itself; when the
    test failed anyway, the server logs are attached to its report."""
    outcome = yield
    factory = getattr(item, "funcargs", {}).get("weft_factory")
    if factory is None:
        return
    failed = outcome.excinfo is not None
    if failed:
        item.add_report_section("call", "weft log", factory.log_tails())
    problems = factory.teardown()
    if problems:
        text = "server problems:\n" + "\n\n".join(problems)
        if failed:
            item.add_report_section("call", "weft problems", text)
        else:
            raise AssertionError(text)


@pytest.fixture
def mock():
    with mock_webhook() as m:
        yield m


@pytest.fixture
def weft_factory(tmp_path, mock):
    with server_factory(tmp_path, mock) as factory:
        yield factory


@pytest.fixture
def server(weft_factory):
    return weft_factory.start()


@pytest.fixture
def api(server, mock):
    return Api(server, mock)


@pytest.fixture
def make_api(weft_factory, mock):
    def make(**env):
        return Api(weft_factory.start(env=env), mock)
    return make


@pytest.fixture
def pg():
    """The PostgreSQL cluster the servers run on (postgres backend only).
    Left running after the test even if the test stopped it."""
    if BACKEND != "postgres":
        pytest.skip("needs WEFT_TEST_BACKEND=postgres")
    cluster = pgcluster.cluster()
    yield cluster
    if not cluster.running():
        cluster.start()


# ---- routes reached by the suite vs. harness.EXERCISED_ROUTES ----------------

_worker_routes = set()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """pytest-xdist: collects the routes a worker's tests reached."""
    out = getattr(node, "workeroutput", None) or {}
    _worker_routes.update(tuple(r) for r in out.get("weft_routes", []))


def pytest_sessionfinish(session, exitstatus):
    routes = recorded_routes()
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: hand the routes to the controller
        workeroutput["weft_routes"] = sorted(routes)
        return
    missing = sorted((routes | _worker_routes) - EXERCISED_ROUTES)
    if not missing:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    text = ("routes reached by the tests but missing from harness.EXERCISED_ROUTES "
            "(so test_openapi.py does not check them): %s" % ", ".join("%s %s" % r for r in missing))
    if reporter is not None:
        reporter.write_line("")
        reporter.write_line(text, red=True)
    else:
        print(text)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
