/*
 * h_backup.c - POST /backup (now, or ?async=1) and GET /backup/status.
 */
#include <stdlib.h>
#include <string.h>

#include "qb/log.h"
#include "qb/run.h"
#include "server_int.h"

struct request {
	const char *type;
	unsigned types;
	bool explicit_type;
	bool async;
};

/* The body: nothing, or {"type": "all"|"db"|"minio"|"code"}.  false: *why says what is wrong. */
static bool parse_body(const struct qb_buf *b, struct request *q, const char **why)
{
	static const struct { const char *name; unsigned bits; } types[] = {
		{ "all", QB_RUN_ALL }, { "db", QB_RUN_DB },
		{ "minio", QB_RUN_MINIO }, { "code", QB_RUN_CODE },
	};
	const cJSON *t;
	cJSON *doc;
	size_t i;

	q->type = "all";
	q->types = QB_RUN_ALL;
	q->explicit_type = false;
	for (i = 0; i < b->len && strchr(" \t\r\n", b->data[i]); i++)
		;
	if (i == b->len)
		return true;
	if (strlen(b->data) != b->len) {
		*why = "the body contains a NUL byte";
		return false;
	}
	/* len + 1: the terminating NUL is part of what cJSON checks, so trailing junk fails. */
	doc = cJSON_ParseWithLengthOpts(b->data, b->len + 1, NULL, 1);
	if (!doc || !cJSON_IsObject(doc)) {
		cJSON_Delete(doc);
		*why = "the body is not a JSON object";
		return false;
	}
	t = cJSON_GetObjectItemCaseSensitive(doc, "type");
	if (t) {
		q->types = 0;
		for (i = 0; cJSON_IsString(t) && i < sizeof(types) / sizeof(types[0]); i++)
			if (!strcmp(t->valuestring, types[i].name)) {
				q->type = types[i].name;
				q->types = types[i].bits;
				q->explicit_type = i > 0;
			}
	}
	cJSON_Delete(doc);
	if (!q->types) {
		*why = "unknown type: expected \"all\", \"db\", \"minio\" or \"code\"";
		return false;
	}
	return true;
}

static bool parse_async(struct MHD_Connection *c, bool *async)
{
	const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "async");

	*async = false;
	if (!v)
		return true;
	if (!strcmp(v, "1") || !strcmp(v, "true"))
		*async = true;
	else if (strcmp(v, "0") && strcmp(v, "false"))
		return false;
	return true;
}

static enum MHD_Result accepted(struct MHD_Connection *c, struct srv_req *r, const char *id)
{
	cJSON *doc = cJSON_CreateObject();

	if (doc && (!cJSON_AddStringToObject(doc, "job", id) ||
		    !cJSON_AddStringToObject(doc, "status", "running"))) {
		cJSON_Delete(doc);
		doc = NULL;
	}
	return srv_send_doc(c, r, MHD_HTTP_ACCEPTED, doc);
}

enum MHD_Result srv_h_backup(struct qb_server *s, struct MHD_Connection *c, struct srv_req *r)
{
	struct request q;
	struct srv_waiter w;
	struct qb_lock_info info;
	struct qb_err err = { 0 };
	char id[SRV_JOB_ID_MAX];
	const char *why = NULL;
	bool held;
	int rc;

	if (!parse_body(&r->body, &q, &why))
		return srv_send_error(c, r, MHD_HTTP_BAD_REQUEST, "%s", why);
	if (!parse_async(c, &q.async))
		return srv_send_error(c, r, MHD_HTTP_BAD_REQUEST,
				      "async must be 1, true, 0 or false");
	/* A stopping server says so before anything else: a 409 would have the client
	 * retry once the running backup ends, when the server will be gone. */
	if (srv_jobs_closing(&s->jobs))
		return srv_send_error(c, r, MHD_HTTP_SERVICE_UNAVAILABLE, SRV_STOPPING);
	/* Ask first, so a run from the command line gets its 409 here rather than a failed job. */
	if (srv_busy(s, &info))
		return srv_send_busy(c, r, &info);
	rc = srv_job_start(&s->jobs, q.types, q.type, q.explicit_type, q.async ? NULL : &w, id,
			   &info, &err);
	if (rc == QB_ELOCKED)
		return srv_send_busy(c, r, &info);
	if (rc == QB_ECANCELLED)
		return srv_send_error(c, r, MHD_HTTP_SERVICE_UNAVAILABLE, "%s", err.msg);
	if (rc)
		return srv_send_error(c, r, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", err.msg);
	if (q.async)
		return accepted(c, r, id);

	/* The idle timeout must not cut the connection while the run works. */
	MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, 0u);
	srv_job_wait(&s->jobs, &w);
	MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, (unsigned)QB_SERVER_TIMEOUT);
	if (w.refused) {
		free(w.result);
		if (qb_lock_holder(s->dir, &held, &info, &err) || !held)
			memset(&info, 0, sizeof(info));
		return srv_send_busy(c, r, &info);
	}
	if (!w.result)
		return srv_send_error(c, r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	return srv_send(c, r, w.rc ? MHD_HTTP_INTERNAL_SERVER_ERROR : MHD_HTTP_OK, w.result,
			NULL, NULL);
}

enum MHD_Result srv_h_status(struct qb_server *s, struct MHD_Connection *c, struct srv_req *r)
{
	bool oom;
	cJSON *doc = srv_job_status(&s->jobs, &oom);

	if (!doc && !oom)
		return srv_send_error(c, r, MHD_HTTP_NOT_FOUND,
				      "no backup has been started since the server started");
	return srv_send_doc(c, r, MHD_HTTP_OK, doc);
}
