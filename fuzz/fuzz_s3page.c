/*
 * fuzz_s3page.c - ListObjectsV2 pages built from the input, so that the
 * answer is known: the parse must give exactly what was written.
 *
 * Input: one flags byte (url encoding, IsTruncated element and value, a
 * NextContinuationToken, EncodingType after the objects), then objects
 * separated by 0xff, each a key (any bytes but NUL) then 0xfe then the Size
 * text (mapped onto digits, signs, spaces and 'x').
 *   - with EncodingType url the keys go out %-encoded (spaces sometimes as
 *     '+') and must come back byte for byte; plain keys are kept to
 *     printable ASCII (XML-escaped) and must come back the same;
 *   - a Size that is not all decimal digits or exceeds 2^64 - 1 refuses the
 *     page; otherwise every object's size is that number;
 *   - truncated and next_token are what the document says.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qb/buf.h"
#include "qb/s3.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXOBJ 64

struct obj {
	char *key;
	char *size;
};

struct want {
	struct obj o[MAXOBJ];
	unsigned n, i;
};

static void put(struct qb_buf *b, const char *s)
{
	if (qb_buf_puts(b, s, NULL))
		abort();
}

static void put_xml(struct qb_buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '&')
			put(b, "&amp;");
		else if (*s == '<')
			put(b, "&lt;");
		else if (*s == '>')
			put(b, "&gt;");
		else if (qb_buf_append(b, s, 1, NULL))
			abort();
	}
}

static bool size_ok(const char *s, uint64_t *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	for (const char *p = s; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return !errno && !*end;
}

static int on_object(void *ud, const struct qb_s3_object *o, struct qb_err *err)
{
	struct want *w = ud;
	uint64_t v;

	(void)err;
	if (w->i >= w->n || strcmp(o->key, w->o[w->i].key) || !size_ok(w->o[w->i].size, &v) ||
	    o->size != v || strcmp(o->etag, "e") || strcmp(o->last_modified, "t"))
		abort();
	w->i++;
	return QB_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char size_chars[] = "0123456789012345678901234567890123456789 -+x";
	struct want w = { 0 };
	struct qb_buf doc, enc;
	struct qb_s3_page page;
	struct qb_err err = { 0 };
	bool url, has_trunc, trunc, has_token, enc_last, all_ok = true;
	size_t i = 1;
	int rc;

	if (size < 1)
		return 0;
	url = data[0] & 1;
	has_trunc = data[0] & 2;
	trunc = data[0] & 4;
	has_token = data[0] & 8;
	enc_last = data[0] & 16;
	while (i < size && w.n < MAXOBJ) {
		struct obj *o = &w.o[w.n++];
		size_t k = 0, s = 0;

		o->key = calloc(size, 1);
		o->size = calloc(size, 1);
		if (!o->key || !o->size)
			abort();
		for (; i < size && data[i] != 0xfe && data[i] != 0xff; i++)
			if (data[i])
				o->key[k++] = url ? (char)data[i] : (char)(0x20 + data[i] % 0x5f);
		if (i < size && data[i] == 0xfe)
			for (i++; i < size && data[i] != 0xff; i++)
				o->size[s++] = size_chars[data[i] % (sizeof(size_chars) - 1)];
		i++;                    /* the 0xff */
		if (!s)
			o->size[0] = '0';
	}
	qb_buf_init(&doc, 1 << 24);
	qb_buf_init(&enc, 1 << 24);
	put(&doc, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult "
		  "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>b</Name>");
	if (has_trunc)
		put(&doc, trunc ? "<IsTruncated>true</IsTruncated>" : "<IsTruncated>false</IsTruncated>");
	if (has_token)
		put(&doc, "<NextContinuationToken>1/a+b==</NextContinuationToken>");
	if (url && !enc_last)
		put(&doc, "<EncodingType>url</EncodingType>");
	for (unsigned j = 0; j < w.n; j++) {
		uint64_t v;

		put(&doc, "<Contents><Key>");
		if (url) {
			qb_buf_reset(&enc);
			if (qb_s3_uri_encode(&enc, w.o[j].key, strlen(w.o[j].key), data[0] & 32,
					     NULL))
				abort();
			/* S3 writes a space as '+' (and a '+' as %2B) */
			for (size_t c = 0; (data[0] & 64) && c + 2 < enc.len; c++)
				if (!memcmp(enc.data + c, "%20", 3)) {
					memmove(enc.data + c + 1, enc.data + c + 3, enc.len - c - 2);
					enc.data[c] = '+';
					enc.len -= 2;
				}
			put(&doc, enc.data);
		} else {
			put_xml(&doc, w.o[j].key);
		}
		put(&doc, "</Key><LastModified>t</LastModified><ETag>&quot;e&quot;</ETag><Size>");
		put(&doc, w.o[j].size);
		put(&doc, "</Size></Contents>");
		if (!size_ok(w.o[j].size, &v))
			all_ok = false;
		if (!w.o[j].key[0])
			all_ok = false;
	}
	if (url && enc_last)
		put(&doc, "<EncodingType>url</EncodingType>");
	put(&doc, "</ListBucketResult>");

	rc = qb_s3_parse_list_objects(doc.data, doc.len, on_object, &w, &page, &err);
	if (all_ok) {
		if (rc || w.i != w.n || page.count != w.n || page.truncated != (has_trunc && trunc) ||
		    (has_token ? !page.next_token || strcmp(page.next_token, "1/a+b==")
			       : page.next_token != NULL))
			abort();
		qb_s3_page_release(&page);
	} else if (rc != QB_EFORMAT || page.count || page.next_token) {
		abort();
	}
	for (unsigned j = 0; j < w.n; j++) {
		free(w.o[j].key);
		free(w.o[j].size);
	}
	qb_buf_release(&enc);
	qb_buf_release(&doc);
	return 0;
}
