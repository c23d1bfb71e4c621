/*
 * auth.c - the bearer token.
 *
 * The presented token and the configured one are compared through an
 * HMAC under a key drawn at start: the comparison then takes the same time
 * whatever the bytes and whatever the lengths, so a client cannot learn
 * the token (or its length) a byte at a time.  Only the MAC of the token is
 * kept after start.
 *
 * Without a token the server listens on loopback only, and answers only
 * requests addressed to a loopback name: a web page whose name is made to
 * resolve to 127.0.0.1 (DNS rebinding) sends its own name as Host.  A page
 * that posts to 127.0.0.1 from a browser sends its Origin, which must then be
 * the server's own, scheme, address and port: a page served on loopback too (a
 * development server on localhost:3000) is another site, and could otherwise
 * start backups, each of which rotates a nightly one out.  Server-side callers
 * (the admin page's route, curl) send no Origin.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "qb/hash.h"
#include "qb/log.h"
#include "server_int.h"

#define TOKEN_SHORT 16

int srv_auth_init(struct qb_server *s, const char *token, struct qb_err *err)
{
	size_t n;

	s->auth = token && *token;
	if (!s->auth)
		return QB_OK;
	n = strlen(token);
	/* Header values are trimmed and hold no control characters: such a token never matches. */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)token[i] <= 0x20 || token[i] == 0x7f)
			return qb_err_set(err, QB_ECONFIG, "BACKUP_SERVER_TOKEN contains a space "
					  "or a control character (byte %zu)", i + 1);
	if (getrandom(s->key, sizeof(s->key), 0) != (ssize_t)sizeof(s->key))
		return qb_err_sys(err, QB_EIO, errno, "unable to draw a random key");
	qb_hmac_sha256(s->key, sizeof(s->key), token, n, s->token_mac);
	if (n < TOKEN_SHORT)
		qb_log(QB_LOG_WARN, "BACKUP_SERVER_TOKEN is short (%zu characters): use at "
		       "least 32 random characters", n);
	return QB_OK;
}

/* A Host, or an Origin's host[:port]: a loopback address or localhost, as
 * the listen address's own parser and test see it (port 80 when none). */
static bool loopback_name(const char *v, size_t n)
{
	char text[80];
	struct srv_addr a;
	struct qb_err e = { 0 };
	const char *bracket = n && v[0] == '[' ? memchr(v, ']', n) : NULL;
	bool port = bracket ? (size_t)(bracket - v) + 1 < n : memchr(v, ':', n) != NULL;

	if (n + sizeof(":80") > sizeof(text))
		return false;
	for (size_t i = 0; i < n; i++)   /* host names ignore case: LocalHost */
		text[i] = v[i] >= 'A' && v[i] <= 'Z' ? (char)(v[i] - 'A' + 'a') : v[i];
	memcpy(text + n, port ? "" : ":80", port ? 1 : sizeof(":80"));
	return srv_listen_parse(text, &a, QB_EARG, &e) == QB_OK && srv_is_loopback(&a);
}

bool srv_loopback_ok(const struct qb_server *s, struct MHD_Connection *c)
{
	const char *v = NULL;
	size_t n = 0;

	if (s->auth)
		return true;
	/* No Host at all (HTTP/1.0) is no browser: browsers always send it. */
	return MHD_lookup_connection_value_n(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST,
					     strlen(MHD_HTTP_HEADER_HOST), &v, &n) != MHD_YES ||
	       !v || loopback_name(v, n);
}

/* Compared as a whole: "null" (a sandboxed page, a file), another port, another
 * name for the same address, https: all are other origins.  Browsers write the
 * scheme and the host in lower case; the comparison ignores case all the same. */
bool srv_origin_ok(const struct qb_server *s, struct MHD_Connection *c)
{
	const char *v = NULL;
	size_t n = 0;

	if (s->auth)
		return true;
	if (MHD_lookup_connection_value_n(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ORIGIN,
					  strlen(MHD_HTTP_HEADER_ORIGIN), &v, &n) != MHD_YES || !v)
		return true;
	return n == strlen(s->origin) && !strncasecmp(v, s->origin, n);
}

bool srv_auth_ok(const struct qb_server *s, struct MHD_Connection *c)
{
	const char *name = MHD_HTTP_HEADER_AUTHORIZATION, *v = NULL;
	size_t vlen = 0, skip;
	unsigned char mac[SRV_TOKEN_MAC];
	unsigned diff = 0;

	if (!s->auth)
		return true;
	if (MHD_lookup_connection_value_n(c, MHD_HEADER_KIND, name, strlen(name), &v, &vlen) !=
	    MHD_YES || !v || vlen < 7 || strncasecmp(v, "Bearer ", 7))
		return false;
	for (skip = 7; skip < vlen && v[skip] == ' '; skip++)
		;
	if (skip == vlen)
		return false;
	qb_hmac_sha256(s->key, sizeof(s->key), v + skip, vlen - skip, mac);
	for (size_t i = 0; i < sizeof(mac); i++)
		diff |= (unsigned)(mac[i] ^ s->token_mac[i]);
	return diff == 0;
}
