/*
 * xml.c - the S3 answers we read, parsed with expat.
 *
 * One small engine (an element-name stack and the text of the current
 * element) and a function per document kind that reacts to closing tags.
 * Answers come from the network, so the engine refuses DOCTYPE and entity
 * declarations (no entity expansion at all), bounds the nesting depth and
 * the length of every text node, and the documents themselves are capped by
 * the qb_buf they were received into.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include "qb/array.h"
#include "qb/hash.h"
#include "qb/s3.h"

#define XML_MAX_DEPTH 16
#define XML_NAME_MAX 48
#define XML_TEXT_MAX (16 * 1024)
#define PAGE_MAX_OBJECTS 10000

struct xml_ctx;
typedef int (*xml_end_fn)(struct xml_ctx *x, const char *name, const char *parent,
			  const char *text, size_t len);

struct xml_ctx {
	XML_Parser p;
	int depth;
	char names[XML_MAX_DEPTH][XML_NAME_MAX];
	char root[XML_NAME_MAX];
	struct qb_buf text;
	int rc;
	struct qb_err *err;
	const char *expect;          /* the root elements wanted, '|'-separated, or NULL */
	xml_end_fn on_end;
	void *ud;
	struct qb_s3_error s3err;    /* filled when the root is <Error> */
};

static void xml_fail(struct xml_ctx *x, int rc)
{
	if (!x->rc)
		x->rc = rc;
	XML_StopParser(x->p, XML_FALSE);
}

static void copy_name(char *dst, const char *src)
{
	size_t n = strlen(src);

	if (n >= XML_NAME_MAX)
		n = XML_NAME_MAX - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* True when root is one of the '|'-separated names of expect. */
static bool root_is(const char *root, const char *expect)
{
	size_t n = strlen(root);

	for (const char *p = expect; p; p = strchr(p, '|') ? strchr(p, '|') + 1 : NULL)
		if (!strncmp(p, root, n) && (p[n] == '|' || p[n] == '\0'))
			return true;
	return false;
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	struct xml_ctx *x = ud;

	(void)atts;
	if (x->rc)
		return;
	if (x->depth >= XML_MAX_DEPTH) {
		qb_err_set(x->err, QB_EFORMAT, "XML answer nested deeper than %d elements",
			   XML_MAX_DEPTH);
		xml_fail(x, QB_EFORMAT);
		return;
	}
	copy_name(x->names[x->depth], name);
	if (x->depth == 0) {
		copy_name(x->root, name);
		/* Refused at once: the handlers below must never act on another document. */
		if (x->expect && strcmp(x->root, "Error") && !root_is(x->root, x->expect)) {
			qb_err_set(x->err, QB_EFORMAT, "unexpected XML answer <%s>, wanted <%s>",
				   x->root, x->expect);
			xml_fail(x, QB_EFORMAT);
			return;
		}
	}
	x->depth++;
	qb_buf_reset(&x->text);
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
	struct xml_ctx *x = ud;

	if (x->rc || len <= 0)
		return;
	if (qb_buf_append(&x->text, s, (size_t)len, NULL)) {
		qb_err_set(x->err, QB_EFORMAT, "XML answer has a text longer than %d bytes",
			   XML_TEXT_MAX);
		xml_fail(x, QB_EFORMAT);
	}
}

static void fill(char *dst, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
	struct xml_ctx *x = ud;
	const char *parent, *text;
	int rc;

	(void)name;
	if (x->rc || x->depth == 0)
		return;
	parent = x->depth >= 2 ? x->names[x->depth - 2] : "";
	text = x->text.data ? x->text.data : "";
	if (!strcmp(x->root, "Error")) {
		/* Only its own fields: an <Error> holds nothing for the document handlers. */
		const char *n = x->depth == 2 ? x->names[1] : "";
		if (!strcmp(n, "Code"))
			fill(x->s3err.code, sizeof(x->s3err.code), text, x->text.len);
		else if (!strcmp(n, "Message"))
			fill(x->s3err.message, sizeof(x->s3err.message), text, x->text.len);
		else if (!strcmp(n, "RequestId"))
			fill(x->s3err.request_id, sizeof(x->s3err.request_id), text, x->text.len);
	} else if (x->on_end) {
		rc = x->on_end(x, x->names[x->depth - 1], parent, text, x->text.len);
		if (rc) {
			xml_fail(x, rc);
			return;
		}
	}
	x->depth--;
	qb_buf_reset(&x->text);
}

static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
			       const XML_Char *pubid, int has_internal_subset)
{
	struct xml_ctx *x = ud;

	(void)name, (void)sysid, (void)pubid, (void)has_internal_subset;
	qb_err_set(x->err, QB_EFORMAT, "XML answer has a document type declaration");
	xml_fail(x, QB_EFORMAT);
}

