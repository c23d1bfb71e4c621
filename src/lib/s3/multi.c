/*
 * multi.c - parallel transfers with the curl multi interface, in the
 * caller's thread.
 *
 * A pool holds at most `parallel` transfers, running or waiting for a retry.
 * Submitting to a full pool runs the pool until a slot frees, which is how
 * the caller's producer loop (a listing, a folder walk) gets back-pressure
 * without threads.  A failed attempt is judged by the same code as the
 * synchronous runner; a transfer due for a retry waits in the pool, without
 * blocking the others, until its backoff delay has passed.  Easy handles are
 * recycled, and the multi handle's connection cache keeps connections alive.
 */
#include <stdlib.h>
#include <string.h>

#include "qb/log.h"
#include "s3/s3_int.h"

struct xfer {
	struct s3_req req;
	qb_s3_done_fn done;
	void *ud;
	uint64_t due;           /* when a waiting transfer may start again */
	bool waiting;
	bool delete_op;
	struct xfer *prev, *next;
};

struct qb_s3_pool {
	struct qb_s3 *s3;
	CURLM *multi;
	unsigned parallel;
	unsigned pending;       /* waiting + running */
	struct xfer *head;
	CURL **idle;
	unsigned nidle;
	uint64_t bytes;
};

int qb_s3_pool_new(struct qb_s3_pool **out, struct qb_s3 *s3, unsigned parallel,
		   struct qb_err *err)
{
	struct qb_s3_pool *p = calloc(1, sizeof(*p));

	*out = NULL;
	if (!p)
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	p->s3 = s3;
	p->parallel = parallel ? parallel : s3->conf.parallel;
	if (p->parallel == 0)
		p->parallel = 1;
	p->idle = calloc(p->parallel, sizeof(*p->idle));
	p->multi = curl_multi_init();
	if (!p->idle || !p->multi) {
		qb_s3_pool_free(p);
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	}
	curl_multi_setopt(p->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)p->parallel);
	curl_multi_setopt(p->multi, CURLMOPT_MAXCONNECTS, (long)p->parallel * 2);
	*out = p;
	return QB_OK;
}

static CURL *get_easy(struct qb_s3_pool *p)
{
	if (p->nidle)
		return p->idle[--p->nidle];
	return curl_easy_init();
}

static void put_easy(struct qb_s3_pool *p, CURL *h)
{
	if (!h)
		return;
	if (p->nidle < p->parallel)
		p->idle[p->nidle++] = h;
	else
		curl_easy_cleanup(h);
}

/* Report the end of x to its owner and forget it. */
static void finish(struct qb_s3_pool *p, struct xfer *x, int rc, const struct qb_err *err)
{
	struct qb_s3_result res;

	if (x->prev)
		x->prev->next = x->next;
	else
		p->head = x->next;
	if (x->next)
		x->next->prev = x->prev;
	p->pending--;
	if (x->req.easy) {
		curl_multi_remove_handle(p->multi, x->req.easy);
		put_easy(p, x->req.easy);
		x->req.easy = NULL;
	}
	if (rc == QB_ENOTFOUND && x->delete_op)
		rc = QB_OK;
	s3_req_result(&x->req, &res);
	x->done(x->ud, rc, &res, rc ? err : NULL);
	s3_req_release(&x->req);
	free(x);
}

static void start(struct qb_s3_pool *p, struct xfer *x)
{
	struct qb_err err = { 0 };
	int rc;
	CURLMcode mc;

	x->waiting = false;
	x->req.attempt++;
	x->req.easy = get_easy(p);
	if (!x->req.easy) {
		qb_err_set(&err, QB_ENOMEM, "unable to create a curl handle");
		finish(p, x, QB_ENOMEM, &err);
		return;
	}
	rc = s3_req_prepare(p->s3, &x->req, &err);
	if (!rc) {
		curl_easy_setopt(x->req.easy, CURLOPT_PRIVATE, (void *)x);
		mc = curl_multi_add_handle(p->multi, x->req.easy);
		if (mc) {
			rc = qb_err_set(&err, QB_EINTERNAL, "unable to start a transfer: %s",
					curl_multi_strerror(mc));
			/* Not in the multi handle: nothing to remove. */
			put_easy(p, x->req.easy);
			x->req.easy = NULL;
		}
	}
	if (rc)
		finish(p, x, rc, &err);
}

