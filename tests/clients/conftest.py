"""Fixtures for the clients suite: the CLI, libweft and the SDKs, each
driven against a real weft server started by the api suite's harness
(tests/api/harness.py), on SQLite.

* ``weft_factory`` — ServerFactory, as in tests/api: ``start(env=...)``;
                     servers are stopped and their logs checked at teardown
* ``server``       — one server with the default environment
* ``api``          — tests/api's Api bound to ``server``, for setting up
                     state and checking it independently of the client
                     under test
* ``weft_bin``     — the weft binary under test (WEFT_BIN)
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "api"))

from harness import Api, mock_webhook, server_factory, weft_bin as _weft_bin  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def pytest_report_header(config):
    return "weft: %s" % _weft_bin()


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
def weft_bin():
    return _weft_bin()


@pytest.fixture
def root():
    """The repository's root directory."""
    return ROOT