static void XMLCALL on_entity(void *ud, const XML_Char *name, int is_param,
			      const XML_Char *value, int value_len, const XML_Char *base,
			      const XML_Char *sysid, const XML_Char *pubid,
			      const XML_Char *notation)
{
	struct xml_ctx *x = ud;

	(void)name, (void)is_param, (void)value, (void)value_len, (void)base;
	(void)sysid, (void)pubid, (void)notation;
	qb_err_set(x->err, QB_EFORMAT, "XML answer declares an entity");
	xml_fail(x, QB_EFORMAT);
}

/* Parse xml; `expect` names the root element wanted (alternatives separated by '|').
 * An <Error> root gives QB_EREMOTE. */
static int xml_run(const char *xml, size_t n, const char *expect, xml_end_fn fn, void *ud,
		   struct qb_s3_error *s3err, struct qb_err *err)
{
	struct xml_ctx x;
	int rc;

	memset(&x, 0, sizeof(x));
	x.err = err;
	x.expect = expect;
	x.on_end = fn;
	x.ud = ud;
	qb_buf_init(&x.text, XML_TEXT_MAX);
	if (n == 0 || n > (size_t)INT32_MAX)
		return qb_err_set(err, QB_EFORMAT, "empty or oversized XML answer");
	x.p = XML_ParserCreate("UTF-8");
	if (!x.p)
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	XML_SetUserData(x.p, &x);
	XML_SetElementHandler(x.p, on_start, on_end);
	XML_SetCharacterDataHandler(x.p, on_text);
	XML_SetStartDoctypeDeclHandler(x.p, on_doctype);
	XML_SetEntityDeclHandler(x.p, on_entity);
	XML_SetParamEntityParsing(x.p, XML_PARAM_ENTITY_PARSING_NEVER);
	if (XML_Parse(x.p, xml, (int)n, XML_TRUE) == XML_STATUS_ERROR && !x.rc) {
		x.rc = qb_err_set(err, QB_EFORMAT, "malformed XML answer: %s at line %lu",
				  XML_ErrorString(XML_GetErrorCode(x.p)),
				  (unsigned long)XML_GetCurrentLineNumber(x.p));
	}
	rc = x.rc;
	XML_ParserFree(x.p);
	qb_buf_release(&x.text);
	if (rc)
		return rc;
	if (s3err)
		*s3err = x.s3err;
	/* Any other root than expect's or <Error> was refused at its start tag. */
	if (!strcmp(x.root, "Error") && (!expect || !root_is("Error", expect)))
		return qb_err_set(err, QB_EREMOTE, "server error %s: %s", x.s3err.code,
				  x.s3err.message);
	return QB_OK;
}

int qb_s3_parse_error(const char *xml, size_t n, struct qb_s3_error *out, struct qb_err *err)
{
	memset(out, 0, sizeof(*out));
	return xml_run(xml, n, "Error", NULL, NULL, out, err);
}

/* ---- ListAllMyBucketsResult ---- */

struct buckets_ud {
	qb_s3_bucket_fn fn;
	void *ud;
};

static int buckets_end(struct xml_ctx *x, const char *name, const char *parent,
		       const char *text, size_t len)
{
	struct buckets_ud *b = x->ud;

	if (strcmp(name, "Name") || strcmp(parent, "Bucket") || x->depth != 4)
		return QB_OK;
	if (len == 0 || memchr(text, '/', len))
		return qb_err_set(x->err, QB_EFORMAT, "bad bucket name in a listing");
	return b->fn(b->ud, text, x->err);
}

int qb_s3_parse_list_buckets(const char *xml, size_t n, qb_s3_bucket_fn fn, void *ud,
			     struct qb_err *err)
{
	struct buckets_ud b = { fn, ud };

	return xml_run(xml, n, "ListAllMyBucketsResult", buckets_end, &b, NULL, err);
}

/* ---- ListBucketResult (v2) ---- */

