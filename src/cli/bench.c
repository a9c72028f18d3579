/*
 * bench.c — `weft bench`: end-to-end figures for a real weft server.
 *
 * Phases, in order (each one must succeed for the next to run):
 *
 *   1. sink      a libmicrohttpd server inside this process that answers
 *                every webhook 200 with an empty body and counts the hits;
 *   2. database  a fresh SQLite file in a temporary directory or, with
 *                --db, a fresh PostgreSQL database created through that URL
 *                (CREATE DATABASE weft_bench_<pid>_<time>), which the nodes
 *                reach through the same URL with the database name replaced;
 *   3. spawn     `weft serve` as a child on a free port, once per node
 *                (--nodes, PostgreSQL only), one after the other: node 1
 *                creates the schema, so its start-up is the figure, and the
 *                others join an existing database; start-up time and idle
 *                RSS of each once its GET /health answers 200;
 *   4. submit    through node 1: POST an N-task chain, then an N-task
 *                fan-out, timing each from the first byte sent to the last
 *                byte of the 201 received (the bodies are built before the
 *                clock starts); each batch is then stopped
 *                (DELETE /batch/{id});
 *   5. starts    POST M independent tasks whose on_start hits the sink and
 *                time from the 201 until GET /batch/{id} reports M Running;
 *   6. patch     C keep-alive clients complete the M tasks with
 *                PATCH {"status":"Success"} (each must answer 200);
 *   7. put       C clients send M PUT {"new_success":1} (each must answer
 *                202); the counters must be visible afterwards;
 *   8. stop      peak RSS (VmHWM) of each node, SIGTERM to all of them at
 *                once, the exit statuses (each must be 0); then the
 *                PostgreSQL database is dropped.
 *
 * With several nodes the starts phase splits the M tasks into one batch per
 * node (M/N tasks, one more for the first M mod N nodes), posted through
 * their own nodes at the same moment, rather than one batch through node 1.
 * The node that commits a batch is woken in process and claims at once,
 * while the others hear of it only from a NOTIFY after the commit, and that
 * node alone builds the answer listing every task: one batch through node 1
 * would mostly measure node 1. Spread the way a load balancer spreads
 * clients, every node inserts, claims and calls webhooks for its share, and
 * all of them still compete for every pending task (SKIP LOCKED), so the
 * figure is the cluster's. Its clock runs from the last of the N 201s
 * (start_s) and from the first byte of the first POST (start_e2e_s, the
 * honest figure when many tasks start before the last answer). PATCH and
 * PUT go round-robin, request i through node i mod N, each client holding
 * one keep-alive connection per node, so most updates reach a node that did
 * not start their task; GET /batch reads each batch through its own node.
 *
 * Every wait has a deadline; any unexpected answer fails the run (exit 1)
 * after every child has been stopped. The temporary directory and the
 * PostgreSQL database are removed at the end unless --keep is given or the
 * run failed after a server had started (then they are named; the server
 * logs are in the directory).
 */
#include "util/common.h"
#include "cli/bench.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/log.h"

#include <curl/curl.h>
#include <libpq-fe.h>
#include <microhttpd.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define BENCH_DEADLINE_US (120 * 1000000LL)   /* any single wait */
#define HEALTH_DEADLINE_US (10 * 1000000LL)
#define HEALTH_POLL_US 10000
#define BATCH_POLL_US 5000
#define STOP_DEADLINE_US (10 * 1000000LL)
#define UUID_STR_LEN 36
#define MAX_NODES 64
#define PG_CONNECT_TIMEOUT "10"              /* seconds, unless the URL sets connect_timeout */

/* ---- options ----------------------------------------------------------- */

typedef struct bench_opts {
	long tasks;
	long starts;
	long clients;
	long concurrency;
	long nodes;
	const char *db;       /* --db: a postgres:// URL (argv, borrowed); NULL = SQLite */
	bool json;
	bool keep;
} bench_opts;

static void bench_usage(FILE *out)
{
	fputs("usage: weft bench [options]\n"
	      "\n"
	      "Starts `weft serve` on a fresh database and a free port, plus a local\n"
	      "webhook sink, and measures it end to end over HTTP.\n"
	      "\n"
	      "options:\n"
	      "  --tasks N        tasks in the submitted chain and fan-out (default 100000)\n"
	      "  --starts N       independent tasks started, completed and counted (default 20000)\n"
	      "  --clients N      concurrent keep-alive HTTP clients for PATCH/PUT (default 32)\n"
	      "  --concurrency N  the server's WORKER_WEBHOOK_CONCURRENCY (default 64)\n"
	      "  --db URL         run on PostgreSQL: a postgres:// URL of an existing database,\n"
	      "                   as a role that may CREATE DATABASE; the run gets a fresh\n"
	      "                   database there, dropped at the end (default: a SQLite file)\n"
	      "  --nodes N        servers sharing that database (default 1; N > 1 needs --db)\n"
	      "  --json           print one JSON object with every figure on stdout\n"
	      "                   (the human-readable lines go to stderr)\n"
	      "  --keep           keep the temporary directory (database, server logs)\n"
	      "                   and the PostgreSQL database\n"
	      "  -h, --help       show this text\n"
	      "\n"
	      "WEFT_DURABILITY (full|normal) is passed to the server; the default is full.\n",
	      out);
}

/* Parses a decimal in [lo, hi]; -1 with a message otherwise. */
static int parse_long_opt(const char *name, const char *s, long lo, long hi, long *out)
{
	char *end = NULL;
	errno = 0;
	long v = s ? strtol(s, &end, 10) : 0;
	if (!s || !*s || errno != 0 || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "weft bench: %s needs an integer in [%ld, %ld], got '%s'\n", name, lo, hi,
		        s ? s : "");
		return -1;
	}
	*out = v;
	return 0;
}

/* The part of a postgres:// or postgresql:// URL after "://", or NULL. */
static const char *pg_url_rest(const char *url)
{
	static const char *const schemes[] = { "postgres://", "postgresql://" };
	for (size_t i = 0; i < ARRAY_LEN(schemes); i++) {
		size_t n = strlen(schemes[i]);
		if (strncasecmp(url, schemes[i], n) == 0)
			return url + n;
	}
	return NULL;
}

/* Checks what only makes sense together; -1 with a message. */
static int check_opts(const bench_opts *o)
{
	if (o->db && !pg_url_rest(o->db)) {
		fprintf(stderr, "weft bench: --db needs a postgres:// or postgresql:// URL, got '%s' "
		                "(without --db the bench uses a fresh SQLite file)\n",
		        o->db);
		return -1;
	}
	if (o->nodes > 1 && !o->db) {
		fprintf(stderr, "weft bench: --nodes %ld needs --db postgres://...: several nodes share one "
		                "PostgreSQL database, a SQLite file belongs to one server\n",
		        o->nodes);
		return -1;
	}
	if (o->starts < o->nodes) {
		fprintf(stderr, "weft bench: --starts (%ld) must be at least --nodes (%ld): each node gets its own "
		                "batch of the started tasks\n",
		        o->starts, o->nodes);
		return -1;
	}
	return 0;
}

/* 0 ok, 1 help printed, -1 error (message printed). */
static int parse_opts(int argc, char **argv, bench_opts *o)
{
	static const struct {
		const char *name;
		long lo, hi;
		size_t off;
	} nums[] = {
		{ "--tasks", 2, 1000000, offsetof(bench_opts, tasks) },
		{ "--starts", 1, 1000000, offsetof(bench_opts, starts) },
		{ "--clients", 1, 1024, offsetof(bench_opts, clients) },
		{ "--concurrency", 1, 4096, offsetof(bench_opts, concurrency) },
		{ "--nodes", 1, MAX_NODES, offsetof(bench_opts, nodes) },
	};
	*o = (bench_opts){ .tasks = 100000, .starts = 20000, .clients = 32, .concurrency = 64, .nodes = 1 };
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			bench_usage(stdout);
			return 1;
		}
		if (strcmp(a, "--json") == 0) {
			o->json = true;
			continue;
		}
		if (strcmp(a, "--keep") == 0) {
			o->keep = true;
			continue;
		}
		if (strcmp(a, "--db") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "weft bench: --db needs a value\n");
				return -1;
			}
			o->db = argv[++i];
			continue;
		}
		if (strncmp(a, "--db=", 5) == 0) {
			o->db = a + 5;
			continue;
		}
		bool matched = false;
		for (size_t k = 0; k < ARRAY_LEN(nums); k++) {
			size_t nl = strlen(nums[k].name);
			const char *val = NULL;
			if (strcmp(a, nums[k].name) == 0) {
				if (i + 1 >= argc) {
					fprintf(stderr, "weft bench: %s needs a value\n", a);
					return -1;
				}
				val = argv[++i];
			} else if (strncmp(a, nums[k].name, nl) == 0 && a[nl] == '=') {
				val = a + nl + 1;
			} else {
				continue;
			}
			long *dst = (long *)(void *)((char *)o + nums[k].off);
			if (parse_long_opt(nums[k].name, val, nums[k].lo, nums[k].hi, dst) != 0)
				return -1;
			matched = true;
			break;
		}
		if (!matched) {
			fprintf(stderr, "weft bench: unknown option '%s'\n\n", a);
			bench_usage(stderr);
			return -1;
		}
	}
	return check_opts(o);
}

