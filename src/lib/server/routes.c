/*
 * routes.c - which endpoint answers, and the one log line per request.
 *
 * Everything that can be decided from the request line and the headers
 * (unknown path, wrong method, missing token, declared body too large) is
 * answered before the body is read: a client without the token never gets
 * a byte buffered.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "qb/log.h"
#include "server_int.h"

static const struct srv_route routes[] = {
	{ "/health",        "GET",    false, srv_h_health },
	{ "/health",        "HEAD",   false, srv_h_health },
	{ "/backup",        "POST",   true,  srv_h_backup },
	{ "/backup/status", "GET",    true,  srv_h_status },
	{ "/backup/status", "HEAD",   true,  srv_h_status },
	{ "/backups",       "GET",    true,  srv_h_list },
	{ "/backups",       "HEAD",   true,  srv_h_list },
	{ "/backups",       "DELETE", true,  srv_h_delete },
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

/* A copy safe for a log line: bytes outside printable ASCII as \xHH, long ones cut. */
static void printable(char *dst, size_t cap, const char *src)
{
	size_t o = 0;

	for (; src && *src; src++) {
		unsigned char ch = (unsigned char)*src;
		bool plain = ch > 0x20 && ch < 0x7f && ch != '\\';
		if (o + (plain ? 1 : 4) + 4 > cap) {
			memcpy(dst + o, "...", 3);
			o += 3;
			break;
		}
		if (plain)
			dst[o++] = (char)ch;
		else
			o += (size_t)snprintf(dst + o, cap - o, "\\x%02x", ch);
	}
	dst[o] = '\0';
}

static enum MHD_Result not_allowed(struct MHD_Connection *c, struct srv_req *r, const char *path)
{
	char allow[64] = "";
	size_t n = 0;

	for (size_t i = 0; i < NROUTES; i++)
		if (!strcmp(routes[i].path, path))
			n += (size_t)snprintf(allow + n, sizeof(allow) - n, "%s%s", n ? ", " : "",
					      routes[i].method);
	return srv_send_error_hdr(c, r, MHD_HTTP_METHOD_NOT_ALLOWED, MHD_HTTP_HEADER_ALLOW, allow,
				  "method not allowed");
}

static enum MHD_Result too_large(struct MHD_Connection *c, struct srv_req *r)
{
	return srv_send_error(c, r, MHD_HTTP_CONTENT_TOO_LARGE, "the body is larger than %d bytes",
			      QB_SERVER_BODY_MAX);
}

/* The first call, with the headers only: route, method, token, declared length. */
static enum MHD_Result first_look(struct qb_server *s, struct MHD_Connection *c, struct srv_req *r,
				  const char *url, const char *method)
{
	bool known = false;

	for (size_t i = 0; i < NROUTES && !r->route; i++) {
		if (strcmp(routes[i].path, url))
			continue;
		known = true;
		if (!strcmp(routes[i].method, method))
			r->route = &routes[i];
	}
	if (!srv_loopback_ok(s, c))
		return srv_send_error(c, r, MHD_HTTP_FORBIDDEN, "without BACKUP_SERVER_TOKEN, only "
				      "requests addressed to a loopback name (127.0.0.1, [::1], "
				      "localhost) are answered");
	if (!srv_origin_ok(s, c))
		return srv_send_error(c, r, MHD_HTTP_FORBIDDEN, "without BACKUP_SERVER_TOKEN, a "
				      "request with an Origin is answered only when it is the "
				      "server's own (%s): a web page elsewhere cannot use it",
				      s->origin);
	if (!known)
		return srv_send_error(c, r, MHD_HTTP_NOT_FOUND, "no such endpoint");
	if (!r->route)
		return not_allowed(c, r, url);
	if (r->route->auth && !srv_auth_ok(s, c))
		return srv_send_error_hdr(c, r, MHD_HTTP_UNAUTHORIZED,
					  MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					  "Bearer realm=\"qbackup\"",
					  "missing or invalid bearer token");
	if (!srv_body_fits(c))
		return too_large(c, r);
	return MHD_YES;
}

enum MHD_Result srv_access(void *cls, struct MHD_Connection *c, const char *url,
			   const char *method, const char *version, const char *data,
			   size_t *size, void **ctx)
{
	struct qb_server *s = cls;
	struct srv_req *r = *ctx;

	(void)version;
	qb_log_tail_thread(false);  /* request lines stay out of alert emails */
	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		clock_gettime(CLOCK_MONOTONIC, &r->t0);
		qb_buf_init(&r->body, QB_SERVER_BODY_MAX);
		printable(r->method, sizeof(r->method), method);
		printable(r->path, sizeof(r->path), url);
		*ctx = r;
		atomic_fetch_add(&s->inflight, 1);
		return first_look(s, c, r, url ? url : "", method ? method : "");
	}
	if (*size) {
		bool more = srv_body_feed(r, data, *size);
		*size = 0;
		return more ? MHD_YES : MHD_NO;
	}
	if (r->too_big)
		return too_large(c, r);
	return r->route->fn(s, c, r);
}

static const char *ending(enum MHD_RequestTerminationCode toe)
{
	switch (toe) {
	case MHD_REQUEST_TERMINATED_COMPLETED_OK:     return "";
	case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED:  return " (timed out)";
	case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN:  return " (server stopping)";
	case MHD_REQUEST_TERMINATED_CLIENT_ABORT:
	case MHD_REQUEST_TERMINATED_READ_ERROR:       return " (client gone)";
	default:                                      return " (connection error)";
	}
}

void srv_completed(void *cls, struct MHD_Connection *c, void **ctx,
		   enum MHD_RequestTerminationCode toe)
{
	struct qb_server *s = cls;
	struct srv_req *r = *ctx;
	const union MHD_ConnectionInfo *ci;
	struct timespec t;
	char peer[64], status[8] = "-";
	double ms;

	if (!r)
		return;
	qb_log_tail_thread(false);
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	srv_peer_format(ci ? ci->client_addr : NULL, peer, sizeof(peer));
	clock_gettime(CLOCK_MONOTONIC, &t);
	ms = (double)(t.tv_sec - r->t0.tv_sec) * 1e3 + (double)(t.tv_nsec - r->t0.tv_nsec) / 1e6;
	if (r->status)
		snprintf(status, sizeof(status), "%u", r->status);
	qb_log(QB_LOG_INFO, "%s %s %s %.1f ms from %s%s", r->method, r->path, status, ms, peer,
	       ending(toe));
	qb_buf_release(&r->body);
	free(r);
	*ctx = NULL;
	atomic_fetch_sub(&s->inflight, 1);
}