struct s3_entry {
	char *key;
	char *etag;
	char *last_modified;
	uint64_t size;
	bool has_size;
};

struct list_ud {
	struct s3_entry *v;
	size_t n, cap;
	struct s3_entry cur;
	bool truncated;
	bool url_encoded;
	char *token;
};

static void entry_free(struct s3_entry *e)
{
	free(e->key);
	free(e->etag);
	free(e->last_modified);
	memset(e, 0, sizeof(*e));
}

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

static int set_str(char **dst, const char *text, size_t len, struct qb_err *err)
{
	free(*dst);
	*dst = qb_strndup(text, len);
	return *dst ? QB_OK : qb_err_set(err, QB_ENOMEM, "out of memory");
}

static int list_end(struct xml_ctx *x, const char *name, const char *parent, const char *text,
		    size_t len)
{
	struct list_ud *l = x->ud;

	if (x->depth == 2) {
		if (!strcmp(name, "IsTruncated")) {
			if (!strcmp(text, "true"))
				l->truncated = true;
			else if (strcmp(text, "false"))
				return qb_err_set(x->err, QB_EFORMAT,
						  "bad IsTruncated in a listing");
		} else if (!strcmp(name, "NextContinuationToken")) {
			return set_str(&l->token, text, len, x->err);
		} else if (!strcmp(name, "EncodingType")) {
			l->url_encoded = !strcmp(text, "url");
		} else if (!strcmp(name, "Contents")) {
			if (!l->cur.key || !l->cur.has_size)
				return qb_err_set(x->err, QB_EFORMAT,
						  "listing entry without a key or a size");
			if (l->n == PAGE_MAX_OBJECTS)
				return qb_err_set(x->err, QB_EFORMAT,
						  "listing page of more than %d objects",
						  PAGE_MAX_OBJECTS);
			if (qb_array_grow(&l->v, &l->cap, l->n + 1, sizeof(*l->v), 256))
				return qb_err_set(x->err, QB_ENOMEM, "out of memory");
			l->v[l->n++] = l->cur;
			memset(&l->cur, 0, sizeof(l->cur));
		}
		return QB_OK;
	}
	if (x->depth != 3 || strcmp(parent, "Contents"))
		return QB_OK;
	if (!strcmp(name, "Key"))
		return set_str(&l->cur.key, text, len, x->err);
	if (!strcmp(name, "LastModified"))
		return set_str(&l->cur.last_modified, text, len, x->err);
	if (!strcmp(name, "ETag")) {
		char etag[QB_S3_ETAG_MAX];
		if (!qb_s3_etag_unquote(text, len, etag, sizeof(etag)))
			return qb_err_set(x->err, QB_EFORMAT, "ETag too long in a listing");
		return set_str(&l->cur.etag, etag, strlen(etag), x->err);
	}
	if (!strcmp(name, "Size")) {
		if (!parse_u64(text, &l->cur.size))
			return qb_err_set(x->err, QB_EFORMAT,
					  "bad object size '%.40s' in a listing", text);
		l->cur.has_size = true;
	}
	return QB_OK;
}

int qb_s3_page_parse(const char *xml, size_t n, struct qb_s3_page *page, struct qb_err *err)
{
	struct list_ud l;
	int rc;

	memset(&l, 0, sizeof(l));
	memset(page, 0, sizeof(*page));
	rc = xml_run(xml, n, "ListBucketResult", list_end, &l, NULL, err);
	entry_free(&l.cur);
	if (rc) {
		for (size_t i = 0; i < l.n; i++)
			entry_free(&l.v[i]);
		free(l.v);
		free(l.token);
		return rc;
	}
	page->truncated = l.truncated;
	page->next_token = l.token;
	page->count = (unsigned)l.n;
	page->entries = l.v;
	page->url_encoded = l.url_encoded;
	return QB_OK;
}

int qb_s3_page_each(const struct qb_s3_page *page, qb_s3_object_fn fn, void *ud,
		    struct qb_err *err)
{
	struct qb_buf key;
	int rc = QB_OK;