/* ---- output ------------------------------------------------------------ */

/* How a node's process ended. */
typedef enum { END_NONE, END_EXITED, END_SIGNALED, END_KILLED, END_LOST } node_end;

typedef struct node {
	int num;              /* 1-based, as printed */
	int port;
	char base[64];        /* http://127.0.0.1:<port> */
	char *logpath;        /* owned */
	pid_t pid;            /* 0 when not started or already reaped */
	CURL *ctl;            /* control connection: the main thread, or this node's poster */
	char batch_id[64];    /* its batch of the starts phase */
	long batch_len;       /* tasks in it */
	int64_t startup_us;   /* -1 until healthy */
	long idle_rss_kib;    /* -1 until read */
	long peak_rss_kib;
	int64_t shutdown_us;  /* SIGTERM to exit; -1 unless stopped by it */
	node_end end;
	int end_code;         /* exit status or signal */
} node;

typedef struct bench {
	bench_opts opt;
	FILE *human;          /* stdout, or stderr with --json */
	json_t *report;       /* every figure, for --json */
	char *tmpdir;         /* owned */
	char *db;             /* the nodes' --db: the SQLite file or the PostgreSQL URL, owned */
	char pg_name[64];     /* the database created for the run; "" on SQLite */
	bool pg_created;
	bool spawned;         /* some node was started: its log is worth keeping */
	int sink_port;
	node *nodes;          /* opt.nodes of them, owned */
	size_t nnodes;
	struct curl_slist *hdrs;
	char **ids;           /* the started tasks' UUIDs, owned */
	size_t nids;
} bench;

/* Prints one figure without recording it (per-node details, which the JSON
 * holds in its per_node array). */
static void detail(bench *b, const char *label, double v, int decimals, const char *unit)
{
	char val[64];
	snprintf(val, sizeof(val), "%.*f", decimals, v);
	fprintf(b->human, "  %-36s %14s%s%s\n", label, val, *unit ? " " : "", unit);
	fflush(b->human);
}

static void figure(bench *b, const char *key, const char *label, double v, int decimals, const char *unit)
{
	detail(b, label, v, decimals, unit);
	if (decimals == 0)
		json_object_set_new(b->report, key, json_integer((json_int_t)v));
	else
		json_object_set_new(b->report, key, json_real(v));
}

static void note(bench *b, const char *fmt, ...) WEFT_PRINTF(2, 3);
static void note(bench *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(b->human, fmt, ap);
	va_end(ap);
	fputc('\n', b->human);
	fflush(b->human);
}

static double secs(int64_t us)
{
	return (double)us / 1e6;
}

static double rate(double count, int64_t us)
{
	return us > 0 ? count * 1e6 / (double)us : 0.0;
}

/* "the server" with one node, "node 2" with several: for messages. */
static const char *node_name(const bench *b, const node *n, char *out, size_t len)
{
	if (b->nnodes == 1)
		snprintf(out, len, "the server");
	else
		snprintf(out, len, "node %d", n->num);
	return out;
}

/* ---- the webhook sink -------------------------------------------------- */

static atomic_ullong sink_hits;
static atomic_ullong sink_end_hits;    /* on_success deliveries (path /end) */
static int sink_marker;

static enum MHD_Result sink_handler(void *cls, struct MHD_Connection *conn, const char *url,
                                    const char *method, const char *version, const char *upload_data,
                                    size_t *upload_data_size, void **con_cls)
{
	UNUSED(method);
	UNUSED(version);
	UNUSED(upload_data);
	if (*con_cls == NULL) {
		*con_cls = &sink_marker;
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		*upload_data_size = 0;   /* a body, if any, is ignored */
		return MHD_YES;
	}
	atomic_fetch_add_explicit(&sink_hits, 1, memory_order_relaxed);
	if (strncmp(url, "/end", 4) == 0)
		atomic_fetch_add_explicit(&sink_end_hits, 1, memory_order_relaxed);
	return MHD_queue_response(conn, MHD_HTTP_OK, (struct MHD_Response *)cls);
}

typedef struct sink {
	struct MHD_Daemon *d;
	struct MHD_Response *ok;
	int port;
} sink;

static int sink_start(sink *s)
{
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = 0;
	s->ok = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (!s->ok)
		return -1;
	s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL, sink_handler,
	                        s->ok, MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)2, MHD_OPTION_SOCK_ADDR,
	                        (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)0,
	                        MHD_OPTION_END);
	if (!s->d) {
		MHD_destroy_response(s->ok);
		s->ok = NULL;
		return -1;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? (int)info->port : 0;
	if (s->port <= 0) {
		MHD_stop_daemon(s->d);
		MHD_destroy_response(s->ok);
		s->d = NULL;
		s->ok = NULL;
		return -1;
	}
	return 0;
}

static void sink_stop(sink *s)
{
	if (s->d)
		MHD_stop_daemon(s->d);
	if (s->ok)
		MHD_destroy_response(s->ok);
	s->d = NULL;
	s->ok = NULL;
}

static uint64_t sink_count(void)
{
	return atomic_load(&sink_hits);
}

/* ---- HTTP client ------------------------------------------------------- */

typedef struct http_resp {
	long status;
	buf body;
	bool discard;          /* count the body's bytes only */
	size_t bytes;
	char batch_id[64];     /* X-Batch-ID, when present */
	char curl_err[CURL_ERROR_SIZE];
} http_resp;

static void resp_init(http_resp *r, bool discard)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->body);
	r->discard = discard;
}

static void resp_reset(http_resp *r)
{
	buf_reset(&r->body);
	r->status = 0;
	r->bytes = 0;
	r->batch_id[0] = '\0';
	r->curl_err[0] = '\0';
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	http_resp *r = ud;
	size_t len = size * n;
	r->bytes += len;
	if (!r->discard)
		buf_append(&r->body, p, len);
	return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	http_resp *r = ud;
	size_t len = size * n;
	static const char name[] = "x-batch-id:";
	size_t nl = sizeof(name) - 1;
	if (len > nl && strncasecmp(p, name, nl) == 0) {
		const char *v = p + nl;
		const char *e = p + len;
		while (v < e && (*v == ' ' || *v == '\t'))
			v++;
		while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' '))
			e--;
		size_t vl = MIN((size_t)(e - v), sizeof(r->batch_id) - 1);
		memcpy(r->batch_id, v, vl);
		r->batch_id[vl] = '\0';
	}
	return len;
}

/* A keep-alive handle; each request names the http_resp it fills. */
static CURL *client_new(struct curl_slist *hdrs)
{
	CURL *h = curl_easy_init();
	if (!h) {
		log_error("bench", "curl_easy_init failed");
		abort();
	}
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(BENCH_DEADLINE_US / 1000));
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	return h;
}

/* One request. method is GET, POST, PATCH, PUT or DELETE; body may be NULL.
 * 0 when an HTTP answer arrived (any status), -1 on a transport error. */
static int http_do(CURL *h, http_resp *r, const char *method, const char *url, const char *body, size_t len,
                   long timeout_ms)
{
	resp_reset(r);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, r->curl_err);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	if (body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, strcmp(method, "POST") == 0 ? NULL : method);
	} else {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, strcmp(method, "GET") == 0 ? NULL : method);
	}
	CURLcode rc = curl_easy_perform(h);
	if (rc != CURLE_OK) {
		if (!r->curl_err[0])
			snprintf(r->curl_err, sizeof(r->curl_err), "%s", curl_easy_strerror(rc));
		return -1;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	return 0;
}

/* Logs a failed request: what, the status, the start of the body. */
static void report_bad(const char *what, const http_resp *r, long want)
{
	if (r->status == 0) {
		log_error("bench", "%s: no answer (%s)", what, r->curl_err[0] ? r->curl_err : "transport error");
		return;
	}
	int show = (int)MIN(r->body.len, (size_t)400);
	log_error("bench", "%s: HTTP %ld, expected %ld%s%.*s", what, r->status, want, show ? ": " : "", show,
	          r->body.data);
}

