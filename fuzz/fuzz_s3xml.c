/*
 * fuzz_s3xml.c - any bytes into each S3 answer parser (the first byte picks
 * which).  Besides no crash, leak or hang:
 *   - a parser either succeeds or fails with an error message;
 *   - a listing page that parses holds at most 10,000 objects, each with a
 *     key; every key handed out is non-empty, without NUL, and equal to the
 *     raw key (plain listings) or its %-decoding (EncodingType url: decoded
 *     again here independently and compared);
 *   - a callback is called only for a document whose root is the expected
 *     one (a refused document hands out no bucket name or object);
 *   - bucket names handed out are non-empty and hold no '/';
 *   - Error, Initiate and Complete fill NUL-terminated fields.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qb/s3.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
	const char *doc;
	size_t n;
	unsigned calls;
};

/* The root element's name, as expat would see it (after the prolog). */
static bool root_is(const struct seen *s, const char *want)
{
	const char *p = s->doc, *end = s->doc + s->n;
	size_t wl = strlen(want);

	while (p < end) {
		const char *lt = memchr(p, '<', (size_t)(end - p)), *close;

		if (!lt || lt + 1 >= end)
			return false;
		if (lt[1] != '?' && lt[1] != '!')
			return (size_t)(end - lt - 1) > wl && !memcmp(lt + 1, want, wl) &&
			       (lt[1 + wl] == '>' || lt[1 + wl] == '/' || lt[1 + wl] == ' ' ||
				lt[1 + wl] == '\t' || lt[1 + wl] == '\n' || lt[1 + wl] == '\r');
		/* Skip a processing instruction, a comment or a declaration whole. */
		if (lt[1] == '?')
			close = memmem(lt + 2, (size_t)(end - lt - 2), "?>", 2);
		else if (end - lt >= 4 && !memcmp(lt, "<!--", 4))
			close = memmem(lt + 4, (size_t)(end - lt - 4), "-->", 3);
		else
			close = memchr(lt + 2, '>', (size_t)(end - lt - 2));
		if (!close)
			return false;
		p = close + 1;
	}
	return false;
}

static int on_bucket(void *ud, const char *name, struct qb_err *err)
{
	struct seen *s = ud;

	(void)err;
	if (!name[0] || strchr(name, '/'))
		abort();
	if (!root_is(s, "ListAllMyBucketsResult"))
		abort();
	s->calls++;
	return QB_OK;
}

/* An independent decoding of EncodingType url ('+' is a space). */
static char *decode(const char *s)
{
	size_t n = strlen(s), o = 0;
	char *out = malloc(n + 1);

	if (!out)
		abort();
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+') {
			out[o++] = ' ';
		} else if (s[i] == '%') {
			char hx[3] = { s[i + 1], s[i + 1] ? s[i + 2] : 0, 0 };
			char *end;
			unsigned long v = strtoul(hx, &end, 16);
			if (i + 2 >= n || *end || hx[0] == '+' || hx[0] == '-' || hx[0] == ' ' ||
			    hx[0] == '\t' || hx[0] == '\n' || hx[0] == '\r' || hx[0] == '\v' ||
			    hx[0] == '\f') {
				free(out);
				return NULL;
			}
			out[o++] = (char)v;
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	return out;
}

struct page_seen {
	const struct qb_s3_page *page;
	unsigned i;
	char **raw;             /* the raw keys, in order */
};

static int on_object(void *ud, const struct qb_s3_object *o, struct qb_err *err)
{
	struct page_seen *ps = ud;
	const char *raw = ps->raw[ps->i];

	(void)err;
	if (ps->i >= ps->page->count || !o->key[0] || !o->etag || !o->last_modified)
		abort();
	if (ps->page->url_encoded) {
		char *d = decode(raw);
		if (!d || strcmp(d, o->key))
			abort();
		free(d);
	} else if (strcmp(raw, o->key)) {
		abort();
	}
	ps->i++;
	return QB_OK;
}

/* The raw <Key> texts in document order (the entries are private): read through
 * qb_s3_page_each on a copy of the page with url_encoded cleared. */
static int collect_raw(void *ud, const struct qb_s3_object *o, struct qb_err *err)
{
	struct page_seen *ps = ud;

	(void)err;
	ps->raw[ps->i++] = strdup(o->key);
	if (!ps->raw[ps->i - 1])
		abort();
	return QB_OK;
}

static void page(const char *doc, size_t n)
{
	struct qb_s3_page pg, plain;
	struct page_seen ps = { 0 };
	struct qb_err err = { 0 };
	struct seen s = { doc, n, 0 };
	int rc = qb_s3_page_parse(doc, n, &pg, &err);

	if (rc) {
		if (!err.msg[0] || pg.count || pg.entries || pg.next_token)
			abort();
		return;
	}
	if (!root_is(&s, "ListBucketResult") || pg.count > 10000 || (pg.count && !pg.entries))
		abort();
	ps.raw = calloc(pg.count + 1, sizeof(*ps.raw));
	if (!ps.raw)
		abort();
	plain = pg;
	plain.url_encoded = false;
	ps.page = &plain;
	rc = qb_s3_page_each(&plain, collect_raw, &ps, &err);
	if (rc) {
		/* Only an empty key can fail a plain pass (NUL cannot come from XML). */
		if (rc != QB_EFORMAT)
			abort();
	} else {
		if (ps.i != pg.count)
			abort();
		ps.i = 0;
		ps.page = &pg;
		rc = qb_s3_page_each(&pg, on_object, &ps, &err);
		if (!rc && ps.i != pg.count)
			abort();
		if (rc && !err.msg[0])
			abort();
	}
	for (unsigned i = 0; i < pg.count; i++)
		free(ps.raw[i]);
	free(ps.raw);
	qb_s3_page_release(&pg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qb_err err = { 0 };
	struct qb_s3_error se;
	struct seen s;
	char etag[QB_S3_ETAG_MAX];
	char *id = NULL, *doc;
	size_t n;
	int rc;

	if (size < 1)
		return 0;
	n = size - 1;
	doc = malloc(n + 1);
	if (!doc)
		abort();
	memcpy(doc, data + 1, n);
	doc[n] = '\0';
	s = (struct seen){ doc, n, 0 };
	switch (data[0] % 5) {
	case 0:
		page(doc, n);
		break;
	case 1:
		rc = qb_s3_parse_list_buckets(doc, n, on_bucket, &s, &err);
		if (rc && !err.msg[0])
			abort();
		break;
	case 2:
		rc = qb_s3_parse_error(doc, n, &se, &err);
		if (rc && !err.msg[0])
			abort();
		if (strnlen(se.code, sizeof(se.code)) == sizeof(se.code) ||
		    strnlen(se.message, sizeof(se.message)) == sizeof(se.message) ||
		    strnlen(se.request_id, sizeof(se.request_id)) == sizeof(se.request_id))
			abort();
		break;
	case 3:
		rc = qb_s3_parse_initiate(doc, n, &id, &err);
		if (rc ? !err.msg[0] : !id || !id[0])
			abort();
		if (!rc)
			free(id);
		break;
	default:
		rc = qb_s3_parse_complete(doc, n, etag, sizeof(etag), &se, &err);
		if (rc && !err.msg[0])
			abort();
		if (strnlen(etag, sizeof(etag)) == sizeof(etag))
			abort();
		break;
	}
	free(doc);
	return 0;
}