/* Handle the transfers libcurl says are over; returns how many ended for good. */
static unsigned drain(struct qb_s3_pool *p)
{
	unsigned ended = 0;
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(p->multi, &left))) {
		struct xfer *x = NULL;
		struct qb_err err = { 0 };
		long delay = 0;
		int rc = QB_OK;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		if (!x)
			continue;
		switch (s3_req_judge(p->s3, &x->req, m->data.result, &delay, &rc, &err)) {
		case S3_DONE:
			finish(p, x, QB_OK, NULL);
			ended++;
			break;
		case S3_FAIL:
			finish(p, x, rc, &err);
			ended++;
			break;
		case S3_RETRY:
			curl_multi_remove_handle(p->multi, x->req.easy);
			put_easy(p, x->req.easy);
			x->req.easy = NULL;
			x->waiting = true;
			x->due = s3_now_ms() + (uint64_t)delay;
			break;
		}
	}
	return ended;
}

/* Start the waiting transfers whose time has come; *next gets the earliest other due time. */
static void start_due(struct qb_s3_pool *p, uint64_t *next)
{
	uint64_t now = s3_now_ms();
	struct xfer *x = p->head;

	*next = UINT64_MAX;
	while (x) {
		struct xfer *n = x->next;    /* start() may finish and free x */
		if (x->waiting) {
			if (x->due <= now)
				start(p, x);
			else if (x->due < *next)
				*next = x->due;
		}
		x = n;
	}
}

int qb_s3_pool_step(struct qb_s3_pool *p, int timeout_ms, struct qb_err *err)
{
	uint64_t next;
	int running = 0;
	unsigned ended;
	CURLMcode mc;
	int wait = timeout_ms;

	start_due(p, &next);
	mc = curl_multi_perform(p->multi, &running);
	ended = drain(p);
	if (ended || mc)
		goto out;
	if (next != UINT64_MAX) {
		uint64_t now = s3_now_ms();
		uint64_t until = next > now ? next - now : 0;
		if (until < (uint64_t)wait)
			wait = (int)until;
	}
	mc = curl_multi_poll(p->multi, NULL, 0, wait, NULL);
	if (!mc)
		mc = curl_multi_perform(p->multi, &running);
	drain(p);
out:
	if (mc)
		return qb_err_set(err, QB_EINTERNAL, "transfer engine failed: %s",
				  curl_multi_strerror(mc));
	return QB_OK;
}

int qb_s3_pool_wait(struct qb_s3_pool *p, struct qb_err *err)
{
	while (p->pending) {
		int rc = qb_s3_pool_step(p, 1000, err);
		if (rc)
			return rc;
	}
	return QB_OK;
}

static int submit(struct qb_s3_pool *p, struct xfer *x, struct qb_err *err)
{
	while (p->pending >= p->parallel) {
		int rc = qb_s3_pool_step(p, 1000, err);
		if (rc) {
			s3_req_release(&x->req);
			free(x);
			return rc;
		}
	}
	if (x->req.sink_kind != S3_SINK_BUF)
		x->req.counter = &p->bytes;   /* object bytes, not listing pages */
	x->next = p->head;
	if (p->head)
		p->head->prev = x;
	p->head = x;
	p->pending++;
	start(p, x);
	return QB_OK;
}

static struct xfer *xfer_new(const char *method, const char *what, const char *bucket,
			     const char *key, qb_s3_done_fn done, void *ud, struct qb_err *err)
{
	struct xfer *x = calloc(1, sizeof(*x));

	if (!x) {
		qb_err_set(err, QB_ENOMEM, "out of memory");
		return NULL;
	}
	if (s3_req_init(&x->req, method, what, bucket, key, err)) {
		s3_req_release(&x->req);
		free(x);
		return NULL;
	}
	x->done = done;
	x->ud = ud;
	return x;
}

