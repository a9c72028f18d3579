"""What every client command shares: colors only on a terminal and without
NO_COLOR, cutting to the terminal's width, the config file's profiles and
their precedence, errors that say what to do, exit codes, and help."""

import fcntl
import os
import pty
import struct
import subprocess
import termios

import pytest

from cli_util import as_json, clean_env, enqueue, ok, rows_by, weft
from harness import closed_port_url, weft_bin

ESC = "\x1b["
FAMILIES = ["ls", "get", "tasks", "runs", "cancel", "pause", "resume", "retry", "reset", "resolve", "queues",
            "workers", "dead-letters", "tokens", "enqueue", "worker"]


def run_on_pty(args, env, columns=200):
    """Runs weft with stdout on a terminal of the given width; its output."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    p = subprocess.Popen([weft_bin(), *args], env=env, stdout=slave, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:   # EIO once the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    p.wait(timeout=30)
    assert p.returncode == 0, p.stderr.read()
    return b"".join(chunks).decode()


def test_no_escape_codes_off_a_terminal(server):
    enqueue(server, "plain-q", 1)
    assert ESC not in ok(server.base, "ls")
    assert ESC not in ok(server.base, "queues")


def test_colors_on_a_terminal_unless_no_color(server):
    (tid,) = enqueue(server, "tty-q", 1)
    ok(server.base, "cancel", tid)
    out = run_on_pty(["ls"], clean_env(server.base))
    assert ESC + "35mcanceled" in out          # canceled is magenta
    assert ESC + "1mID" in out                 # the header is bold
    out = run_on_pty(["ls"], clean_env(server.base, NO_COLOR="1"))
    assert ESC not in out and "canceled" in out


def test_long_cells_are_cut_on_a_terminal_only(server):
    long_name = "a-very-long-job-name-" * 6
    r = server.post("/v1/jobs", json={"jobs": [{"queue": "cut-q", "name": long_name, "input": 1}]})
    out = run_on_pty(["ls"], clean_env(server.base, NO_COLOR="1"), columns=100)
    assert "\u2026" in out and long_name not in out
    assert all(len(line) <= 100 for line in out.splitlines())
    assert r.json()["jobs"][0]["id"] in out                     # ids are never cut
    assert long_name in ok(server.base, "ls")   # piped: never cut


def test_relative_times_for_people_exact_with_json(server):
    enqueue(server, "time-q", 1, delay_ms=300000)
    (task,) = as_json(server.base, "ls", "--queue", "time-q")["tasks"]
    assert task["created_at"].endswith("Z")
    _, rows = rows_by(ok(server.base, "ls", "--queue", "time-q"), "ID")
    assert rows[task["id"]]["CREATED"] in ("0s ago", "1s ago", "2s ago")


# ---- configuration ----------------------------------------------------------------------------------


def write_config(tmp_path, text, mode=0o600):
    path = tmp_path / "config"
    path.write_text(text)
    os.chmod(path, mode)
    return str(path)


def test_profiles_and_precedence(server, tmp_path):
    dead = closed_port_url("")
    cfg = write_config(tmp_path, "# weft\n[default]\nurl = %s\n\n[profile broken]\nurl = %s\n" % (server.base, dead))
    enqueue(server, "cfg-q", 1)
    base = dict(WEFT_CONFIG=cfg)
    # the [default] profile
    assert weft(None, "ls", env=clean_env(None, **base)).returncode == 0
    # --profile and WEFT_PROFILE pick another
    r = weft(None, "ls", "--profile", "broken", env=clean_env(None, **base))
    assert r.returncode == 4 and dead in r.stderr
    r = weft(None, "ls", env=clean_env(None, WEFT_PROFILE="broken", **base))
    assert r.returncode == 4 and dead in r.stderr
    # the environment beats the profile, a flag beats the environment
    assert weft(None, "ls", env=clean_env(server.base, WEFT_PROFILE="broken", **base)).returncode == 0
    r = weft(None, "ls", "--url", dead, env=clean_env(server.base, **base))
    assert r.returncode == 4 and dead in r.stderr
    # the XDG location, when WEFT_CONFIG is not set
    xdg = tmp_path / "xdg"
    (xdg / "weft").mkdir(parents=True)
    (xdg / "weft" / "config").write_text("[default]\nurl = %s\n" % server.base)
    assert weft(None, "ls", env=clean_env(None, XDG_CONFIG_HOME=str(xdg))).returncode == 0
    # enqueue reads the profile too
    r = weft(None, "enqueue", "cfg-q", "7", env=clean_env(None, **base))
    assert r.returncode == 0 and server.get("/v1/tasks/" + r.stdout.strip()).json()["input"] == 7
    # an unknown profile
    r = weft(None, "ls", "--profile", "nope", env=clean_env(None, **base))
    assert r.returncode == 2 and "[profile nope]" in r.stderr


def test_bad_config_lines_name_file_and_line(tmp_path):
    for text, line, why in [("[default]\nurl = x\nnonsense\n", 3, "expected key = value"),
                            ("url = x\n", 1, "key = value before any"),
                            ("[default]\ncolour = red\n", 2, "unknown key"),
                            ("[profile]\n", 1, "bad section")]:
        cfg = write_config(tmp_path, text)
        r = weft(None, "ls", env=clean_env(None, WEFT_CONFIG=cfg))
        assert r.returncode == 2 and "%s:%d: %s" % (cfg, line, why) in r.stderr, r.stderr
    r = weft(None, "ls", env=clean_env(None, WEFT_CONFIG=str(tmp_path / "missing")))
    assert r.returncode == 2 and "missing" in r.stderr


def test_token_and_namespace_from_a_profile(weft_factory, tmp_path):
    srv = weft_factory.start(env={"AUTH_TOKEN": "s3cret"})
    text = "[default]\nurl = %s\ntoken = s3cret\nnamespace = default\n" % srv.base
    cfg = write_config(tmp_path, text)
    r = weft(None, "ls", env=clean_env(None, WEFT_CONFIG=cfg))
    assert r.returncode == 0 and "warning" not in r.stderr, r.stderr
    # the environment's token beats the profile's
    r = weft(None, "ls", env=clean_env(None, WEFT_CONFIG=cfg, WEFT_TOKEN="wrong"))
    assert r.returncode == 3 and "refused the token" in r.stderr
    # a token others may read gets a warning
    os.chmod(cfg, 0o644)
    r = weft(None, "ls", env=clean_env(None, WEFT_CONFIG=cfg))
    assert r.returncode == 0 and "warning" in r.stderr and "chmod 600" in r.stderr


# ---- errors and exit codes ------------------------------------------------------------------------


def test_connection_refused_names_the_url():
    url = closed_port_url("")
    r = weft(url, "queues")
    assert r.returncode == 4
    assert url in r.stderr and "weft serve" in r.stderr and "--url" in r.stderr


def test_401_says_to_set_the_token(weft_factory):
    srv = weft_factory.start(env={"AUTH_TOKEN": "s3cret"})
    r = weft(srv.base, "ls")
    assert r.returncode == 3 and "WEFT_TOKEN" in r.stderr and "--token" in r.stderr
    assert weft(srv.base, "ls", "--token", "s3cret").returncode == 0
    assert weft(None, "ls", env=clean_env(srv.base, WEFT_TOKEN="s3cret")).returncode == 0


def test_usage_errors_exit_2(server):
    assert weft(server.base, "get").returncode == 2                       # no id
    assert weft(server.base, "ls", "--bogus").returncode == 2
    assert weft(server.base, "queues", "frobnicate").returncode == 2
    r = weft(server.base, "ls", "--limit", "0")                          # the server refuses it: 400
    assert r.returncode == 2 and "limit" in r.stderr


# ---- help -----------------------------------------------------------------------------------------------


def test_help_lists_every_command_and_the_exit_codes():
    r = weft(None, "--help")
    assert r.returncode == 0
    for name in FAMILIES + ["submit", "completion", "serve"]:
        assert "\n  %s " % name in r.stdout, name
    for code in range(7):
        assert "\n  %d  " % code in r.stdout


@pytest.mark.parametrize("name", FAMILIES)
def test_every_command_has_help(name):
    r = weft(None, name, "--help")
    assert r.returncode == 0 and r.stdout.startswith("usage: weft %s" % name), r.stdout[:200]
    h = weft(None, "help", name)
    assert h.returncode == 0 and h.stdout.startswith("usage: weft %s" % name)


def test_subcommand_help():
    r = weft(None, "queues", "set", "--help")
    assert r.returncode == 0 and "usage: weft queues set [options] NAME" in r.stdout and "--concurrency" in r.stdout
    assert weft(None, "help", "tokens", "create").stdout.startswith("usage: weft tokens create")


def test_columns_align_in_terminal_cells_with_utf8(server):
    import unicodedata

    def cells(s):
        return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)

    for name in ("Zürich", "日本語のジョブ", "plain"):
        server.post("/v1/jobs", json={"jobs": [{"queue": "utf-q", "name": name, "input": 1}]})
    lines = ok(server.base, "ls", "--queue", "utf-q").splitlines()
    starts = set()
    for line in lines:
        at = line.index("queue  ") if "queue  " in line else line.index("EXECUTOR")
        starts.add(cells(line[:at]))
    assert len(starts) == 1, lines
