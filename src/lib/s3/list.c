/*
 * list.c - ListObjectsV2, page after page: synchronously on the client's
 * handle, or in a pool.
 *
 * In a pool the listing is one more transfer: as soon as a page has been
 * parsed, the next one is asked for, and it arrives while the caller works
 * through the current page and the transfers it started keep running.  A
 * synchronous page fetch there would stall every transfer in the pool for
 * the time of a listing request (a tenth of a second or more per thousand
 * keys).  The first page of a pooled listing is small, so that the first
 * transfers start sooner.
 *
 * Asking for the next page only queues it: the request goes out when the
 * pool runs.  A caller that downloads runs the pool on every submit; one
 * that only links files from the previous snapshot never does, so the pool
 * is run, without waiting, when the next page is queued and every KICK_KEYS
 * keys of the current one (the connection first, then the request).
 */
#include <stdlib.h>
#include <string.h>

#include "s3/s3_int.h"

#define PAGE_KEYS "1000"
#define FIRST_POOL_PAGE_KEYS "100"
#define KICK_KEYS 64

static int page_req(struct s3_req *r, const char *bucket, const char *prefix, const char *token,
		    const char *max_keys, struct qb_err *err)
{
	int rc = s3_req_init(r, "GET", "list bucket", bucket, NULL, err);

	if (!rc)
		rc = s3_req_param(r, "list-type", "2", err);
	if (!rc)
		rc = s3_req_param(r, "encoding-type", "url", err);
	if (!rc)
		rc = s3_req_param(r, "max-keys", max_keys, err);
	if (!rc && prefix && prefix[0])
		rc = s3_req_param(r, "prefix", prefix, err);
	if (!rc && token)
		rc = s3_req_param(r, "continuation-token", token, err);
	r->total_timeout = true;
	return rc;
}

static int parse_page(const struct qb_buf *body, const char *bucket, struct qb_s3_page *page,
		      struct qb_err *err)
{
	int rc = qb_s3_page_parse(body->data, body->len, page, err);

	if (rc == QB_EFORMAT)
		qb_err_prefix(err, "listing bucket '%s'", bucket);
	return rc;
}

static int each(const struct qb_s3_page *page, const char *bucket, qb_s3_object_fn fn, void *ud,
		struct qb_err *err)
{
	int rc = qb_s3_page_each(page, fn, ud, err);

	if (rc == QB_EFORMAT)
		qb_err_prefix(err, "listing bucket '%s'", bucket);
	return rc;
}

/* A server that hands back a continuation token it gave before would list forever.
 * Brent's cycle check: keep the token of pages 1, 2, 4, 8... and compare each new one
 * with it, which finds a cycle of any length with one saved token. */
struct token_watch {
	char *saved;
	unsigned long pages;
};

static int watch_token(struct token_watch *w, const char *next, const char *bucket,
		       struct qb_err *err)
{
	char *copy;

	if (w->saved && !strcmp(w->saved, next))
		return qb_err_set(err, QB_EFORMAT, "the listing of bucket '%s' came back to a "
				  "continuation token it gave before", bucket);
	w->pages++;
	if (w->pages & (w->pages - 1))
		return QB_OK;
	if (!(copy = qb_strdup(next)))
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	free(w->saved);
	w->saved = copy;
	return QB_OK;
}

/* The token of the page after this one (taken from page), or NULL after the last page. */
static int take_token(struct qb_s3_page *page, struct token_watch *w, const char *bucket,
		      char **next, struct qb_err *err)
{
	int rc;

	*next = NULL;
	if (!page->truncated)
		return QB_OK;
	if (!page->next_token || !page->next_token[0])
		return qb_err_set(err, QB_EFORMAT, "the listing of bucket '%s' is truncated "
				  "without a new continuation token", bucket);
	if ((rc = watch_token(w, page->next_token, bucket, err)))
		return rc;
	*next = page->next_token;
	page->next_token = NULL;
	return QB_OK;
}