/* GET /batch/{id} through node n → the parsed object (owned) or NULL (logged). */
static json_t *get_batch(node *n, http_resp *r, const char *batch_id)
{
	char url[160];
	snprintf(url, sizeof(url), "%s/batch/%s", n->base, batch_id);
	if (http_do(n->ctl, r, "GET", url, NULL, 0, 10000) != 0 || r->status != 200) {
		report_bad("GET /batch", r, 200);
		return NULL;
	}
	char err[200];
	json_t *v = json_parse_body(r->body.data, r->body.len, JSON_DEFAULT_MAX_DEPTH, err, sizeof(err));
	if (!v || !json_is_object(v)) {
		log_error("bench", "GET /batch: unparseable answer (%s)", v ? "not an object" : err);
		json_decref(v);
		return NULL;
	}
	return v;
}

static int64_t count_of(const json_t *batch, const char *status)
{
	const json_t *sc = json_object_get(batch, "status_counts");
	const json_t *v = sc ? json_object_get(sc, status) : NULL;
	return json_is_integer(v) ? (int64_t)json_integer_value(v) : -1;
}

/* Sums, over the starts phase's batches (each read through its own node),
 * status_counts.<name> when in_counts, the top-level <name> otherwise.
 * -1 when a read failed (logged); *out is -1 when a batch lacks the field. */
static int batches_sum(bench *b, const char *name, bool in_counts, int64_t *out)
{
	http_resp r;
	resp_init(&r, false);
	int64_t sum = 0;
	int rc = 0;
	for (size_t k = 0; k < b->nnodes; k++) {
		node *n = &b->nodes[k];
		json_t *bj = get_batch(n, &r, n->batch_id);
		if (!bj) {
			rc = -1;
			break;
		}
		const json_t *v = json_object_get(bj, name);
		int64_t x = in_counts ? count_of(bj, name) : json_is_integer(v) ? (int64_t)json_integer_value(v) : -1;
		json_decref(bj);
		sum = x < 0 || sum < 0 ? -1 : sum + x;
	}
	buf_release(&r.body);
	*out = sum;
	return rc;
}

static int stop_batch(node *n, http_resp *r, const char *batch_id)
{
	char url[160];
	snprintf(url, sizeof(url), "%s/batch/%s", n->base, batch_id);
	if (http_do(n->ctl, r, "DELETE", url, NULL, 0, (long)(BENCH_DEADLINE_US / 1000)) != 0 || r->status != 200) {
		report_bad("DELETE /batch", r, 200);
		return -1;
	}
	return 0;
}

/* ---- the PostgreSQL database ------------------------------------------- */

/* libpq's messages end with a newline: the length without it. */
static int pg_msg_len(const char *msg)
{
	size_t n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		n--;
	return (int)n;
}

/* A connection to url, or NULL with the reason logged. The URL's own
 * connect_timeout, if any, wins over the default one (later values win). */
static PGconn *pg_connect(const char *url, const char *what)
{
	static const char *const keys[] = { "connect_timeout", "application_name", "dbname", NULL };
	const char *const vals[] = { PG_CONNECT_TIMEOUT, "weft bench", url, NULL };
	PGconn *c = PQconnectdbParams(keys, vals, 1);
	if (!c) {
		log_error("bench", "%s: out of memory in libpq", what);
		return NULL;
	}
	if (PQstatus(c) != CONNECTION_OK) {
		const char *m = PQerrorMessage(c);
		log_error("bench", "%s: cannot connect: %.*s", what, pg_msg_len(m), m);
		PQfinish(c);
		return NULL;
	}
	return c;
}

/* Runs one command that returns no rows; -1 with PostgreSQL's message logged. */
static int pg_command(PGconn *c, const char *sql, const char *what)
{
	PGresult *r = PQexec(c, sql);
	int rc = 0;
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		const char *m = PQerrorMessage(c);
		log_error("bench", "%s: %.*s", what, pg_msg_len(m), m);
		rc = -1;
	}
	PQclear(r);
	return rc;
}

/* url with its database replaced by db (owned), or NULL when url is not a
 * postgres:// URL. libpq reads scheme://[userinfo@]hosts[/dbname][?params]:
 * the userinfo ends at the first '@' met before any '/', the host list at
 * the next '/' or '?'. A dbname= parameter would override the path, so it is
 * left out. */
static char *pg_url_with_db(const char *url, const char *db)
{
	const char *rest = pg_url_rest(url);
	if (!rest)
		return NULL;
	const char *p = rest;
	while (*p && *p != '@' && *p != '/')
		p++;
	const char *hosts = *p == '@' ? p + 1 : rest;
	const char *end = hosts + strcspn(hosts, "/?");
	const char *query = strchr(end, '?');
	buf out;
	buf_init(&out);
	buf_append(&out, url, (size_t)(end - url));
	buf_printf(&out, "/%s", db);
	if (query) {
		char sep = '?';
		const char *q = query + 1;
		while (*q) {
			size_t len = strcspn(q, "&");
			if (len > 0 && !(len >= 7 && strncmp(q, "dbname=", 7) == 0)) {
				buf_putc(&out, sep);
				buf_append(&out, q, len);
				sep = '&';
			}
			q += len;
			if (*q == '&')
				q++;
		}
	}
	return buf_detach(&out, NULL);
}

/* One setting as a session on c sees it (owned), or NULL. */
static char *pg_setting(PGconn *c, const char *name)
{
	const char *params[] = { name };
	PGresult *r = PQexecParams(c, "SELECT current_setting($1)", 1, NULL, params, NULL, NULL, 0);
	char *v = NULL;
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		v = xstrdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	return v;
}

/* Creates the run's database through --db and derives the nodes' URL. The
 * rewritten URL is then tried: it must reach the new database (a mistake
 * there would have the nodes share the user's database), and the settings
 * that decide durability are read from a session on it, as a node's own
 * sessions start with them. */
static int pg_create(bench *b)
{
	snprintf(b->pg_name, sizeof(b->pg_name), "weft_bench_%d_%lld", (int)getpid(), (long long)time(NULL));
	b->db = pg_url_with_db(b->opt.db, b->pg_name);
	if (!b->db)
		return -1;   /* check_opts accepted only postgres:// URLs */
	PGconn *c = pg_connect(b->opt.db, "--db");
	if (!c)
		return -1;
	char sql[128];
	snprintf(sql, sizeof(sql), "CREATE DATABASE \"%s\"", b->pg_name);
	int rc = pg_command(c, sql, "CREATE DATABASE");
	PQfinish(c);
	if (rc != 0)
		return -1;
	b->pg_created = true;

	c = pg_connect(b->db, "the new database");
	if (!c)
		return -1;
	char *dbname = NULL;
	PGresult *r = PQexec(c, "SELECT current_database()");
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		dbname = xstrdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	if (!dbname || strcmp(dbname, b->pg_name) != 0) {
		log_error("bench", "the URL given to the nodes reaches database '%s', not '%s'", dbname ? dbname : "?",
		          b->pg_name);
		free(dbname);
		PQfinish(c);
		return -1;
	}
	free(dbname);
	static const struct {
		const char *setting, *key;
	} shown[] = {
		{ "server_version", "pg_version" },
		{ "fsync", "pg_fsync" },
		{ "synchronous_commit", "pg_synchronous_commit" },
		{ "max_connections", "pg_max_connections" },
	};
	for (size_t i = 0; i < ARRAY_LEN(shown); i++) {
		char *v = pg_setting(c, shown[i].setting);
		json_object_set_new(b->report, shown[i].key, json_string(v ? v : "?"));
		free(v);
	}
	PQfinish(c);
	return 0;
}

/* Drops the run's database; the nodes have exited by now, FORCE (PostgreSQL
 * 13 and later) ends any session a killed node left behind. */
static int pg_drop(bench *b)
{
	PGconn *c = pg_connect(b->opt.db, "dropping the database");
	if (!c)
		return -1;
	char sql[160];
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS \"%s\"%s", b->pg_name,
	         PQserverVersion(c) >= 130000 ? " WITH (FORCE)" : "");
	int rc = pg_command(c, sql, "DROP DATABASE");
	PQfinish(c);
	return rc;
}

/* ---- the child servers ------------------------------------------------- */

static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t sl = sizeof(sa);
	int port = -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && getsockname(fd, (struct sockaddr *)&sa, &sl) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* A free port that no other node of this run was given: each one is free
 * when asked, and the kernel could hand out the same one twice. */
static int node_port(const bench *b, size_t k)
{
	for (int tries = 0; tries < 100; tries++) {
		int port = free_port();
		if (port <= 0)
			return -1;
		bool taken = port == b->sink_port;
		for (size_t i = 0; i < k && !taken; i++)
			taken = b->nodes[i].port == port;
		if (!taken)
			return port;
	}
	return -1;
}

static bool env_overridden(const char *entry)
{
	static const char *const keys[] = {
		"PORT", "HOST_URL", "SKIP_SSRF_VALIDATION", "PAYLOAD_MAX_BYTES", "MAX_TASKS_PER_BATCH",
		"WORKER_WEBHOOK_CONCURRENCY", "WEFT_LOG", "RUST_LOG", "DATABASE_URL", "WEFT_DB",
		"WEBHOOK_DELIVERY_CONCURRENCY",
	};
	for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
		size_t n = strlen(keys[i]);
		if (strncmp(entry, keys[i], n) == 0 && entry[n] == '=')
			return true;
	}
	return false;
}

