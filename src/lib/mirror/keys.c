/*
 * keys.c - which object keys can be paths, what an unsafe key is stored as,
 * bucket name checks and the index's sort order.
 *
 * A key becomes a path under the bucket's folder only when it cannot climb
 * out of it or collide with another key by normalisation: no leading '/',
 * no empty, "." or ".." segment, no segment longer than a file name may be.
 * Every other key is stored under an escaped name, one path segment made of
 * %-escapes, outside the bucket folders (see mirror.h).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mirror/mirror_int.h"
#include "qb/hash.h"

#define SEGMENT_MAX 255
#define ESCAPED_MAX 200
#define ESCAPED_KEEP 150

bool qb_minio_key_is_safe(const char *key)
{
	const char *seg = key;

	if (!key[0] || strlen(key) > 1024)
		return false;
	for (;;) {
		const char *end = strchr(seg, '/');
		size_t n = end ? (size_t)(end - seg) : strlen(seg);

		if (n == 0 || n > SEGMENT_MAX)
			return false;
		if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
			return false;
		if (!end)
			return true;
		seg = end + 1;
	}
}

static bool kept(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.';
}

char *qb_minio_escaped_name(const char *key)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(key), o = 0, cut = 0;
	char *out = malloc(3 * n + 1 + 64);
	char digest[QB_HASH_HEX_MAX];

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)key[i];

		/* A leading '.' is escaped too: no name is ".", ".." or hidden. */
		if (kept(c) && !(i == 0 && c == '.')) {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
		if (o <= ESCAPED_KEEP)
			cut = o;
	}
	out[o] = '\0';
	if (o > ESCAPED_MAX) {
		/* '~' is always escaped above, so a shortened name is never another key's
		 * full name; the digest keeps shortened names apart. */
		qb_sha256_hex(key, n, digest);
		out[cut] = '~';
		memcpy(out + cut + 1, digest, 40);
		out[cut + 41] = '\0';
	}
	return out;
}

char *mx_escaped_path(const char *bucket, const char *key)
{
	char *name = qb_minio_escaped_name(key);
	char *path = name ? qb_asprintf("%s/%s/%s", QB_MINIO_ESCAPED, bucket, name) : NULL;

	free(name);
	return path;
}

bool mx_bucket_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n < 3 || n > 63 || name[0] == '.' || name[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '-' || c == '_'))
			return false;
	}
	return true;
}

int mx_cmp(const char *b1, const char *k1, const char *b2, const char *k2)
{
	int c = strcmp(b1, b2);

	return c ? c : strcmp(k1, k2);
}

const char *mx_guess_type(const char *name)
{
	static const char *const types[][2] = {
		{ "pdf", "application/pdf" }, { "jpg", "image/jpeg" }, { "jpeg", "image/jpeg" },
		{ "png", "image/png" }, { "gif", "image/gif" }, { "webp", "image/webp" },
		{ "tif", "image/tiff" }, { "tiff", "image/tiff" }, { "svg", "image/svg+xml" },
		{ "txt", "text/plain" }, { "csv", "text/csv" }, { "html", "text/html" },
		{ "htm", "text/html" }, { "json", "application/json" },
		{ "xml", "application/xml" },
		{ "zip", "application/zip" }, { "gz", "application/gzip" },
		{ "doc", "application/msword" },
		{ "docx",
		  "application/vnd.openxmlformats-officedocument.wordprocessingml.document" },
		{ "xls", "application/vnd.ms-excel" },
		{ "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" },
		{ "odt", "application/vnd.oasis.opendocument.text" },
		{ "eml", "message/rfc822" }, { "msg", "application/vnd.ms-outlook" },
		{ "mp3", "audio/mpeg" }, { "mp4", "video/mp4" },
	};
	const char *slash = strrchr(name, '/');
	const char *dot = strrchr(slash ? slash + 1 : name, '.');

	if (dot && dot[1])
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (!strcasecmp(dot + 1, types[i][0]))
				return types[i][1];
	return "application/octet-stream";
}