int s3_pool_submit(struct qb_s3_pool *p, struct s3_req *r, qb_s3_done_fn done, void *ud,
		   struct qb_err *err)
{
	struct xfer *x = calloc(1, sizeof(*x));

	if (!x) {
		s3_req_release(r);
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	}
	x->req = *r;
	memset(r, 0, sizeof(*r));
	x->done = done;
	x->ud = ud;
	return submit(p, x, err);
}

int qb_s3_pool_get(struct qb_s3_pool *p, const char *bucket, const char *key, int fd,
		   qb_s3_done_fn done, void *ud, struct qb_err *err)
{
	struct xfer *x = xfer_new("GET", "fetch", bucket, key, done, ud, err);

	if (!x)
		return err ? err->code : QB_ENOMEM;
	x->req.sink_kind = S3_SINK_FD;
	x->req.sink_fd = fd;
	x->req.verify_md5 = true;
	return submit(p, x, err);
}

int qb_s3_pool_put(struct qb_s3_pool *p, const struct qb_s3_put *put, qb_s3_done_fn done,
		   void *ud, struct qb_err *err)
{
	struct xfer *x = xfer_new("PUT", put->upload_id ? "upload part of" : "upload", put->bucket,
				  put->key, done, ud, err);
	char num[16];
	int rc = QB_OK;

	if (!x)
		return err ? err->code : QB_ENOMEM;
	if (put->upload_id) {
		snprintf(num, sizeof(num), "%u", put->part);
		rc = s3_req_param(&x->req, "partNumber", num, err);
		if (!rc)
			rc = s3_req_param(&x->req, "uploadId", put->upload_id, err);
	}
	if (!rc && put->md5hex)
		rc = s3_req_set_md5(&x->req, put->md5hex, err);
	if (!rc && put->content_type && !put->upload_id &&
	    !(x->req.content_type = qb_strdup(put->content_type)))
		rc = qb_err_set(err, QB_ENOMEM, "out of memory");
	if (rc) {
		s3_req_release(&x->req);
		free(x);
		return rc;
	}
	x->req.body_kind = S3_BODY_FD;
	x->req.body_fd = put->fd;
	x->req.body_off = put->offset;
	x->req.body_len = put->length;
	x->req.verify_md5 = true;
	memcpy(x->req.payload_hash, "UNSIGNED-PAYLOAD", sizeof("UNSIGNED-PAYLOAD"));
	return submit(p, x, err);
}

int qb_s3_pool_delete(struct qb_s3_pool *p, const char *bucket, const char *key,
		      qb_s3_done_fn done, void *ud, struct qb_err *err)
{
	struct xfer *x = xfer_new("DELETE", "delete", bucket, key, done, ud, err);

	if (!x)
		return err ? err->code : QB_ENOMEM;
	x->delete_op = true;
	x->req.total_timeout = true;
	return submit(p, x, err);
}

unsigned qb_s3_pool_pending(const struct qb_s3_pool *p)
{
	return p->pending;
}

unsigned qb_s3_pool_parallel(const struct qb_s3_pool *p)
{
	return p->parallel;
}

uint64_t qb_s3_pool_bytes(const struct qb_s3_pool *p)
{
	return p->bytes;
}

void qb_s3_pool_free(struct qb_s3_pool *p)
{
	struct qb_err err = { 0 };

	if (!p)
		return;
	qb_err_set(&err, QB_ECANCELLED, "transfer cancelled");
	while (p->head)
		finish(p, p->head, QB_ECANCELLED, &err);
	for (unsigned i = 0; i < p->nidle; i++)
		curl_easy_cleanup(p->idle[i]);
	free(p->idle);
	if (p->multi)
		curl_multi_cleanup(p->multi);
	free(p);
}
