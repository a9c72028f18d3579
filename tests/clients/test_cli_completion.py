"""Shell completion, the man page and `make install-cli`: the script `weft
completion bash` prints is contrib/completion/weft.bash, and its completion
function, called as bash calls it, offers the commands, their verbs,
options and option values, DAG files for submit, and queue names asked of
the server (through whatever binary is being completed, within a timeout);
zsh's offers the same in an interactive zsh when zsh is installed; the man page renders
without warnings and covers every command; install-cli puts the binary,
the page and both scripts under PREFIX (and DESTDIR)."""

import os
import shutil
import subprocess
import time

import pytest

from harness import SANITIZER_MARKERS, weft_bin

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

COMMANDS = {"serve", "submit", "ls", "get", "tasks", "runs", "cancel", "pause", "resume", "retry", "reset", "resolve",
            "queues", "workers", "dead-letters", "tokens", "whoami", "audit", "workflows", "schedules", "template", "hooks", "events", "subscriptions", "logs", "enqueue", "worker", "step", "sleep", "wait-signal", "bench", "completion", "help"}


def weft(*args, **kw):
    r = subprocess.run([weft_bin(), *args], capture_output=True, text=True, timeout=30, **kw)
    for marker in SANITIZER_MARKERS:
        assert marker not in r.stderr, r.stderr
    return r


@pytest.fixture(scope="module")
def bash_script(tmp_path_factory):
    r = weft("completion", "bash")
    assert r.returncode == 0, r.stderr
    path = tmp_path_factory.mktemp("completion") / "weft.bash"
    path.write_text(r.stdout)
    return path


def complete(script, line, cwd=None, env=None):
    """The candidates bash's completion function gives for `line` (the
    cursor at its end; a trailing space starts a new word)."""
    words = line.split()
    if line.endswith(" "):
        words.append("")
    quoted = " ".join("'%s'" % w.replace("'", "'\\''") for w in words)
    prog = ('source "%s"; COMP_WORDS=(%s); COMP_CWORD=%d; COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; _weft; '
            'printf "%%s\\n" "${COMPREPLY[@]}"' % (script, quoted, len(words) - 1))
    r = subprocess.run(["bash", "-c", prog], capture_output=True, text=True, timeout=30, cwd=cwd,
                       env=dict(os.environ, **(env or {})))
    assert r.returncode == 0 and r.stderr == "", r.stderr
    return sorted(x for x in r.stdout.split("\n") if x)


def test_the_printed_scripts_are_the_files(bash_script):
    with open(os.path.join(ROOT, "contrib/completion/weft.bash")) as f:
        assert bash_script.read_text() == f.read()
    with open(os.path.join(ROOT, "contrib/completion/_weft")) as f:
        assert weft("completion", "zsh").stdout == f.read()
    assert weft("completion", "fish").returncode == 2
    assert weft("completion").returncode == 2
    r = weft("completion", "--help")
    assert r.returncode == 0 and "source <(weft completion bash)" in r.stdout


def test_commands_and_verbs(bash_script):
    assert set(complete(bash_script, "weft ")) == COMMANDS
    assert complete(bash_script, "weft re") == ["reset", "resolve", "resume", "retry"]
    assert complete(bash_script, "weft runs ") == ["cancel", "ls", "pause", "resume", "show", "tasks"]
    assert complete(bash_script, "weft tasks ") == ["events", "ls", "show"]
    assert complete(bash_script, "weft queues ") == ["ls", "pause", "resume", "set", "show"]
    assert complete(bash_script, "weft workers ") == ["drain", "ls", "show"]
    assert complete(bash_script, "weft dead-letters ") == ["ls", "requeue", "show"]
    assert complete(bash_script, "weft tokens c") == ["create"]
    assert complete(bash_script, "weft completion ") == ["bash", "zsh"]
    # an option's value is skipped on the way to the command
    assert complete(bash_script, "weft --url http://x:1 runs ") == complete(bash_script, "weft runs ")
    assert complete(bash_script, "weft runs --url=http://x:1 l") == ["ls"]


def test_options_and_their_values(bash_script):
    opts = complete(bash_script, "weft submit --")
    for o in ("--url", "--token", "--namespace", "--profile", "--json", "--format", "--wait", "--wait-timeout",
              "--idempotency-key"):
        assert o in opts
    assert complete(bash_script, "weft submit --format ") == ["json", "yaml"]
    assert complete(bash_script, "weft runs ls --status ") == ["active", "canceled", "failure", "success"]
    assert "retrying" in complete(bash_script, "weft ls --status ")
    assert complete(bash_script, "weft ls --executor ") == ["exec", "queue", "webhook"]
    assert complete(bash_script, "weft submit --url ") == []       # nothing to guess
    assert "--concurrency" in complete(bash_script, "weft worker --")
    assert "--port" in complete(bash_script, "weft serve --")


