/*
 * auth.c - the bearer token.
 *
 * The presented token and the configured one are compared through an
 * HMAC under a key drawn at start: the comparison then takes the same time
 * whatever the bytes and whatever the lengths, so a client cannot learn
 * the token (or its length) a byte at a time.  Only the MAC of the token is
 * kept after start.
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
