/*
 * body.c - the request body, never more than QB_SERVER_BODY_MAX bytes of it.
 *
 * A declared Content-Length over the ceiling is refused before a byte is
 * read.  A chunked body has no length: what fits is kept, the rest is
 * counted and dropped, and the 413 goes out when the body ends (the
 * library cannot answer in the middle of an upload).  A client that keeps
 * sending long after the ceiling loses its connection instead.
 */
#include <string.h>

#include "server_int.h"

#define DROP_MAX (64 * 1024)

bool srv_body_fits(struct MHD_Connection *c)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						    MHD_HTTP_HEADER_CONTENT_LENGTH);
	unsigned long long n = 0;

	if (!v)
		return true;
	for (; *v; v++) {
		if (*v < '0' || *v > '9')
			return true;        /* not a length: libmicrohttpd answers 400 itself */
		n = n * 10 + (unsigned)(*v - '0');
		if (n > QB_SERVER_BODY_MAX)
			return false;
	}
	return true;
}

bool srv_body_feed(struct srv_req *r, const char *data, size_t n)
{
	if (!r->too_big) {
		if (r->body.len + n <= QB_SERVER_BODY_MAX &&
		    qb_buf_append(&r->body, data, n, NULL) == QB_OK)
			return true;
		r->too_big = true;
		qb_buf_release(&r->body);
		qb_buf_init(&r->body, QB_SERVER_BODY_MAX);
	}
	r->dropped += n;
	return r->dropped <= DROP_MAX;
}
