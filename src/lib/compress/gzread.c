/*
 * gzread.c - the checked gzip reader of gz.h.
 *
 * The first two bytes decide: with the gzip magic, the decoder of gz_int.h
 * (gzread_fast.c) gives the stream back a piece at a time, every member
 * checked; without it, the bytes pass through unchanged.  A read with room
 * for a whole piece, or any read once zlib streams, is decoded straight into
 * the caller's buffer; other reads are served from a piece kept here.
 *
 * No thread decodes ahead by default: the restore pass and the tar reader
 * share the machine with a busier consumer (the database server, the disk),
 * and a second thread measured slower there.  A reader that is itself the
 * bottleneck (the dump's check pass) asks for qb_gzr_parallel().
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "gz_int.h"
#include "qb/gz.h"

#define HEAD_CAP (64u << 10)

struct qb_gzr {
	int fd;
	bool is_gzip, done;
	unsigned char *head;        /* the first bytes read, given back first by a plain file */
	size_t head_pos, head_len;
	struct gzdec *dec;
	unsigned char *piece;       /* a piece decoded for small reads: [pos, len) still to give */
	size_t piece_pos, piece_len;
	uint64_t bytes_in;
	int rc;                     /* sticky: once set, every read returns it */
	struct qb_err err;
};

static int fail(struct qb_gzr *r, struct qb_err *err)
{
	r->rc = r->err.code;
	if (err)
		*err = r->err;
	return r->rc;
}

int qb_gzr_new(struct qb_gzr **out, int fd, struct qb_err *err)
{
	struct qb_gzr *r;
	int rc = QB_OK;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r || !(r->head = malloc(HEAD_CAP))) {
		rc = qb_err_set(err, QB_ENOMEM, "unable to allocate a gzip reader");
		goto out;
	}
	r->fd = fd;
	/* A short read (pipe) must not make a gzip file look plain. */
	while (r->head_len < 2) {
		ssize_t n = read(fd, r->head + r->head_len, HEAD_CAP - r->head_len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = qb_err_sys(err, QB_EIO, errno, "unable to read gzip input");
			goto out;
		}
		if (n == 0)
			break;
		r->head_len += (size_t)n;
	}
	r->is_gzip = r->head_len >= 2 && r->head[0] == 0x1f && r->head[1] == 0x8b;
	if (r->is_gzip) {
		rc = gzdec_new(&r->dec, fd, r->head, r->head_len, err);
		if (rc != QB_OK)
			goto out;
		free(r->head);
		r->head = NULL;
		r->head_len = 0;
	}
	*out = r;
	return QB_OK;
out:
	qb_gzr_free(r);
	return rc;
}

void qb_gzr_parallel(struct qb_gzr *r)
{
	if (r->dec)
		gzdec_parallel(r->dec, true);
}

static int read_plain(struct qb_gzr *r, unsigned char *p, size_t cap, size_t *got)
{
	ssize_t n;

	if (r->head_pos < r->head_len) {
		n = (ssize_t)(r->head_len - r->head_pos < cap ? r->head_len - r->head_pos : cap);
		memcpy(p, r->head + r->head_pos, (size_t)n);
		r->head_pos += (size_t)n;
	} else {
		do
			n = read(r->fd, p, cap);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return qb_err_sys(&r->err, QB_EIO, errno, "unable to read input");
	}
	r->bytes_in += (uint64_t)n;
	*got = (size_t)n;
	return QB_OK;
}

/* Decode the next piece into buf (room for one at least); sets done at the end. */
static int decode(struct qb_gzr *r, unsigned char *buf, size_t cap, size_t *n)
{
	if (gzdec_next(r->dec, buf, cap, n, &r->err) != QB_OK)
		return r->err.code;
	r->bytes_in = gzdec_bytes_in(r->dec);
	r->done = *n == 0;
	return QB_OK;
}

static int read_gzip(struct qb_gzr *r, unsigned char *p, size_t cap, size_t *got)
{
	size_t n;

	while (r->piece_pos == r->piece_len) {
		if (r->done)
			return QB_OK;
		if (cap >= GZDEC_OUT_MIN || gzdec_streaming(r->dec))
			return decode(r, p, cap, got);
		if (!r->piece && !(r->piece = malloc(GZDEC_OUT_MIN)))
			return qb_err_set(&r->err, QB_ENOMEM, "unable to allocate a gzip buffer");
		r->piece_pos = r->piece_len = 0;
		if (decode(r, r->piece, GZDEC_OUT_MIN, &r->piece_len) != QB_OK)
			return r->err.code;
	}
	n = r->piece_len - r->piece_pos < cap ? r->piece_len - r->piece_pos : cap;
	memcpy(p, r->piece + r->piece_pos, n);
	r->piece_pos += n;
	*got = n;
	return QB_OK;
}

int qb_gzr_read(struct qb_gzr *r, void *p, size_t cap, size_t *got, struct qb_err *err)
{
	*got = 0;
	if (r->rc != QB_OK)
		return fail(r, err);
	if (cap == 0)
		return qb_err_set(err, QB_EARG, "gzip read needs room for at least one byte");
	if ((r->is_gzip ? read_gzip : read_plain)(r, p, cap, got) != QB_OK) {
		*got = 0;
		return fail(r, err);
	}
	return QB_OK;
}

bool qb_gzr_is_gzip(const struct qb_gzr *r)
{
	return r->is_gzip;
}

int qb_gzr_check_name(const struct qb_gzr *r, const char *name, struct qb_err *err)
{
	size_t n = strlen(name);

	if (r->is_gzip || n < 3 || strcasecmp(name + n - 3, ".gz"))
		return QB_OK;
	if (!r->head_len)
		return qb_err_set(err, QB_ECORRUPT, "'%s' is named .gz but is empty (damaged?)", name);
	return qb_err_set(err, QB_ECORRUPT, "'%s' is named .gz but is not gzip data (damaged?)", name);
}

uint64_t qb_gzr_bytes_in(const struct qb_gzr *r)
{
	return r->bytes_in;
}

void qb_gzr_free(struct qb_gzr *r)
{
	if (!r)
		return;
	gzdec_free(r->dec);
	free(r->piece);
	free(r->head);
	free(r);
}

int qb_gz_check_file(const char *path, uint64_t *raw_bytes, struct qb_err *err)
{
	struct qb_gzr *r = NULL;
	unsigned char *buf = NULL;
	uint64_t total = 0;
	size_t got;
	int fd, rc;

	if (raw_bytes)
		*raw_bytes = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return qb_err_sys(err, errno == ENOENT ? QB_ENOTFOUND : QB_EIO, errno,
				  "unable to open '%s'", path);
	/* Room for a whole piece: decoded in place, no copy. */
	buf = malloc(GZDEC_OUT_MIN);
	if (!buf) {
		rc = qb_err_set(err, QB_ENOMEM, "unable to allocate a buffer to check '%s'", path);
		goto out;
	}
	rc = qb_gzr_new(&r, fd, err);
	if (rc != QB_OK)
		goto out;
	if (!qb_gzr_is_gzip(r)) {
		rc = qb_err_set(err, QB_ECORRUPT, "'%s' is not gzip data", path);
		goto out;
	}
	do {
		rc = qb_gzr_read(r, buf, GZDEC_OUT_MIN, &got, err);
		total += got;
	} while (rc == QB_OK && got > 0);
	if (rc == QB_OK && raw_bytes)
		*raw_bytes = total;
out:
	if (rc != QB_OK && err && !strstr(err->msg, path))
		qb_err_prefix(err, "'%s'", path);
	qb_gzr_free(r);
	free(buf);
	close(fd);
	return rc;
}
