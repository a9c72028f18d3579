#!/usr/bin/env bash
# bench/peers/run.sh — weft beside its peers on one throwaway PostgreSQL 15 (and
# weft on SQLite too): the job queue beside graphile-worker and pg-boss
# (`make bench`), or with --workload workflows a 10-step workflow beside DBOS
# Transact's TypeScript SDK (`make bench-workflows`). See bench/peers/README.md.
#
#   bench/peers/run.sh [--workload queue|workflows] [--n N] [--reps R] [--quick]
#                      [--systems graphile,pgboss,weft | weft,dbos] [--out DIR]
#
# Environment: BENCH_WORKLOAD (queue), BENCH_N (100000 jobs; 10000 workflow runs),
# BENCH_REPS (3), BENCH_SYSTEMS, BENCH_OUT, BENCH_LATENCY_SECS (10),
# BENCH_IN_FLIGHT (64 workflow runs at a time), BENCH_WEFT_SERVER (a weft binary
# to measure instead of build/weft, passed as `weft bench --server`), TMPDIR
# (where the cluster and SQLite files live: keep it on a real disk, or fsync
# costs nothing).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/bench/peers
PGBIN=/usr/lib/postgresql/15/bin

WORKLOAD=${BENCH_WORKLOAD:-queue}
N=${BENCH_N:-}
REPS=${BENCH_REPS:-3}
SYSTEMS=${BENCH_SYSTEMS:-}
IN_FLIGHT=${BENCH_IN_FLIGHT:-64}
OUT=${BENCH_OUT:-}
LATENCY_SECS=${BENCH_LATENCY_SECS:-10}
WEFT_SERVER=()
[ -z "${BENCH_WEFT_SERVER:-}" ] || WEFT_SERVER=(--server "$BENCH_WEFT_SERVER")

usage() {
	sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--workload) WORKLOAD=${2:?--workload needs a value}; shift 2 ;;
	--n) N=${2:?--n needs a value}; shift 2 ;;
	--reps) REPS=${2:?--reps needs a value}; shift 2 ;;
	--quick) QUICK=1; REPS=1; LATENCY_SECS=3; shift ;;
	--systems) SYSTEMS=${2:?--systems needs a value}; shift 2 ;;
	--out) OUT=${2:?--out needs a value}; shift 2 ;;
	-h | --help) usage ;;
	*) echo "run.sh: unknown argument '$1'" >&2; usage ;;
	esac
done
case $WORKLOAD in
queue) ALL_SYSTEMS=graphile,pgboss,weft; QUICK_N=5000; DEFAULT_N=100000; WEFT_TAG=all ;;
workflows) ALL_SYSTEMS=weft,dbos; QUICK_N=300; DEFAULT_N=10000; WEFT_TAG=workflows ;;
*) echo "run.sh: --workload needs queue or workflows, got '$WORKLOAD'" >&2; exit 2 ;;
esac
[ -z "${QUICK:-}" ] || [ -n "$N" ] || N=$QUICK_N
[ -n "$N" ] || N=$DEFAULT_N
[ -n "$SYSTEMS" ] || SYSTEMS=$ALL_SYSTEMS
case $IN_FLIGHT in '' | *[!0-9]* | 0) echo "run.sh: BENCH_IN_FLIGHT needs a positive integer" >&2; exit 2 ;; esac
case $N in '' | *[!0-9]*) echo "run.sh: --n needs a positive integer, got '$N'" >&2; exit 2 ;; esac
case $REPS in '' | *[!0-9]* | 0) echo "run.sh: --reps needs a positive integer, got '$REPS'" >&2; exit 2 ;; esac
[ "$N" -ge 1 ] || { echo "run.sh: --n must be at least 1" >&2; exit 2; }
has() { case ",$SYSTEMS," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }
for s in ${SYSTEMS//,/ }; do
	case ",$ALL_SYSTEMS," in
	*",$s,"*) ;;
	*) echo "run.sh: unknown system '$s' for --workload $WORKLOAD ($ALL_SYSTEMS)" >&2; exit 2 ;;
	esac
done

say() { printf '%s\n' "$*" >&2; }

# ---- dependencies ------------------------------------------------------------

if [ ! -x "$PGBIN/initdb" ] || [ ! -x "$PGBIN/pg_test_fsync" ]; then
	"$ROOT/scripts/deps.sh"
fi
if has graphile || has pgboss || has dbos; then
	if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
		if [ "$(id -u)" -ne 0 ]; then
			say "run.sh: node and npm are missing; install them with: sudo apt-get install -y nodejs npm"
			exit 1
		fi
		say "run.sh: installing nodejs npm"
		export DEBIAN_FRONTEND=noninteractive
		apt-get install -y nodejs npm || { apt-get update && apt-get install -y nodejs npm; }
	fi
	# Exactly the locked versions, every time.
	if has graphile || has pgboss; then
		(cd "$HERE/node" && npm ci --no-audit --no-fund --loglevel=error >&2)
	else
		(cd "$HERE/dbos" && npm ci --no-audit --no-fund --loglevel=error >&2)
	fi
