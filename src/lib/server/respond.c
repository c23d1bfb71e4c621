/*
 * respond.c - every answer is a one-line JSON document with the same headers.
 *
 * The body is built before the answer is queued; when memory runs out a
 * fixed 500 document goes out instead, so no request ends without one.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "qb/log.h"
#include "server_int.h"

static char oom_body[] = "{\"error\":\"out of memory\"}\n";

static bool headers(struct MHD_Response *resp, const char *hname, const char *hvalue)
{
	return MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				       "application/json") == MHD_YES &&
	       MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
				       "no-store") == MHD_YES &&
	       MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff") == MHD_YES &&
	       (!hname || MHD_add_response_header(resp, hname, hvalue) == MHD_YES);
}

/* Take json (malloc'd, no newline), add the newline: the body libmicrohttpd frees. */
static char *with_newline(char *json, size_t *len)
{
	size_t n = strlen(json);
	char *p = realloc(json, n + 2);

	if (!p) {
		free(json);
		return NULL;
	}
	p[n] = '\n';
	p[n + 1] = '\0';
	*len = n + 1;
	return p;
}

enum MHD_Result srv_send(struct MHD_Connection *c, struct srv_req *r, unsigned status,
			 char *json, const char *hname, const char *hvalue)
{
	struct MHD_Response *resp = NULL;
	enum MHD_Result ret;
	size_t len = 0;
	char *body = json ? with_newline(json, &len) : NULL;

	if (body) {
		resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
		if (!resp)
			free(body);
	}
	if (resp && !headers(resp, hname, hvalue)) {
		MHD_destroy_response(resp);
		resp = NULL;
	}
	if (!resp) {
		status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		resp = MHD_create_response_from_buffer(sizeof(oom_body) - 1, oom_body,
						       MHD_RESPMEM_PERSISTENT);
		if (!resp || !headers(resp, NULL, NULL)) {
			if (resp)
				MHD_destroy_response(resp);
			return MHD_NO;
		}
	}
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	if (r && ret == MHD_YES)
		r->status = status;
	return ret;
}

enum MHD_Result srv_send_doc(struct MHD_Connection *c, struct srv_req *r, unsigned status,
			     cJSON *doc)
{
	char *json = doc ? cJSON_PrintUnformatted(doc) : NULL;

	cJSON_Delete(doc);
	return srv_send(c, r, status, json, NULL, NULL);
}

/* A message may quote what the client sent (a refused name): cJSON would copy
 * bytes that are not UTF-8, or a terminal's escapes, into the document as they
 * are, so they are written as text ("\xff") first. */
static char *error_json(const char *msg)
{
	cJSON *doc = cJSON_CreateObject();
	char *json = NULL, text[4 * QB_ERRMSG_MAX];

	qb_printable(text, sizeof(text), msg);
	if (doc && cJSON_AddStringToObject(doc, "error", text))
		json = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	return json;
}

enum MHD_Result srv_send_error(struct MHD_Connection *c, struct srv_req *r, unsigned status,
			       const char *fmt, ...)
{
	char msg[QB_ERRMSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return srv_send(c, r, status, error_json(msg), NULL, NULL);
}

enum MHD_Result srv_send_error_hdr(struct MHD_Connection *c, struct srv_req *r, unsigned status,
				   const char *hname, const char *hvalue, const char *msg)
{
	return srv_send(c, r, status, error_json(msg), hname, hvalue);
}

cJSON *srv_date(time_t t)
{
	char buf[SRV_DATE_MAX + 8];
	struct tm tm;

	if (!t || !localtime_r(&t, &tm))
		return cJSON_CreateNull();
	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
	return cJSON_CreateString(buf);
}