def test_submit_completes_dag_files(bash_script, tmp_path):
    for name in ("a.yaml", "b.yml", "c.json", "notes.txt"):
        (tmp_path / name).write_text("x")
    (tmp_path / "dags").mkdir()
    assert complete(bash_script, "weft submit ", cwd=tmp_path) == ["a.yaml", "b.yml", "c.json", "dags"]
    assert complete(bash_script, "weft submit --wait a", cwd=tmp_path) == ["a.yaml"]
    assert complete(bash_script, "weft submit a.yaml ", cwd=tmp_path) == []   # one file


def fake_weft(tmp_path, body):
    """A stand-in for the binary being completed: records its arguments."""
    path = tmp_path / "fake-weft"
    path.write_text("#!/bin/sh\necho \"$@\" >> %s/calls\n%s\n" % (tmp_path, body))
    path.chmod(0o755)
    return str(path)


def test_queue_names_come_from_the_server(bash_script, tmp_path):
    fake = fake_weft(tmp_path, """echo '{"queues":[{"name":"billing","paused":false},{"name":"emails"}],"next_cursor":null}'""")
    assert complete(bash_script, fake + " queues show ") == ["billing", "emails"]
    assert complete(bash_script, fake + " --url http://h:1 --token t queues pause b") == ["billing"]
    assert complete(bash_script, fake + " enqueue ") == ["billing", "emails"]
    assert complete(bash_script, fake + " worker --queue e") == ["emails"]
    assert complete(bash_script, fake + " enqueue billing ") == []          # then JSON values
    calls = (tmp_path / "calls").read_text().splitlines()
    assert calls[0] == "queues ls --json"
    assert calls[1] == "queues ls --json --url http://h:1 --token t"   # the same server as the command line


def test_queue_names_give_up_after_the_timeout(bash_script, tmp_path):
    fake = fake_weft(tmp_path, "sleep 20")
    t0 = time.monotonic()
    assert complete(bash_script, fake + " queues show ", env={"WEFT_COMPLETION_TIMEOUT": "0.5"}) == []
    assert time.monotonic() - t0 < 5


def test_the_commands_of_weft_help_are_completed(bash_script):
    # what the binary lists is what the script completes
    out = weft("help").stdout
    listed = set()
    in_commands = False
    for line in out.splitlines():
        if line.strip() == "commands:":
            in_commands = True
            continue
        if in_commands and not line.strip():
            break
        if in_commands and line.startswith("  ") and not line.startswith("   "):
            listed.add(line.split()[0])
    assert listed and listed <= COMMANDS, listed - COMMANDS


# Drives an interactive zsh on a pseudo-terminal (zsh/zpty), types LINE and a
# Tab, and prints each candidate its completion offers: compadd is wrapped to
# print what it adds (still adding it, so that zsh's fallbacks behave as usual).
# The markers are written split ('<RE''ADY>') so that the terminal's echo of
# the commands typed never looks like their output.
ZSH_CAPTURE = r"""
zmodload zsh/zpty
script=$1 line=$2
zpty z zsh -f -i
zpty -w z "PROMPT=''; RPROMPT=''"
zpty -w z "autoload -U compinit; compinit -u -d $3/zcompdump"
zpty -w z "source $script"
zpty -w z 'compadd () { if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return $?; fi; typeset -a __hits; builtin compadd -A __hits "$@"; builtin compadd "$@"; local ret=$?; (( $#__hits )) && print -l -- "<""M>"${^__hits}; return ret }'
zpty -w z "print '<RE''ADY>'"
zpty -r z out '*<READY>*'
zpty -n -w z "$line"$'\t'
# Nothing more is typed until the completion has gone quiet: zsh cuts a
# completion short when input is pending (typeahead).
out= quiet=0
while (( quiet < 4 )); do
  sleep 0.05
  if zpty -rt z chunk; then out+=$chunk; quiet=0; else (( quiet++ )); fi
done
zpty -w z $'\C-u'"print '<DO''NE>'"
while zpty -r z chunk; do out+=$chunk; [[ $out == *'<DONE>'* ]] && break; done
print -r -- $out | tr -d '\r' | grep -o '<M>.*' | sed 's/^<M>//' | sort -u
zpty -d z
"""


