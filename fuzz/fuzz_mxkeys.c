/*
 * fuzz_mxkeys.c - where a key is stored in a snapshot.  The input is two
 * keys separated by a NUL byte.  For each non-empty key (a listing refuses
 * empty ones):
 *   - its stored path (<bucket>/<key> when qb_minio_key_is_safe, else its
 *     escaped path) has no leading '/', no empty, "." or ".." segment, no
 *     segment over NAME_MAX, fits PATH_MAX, and starts with the bucket's
 *     folder or the bucket's escaped-keys folder;
 *   - its escaped name (used for unsafe keys and for keys moved aside when
 *     they are also a folder) is one segment of at most 200 bytes, not
 *     hidden, accepted by mx_escaped_path_ok(), and %-decodes back to the
 *     exact key unless it was shortened (only when the full escape is longer
 *     than 200 bytes, marked by a single '~');
 * and two different keys never share a stored path or an escaped name.
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mirror/mirror_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BUCKET "docs"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static size_t escape_len(const char *key)
{
	size_t n = 0;

	for (size_t i = 0; key[i]; i++) {
		unsigned char c = (unsigned char)key[i];
		bool kept = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
		n += kept && !(i == 0 && c == '.') ? 1 : 3;
	}
	return n;
}

static void check_path(const char *path)
{
	const char *seg = path;

	if (path[0] == '/' || strlen(path) >= PATH_MAX)
		abort();
	if (strncmp(path, BUCKET "/", strlen(BUCKET) + 1) &&
	    strncmp(path, QB_MINIO_ESCAPED "/" BUCKET "/",
		    strlen(QB_MINIO_ESCAPED) + strlen(BUCKET) + 2))
		abort();
	for (;;) {
		const char *end = strchr(seg, '/');
		size_t n = end ? (size_t)(end - seg) : strlen(seg);

		if (n == 0 || n > NAME_MAX || (n == 1 && seg[0] == '.') ||
		    (n == 2 && seg[0] == '.' && seg[1] == '.'))
			abort();
		if (!end)
			break;
		seg = end + 1;
	}
}

/* The stored path of key, and its escaped name in *name. */
static char *stored(const char *key, char **name)
{
	char *path, *esc;

	*name = qb_minio_escaped_name(key);
	esc = mx_escaped_path(BUCKET, key);
	if (!*name || !esc)
		abort();
	if (!(*name)[0] || strlen(*name) > 200 || strchr(*name, '/') || (*name)[0] == '.' ||
	    !mx_escaped_path_ok(BUCKET, esc))
		abort();
	check_path(esc);
	if (strchr(*name, '~')) {
		if (escape_len(key) <= 200 || strchr(*name, '~') != strrchr(*name, '~'))
			abort();
	} else {
		/* Not shortened: it decodes back to the key. */
		size_t o = 0, n = strlen(*name);
		char *back = malloc(n + 1);

		if (!back || escape_len(key) != n)
			abort();
		for (size_t i = 0; i < n; i++) {
			if ((*name)[i] == '%') {
				int hi = i + 2 < n + 1 ? hexval((*name)[i + 1]) : -1;
				int lo = hi >= 0 ? hexval((*name)[i + 2]) : -1;
				if (hi < 0 || lo < 0)
					abort();
				back[o++] = (char)(hi * 16 + lo);
				i += 2;
			} else {
				back[o++] = (*name)[i];
			}
		}
		back[o] = '\0';
		if (strcmp(back, key))
			abort();
		free(back);
	}
	if (qb_minio_key_is_safe(key)) {
		path = malloc(strlen(BUCKET) + strlen(key) + 2);
		if (!path)
			abort();
		memcpy(path, BUCKET "/", strlen(BUCKET) + 1);
		memcpy(path + strlen(BUCKET) + 1, key, strlen(key) + 1);
		free(esc);
	} else {
		path = esc;
	}
	check_path(path);
	return path;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 2);
	const char *k1, *k2;
	char *p1, *p2, *n1, *n2;

	if (!buf)
		abort();
	memcpy(buf, data, size);
	buf[size] = buf[size + 1] = '\0';
	k1 = buf;
	k2 = buf + strlen(buf) + 1;
	if (k1[0] && k2[0]) {
		p1 = stored(k1, &n1);
		p2 = stored(k2, &n2);
		if (strcmp(k1, k2) && (!strcmp(p1, p2) || !strcmp(n1, n2)))
			abort();
		free(p1);
		free(p2);
		free(n1);
		free(n2);
	} else if (k1[0]) {
		p1 = stored(k1, &n1);
		free(p1);
		free(n1);
	}
	free(buf);
	return 0;
}
