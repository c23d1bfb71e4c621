/*
 * gzwrite.c - the parallel gzip writer of gz.h.
 *
 * The caller fills slots of a ring; workers compress queued slots into
 * independent gzip members; the caller writes finished members in ring order.
 * Ring positions only grow: head <= next <= tail, where [head, tail) are
 * submitted and not yet written, and [next, tail) still wait for a worker.
 *
 * Each member's header carries its own length in an extra field (subfield
 * "QB", like BGZF's "BC"): a reader can find the next member without
 * inflating this one, and so inflate several at once (gzread_fast.c).
 * gzip, zlib and libdeflate skip extra fields; the file stays plain gzip.
 */
#include <libdeflate.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qb/gz.h"

#define MAX_THREADS 256
/* Two slots per worker keep every core busy while the caller copies and
 * writes, and bound memory to about 2 * threads * (block + bound). */
#define SLOTS_PER_THREAD 2

enum slot_state { SLOT_FREE, SLOT_QUEUED, SLOT_DONE };

struct slot {
	unsigned char *in, *out;
	size_t in_len, out_len;
	enum slot_state state;
};

/* FLG.FEXTRA, XLEN (2), SI1 SI2 'Q' 'B', LEN (2), the member's length (4). */
#define GZIP_FEXTRA 0x04
#define MEMBER_EXTRA 10

struct worker {
	struct qb_gzw *w;
	struct libdeflate_compressor *c;
	pthread_t tid;
	bool started;
};

struct qb_gzw {
	qb_sink_fn sink;
	void *ud;
	size_t block, out_cap;
	int nworkers;
	struct worker *workers;
	size_t nslots;
	struct slot *slots;
	pthread_mutex_t mu;
	pthread_cond_t work_cv, done_cv;
	uint64_t head, next, tail;
	bool filling;   /* slot tail is being filled by the caller */
	bool stop, joined, finished;
	int rc;         /* sticky: once set, every call returns it */
	struct qb_err err;
	uint64_t bytes_in, bytes_out;
};