int qb_s3_list_objects(struct qb_s3 *s3, const char *bucket, const char *prefix,
		       qb_s3_object_fn fn, void *ud, struct qb_err *err)
{
	struct qb_buf body;
	struct token_watch watch = { 0 };
	char *token = NULL;
	int rc;

	qb_buf_init(&body, S3_XML_MAX);
	do {
		struct s3_req r;
		struct qb_s3_page page = { 0 };
		char *next = NULL;

		rc = page_req(&r, bucket, prefix, token, PAGE_KEYS, err);
		r.sink_kind = S3_SINK_BUF;
		r.sink_buf = &body;
		if (!rc)
			rc = s3_exec(s3, &r, err);
		s3_req_release(&r);
		if (!rc)
			rc = parse_page(&body, bucket, &page, err);
		if (!rc)
			rc = take_token(&page, &watch, bucket, &next, err);
		if (!rc)
			rc = each(&page, bucket, fn, ud, err);
		qb_s3_page_release(&page);
		free(token);
		token = next;
	} while (!rc && token);
	free(token);
	free(watch.saved);
	qb_buf_release(&body);
	return rc;
}

/* ---- In a pool ---- */

/* A page on its way.  On the heap: when the listing stops early (the caller's callback
 * failed), the request may still be in the pool, and its end frees this. */
struct fetch {
	struct qb_buf body;
	bool busy;              /* in the pool */
	bool abandoned;         /* the listing is over: free on arrival */
	int rc;
	struct qb_err err;
};

static void fetch_free(struct fetch *f)
{
	qb_buf_release(&f->body);
	free(f);
}

static void on_page(void *ud, int rc, const struct qb_s3_result *res, const struct qb_err *err)
{
	struct fetch *f = ud;

	(void)res;
	if (f->abandoned) {
		fetch_free(f);
		return;
	}
	f->busy = false;
	f->rc = rc;
	if (rc && err)
		f->err = *err;
}

static int fetch_start(struct qb_s3_pool *p, struct fetch *f, const char *bucket,
		       const char *prefix, const char *token, const char *max_keys,
		       struct qb_err *err)
{
	struct s3_req r;
	int rc = page_req(&r, bucket, prefix, token, max_keys, err);

	if (rc) {
		s3_req_release(&r);
		return rc;
	}
	qb_buf_reset(&f->body);
	r.sink_kind = S3_SINK_BUF;
	r.sink_buf = &f->body;
	f->rc = QB_OK;
	f->busy = true;
	rc = s3_pool_submit(p, &r, on_page, f, err);
	if (rc)
		f->busy = false;     /* refused: never reached the pool */
	return rc;
}

static int fetch_wait(struct qb_s3_pool *p, struct fetch *f, struct qb_err *err)
{
	while (f->busy) {
		int rc = qb_s3_pool_step(p, 1000, err);
		if (rc)
			return rc;
	}
	if (f->rc)
		*err = f->err;
	return f->rc;
}

/* The caller's function, with the pool run every KICK_KEYS keys. */
struct kicked {
	struct qb_s3_pool *pool;
	qb_s3_object_fn fn;
	void *ud;
	unsigned n;
};

static int kicked_object(void *ud, const struct qb_s3_object *o, struct qb_err *err)
{
	struct kicked *k = ud;

	if (++k->n % KICK_KEYS == 0) {
		int rc = qb_s3_pool_step(k->pool, 0, err);
		if (rc)
			return rc;
	}
	return k->fn(k->ud, o, err);
}

int qb_s3_pool_list_objects(struct qb_s3_pool *p, const char *bucket, const char *prefix,
			    qb_s3_object_fn fn, void *ud, struct qb_err *err)
{
	struct fetch *f = calloc(1, sizeof(*f));
	struct token_watch watch = { 0 };
	struct kicked kick = { p, fn, ud, 0 };
	char *token = NULL;
	int rc;

	if (!f)
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	qb_buf_init(&f->body, S3_XML_MAX);
	rc = fetch_start(p, f, bucket, prefix, NULL, FIRST_POOL_PAGE_KEYS, err);
	while (!rc) {
		struct qb_s3_page page = { 0 };
		char *next = NULL;

		rc = fetch_wait(p, f, err);
		if (!rc)
			rc = parse_page(&f->body, bucket, &page, err);
		if (!rc)
			rc = take_token(&page, &watch, bucket, &next, err);
		/* The page is parsed into its own memory: the body can take the next one. */
		if (!rc && next && !(rc = fetch_start(p, f, bucket, prefix, next, PAGE_KEYS, err)))
			rc = qb_s3_pool_step(p, 0, err);
		if (!rc)
			rc = each(&page, bucket, kicked_object, &kick, err);
		qb_s3_page_release(&page);
		free(token);
		token = next;
		if (!token)
			break;
	}
	free(token);
	free(watch.saved);
	if (f->busy)
		f->abandoned = true;
	else
		fetch_free(f);
	return rc;
}
