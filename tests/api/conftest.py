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
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from harness import Api, MockWebhook, ServerFactory  # noqa: E402


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
    m = MockWebhook()
    yield m
    m.close()


@pytest.fixture
def weft_factory(tmp_path, mock):
    factory = ServerFactory(tmp_path, mock)
    yield factory
    problems = factory.teardown()
    if problems:
        pytest.fail("server problems:\n" + "\n\n".join(problems), pytrace=False)


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