static void put_le(unsigned char *p, uint32_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/*
 * One member with its length in the header: libdeflate writes a plain
 * member MEMBER_EXTRA bytes in, its 10-byte header moves to the front, and
 * the extra field fills the gap.  0 means "did not fit", impossible with
 * the bound; the caller checks.
 */
static size_t compress_member(struct libdeflate_compressor *c, const void *in, size_t n,
			      unsigned char *out, size_t cap)
{
	size_t len = libdeflate_gzip_compress(c, in, n, out + MEMBER_EXTRA, cap - MEMBER_EXTRA);

	if (len == 0 || len + MEMBER_EXTRA > UINT32_MAX)
		return 0;
	memmove(out, out + MEMBER_EXTRA, 10);
	out[3] |= GZIP_FEXTRA;
	put_le(out + 10, 8, 2);
	out[12] = 'Q';
	out[13] = 'B';
	put_le(out + 14, 4, 2);
	put_le(out + 16, (uint32_t)(len + MEMBER_EXTRA), 4);
	return len + MEMBER_EXTRA;
}

static void *work(void *arg)
{
	struct worker *k = arg;
	struct qb_gzw *w = k->w;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		struct slot *s;

		while (!w->stop && w->next == w->tail)
			pthread_cond_wait(&w->work_cv, &w->mu);
		if (w->stop)
			break;
		s = &w->slots[w->next++ % w->nslots];
		pthread_mutex_unlock(&w->mu);
		s->out_len = compress_member(k->c, s->in, s->in_len, s->out, w->out_cap);
		pthread_mutex_lock(&w->mu);
		s->state = SLOT_DONE;
		pthread_cond_signal(&w->done_cv);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static void stop_workers(struct qb_gzw *w)
{
	if (w->joined)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_broadcast(&w->work_cv);
	pthread_mutex_unlock(&w->mu);
	for (int i = 0; i < w->nworkers; i++)
		if (w->workers[i].started)
			pthread_join(w->workers[i].tid, NULL);
	w->joined = true;
}

static int sticky(struct qb_gzw *w, struct qb_err *err)
{
	if (err && err != &w->err)
		*err = w->err;
	return w->rc;
}

/* Record the first error in w->err, stop the workers, and hand it back. */
static int fail(struct qb_gzw *w, int rc)
{
	if (!w->err.msg[0])
		qb_err_set(&w->err, rc, "unable to write gzip data");
	w->err.code = rc;
	w->rc = rc;
	stop_workers(w);
	return rc;
}

/*
 * Write finished members in order.  While more than `keep` members are in
 * flight, wait for the oldest; past that, write only those already done.
 */
static int flush_done(struct qb_gzw *w, uint64_t keep)
{
	for (;;) {
		struct slot *s;
		bool ready;
		int rc;

		pthread_mutex_lock(&w->mu);
		s = &w->slots[w->head % w->nslots];
		while (w->tail - w->head > keep && s->state != SLOT_DONE)
			pthread_cond_wait(&w->done_cv, &w->mu);
		ready = w->head != w->tail && s->state == SLOT_DONE;
		pthread_mutex_unlock(&w->mu);
		if (!ready)
			return QB_OK;
		if (s->out_len == 0) {
			qb_err_set(&w->err, QB_EINTERNAL, "gzip compression of a block failed");
			return fail(w, QB_EINTERNAL);
		}
		qb_err_clear(&w->err);
		rc = w->sink(w->ud, s->out, s->out_len, &w->err);
		if (rc != QB_OK)
			return fail(w, rc);
		w->bytes_out += s->out_len;
		s->state = SLOT_FREE;
		s->in_len = 0;
		w->head++;
	}
}

/* Make slot tail free (writing older members as needed) and give it buffers. */
static int start_slot(struct qb_gzw *w)
{
	struct slot *s;
	int rc = flush_done(w, w->nslots - 1);

	if (rc != QB_OK)
		return rc;
	s = &w->slots[w->tail % w->nslots];
	if (!s->in) {
		s->in = malloc(w->block);
		s->out = malloc(w->out_cap);
		if (!s->in || !s->out) {
			qb_err_set(&w->err, QB_ENOMEM, "unable to allocate a gzip block");
			return fail(w, QB_ENOMEM);
		}
	}
	w->filling = true;
	return QB_OK;
}

static void submit(struct qb_gzw *w)
{
	pthread_mutex_lock(&w->mu);
	w->slots[w->tail % w->nslots].state = SLOT_QUEUED;
	w->tail++;
	pthread_cond_signal(&w->work_cv);
	pthread_mutex_unlock(&w->mu);
	w->filling = false;
}

static int online_cores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (int)n;
}

int qb_gzw_new(struct qb_gzw **out, qb_sink_fn sink, void *ud, int level, int threads,
	       struct qb_err *err)
{
	struct qb_gzw *w;
	int rc;

	*out = NULL;
	if (!sink)
		return qb_err_set(err, QB_EARG, "gzip writer needs a sink");
	if (level < 1 || level > 12)
		return qb_err_set(err, QB_EARG, "gzip level %d is out of range 1..12", level);
	if (threads < 0 || threads > MAX_THREADS)
		return qb_err_set(err, QB_EARG, "gzip thread count %d is out of range 0..%d",
				  threads, MAX_THREADS);
	w = calloc(1, sizeof(*w));
	if (!w)
		return qb_err_set(err, QB_ENOMEM, "unable to allocate a gzip writer");
	w->mu = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	w->work_cv = (pthread_cond_t)PTHREAD_COND_INITIALIZER;
	w->done_cv = (pthread_cond_t)PTHREAD_COND_INITIALIZER;
	w->sink = sink;
	w->ud = ud;
	w->block = QB_GZ_BLOCK;
	w->nworkers = threads ? threads : online_cores();
	w->nslots = (size_t)w->nworkers * SLOTS_PER_THREAD;
	w->workers = calloc((size_t)w->nworkers, sizeof(*w->workers));
	w->slots = calloc(w->nslots, sizeof(*w->slots));
	if (!w->workers || !w->slots) {
		rc = qb_err_set(err, QB_ENOMEM, "unable to allocate a gzip writer");
		goto out;
	}
	for (int i = 0; i < w->nworkers; i++) {
		w->workers[i].w = w;
		w->workers[i].c = libdeflate_alloc_compressor(level);
		if (!w->workers[i].c) {
			rc = qb_err_set(err, QB_ENOMEM, "unable to allocate a gzip compressor");
			goto out;
		}
	}
	w->out_cap = libdeflate_gzip_compress_bound(w->workers[0].c, w->block) + MEMBER_EXTRA;
	for (int i = 0; i < w->nworkers; i++) {
		int e = pthread_create(&w->workers[i].tid, NULL, work, &w->workers[i]);

		if (e) {
			rc = qb_err_sys(err, QB_EINTERNAL, e, "unable to start a gzip thread");
			goto out;
		}
		w->workers[i].started = true;
	}
	*out = w;
	return QB_OK;
out:
	qb_gzw_free(w);
	return rc;
}

int qb_gzw_write(struct qb_gzw *w, const void *p, size_t n, struct qb_err *err)
{
	const unsigned char *src = p;

	if (w->rc != QB_OK)
		return sticky(w, err);
	if (w->finished)
		return qb_err_set(err, QB_EARG, "gzip writer is already finished");
	while (n > 0) {
		struct slot *s;
		size_t take;

		if (!w->filling && start_slot(w) != QB_OK)
			return sticky(w, err);
		s = &w->slots[w->tail % w->nslots];
		take = w->block - s->in_len < n ? w->block - s->in_len : n;
		memcpy(s->in + s->in_len, src, take);
		s->in_len += take;
		w->bytes_in += take;
		src += take;
		n -= take;
		if (s->in_len == w->block)
			submit(w);
	}
	return QB_OK;
}

int qb_gzw_finish(struct qb_gzw *w, struct qb_err *err)
{
	if (w->rc != QB_OK)
		return sticky(w, err);
	if (w->finished)
		return QB_OK;
	/* An empty input still gets one (empty) member: a file of zero bytes is not gzip. */
	if (!w->filling && w->tail == 0 && start_slot(w) != QB_OK)
		return sticky(w, err);
	if (w->filling)
		submit(w);
	if (flush_done(w, 0) != QB_OK)
		return sticky(w, err);
	stop_workers(w);
	w->finished = true;
	return QB_OK;
}

uint64_t qb_gzw_bytes_in(const struct qb_gzw *w)
{
	return w->bytes_in;
}

uint64_t qb_gzw_bytes_out(const struct qb_gzw *w)
{
	return w->bytes_out;
}

void qb_gzw_free(struct qb_gzw *w)
{
	if (!w)
		return;
	if (w->workers)
		stop_workers(w);
	for (size_t i = 0; w->slots && i < w->nslots; i++) {
		free(w->slots[i].in);
		free(w->slots[i].out);
	}
	for (int i = 0; w->workers && i < w->nworkers; i++)
		libdeflate_free_compressor(w->workers[i].c);
	pthread_cond_destroy(&w->done_cv);
	pthread_cond_destroy(&w->work_cv);
	pthread_mutex_destroy(&w->mu);
	free(w->slots);
	free(w->workers);
	free(w);
}
