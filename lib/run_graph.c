/*
 * run_graph.c — a run as a graph: its pages of tasks and edges, its
 * critical path, and the rules of its tasks of one kind; and the metrics
 * history the server keeps (what a dashboard draws beside it).
 */
#include "internal.h"

int weft_get_run_graph(weft_client *c, const char *id, const weft_page_query *q, char **out, weft_error *err)
{
	API_START(out);
	buf p;
	int rc = api_path(&p, "/v1/runs/", id, "id", "/graph", err);
	if (rc)
		return api_drop(&p, NULL, rc);
	if (q) {
		query_str(&p, "cursor", q->cursor);
		query_int(&p, "limit", q->limit);
	}
	return api_send(c, "GET", &p, NULL, NULL, out, err);
}

int weft_get_run_critical_path(weft_client *c, const char *id, char **out, weft_error *err)
{
	API_START(out);
	buf p;
	int rc = api_path(&p, "/v1/runs/", id, "id", "/critical-path", err);
	return rc ? api_drop(&p, NULL, rc) : api_send(c, "GET", &p, NULL, NULL, out, err);
}

int weft_patch_run_rules(weft_client *c, const char *id, const weft_run_rules_patch *req, char **out,
                         weft_error *err)
{
	API_START(out);
	if (!req)
		return err_set(err, WEFT_EINVAL, "the rules change is required");
	buf p;
	int rc = api_path(&p, "/v1/runs/", id, "id", "/rules", err);
	if (rc)
		return api_drop(&p, NULL, rc);
	encoder e = { err, 0 };
	json_t *body = json_object();
	enc_required(&e, body, "kind", req->kind, "kind");
	if (!req->rules && !e.rc)
		e.rc = err_set(err, WEFT_EINVAL, "rules is required");
	enc_json(&e, body, "rules", req->rules, "rules", false);
	if (e.rc)
		return api_drop(&p, body, e.rc);
	return api_send(c, "PATCH", &p, body, NULL, out, err);
}

int weft_get_metrics_history(weft_client *c, const weft_metrics_history_query *q, char **out, weft_error *err)
{
	API_START(out);
	buf p;
	buf_init(&p);
	buf_puts(&p, "/v1/metrics/history");
	if (q) {
		query_str(&p, "since", q->since);
		query_str(&p, "until", q->until);
	}
	return api_send(c, "GET", &p, NULL, NULL, out, err);
}