	qb_buf_init(&key, 4 * QB_S3_KEY_MAX);
	/* Keys are decoded only now: <EncodingType> may come after <Contents>. */
	for (size_t i = 0; i < page->count && !rc; i++) {
		const struct s3_entry *e = &page->entries[i];
		struct qb_s3_object o;

		qb_buf_reset(&key);
		if (page->url_encoded)
			rc = qb_s3_url_decode(&key, e->key, strlen(e->key), err);
		else
			rc = qb_buf_puts(&key, e->key, err);
		if (rc)
			break;
		if (key.len == 0 || memchr(key.data, '\0', key.len)) {
			rc = qb_err_set(err, QB_EFORMAT, "empty or NUL-holding key in a listing");
			break;
		}
		o.key = key.data;
		o.size = e->size;
		o.etag = e->etag ? e->etag : "";
		o.last_modified = e->last_modified ? e->last_modified : "";
		rc = fn(ud, &o, err);
	}
	qb_buf_release(&key);
	return rc;
}

int qb_s3_parse_list_objects(const char *xml, size_t n, qb_s3_object_fn fn, void *ud,
			     struct qb_s3_page *page, struct qb_err *err)
{
	int rc = qb_s3_page_parse(xml, n, page, err);

	if (!rc)
		rc = qb_s3_page_each(page, fn, ud, err);
	if (rc)
		qb_s3_page_release(page);
	return rc;
}

void qb_s3_page_release(struct qb_s3_page *page)
{
	for (unsigned i = 0; i < page->count; i++)
		entry_free(&page->entries[i]);
	free(page->entries);
	free(page->next_token);
	memset(page, 0, sizeof(*page));
}

/* ---- Multipart answers ---- */

static int initiate_end(struct xml_ctx *x, const char *name, const char *parent,
			const char *text, size_t len)
{
	(void)parent;
	if (x->depth == 2 && !strcmp(name, "UploadId"))
		return set_str(x->ud, text, len, x->err);
	return QB_OK;
}

int qb_s3_parse_initiate(const char *xml, size_t n, char **upload_id, struct qb_err *err)
{
	char *id = NULL;
	int rc = xml_run(xml, n, "InitiateMultipartUploadResult", initiate_end, &id, NULL, err);

	if (!rc && (!id || !id[0]))
		rc = qb_err_set(err, QB_EFORMAT, "multipart upload answer without an UploadId");
	if (rc) {
		free(id);
		return rc;
	}
	*upload_id = id;
	return QB_OK;
}

struct complete_ud {
	char *etag;
	size_t len;
};

static int complete_end(struct xml_ctx *x, const char *name, const char *parent,
			const char *text, size_t len)
{
	struct complete_ud *c = x->ud;

	(void)parent;
	if (x->depth == 2 && !strcmp(name, "ETag") &&
	    !qb_s3_etag_unquote(text, len, c->etag, c->len))
		return qb_err_set(x->err, QB_EFORMAT, "ETag too long in a multipart answer");
	return QB_OK;
}

int qb_s3_parse_complete(const char *xml, size_t n, char *etag, size_t etag_len,
			 struct qb_s3_error *s3err, struct qb_err *err)
{
	struct complete_ud c = { etag, etag_len };

	etag[0] = '\0';
	memset(s3err, 0, sizeof(*s3err));
	/* moto names the root ...Response. */
	return xml_run(xml, n, "CompleteMultipartUploadResult|CompleteMultipartUploadResponse",
		       complete_end, &c, s3err, err);
}

/* ---- Small helpers ---- */


int qb_s3_url_decode(struct qb_buf *out, const char *s, size_t n, struct qb_err *err)
{
	int rc = QB_OK;

	for (size_t i = 0; i < n && !rc; i++) {
		char c = s[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			int hi = i + 2 < n ? qb_hex_digit(s[i + 1]) : -1;
			int lo = i + 2 < n ? qb_hex_digit(s[i + 2]) : -1;
			if (hi < 0 || lo < 0)
				return qb_err_set(err, QB_EFORMAT,
						  "bad %%-escape in an encoded key");
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		rc = qb_buf_append(out, &c, 1, err);
	}
	if (!rc)
		rc = qb_buf_append(out, "", 0, err);
	return rc;
}

bool qb_s3_etag_unquote(const char *s, size_t n, char *out, size_t len)
{
	while (n > 0 && (*s == ' ' || *s == '"')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '"'))
		n--;
	if (n >= len)
		return false;
	memcpy(out, s, n);
	out[n] = '\0';
	return true;
}

bool qb_s3_etag_is_md5(const char *etag)
{
	size_t i;

	for (i = 0; etag[i]; i++)
		if (qb_hex_digit(etag[i]) < 0)
			return false;
	return i == 32;
}