@pytest.fixture
def zsh(tmp_path):
    path = shutil.which("zsh")
    if not path:
        pytest.skip("zsh is not installed (apt-get install zsh to test the zsh script)")
    capture = tmp_path / "capture.zsh"
    capture.write_text(ZSH_CAPTURE)
    script = tmp_path / "_weft"
    script.write_text(weft("completion", "zsh").stdout)

    def complete_zsh(line, cwd=None, path_prefix=None):
        env = dict(os.environ)
        if path_prefix:
            env["PATH"] = path_prefix + os.pathsep + env["PATH"]
        r = subprocess.run([path, "-f", str(capture), str(script), line, str(tmp_path)], capture_output=True,
                           text=True, timeout=30, cwd=cwd, env=env)
        assert r.returncode == 0, r.stderr
        return sorted(x for x in r.stdout.split("\n") if x)
    return complete_zsh


def test_zsh_completion(zsh, tmp_path):
    assert set(zsh("weft ")) == COMMANDS
    assert zsh("weft runs ") == ["cancel", "ls", "pause", "resume", "show", "tasks"]
    assert zsh("weft --profile p dead-letters ") == ["ls", "requeue", "show"]
    assert zsh("weft submit --format ") == ["json", "yaml"]
    assert zsh("weft runs ls --status ") == ["active", "canceled", "failure", "success"]
    assert {"--wait", "--wait-timeout"} <= set(zsh("weft submit --w"))
    files = tmp_path / "files"
    files.mkdir()
    for name in ("a.yaml", "c.json", "notes.txt"):
        (files / name).write_text("x")
    (files / "dags").mkdir()
    assert zsh("weft submit ", cwd=files) == ["a.yaml", "c.json", "dags"]
    # queue names from the binary being completed: a stand-in named weft
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = bindir / "weft"
    fake.write_text("#!/bin/sh\necho \"$@\" >> %s/calls\n"
                    "echo '{\"queues\":[{\"name\":\"billing\"},{\"name\":\"emails\"}]}'\n" % tmp_path)
    fake.chmod(0o755)
    assert zsh("weft --url http://h:1 queues show ", path_prefix=str(bindir)) == ["billing", "emails"]
    assert zsh("weft worker --queue ", path_prefix=str(bindir)) == ["billing", "emails"]
    calls = (tmp_path / "calls").read_text().splitlines()
    assert calls == ["queues ls --json --url http://h:1", "queues ls --json"]


def test_man_page_renders_and_covers_every_command():
    page = os.path.join(ROOT, "docs/man/weft.1")
    text = open(page).read()
    for cmd in COMMANDS:
        assert cmd.replace("-", "\\-") in text or cmd in text, cmd
    for word in ("WEFT_URL", "WEFT_TOKEN", "WEFT_NAMESPACE", "WEFT_PROFILE", "WEFT_CONFIG", "XDG_CONFIG_HOME",
                 "[profile prod]", "NO_COLOR", "EXIT STATUS"):
        assert word in text, word
    if shutil.which("man"):
        r = subprocess.run(["man", "--warnings", "-l", page], capture_output=True, text=True, timeout=30,
                           env=dict(os.environ, MANWIDTH="80", MANPAGER="cat", PAGER="cat"))
        assert r.returncode == 0 and r.stderr == "", r.stderr
        assert "weft submit --wait nightly.yaml" in r.stdout
    elif shutil.which("groff"):
        r = subprocess.run(["groff", "-man", "-ww", "-z", page], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0 and r.stderr == "", r.stderr
    else:
        pytest.skip("neither man nor groff is installed to render the page")


def test_install_cli_puts_everything_under_prefix(tmp_path):
    prefix = tmp_path / "prefix"
    # the binary under test is installed (build/weft need not be built)
    r = subprocess.run(["make", "-s", "install-cli", "PREFIX=%s" % prefix, "CLI_INSTALL_BIN=%s" % weft_bin()],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert os.access(prefix / "bin/weft", os.X_OK)
    assert (prefix / "share/man/man1/weft.1").read_text() == open(os.path.join(ROOT, "docs/man/weft.1")).read()
    bash = (prefix / "share/bash-completion/completions/weft").read_text()
    assert bash == open(os.path.join(ROOT, "contrib/completion/weft.bash")).read()
    assert (prefix / "share/zsh/site-functions/_weft").read_text().startswith("#compdef weft")
    r = subprocess.run([str(prefix / "bin/weft"), "completion", "bash"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and r.stdout == bash
    # DESTDIR stages the same tree
    stage = tmp_path / "stage"
    r = subprocess.run(["make", "-s", "install-cli", "DESTDIR=%s" % stage, "PREFIX=/usr",
                        "CLI_INSTALL_BIN=%s" % weft_bin()], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (stage / "usr/share/zsh/site-functions/_weft").exists()
    assert (stage / "usr/bin/weft").exists()