fi
if has weft; then
	make -C "$ROOT" --no-print-directory -s -j2 build/weft >&2
fi

# ---- the cluster -------------------------------------------------------------

[ -n "$OUT" ] || OUT=$ROOT/build/bench/peers-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$OUT"
RESULTS=$OUT/results.jsonl
: >"$RESULTS"

PGTOP=$(mktemp -d "${TMPDIR:-/tmp}/weft-peers-XXXXXX")
AS_PG=()
if [ "$(id -u)" -eq 0 ]; then
	# initdb and postgres refuse to run as root.
	chown postgres: "$PGTOP"
	AS_PG=(runuser -u postgres --)
fi
DATA=$PGTOP/data
PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ADMIN_URL=postgres://postgres@127.0.0.1:$PORT/postgres

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	if [ -f "$DATA/postmaster.pid" ]; then
		"${AS_PG[@]}" "$PGBIN/pg_ctl" stop -D "$DATA" -m fast -w -t 60 >/dev/null 2>&1 || true
	fi
	rm -rf "$PGTOP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"${AS_PG[@]}" "$PGBIN/initdb" -D "$DATA" -U postgres -A trust -E UTF8 --locale=C --no-instructions >/dev/null
cp "$HERE/postgresql.conf" "$DATA/bench.conf"
[ "$(id -u)" -eq 0 ] && chown postgres: "$DATA/bench.conf"
{
	echo "include 'bench.conf'"
	echo "port = $PORT"
	echo "unix_socket_directories = '$PGTOP'"
} >>"$DATA/postgresql.conf"
"${AS_PG[@]}" "$PGBIN/pg_ctl" start -D "$DATA" -l "$PGTOP/postgres.log" -w -t 60 >/dev/null

psql_admin() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres -d postgres "$@"; }

# ---- the machine -------------------------------------------------------------

say "run.sh: workload $WORKLOAD, N=$N, $REPS repetitions, systems $SYSTEMS; results in $OUT"
say "run.sh: recording the machine (pg_test_fsync takes about 15 s)"
"${AS_PG[@]}" "$PGBIN/pg_test_fsync" -s 1 -f "$PGTOP/fsync.test" >"$OUT/pg_test_fsync.txt" 2>&1 || true
/usr/bin/python3 - "$OUT/machine.json" "$PGTOP" "$N" "$REPS" "$OUT/pg_test_fsync.txt" \
	"$WORKLOAD" "$IN_FLIGHT" <<'EOF'
import json, os, platform, re, subprocess, sys
out, where, n, reps, fsync_txt, workload, in_flight = sys.argv[1:]
def run(*cmd):
    try:
        return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout.strip()
    except OSError:
        return ""
model = ""
for line in open("/proc/cpuinfo"):
    if line.startswith("model name"):
        model = line.split(":", 1)[1].strip()
        break
fdatasync = None
for line in open(fsync_txt, errors="replace"):
    m = re.match(r"\s*fdatasync\s+([\d.,]+) ops/sec\s+(\d+) usecs/op", line)
    if m and fdatasync is None:
        fdatasync = {"ops_per_s": float(m.group(1).replace(",", "")), "usecs_per_op": int(m.group(2))}
mem_kib = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal"))
json.dump({
    "cpu_model": model, "cores": os.cpu_count(), "mem_mib": mem_kib // 1024, "kernel": platform.release(),
    "filesystem": run("findmnt", "-n", "-o", "SOURCE,FSTYPE", "-T", where),
    "load_before": os.getloadavg()[0], "n": int(n), "reps": int(reps), "workload": workload,
    "in_flight": int(in_flight) if workload == "workflows" else None,
    "pg_test_fsync_fdatasync": fdatasync,
}, open(out, "w"), indent=1)
EOF
psql_admin -At -c "SELECT version()" >"$OUT/pg_version.txt"
psql_admin -At -c "SELECT name || ' = ' || current_setting(name) FROM pg_settings
	WHERE name IN ('fsync','synchronous_commit','full_page_writes','wal_sync_method','shared_buffers',
	'max_connections','autovacuum','max_wal_size') ORDER BY name" >"$OUT/pg_settings.txt"
say "run.sh: $(cat "$OUT/pg_version.txt")"
sed 's/^/  /' "$OUT/pg_settings.txt" >&2

# ---- the runs ----------------------------------------------------------------

FAILED=0

# A line that says a run produced no result (crashed, timed out).
no_result() { # system workload config why
	/usr/bin/python3 -c 'import json, sys; print(json.dumps({"system": sys.argv[1], "workload": sys.argv[2],
	  "config": sys.argv[3], "n": int(sys.argv[4]), "ok": False, "error": sys.argv[5]}))' "$1" "$2" "$3" "$N" "$4" \
		>>"$RESULTS"
}

