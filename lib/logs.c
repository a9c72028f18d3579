/*
 * logs.c — per-execution logs: a task's lines, the search across
 * executions, and the lines a worker appends to its held job; a task's
 * webhook calls; and the change feed's answer of now.
 */
#include "internal.h"

int weft_list_task_logs(weft_client *c, const char *id, const weft_task_log_query *q, char **out, weft_error *err)
{
	API_START(out);
	buf p;
	int rc = api_path(&p, "/v1/tasks/", id, "id", "/logs", err);
	if (rc)
		return api_drop(&p, NULL, rc);
	if (q) {
		if (q->follow)
			query_str(&p, "follow", "true");
		query_int(&p, "attempt", q->attempt);
		query_str(&p, "stream", q->stream);
		query_str(&p, "cursor", q->cursor);
		query_int(&p, "limit", q->limit);
	}
	return api_send(c, "GET", &p, NULL, NULL, out, err);
}

int weft_search_logs(weft_client *c, const weft_log_search_query *q, char **out, weft_error *err)
{
	API_START(out);
	buf p;
	buf_init(&p);
	buf_puts(&p, "/v1/logs");
	if (q) {
		query_str(&p, "namespace", q->namespace_);
		query_str(&p, "task_id", q->task_id);
		query_str(&p, "run_id", q->run_id);
		query_str(&p, "queue", q->queue);
		query_str(&p, "stream", q->stream);
		query_str(&p, "level", q->level);
		query_str(&p, "q", q->q);
		query_str(&p, "since", q->since);
		query_str(&p, "until", q->until);
		query_str(&p, "cursor", q->cursor);
		query_int(&p, "limit", q->limit);
	}
	return api_send(c, "GET", &p, NULL, NULL, out, err);
}

int weft_job_log(weft_client *c, const char *id, const weft_job_log_request *req, char **out, weft_error *err)
{
	API_START(out);
	if (!req)
		return err_set(err, WEFT_EINVAL, "no request");
	if (!req->lines || req->lines_len == 0)
		return err_set(err, WEFT_EINVAL, "lines: at least one line is required");
	buf p;
	int rc = api_path(&p, "/v1/jobs/", id, "id", "/logs", err);
	if (rc)
		return api_drop(&p, NULL, rc);
	encoder e = { err, 0 };
	json_t *body = json_object();
	enc_required(&e, body, "lease_token", req->lease_token, "lease_token");
	json_t *lines = json_array();
	for (size_t i = 0; i < req->lines_len; i++) {
		const weft_log_line *l = &req->lines[i];
		json_t *o = json_object();
		char field[48];
		snprintf(field, sizeof field, "lines[%zu].text", i);
		enc_required(&e, o, "text", l->text, field);
		enc_str(o, "stream", l->stream);
		enc_str(o, "level", l->level);
		json_array_append_new(lines, o);
	}
	json_object_set_new(body, "lines", lines);
	if (e.rc)
		return api_drop(&p, body, e.rc);
	char *answer = NULL;
	rc = api_send(c, "POST", &p, body, NULL, &answer, err);
	if (out)
		*out = answer;
	else
		free(answer);
	return rc;
}

int weft_list_changes(weft_client *c, const weft_changes_query *q, char **out, weft_error *err)
{
	API_START(out);
	buf p;
	buf_init(&p);
	buf_puts(&p, "/v1/changes");
	query_str(&p, "follow", "false");
	if (q) {
		query_str(&p, "run", q->run);
		query_str(&p, "namespace", q->namespace_);
		query_str(&p, "after", q->after);
	}
	return api_send(c, "GET", &p, NULL, NULL, out, err);
}

int weft_list_task_deliveries(weft_client *c, const char *id, char **out, weft_error *err)
{
	API_START(out);
	buf p;
	int rc = api_path(&p, "/v1/tasks/", id, "id", "/deliveries", err);
	return rc ? api_drop(&p, NULL, rc) : api_send(c, "GET", &p, NULL, NULL, out, err);
}