/* Spawns `weft serve` for node n; everything is prepared before fork()
 * because the sink's threads already run (only async-signal-safe calls
 * between fork and exec). */
static int spawn_server(bench *b, node *n)
{
	char port_s[16];
	snprintf(port_s, sizeof(port_s), "%d", n->port);
	char exe[4096];
	ssize_t el = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (el <= 0) {
		log_error("bench", "cannot read /proc/self/exe: %s", strerror(errno));
		return -1;
	}
	exe[el] = '\0';
	char *argv[] = { exe, (char *)"serve", (char *)"--port", port_s, (char *)"--db", b->db, NULL };

	size_t nenv = 0;
	while (environ[nenv])
		nenv++;
	char **envp = xcalloc(nenv + 16, sizeof(char *));
	char *owned[16];
	size_t no = 0, ne = 0;
	for (size_t i = 0; i < nenv; i++)
		if (!env_overridden(environ[i]))
			envp[ne++] = environ[i];
	owned[no++] = xasprintf("HOST_URL=%s", n->base);
	owned[no++] = xstrdup("SKIP_SSRF_VALIDATION=1");
	owned[no++] = xstrdup("PAYLOAD_MAX_BYTES=268435456");
	owned[no++] = xstrdup("MAX_TASKS_PER_BATCH=1000000");
	owned[no++] = xasprintf("WORKER_WEBHOOK_CONCURRENCY=%ld", b->opt.concurrency);
	owned[no++] = xasprintf("WEBHOOK_DELIVERY_CONCURRENCY=%ld", b->opt.concurrency);
	owned[no++] = xstrdup("WEFT_LOG=warn");
	for (size_t i = 0; i < no; i++)
		envp[ne++] = owned[i];
	envp[ne] = NULL;

	int logfd = open(n->logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	pid_t parent = getpid();
	pid_t pid = -1;
	if (logfd >= 0 && nullfd >= 0)
		pid = fork();
	if (pid == 0) {
		/* The server must not outlive an interrupted bench. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(127);
		dup2(nullfd, 0);
		dup2(logfd, 1);
		dup2(logfd, 2);
		struct sigaction dfl;
		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		sigaction(SIGPIPE, &dfl, NULL);   /* the bench ignores it; exec keeps ignored signals */
		execve("/proc/self/exe", argv, envp);
		_exit(127);
	}
	int saved = errno;
	if (logfd >= 0)
		close(logfd);
	if (nullfd >= 0)
		close(nullfd);
	for (size_t i = 0; i < no; i++)
		free(owned[i]);
	free(envp);
	if (pid < 0) {
		char nm[32];
		log_error("bench", "cannot start %s: %s", node_name(b, n, nm, sizeof(nm)), strerror(saved));
		return -1;
	}
	n->pid = pid;
	b->spawned = true;
	return 0;
}

/* Records how a reaped node ended. */
static void node_reaped(node *n, int st)
{
	n->pid = 0;
	if (WIFEXITED(st)) {
		n->end = END_EXITED;
		n->end_code = WEXITSTATUS(st);
	} else {
		n->end = END_SIGNALED;
		n->end_code = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
	}
}

/* Node still running? Reports how it ended otherwise. */
static bool node_alive(bench *b, node *n)
{
	if (n->pid <= 0)
		return false;
	int st = 0;
	pid_t w = waitpid(n->pid, &st, WNOHANG);
	if (w == 0)
		return true;
	char nm[32];
	node_name(b, n, nm, sizeof(nm));
	if (w == n->pid) {
		node_reaped(n, st);
		if (n->end == END_EXITED)
			log_error("bench", "%s exited with status %d (see %s)", nm, n->end_code, n->logpath);
		else
			log_error("bench", "%s was killed by signal %d (see %s)", nm, n->end_code, n->logpath);
	} else {
		n->pid = 0;
		n->end = END_LOST;
	}
	return false;
}

/* Every node still running? (Each dead one is reported.) */
static bool nodes_alive(bench *b)
{
	bool all = true;
	for (size_t k = 0; k < b->nnodes; k++)
		if (!node_alive(b, &b->nodes[k]))
			all = false;
	return all;
}

/* A "Vm...:" figure of /proc/<pid>/status in KiB, or -1. */
static long proc_kib(pid_t pid, const char *field)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char line[256];
	size_t fl = strlen(field);
	long v = -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, field, fl) == 0 && line[fl] == ':') {
			v = strtol(line + fl + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

static void sleep_us(int64_t us)
{
	struct timespec ts = { .tv_sec = (time_t)(us / 1000000), .tv_nsec = (long)(us % 1000000) * 1000 };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

/* Polls GET /health of node n; on success n->startup_us is set. */
static int wait_healthy(bench *b, node *n, int64_t spawned_at)
{
	char url[128];
	snprintf(url, sizeof(url), "%s/health", n->base);
	http_resp r;
	resp_init(&r, false);
	int rc = -1;
	int64_t deadline = spawned_at + HEALTH_DEADLINE_US;
	for (;;) {
		if (http_do(n->ctl, &r, "GET", url, NULL, 0, 1000) == 0 && r.status == 200) {
			rc = 0;
			break;
		}
		if (!node_alive(b, n))
			break;
		if (clock_mono_us() > deadline) {
			char nm[32];
			if (r.status)
				report_bad("GET /health", &r, 200);
			log_error("bench", "%s did not become healthy within %lld s (see %s)", node_name(b, n, nm, sizeof(nm)),
			          (long long)(HEALTH_DEADLINE_US / 1000000), n->logpath);
			break;
		}
		sleep_us(HEALTH_POLL_US);
	}
	if (rc == 0)
		n->startup_us = clock_mono_us() - spawned_at;
	buf_release(&r.body);
	return rc;
}

/* The exit status of a node as JSON: the number, or how it ended instead. */
static json_t *end_json(const node *n)
{
	char what[32];
	switch (n->end) {
	case END_EXITED:
		return json_integer(n->end_code);
	case END_SIGNALED:
		snprintf(what, sizeof(what), "signal %d", n->end_code);
		return json_string(what);
	case END_KILLED:
		return json_string("killed after timeout");
	case END_LOST:
		return json_string("lost (waitpid failed)");
	case END_NONE:
		break;
	}
	return json_string("not started");
}

/* SIGTERM to every running node at once (a cluster is stopped as a whole),
 * then each one's exit. 0 when every node exited 0 in time; a node that had
 * already ended (reported then) or never started fails the run too. */
static int stop_nodes(bench *b)
{
	int rc = 0;
	/* A node that died on its own is reported as such, not timed. */
	for (size_t k = 0; k < b->nnodes; k++)
		if (!node_alive(b, &b->nodes[k]))
			rc = -1;
	int64_t t0 = clock_mono_us();
	for (size_t k = 0; k < b->nnodes; k++)
		if (b->nodes[k].pid > 0)
			kill(b->nodes[k].pid, SIGTERM);
	for (;;) {
		bool waiting = false;
		for (size_t k = 0; k < b->nnodes; k++) {
			node *n = &b->nodes[k];
			if (n->pid <= 0)
				continue;
			int st = 0;
			pid_t w = waitpid(n->pid, &st, WNOHANG);
			if (w == n->pid) {
				n->shutdown_us = clock_mono_us() - t0;
				node_reaped(n, st);
			} else if (w < 0) {
				log_error("bench", "waitpid: %s", strerror(errno));
				n->pid = 0;
				n->end = END_LOST;
			} else {
				waiting = true;
			}
		}
		if (!waiting)
			break;
		if (clock_mono_us() - t0 > STOP_DEADLINE_US) {
			for (size_t k = 0; k < b->nnodes; k++) {
				node *n = &b->nodes[k];
				if (n->pid <= 0)
					continue;
				char nm[32];
				log_error("bench", "%s did not stop within %lld s of SIGTERM: killing it",
				          node_name(b, n, nm, sizeof(nm)), (long long)(STOP_DEADLINE_US / 1000000));
				kill(n->pid, SIGKILL);
				waitpid(n->pid, NULL, 0);
				n->pid = 0;
				n->end = END_KILLED;
			}
			break;
		}
		sleep_us(5000);
	}

	/* The cluster's shutdown is its slowest node's; the exit status is 0
	 * when every node's is, else the first other one. */
	int64_t slowest = -1;
	bool killed = false;
	const node *bad = NULL;
	for (size_t k = 0; k < b->nnodes; k++) {
		const node *n = &b->nodes[k];
		if (n->shutdown_us > slowest)
			slowest = n->shutdown_us;
		if (n->end == END_KILLED)
			killed = true;
		if (!bad && !(n->end == END_EXITED && n->end_code == 0))
			bad = n;
	}
	if (slowest >= 0 && !killed) {
		figure(b, "shutdown_ms", b->nnodes == 1 ? "shutdown (SIGTERM to exit)" : "shutdown (SIGTERM to all exited)",
		       (double)slowest / 1000.0, 1, "ms");
		for (size_t k = 0; k < b->nnodes && b->nnodes > 1; k++) {
			const node *n = &b->nodes[k];
			char nl[32];
			snprintf(nl, sizeof(nl), "  node %d", n->num);
			if (n->shutdown_us >= 0)
				detail(b, nl, (double)n->shutdown_us / 1000.0, 1, "ms");
		}
	}
	const node *shown = bad ? bad : &b->nodes[0];
	char label[64];
	if (b->nnodes == 1)
		snprintf(label, sizeof(label), "server exit status");
	else if (!bad)
		snprintf(label, sizeof(label), "server exit status, every node");
	else
		snprintf(label, sizeof(label), "server exit status, node %d", bad->num);
	if (shown->end == END_EXITED)
		figure(b, "exit_status", label, shown->end_code, 0, "");
	else
		json_object_set_new(b->report, "exit_status", end_json(shown));
	for (size_t k = 0; k < b->nnodes; k++) {
		const node *n = &b->nodes[k];
		char nm[32];
		node_name(b, n, nm, sizeof(nm));
		if (n->end == END_EXITED && n->end_code == 0)
			continue;
		rc = -1;
		if (n->shutdown_us < 0)
			continue;   /* already reported when it ended */
		if (n->end == END_EXITED)
			log_error("bench", "%s exited with status %d (see %s)", nm, n->end_code, n->logpath);
		else if (n->end == END_SIGNALED)
			log_error("bench", "%s ended on signal %d (see %s)", nm, n->end_code, n->logpath);
	}
	return rc;
}

static void remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
	if (rmdir(dir) != 0)
		log_warn("bench", "cannot remove %s: %s", dir, strerror(errno));
}

/* ---- request bodies ---------------------------------------------------- */

typedef enum { SHAPE_CHAIN, SHAPE_FANOUT, SHAPE_INDEPENDENT } batch_shape;

static void build_batch(buf *out, batch_shape shape, long n, int sink_port)
{
	char action[320];
	int len = snprintf(action, sizeof(action),
	                   "\"on_start\":{\"kind\":\"Webhook\",\"params\":{\"url\":\"http://127.0.0.1:%d/start\","
	                   "\"verb\":\"Post\"}}",
	                   sink_port);
	/* Independent tasks also announce their success: the outbox phase
	 * measures how fast those deliveries reach the sink. */
	if (shape == SHAPE_INDEPENDENT)
		snprintf(action + len, sizeof(action) - (size_t)len,
		         ",\"on_success\":[{\"kind\":\"Webhook\",\"params\":{\"url\":\"http://127.0.0.1:%d/end\","
		         "\"verb\":\"Post\"}}]",
		         sink_port);
	buf_reset(out);
	buf_putc(out, '[');
	for (long i = 0; i < n; i++) {
		if (i)
			buf_putc(out, ',');
		buf_printf(out, "{\"id\":\"t%ld\",\"name\":\"task %ld\",\"kind\":\"bench\",\"timeout\":3600,", i, i);
		buf_puts(out, action);
		buf_puts(out, ",\"dependencies\":[");
		if (i > 0 && shape == SHAPE_CHAIN)
			buf_printf(out, "{\"id\":\"t%ld\",\"requires_success\":true}", i - 1);
		else if (i > 0 && shape == SHAPE_FANOUT)
			buf_puts(out, "{\"id\":\"t0\",\"requires_success\":true}");
		buf_puts(out, "]}");
	}
	buf_putc(out, ']');
}

/* POST /task through node n; 0 with the batch id in r->batch_id when 201. */
static int post_batch(node *n, http_resp *r, const buf *body, const char *what, int64_t *elapsed)
{
	char url[128];
	snprintf(url, sizeof(url), "%s/task", n->base);
	int64_t t0 = clock_mono_us();
	int rc = http_do(n->ctl, r, "POST", url, body->data, body->len, (long)(BENCH_DEADLINE_US / 1000));
	*elapsed = clock_mono_us() - t0;
	if (rc != 0 || r->status != 201) {
		report_bad(what, r, 201);
		return -1;
	}
	if (!r->batch_id[0]) {
		log_error("bench", "%s: 201 without an X-Batch-ID header", what);
		return -1;
	}
	return 0;
}

/* ---- phases ------------------------------------------------------------ */

static int phase_submit(bench *b, batch_shape shape)
{
	const char *name = shape == SHAPE_CHAIN ? "chain" : "fan-out";
	const char *key = shape == SHAPE_CHAIN ? "chain" : "fanout";
	node *n = &b->nodes[0];
	buf body;
	buf_init(&body);
	build_batch(&body, shape, b->opt.tasks, b->sink_port);
	http_resp r;
	resp_init(&r, true);   /* the answer holds every task: count it, don't keep it */
	char what[64], label[64], k[64];
	snprintf(what, sizeof(what), "POST %ld-task %s", b->opt.tasks, name);
	int64_t us = 0;
	int rc = post_batch(n, &r, &body, what, &us);
	if (rc == 0) {
		snprintf(k, sizeof(k), "%s_post_s", key);
		figure(b, k, what, secs(us), 3, "s");
		snprintf(k, sizeof(k), "%s_tasks_per_s", key);
		snprintf(label, sizeof(label), "  %s submit rate", name);
		figure(b, k, label, rate((double)b->opt.tasks, us), 0, "tasks/s");
		snprintf(k, sizeof(k), "%s_request_mb", key);
		figure(b, k, "  request body", (double)body.len / 1e6, 1, "MB");
		snprintf(k, sizeof(k), "%s_response_mb", key);
		figure(b, k, "  response body", (double)r.bytes / 1e6, 1, "MB");
		r.discard = false;
		char bid[64];
		snprintf(bid, sizeof(bid), "%s", r.batch_id);
		rc = stop_batch(n, &r, bid);
	}
	buf_release(&r.body);
	buf_release(&body);
	return rc;
}

/* Appends the task UUIDs of a POST /task answer, in order, to b->ids
 * (allocated by the caller for every started task). */
static int collect_ids(bench *b, const http_resp *r, long want)
{
	char err[200];
	json_t *arr = json_parse_body(r->body.data, r->body.len, JSON_DEFAULT_MAX_DEPTH, err, sizeof(err));
	if (!arr || !json_is_array(arr)) {
		log_error("bench", "POST /task: unparseable answer (%s)", arr ? "not an array" : err);
		json_decref(arr);
		return -1;
	}
	if ((long)json_array_size(arr) != want) {
		log_error("bench", "POST /task: %zu tasks in the answer, expected %ld", json_array_size(arr), want);
		json_decref(arr);
		return -1;
	}
	size_t i;
	json_t *t;
	json_array_foreach(arr, i, t) {
		const char *id = NULL;
		if (json_get_str(t, "id", &id) != 0 || strlen(id) != UUID_STR_LEN) {
			log_error("bench", "POST /task: task %zu has no UUID id", i);
			json_decref(arr);
			return -1;
		}
		b->ids[b->nids++] = xstrdup(id);
	}
	json_decref(arr);
	return 0;
}

/* One node's POST of the starts phase, on its own thread so that the
 * nodes' submits overlap. */
typedef struct poster {
	node *n;
	buf body;
	http_resp r;
	char what[64];
	pthread_barrier_t *go;
	int64_t t_send;        /* first byte sent */
	int64_t t_201;         /* last byte of the answer received */
	int rc;
	pthread_t tid;
} poster;

static void *poster_run(void *arg)
{
	poster *p = arg;
	pthread_barrier_wait(p->go);
	int64_t us = 0;
	p->t_send = clock_mono_us();
	p->rc = post_batch(p->n, &p->r, &p->body, p->what, &us);
	p->t_201 = clock_mono_us();
	return NULL;
}

static int phase_starts(bench *b)
{
	long m = b->opt.starts;
	size_t nn = b->nnodes;
	char what[64];
	if (nn == 1)
		snprintf(what, sizeof(what), "POST %ld independent tasks", m);
	else
		snprintf(what, sizeof(what), "POST %ld tasks in %zu batches", m, nn);
	poster *ps = xcalloc(nn, sizeof(*ps));
	pthread_barrier_t go;
	pthread_barrier_init(&go, NULL, (unsigned)nn + 1);
	for (size_t k = 0; k < nn; k++) {
		poster *p = &ps[k];
		p->n = &b->nodes[k];
		p->n->batch_len = m / (long)nn + ((long)k < m % (long)nn ? 1 : 0);
		p->go = &go;
		buf_init(&p->body);
		build_batch(&p->body, SHAPE_INDEPENDENT, p->n->batch_len, b->sink_port);
		resp_init(&p->r, false);
		if (nn == 1)
			snprintf(p->what, sizeof(p->what), "%s", what);
		else
			snprintf(p->what, sizeof(p->what), "POST %ld independent tasks to node %d", p->n->batch_len,
			         p->n->num);
	}
	http_resp poll;
	resp_init(&poll, false);
	uint64_t hits0 = sink_count();
	for (size_t k = 0; k < nn; k++) {
		if (pthread_create(&ps[k].tid, NULL, poster_run, &ps[k]) != 0) {
			log_error("bench", "pthread_create failed");
			abort();   /* the barrier would never open */
		}
	}
	pthread_barrier_wait(&go);
	int rc = 0;
	int64_t t_send = 0, t_201 = 0;
	for (size_t k = 0; k < nn; k++) {
		poster *p = &ps[k];
		pthread_join(p->tid, NULL);
		buf_release(&p->body);
		if (p->rc != 0)
			rc = -1;
		if (k == 0 || p->t_send < t_send)
			t_send = p->t_send;
		if (p->t_201 > t_201)
			t_201 = p->t_201;
		snprintf(p->n->batch_id, sizeof(p->n->batch_id), "%s", p->r.batch_id);
	}
	pthread_barrier_destroy(&go);
	if (rc != 0)
		goto out;

	/* Poll first, parse the ids after: the clock runs from the (last) 201.
	 * GET /batch counts the whole batch, which costs the server real time
	 * on a large one, so while the sink has not yet seen all M on_start
	 * calls the bench watches its own counter and polls only once a
	 * second (to notice failures); the 5 ms polls begin once all M
	 * webhooks have arrived. One poll reads every node's batch through
	 * that node. */
	int64_t running = -1, at_201 = -1, t_done = 0, t_sink = 0, polls = 0, poll_us = 0;
	for (;;) {
		int64_t failed = 0, canceled = 0;
		running = 0;
		for (size_t k = 0; k < nn; k++) {
			node *n = &b->nodes[k];
			int64_t tp = clock_mono_us();
			json_t *bj = get_batch(n, &poll, n->batch_id);
			poll_us += clock_mono_us() - tp;
			polls++;
			if (!bj) {
				rc = -1;
				goto out;
			}
			int64_t run = count_of(bj, "running");
			running = run < 0 || running < 0 ? -1 : running + run;
			failed += MAX(count_of(bj, "failure"), 0);
			canceled += MAX(count_of(bj, "canceled"), 0);
			json_decref(bj);
		}
		if (at_201 < 0)
			at_201 = running;
		if (running == m) {
			t_done = clock_mono_us();
			break;
		}
		if (running < 0 || failed > 0 || canceled > 0) {
			log_error("bench", "starting %ld tasks: running %" PRId64 ", failure %" PRId64 ", canceled %" PRId64
			          " (on_start webhooks failing?)", m, running, failed, canceled);
			rc = -1;
			goto out;
		}
		if (clock_mono_us() - t_201 > BENCH_DEADLINE_US) {
			log_error("bench", "starting %ld tasks: only %" PRId64 " running after %lld s", m, running,
			          (long long)(BENCH_DEADLINE_US / 1000000));
			rc = -1;
			goto out;
		}
		if (!nodes_alive(b)) {
			rc = -1;
			goto out;
		}
		int64_t until = clock_mono_us() + 1000000;
		while (!t_sink && clock_mono_us() < until) {
			if (sink_count() - hits0 >= (uint64_t)m)
				t_sink = clock_mono_us();
			else
				sleep_us(1000);
		}
		if (t_sink)
			sleep_us(BATCH_POLL_US);
	}
	uint64_t hits = sink_count() - hits0;
	figure(b, "starts_post_s", what, secs(t_201 - t_send), 3, "s");
	figure(b, "start_s", "all Running (from the 201)", secs(t_done - t_201), 3, "s");
	figure(b, "starts_per_s", "  tasks started", rate((double)m, t_done - t_201), 0, "tasks/s");
	if (t_sink)
		figure(b, "start_sink_s", "  all on_start calls received", secs(t_sink - t_201), 3, "s");
	figure(b, "start_e2e_s", "all Running (from the POST)", secs(t_done - t_send), 3, "s");
	figure(b, "starts_e2e_per_s", "  tasks submitted and started", rate((double)m, t_done - t_send), 0,
	       "tasks/s");
	figure(b, "running_at_201", "  already Running at the 201", (double)at_201, 0, "tasks");
	figure(b, "sink_hits", "  webhook sink hits", (double)hits, 0, "hits");
	figure(b, "start_polls", "  GET /batch polls", (double)polls, 0, "requests");
	figure(b, "start_poll_ms", "  GET /batch mean latency", (double)poll_us / 1000.0 / (double)polls, 2, "ms");
	if (hits < (uint64_t)m) {
		log_error("bench", "%ld tasks Running but the sink saw only %" PRIu64 " on_start calls", m, hits);
		rc = -1;
		goto out;
	}
	b->ids = xcalloc((size_t)m, sizeof(char *));
	b->nids = 0;
	for (size_t k = 0; k < nn && rc == 0; k++)
		rc = collect_ids(b, &ps[k].r, ps[k].n->batch_len);
out:
	for (size_t k = 0; k < nn; k++)
		buf_release(&ps[k].r.body);
	free(ps);
	buf_release(&poll.body);
	return rc;
}

/* C client threads, each on its own keep-alive connection to every node,
 * sending one request per index of [0, count) (index i goes to task
 * ids[i % nids] through node i % nnodes). */
typedef struct load_job {
	bench *b;
	const char *method;
	const char *body;
	long want;
	size_t count;
	size_t threads;
	int64_t *lat_us;               /* one per request */
	pthread_barrier_t start;
	atomic_size_t next;            /* the next index to send */
	atomic_int failed;
} load_job;

typedef struct load_thread {
	load_job *job;
	pthread_t tid;
} load_thread;

static void *load_run(void *arg)
{
	load_thread *lt = arg;
	load_job *j = lt->job;
	bench *b = j->b;
	size_t nn = b->nnodes;
	http_resp r;
	resp_init(&r, false);
	/* Connect to every node before the clock starts. */
	CURL **h = xcalloc(nn, sizeof(*h));
	char url[160];
	for (size_t k = 0; k < nn; k++) {
		h[k] = client_new(b->hdrs);
		snprintf(url, sizeof(url), "%s/health", b->nodes[k].base);
		if (http_do(h[k], &r, "GET", url, NULL, 0, 10000) != 0 || r.status != 200) {
			report_bad("GET /health (client warm-up)", &r, 200);
			atomic_store(&j->failed, 1);
		}
		curl_easy_setopt(h[k], CURLOPT_POSTFIELDS, j->body);
		curl_easy_setopt(h[k], CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(j->body));
		curl_easy_setopt(h[k], CURLOPT_CUSTOMREQUEST, j->method);
	}
	pthread_barrier_wait(&j->start);
	char what[64];
	snprintf(what, sizeof(what), "%s /task/{id}", j->method);
	/* Contiguous chunks of 16 keep the atomic counter off the hot path. */
	const size_t chunk = 16;
	while (!atomic_load_explicit(&j->failed, memory_order_relaxed)) {
		size_t from = atomic_fetch_add(&j->next, chunk);
		if (from >= j->count)
			break;
		size_t to = MIN(from + chunk, j->count);
		for (size_t i = from; i < to; i++) {
			CURL *hk = h[i % nn];
			snprintf(url, sizeof(url), "%s/task/%s", b->nodes[i % nn].base, b->ids[i % b->nids]);
			resp_reset(&r);
			curl_easy_setopt(hk, CURLOPT_URL, url);
			int64_t t0 = clock_mono_us();
			CURLcode rc = curl_easy_perform(hk);
			j->lat_us[i] = clock_mono_us() - t0;
			if (rc == CURLE_OK)
				curl_easy_getinfo(hk, CURLINFO_RESPONSE_CODE, &r.status);
			else if (!r.curl_err[0])
				snprintf(r.curl_err, sizeof(r.curl_err), "%s", curl_easy_strerror(rc));
			if (rc != CURLE_OK || r.status != j->want) {
				if (atomic_exchange(&j->failed, 1) == 0)
					report_bad(what, &r, j->want);
				break;
			}
		}
	}
	for (size_t k = 0; k < nn; k++)
		curl_easy_cleanup(h[k]);
	free(h);
	buf_release(&r.body);
	return NULL;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* Runs the load; *elapsed from the start barrier to the last answer. */
static int run_load(bench *b, const char *method, const char *body, long want, size_t count, const char *key,
                    const char *label, const char *unit)
{
	size_t nt = (size_t)b->opt.clients;
	load_job *j = xcalloc(1, sizeof(*j));
	j->b = b;
	j->method = method;
	j->body = body;
	j->want = want;
	j->count = count;
	j->threads = nt;
	j->lat_us = xcalloc(count, sizeof(int64_t));
	atomic_init(&j->next, 0);
	atomic_init(&j->failed, 0);
	pthread_barrier_init(&j->start, NULL, (unsigned)nt + 1);
	load_thread *th = xcalloc(nt, sizeof(*th));
	size_t started = 0;
	for (size_t i = 0; i < nt; i++) {
		th[i].job = j;
		if (pthread_create(&th[i].tid, NULL, load_run, &th[i]) != 0) {
			log_error("bench", "pthread_create failed");
			abort();   /* the barrier would never open */
		}
		started++;
	}
	pthread_barrier_wait(&j->start);
	int64_t t0 = clock_mono_us();
	for (size_t i = 0; i < started; i++)
		pthread_join(th[i].tid, NULL);
	int64_t us = clock_mono_us() - t0;
	int rc = atomic_load(&j->failed) ? -1 : 0;
	if (rc == 0) {
		char k[64], l[64];
		snprintf(k, sizeof(k), "%s_s", key);
		snprintf(l, sizeof(l), "%zu x %s", count, label);
		figure(b, k, l, secs(us), 3, "s");
		snprintf(k, sizeof(k), "%s_per_s", key);
		figure(b, k, "  rate", rate((double)count, us), 0, unit);
		qsort(j->lat_us, count, sizeof(int64_t), cmp_i64);
		snprintf(k, sizeof(k), "%s_p50_ms", key);
		figure(b, k, "  latency p50", (double)j->lat_us[count / 2] / 1000.0, 2, "ms");
		snprintf(k, sizeof(k), "%s_p99_ms", key);
		figure(b, k, "  latency p99", (double)j->lat_us[MIN(count - 1, count * 99 / 100)] / 1000.0, 2, "ms");
		snprintf(k, sizeof(k), "%s_max_ms", key);
		figure(b, k, "  latency max", (double)j->lat_us[count - 1] / 1000.0, 2, "ms");
	}
	pthread_barrier_destroy(&j->start);
	free(th);
	free(j->lat_us);
	free(j);
	return rc;
}

static int phase_patch(bench *b)
{
	size_t m = b->nids;
	uint64_t end_before = atomic_load(&sink_end_hits);
	int64_t t0 = clock_mono_us();
	if (run_load(b, "PATCH", "{\"status\":\"Success\"}", 200, m, "patch", "PATCH status=Success",
	             "completions/s") != 0)
		return -1;
	int64_t t_patched = clock_mono_us();
	/* Each completion wrote one on_success delivery to the outbox in its
	 * transaction; wait for the sink to have received all of them. */
	int64_t deadline = t_patched + 120 * 1000000LL;
	while (atomic_load(&sink_end_hits) - end_before < m && clock_mono_us() < deadline)
		sleep_us(1000);
	int64_t t_delivered = clock_mono_us();
	uint64_t got = atomic_load(&sink_end_hits) - end_before;
	if (got < m) {
		log_error("bench", "only %" PRIu64 " of %zu on_success deliveries arrived within 120 s", got, m);
		return -1;
	}
	figure(b, "outbox_deliveries_per_s", "on_success deliveries (first PATCH to last delivery)",
	       rate((double)m, t_delivered - t0), 0, "webhooks/s");
	figure(b, "outbox_drain_after_last_patch_s", "  delivered after the last PATCH answer",
	       secs(t_delivered - t_patched), 3, "s");
	int64_t ok = 0;
	if (batches_sum(b, "success", true, &ok) != 0)
		return -1;
	if (ok != (int64_t)m) {
		log_error("bench", "after %zu PATCHes answered 200, GET /batch shows success=%" PRId64, m, ok);
		return -1;
	}
	return 0;
}

static int64_t total_success(bench *b)
{
	int64_t n = 0;
	return batches_sum(b, "total_success", false, &n) == 0 ? n : -1;
}

static int phase_put(bench *b)
{
	size_t m = b->nids;
	int64_t base = total_success(b);
	if (base < 0)
		return -1;
	if (run_load(b, "PUT", "{\"new_success\":1}", 202, m, "put", "PUT new_success=1", "updates/s") != 0)
		return -1;
	/* A 202 follows a durable commit: the sum must be there at once, on
	 * whichever node it is read. */
	int64_t now = total_success(b);
	if (now == base + (int64_t)m)
		return 0;
	log_error("bench", "after %zu PUTs answered 202, total_success is %" PRId64 " (expected %" PRId64 ")", m,
	          now, base + (int64_t)m);
	int64_t t0 = clock_mono_us();
	while (now >= 0 && now != base + (int64_t)m && clock_mono_us() - t0 < 10 * 1000000LL) {
		sleep_us(50000);
		now = total_success(b);
	}
	if (now == base + (int64_t)m)
		log_error("bench", "total_success reached %" PRId64 " %.2f s later: the 202s came before the commit",
		          now, secs(clock_mono_us() - t0));
	return -1;
}

/* ---- main -------------------------------------------------------------- */

/* Start-up and idle RSS of every node: node 1's start-up is the figure (it
 * created the schema); the others joined an existing database. */
static void report_startup(bench *b)
{
	long sum = 0;
	for (size_t k = 0; k < b->nnodes; k++) {
		const node *n = &b->nodes[k];
		sum += MAX(n->idle_rss_kib, 0);
		if (k > 0) {
			char label[64];
			snprintf(label, sizeof(label), "  node %d start-up (joining)", n->num);
			detail(b, label, (double)n->startup_us / 1000.0, 1, "ms");
		}
	}
	if (b->nnodes == 1) {
		figure(b, "idle_rss_kib", "idle RSS", (double)b->nodes[0].idle_rss_kib, 0, "KiB");
		json_object_set_new(b->report, "idle_rss_sum_kib", json_integer(sum));
		return;
	}
	figure(b, "idle_rss_kib", "idle RSS, node 1", (double)b->nodes[0].idle_rss_kib, 0, "KiB");
	for (size_t k = 1; k < b->nnodes; k++) {
		char label[64];
		snprintf(label, sizeof(label), "idle RSS, node %d", b->nodes[k].num);
		detail(b, label, (double)b->nodes[k].idle_rss_kib, 0, "KiB");
	}
	char label[64];
	snprintf(label, sizeof(label), "idle RSS, all %zu nodes", b->nnodes);
	figure(b, "idle_rss_sum_kib", label, (double)sum, 0, "KiB");
}

/* Peak RSS of every running node (before they are stopped). */
static void report_peak(bench *b)
{
	long sum = 0;
	bool any = false;
	for (size_t k = 0; k < b->nnodes; k++) {
		node *n = &b->nodes[k];
		if (n->pid > 0)
			n->peak_rss_kib = proc_kib(n->pid, "VmHWM");
		if (n->peak_rss_kib >= 0) {
			sum += n->peak_rss_kib;
			any = true;
		}
	}
	if (!any)
		return;
	if (b->nnodes == 1) {
		figure(b, "peak_rss_kib", "peak RSS", (double)b->nodes[0].peak_rss_kib, 0, "KiB");
		json_object_set_new(b->report, "peak_rss_sum_kib", json_integer(sum));
		return;
	}
	for (size_t k = 0; k < b->nnodes; k++) {
		const node *n = &b->nodes[k];
		if (n->peak_rss_kib < 0)
			continue;
		char label[64];
		snprintf(label, sizeof(label), "peak RSS, node %d", n->num);
		if (k == 0)
			figure(b, "peak_rss_kib", label, (double)n->peak_rss_kib, 0, "KiB");
		else
			detail(b, label, (double)n->peak_rss_kib, 0, "KiB");
	}
	char label[64];
	snprintf(label, sizeof(label), "peak RSS, all %zu nodes", b->nnodes);
	figure(b, "peak_rss_sum_kib", label, (double)sum, 0, "KiB");
}

/* The per-node figures of the JSON report. */
static json_t *per_node_json(const bench *b)
{
	json_t *arr = json_array();
	for (size_t k = 0; k < b->nnodes; k++) {
		const node *n = &b->nodes[k];
		json_t *o = json_object();
		json_object_set_new(o, "node", json_integer(n->num));
		json_object_set_new(o, "port", json_integer(n->port));
		if (n->startup_us >= 0)
			json_object_set_new(o, "startup_ms", json_real((double)n->startup_us / 1000.0));
		if (n->idle_rss_kib >= 0)
			json_object_set_new(o, "idle_rss_kib", json_integer(n->idle_rss_kib));
		if (n->batch_len > 0)
			json_object_set_new(o, "starts", json_integer(n->batch_len));
		if (n->peak_rss_kib >= 0)
			json_object_set_new(o, "peak_rss_kib", json_integer(n->peak_rss_kib));
		if (n->shutdown_us >= 0)
			json_object_set_new(o, "shutdown_ms", json_real((double)n->shutdown_us / 1000.0));
		json_object_set_new(o, "exit_status", end_json(n));
		json_array_append_new(arr, o);
	}
	return arr;
}

int bench_main(int argc, char **argv)
{
	bench b;
	memset(&b, 0, sizeof(b));
	int pr = parse_opts(argc, argv, &b.opt);
	if (pr != 0)
		return pr > 0 ? 0 : 2;
	b.human = b.opt.json ? stderr : stdout;
	b.report = json_object();
	b.nnodes = (size_t)b.opt.nodes;
	b.nodes = xcalloc(b.nnodes, sizeof(node));
	for (size_t k = 0; k < b.nnodes; k++) {
		node *n = &b.nodes[k];
		n->num = (int)k + 1;
		n->startup_us = -1;
		n->idle_rss_kib = -1;
		n->peak_rss_kib = -1;
		n->shutdown_us = -1;
	}
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_error("bench", "curl_global_init failed");
		json_decref(b.report);
		free(b.nodes);
		return 1;
	}
	int rc = 1;
	bool failed = true;
	sink s = { 0 };
	const char *durability = getenv("WEFT_DURABILITY");
	if (!durability || !*durability)
		durability = "full";
	const char *backend = b.opt.db ? "postgres" : "sqlite";

	json_object_set_new(b.report, "backend", json_string(backend));
	json_object_set_new(b.report, "nodes", json_integer(b.opt.nodes));
	json_object_set_new(b.report, "tasks", json_integer(b.opt.tasks));
	json_object_set_new(b.report, "starts", json_integer(b.opt.starts));
	json_object_set_new(b.report, "clients", json_integer(b.opt.clients));
	json_object_set_new(b.report, "concurrency", json_integer(b.opt.concurrency));
	json_object_set_new(b.report, "durability", json_string(durability));
	json_object_set_new(b.report, "cpus", json_integer(sysconf(_SC_NPROCESSORS_ONLN)));

	const char *tmp = getenv("TMPDIR");
	b.tmpdir = xasprintf("%s/weft-bench-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(b.tmpdir)) {
		log_error("bench", "mkdtemp %s: %s", b.tmpdir, strerror(errno));
		free(b.tmpdir);
		b.tmpdir = NULL;
		goto out;
	}
	for (size_t k = 0; k < b.nnodes; k++)
		b.nodes[k].logpath = b.nnodes == 1 ? xasprintf("%s/server.log", b.tmpdir)
		                                   : xasprintf("%s/server-%zu.log", b.tmpdir, k + 1);
	if (b.opt.db) {
		if (pg_create(&b) != 0)
			goto out;
		json_object_set_new(b.report, "database", json_string(b.pg_name));
	} else {
		b.db = xasprintf("%s/bench.db", b.tmpdir);
		json_object_set_new(b.report, "database", json_string(b.db));
	}

	if (sink_start(&s) != 0) {
		log_error("bench", "cannot start the webhook sink on 127.0.0.1");
		goto out;
	}
	b.sink_port = s.port;
	b.hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	b.hdrs = curl_slist_append(b.hdrs, "Expect:");   /* no 100-continue round trip */
	for (size_t k = 0; k < b.nnodes; k++) {
		node *n = &b.nodes[k];
		n->port = node_port(&b, k);
		if (n->port <= 0) {
			log_error("bench", "no free TCP port on 127.0.0.1");
			goto out;
		}
		snprintf(n->base, sizeof(n->base), "http://127.0.0.1:%d", n->port);
		n->ctl = client_new(b.hdrs);
	}

	/* WEFT_DURABILITY selects SQLite's mode; on PostgreSQL the cluster's
	 * settings decide, so those are what the first line states. */
	const json_t *rep = b.report;
	char dur[128];
	if (b.opt.db)
		snprintf(dur, sizeof(dur), "fsync %s, synchronous_commit %s",
		         json_string_value(json_object_get(rep, "pg_fsync")),
		         json_string_value(json_object_get(rep, "pg_synchronous_commit")));
	else
		snprintf(dur, sizeof(dur), "%s", durability);
	json_object_set_new(b.report, "durability", json_string(dur));
	note(&b, "weft bench: %ld-task chain and fan-out, %ld starts, %ld clients, webhook concurrency %ld, "
	         "durability %s, %ld CPUs",
	     b.opt.tasks, b.opt.starts, b.opt.clients, b.opt.concurrency, dur, sysconf(_SC_NPROCESSORS_ONLN));
	if (b.opt.db) {
		note(&b, "backend postgres, %zu node%s: database %s (PostgreSQL %s)", b.nnodes, b.nnodes == 1 ? "" : "s",
		     b.pg_name, json_string_value(json_object_get(rep, "pg_version")));
		for (size_t k = 0; k < b.nnodes; k++)
			note(&b, "node %d: %s", b.nodes[k].num, b.nodes[k].base);
		note(&b, "webhook sink 127.0.0.1:%d", b.sink_port);
	} else {
		note(&b, "backend sqlite, 1 node");
		note(&b, "server %s (database %s), webhook sink 127.0.0.1:%d", b.nodes[0].base, b.db, b.sink_port);
	}

	/* One after the other: node 1 migrates the fresh database alone. */
	for (size_t k = 0; k < b.nnodes; k++) {
		node *n = &b.nodes[k];
		int64_t spawned = clock_mono_us();
		if (spawn_server(&b, n) != 0 || wait_healthy(&b, n, spawned) != 0)
			goto stop;
		n->idle_rss_kib = proc_kib(n->pid, "VmRSS");
		if (k == 0)
			figure(&b, "startup_ms", "start-up (spawn to healthy)", (double)n->startup_us / 1000.0, 1, "ms");
	}
	report_startup(&b);

	if (phase_submit(&b, SHAPE_CHAIN) != 0 || phase_submit(&b, SHAPE_FANOUT) != 0)
		goto stop;
	if (phase_starts(&b) != 0)
		goto stop;
	if (phase_patch(&b) != 0)
		goto stop;
	if (phase_put(&b) != 0)
		goto stop;
	failed = false;
stop:
	report_peak(&b);
	if (stop_nodes(&b) != 0)
		failed = true;
	figure(&b, "sink_hits_total", "webhook sink hits (whole run)", (double)sink_count(), 0, "hits");
out:
	for (size_t k = 0; k < b.nnodes; k++)
		if (b.nodes[k].ctl)
			curl_easy_cleanup(b.nodes[k].ctl);
	if (b.hdrs)
		curl_slist_free_all(b.hdrs);
	sink_stop(&s);
	for (size_t k = 0; k < b.nnodes; k++) {   /* an early exit: never leave a server running */
		node *n = &b.nodes[k];
		if (n->pid > 0) {
			kill(n->pid, SIGKILL);
			waitpid(n->pid, NULL, 0);
			n->pid = 0;
		}
	}
	if (b.pg_created) {
		if (b.opt.keep || (failed && b.spawned)) {
			note(&b, "kept database %s (drop it with: DROP DATABASE %s;)", b.pg_name, b.pg_name);
		} else if (pg_drop(&b) != 0) {
			note(&b, "could not drop database %s", b.pg_name);
			failed = true;
		}
	}
	json_object_set_new(b.report, "per_node", per_node_json(&b));
	json_object_set_new(b.report, "ok", json_boolean(!failed));
	if (b.tmpdir) {
		/* A failure before any server started leaves nothing to look at. */
		if (b.opt.keep || (failed && b.spawned)) {
			if (b.opt.db)
				note(&b, "kept %s (server log%s)", b.tmpdir, b.nnodes == 1 ? "" : "s");
			else
				note(&b, "kept %s (database and server.log)", b.tmpdir);
			json_object_set_new(b.report, "dir", json_string(b.tmpdir));
		} else {
			remove_tree(b.tmpdir);
		}
	}
	if (b.opt.json) {
		char *text = json_dumps(b.report, JSON_PRESERVE_ORDER | JSON_COMPACT | JSON_REAL_PRECISION(9));
		if (text) {
			fputs(text, stdout);
			fputc('\n', stdout);
			free(text);
		}
	}
	note(&b, "%s", failed ? "weft bench: FAILED" : "weft bench: ok");
	rc = failed ? 1 : 0;
	for (size_t i = 0; i < b.nids; i++)
		free(b.ids[i]);
	free(b.ids);
	for (size_t k = 0; k < b.nnodes; k++)
		free(b.nodes[k].logpath);
	free(b.nodes);
	free(b.tmpdir);
	free(b.db);
	json_decref(b.report);
	curl_global_cleanup();
	return rc;
}