# One peer run on a fresh database: script workload config.
peer() {
	local script=$1 workload=$2 config=$3 db=peers_$$_${RANDOM}
	psql_admin -c "CREATE DATABASE $db"
	local line rc=0
	line=$(timeout 1800 node "$HERE/node/$script" --url "postgres://postgres@127.0.0.1:$PORT/$db" \
		--workload "$workload" --config "$config" --n "$N" 2>>"$OUT/peers.log") || rc=$?
	if [ -n "$line" ]; then
		printf '%s\n' "$line" >>"$RESULTS"
		tail -n 1 "$OUT/peers.log" >&2
	else
		no_result "${script%.mjs}" "$workload" "$config" "exit $rc, see peers.log"
		say "  ${script%.mjs} $workload $config: no result (exit $rc)"
	fi
	[ "$rc" -eq 0 ] || FAILED=1
	psql_admin -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
}

# One DBOS run of the workflow on a fresh database (its system database).
dbos_run() {
	local db=dbos_$$_${RANDOM} line rc=0
	psql_admin -c "CREATE DATABASE $db"
	line=$(timeout 1800 node "$HERE/dbos/workflows.mjs" --url "postgres://postgres@127.0.0.1:$PORT/$db" \
		--n "$N" --in-flight "$IN_FLIGHT" 2>>"$OUT/peers.log") || rc=$?
	if [ -n "$line" ]; then
		printf '%s\n' "$line" >>"$RESULTS"
		tail -n 1 "$OUT/peers.log" >&2
	else
		no_result dbos workflows "in-flight $IN_FLIGHT" "exit $rc, see peers.log"
		say "  dbos workflows: no result (exit $rc)"
	fi
	[ "$rc" -eq 0 ] || FAILED=1
	psql_admin -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
}

# One weft run: `weft bench --queue` (or `weft bench workflows`) with the
# given options, on its own fresh database (SQLite file, or a database it
# creates through --db).
weft_run() { # label env... -- options...
	local label=$1 envs=() rc=0
	shift
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	say "  weft $label"
	local mode=(--queue --jobs "$N" --latency-secs "$LATENCY_SECS")
	[ "$WORKLOAD" = queue ] || mode=(workflows --runs "$N" --in-flight "$IN_FLIGHT")
	env "${envs[@]}" TMPDIR="${TMPDIR:-/tmp}" timeout 1800 "$ROOT/build/weft" bench "${mode[@]}" --json \
		"${WEFT_SERVER[@]}" "$@" >"$OUT/weft.tmp" 2>>"$OUT/weft.log" || rc=$?
	if [ -s "$OUT/weft.tmp" ]; then
		# A failed run keeps its directory (server logs): into the results.
		/usr/bin/python3 -c 'import json, os, shutil, sys
d = json.load(open(sys.argv[1])); d["label"] = sys.argv[2]
if d.get("dir") and os.path.isdir(d["dir"]):
    kept = os.path.join(sys.argv[3], "weft-kept-" + os.path.basename(d["dir"]))
    shutil.move(d["dir"], kept); d["dir"] = kept
print(json.dumps(d))' "$OUT/weft.tmp" "$label" "$OUT" >>"$RESULTS" || no_result weft "$WEFT_TAG" "$label" "unreadable JSON"
	else
		no_result weft "$WEFT_TAG" "$label" "exit $rc, see weft.log"
	fi
	if [ "$rc" -ne 0 ]; then
		FAILED=1
		say "  weft $label: failed (exit $rc): $(grep -m1 -i 'error\|404' "$OUT/weft.log" | tail -n 1)"
	fi
	rm -f "$OUT/weft.tmp"
}

for rep in $(seq 1 "$REPS"); do
	say "run.sh: repetition $rep of $REPS"
	# The systems alternate within each repetition, so that the machine's
	# drift over time reaches all of them alike.
	if has graphile; then
		peer graphile.mjs enqueue addJobs
		peer graphile.mjs drain batched
		peer graphile.mjs drain unbatched
	fi
	if has pgboss; then
		peer pgboss.mjs enqueue insert
		for batch in 100 1000 5000; do peer pgboss.mjs drain "batch$batch"; done
	fi
	if [ "$WORKLOAD" = workflows ]; then
		# weft on SQLite, weft on the cluster, DBOS on the cluster, in turn.
		if has weft; then
			weft_run "sqlite synchronous FULL" WEFT_DURABILITY=full --
			weft_run "postgres 1 node" -- --db "$ADMIN_URL"
		fi
		if has dbos; then dbos_run; fi
		continue
	fi
	if has weft; then
		weft_run "postgres 1 node" -- --db "$ADMIN_URL" --nodes 1
		weft_run "postgres 3 nodes" -- --db "$ADMIN_URL" --nodes 3
		weft_run "sqlite synchronous FULL" WEFT_DURABILITY=full --
		weft_run "sqlite synchronous NORMAL" WEFT_DURABILITY=normal --
	fi
done

cut -d' ' -f1-3 /proc/loadavg >"$OUT/load_after.txt"
/usr/bin/python3 "$HERE/report.py" "$OUT" | tee "$OUT/report.txt"
[ "$FAILED" -eq 0 ] || say "run.sh: some runs failed (see $OUT/*.log); the tables show them as failed"
exit "$FAILED"
