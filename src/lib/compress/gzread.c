/*
 * gzread.c - the checked gzip reader of gz.h (zlib).
 *
 * zlib in gzip mode verifies each member's CRC-32 and ISIZE; after each
 * Z_STREAM_END the reader resets the stream, so that whatever follows must be
 * another whole member: trailing bytes that are not one are reported as
 * corrupt, never silently dropped.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "qb/gz.h"

#define IN_CAP (256u << 10)

struct qb_gzr {
	int fd;
	z_stream zs;       /* next_in/avail_in also hold the buffered bytes of a plain file */
	bool zinit, is_gzip, eof, in_member, done;
	unsigned char *in;
	uint64_t bytes_in;
	int rc;            /* sticky: once set, every read returns it */
	struct qb_err err;
};

static int fail(struct qb_gzr *r, struct qb_err *err)
{
	r->rc = r->err.code;
	if (err)
		*err = r->err;
	return r->rc;
}

/* Append what one read() gives to the buffered input; sets eof at the end. */
static int fill(struct qb_gzr *r)
{
	ssize_t n;

	if (r->zs.avail_in && r->zs.next_in != r->in)
		memmove(r->in, r->zs.next_in, r->zs.avail_in);
	r->zs.next_in = r->in;
	do
		n = read(r->fd, r->in + r->zs.avail_in, IN_CAP - r->zs.avail_in);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return qb_err_sys(&r->err, QB_EIO, errno, "unable to read gzip input");
	if (n == 0)
		r->eof = true;
	r->zs.avail_in += (uInt)n;
	return QB_OK;
}

int qb_gzr_new(struct qb_gzr **out, int fd, struct qb_err *err)
{
	struct qb_gzr *r;
	int rc = QB_OK;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r || !(r->in = malloc(IN_CAP))) {
		rc = qb_err_set(err, QB_ENOMEM, "unable to allocate a gzip reader");
		goto out;
	}
	r->fd = fd;
	/* A short read (pipe) must not make a gzip file look plain. */
	while (r->zs.avail_in < 2 && !r->eof)
		if (fill(r) != QB_OK) {
			rc = fail(r, err);
			goto out;
		}
	r->is_gzip = r->zs.avail_in >= 2 && r->in[0] == 0x1f && r->in[1] == 0x8b;
	if (r->is_gzip) {
		/* 16 + MAX_WBITS: gzip wrapper only, with CRC-32 and length checks. */
		int zrc = inflateInit2(&r->zs, 16 + MAX_WBITS);

		if (zrc != Z_OK) {
			rc = qb_err_set(err, zrc == Z_MEM_ERROR ? QB_ENOMEM : QB_EINTERNAL,
					"unable to start gzip decompression");
			goto out;
		}
		r->zinit = true;
		r->in_member = true;
	}
	*out = r;
	return QB_OK;
out:
	qb_gzr_free(r);
	return rc;
}

static int read_plain(struct qb_gzr *r, unsigned char *p, size_t cap, size_t *got)
{
	ssize_t n;

	if (r->zs.avail_in) {
		n = (ssize_t)(r->zs.avail_in < cap ? r->zs.avail_in : cap);
		memcpy(p, r->zs.next_in, (size_t)n);
		r->zs.next_in += n;
		r->zs.avail_in -= (uInt)n;
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

static int read_gzip(struct qb_gzr *r, unsigned char *p, size_t cap, size_t *got)
{
	uInt avail = cap > UINT_MAX ? UINT_MAX : (uInt)cap;

	while (!r->done) {
		uInt before;
		int zrc;

		if (r->zs.avail_in == 0 && !r->eof && fill(r) != QB_OK)
			return r->err.code;
		if (!r->in_member) {
			if (r->zs.avail_in == 0) {
				r->done = true;
				break;
			}
			inflateReset(&r->zs);
			r->in_member = true;
		}
		r->zs.next_out = p;
		r->zs.avail_out = avail;
		before = r->zs.avail_in;
		zrc = inflate(&r->zs, Z_NO_FLUSH);
		r->bytes_in += before - r->zs.avail_in;
		*got = avail - r->zs.avail_out;
		if (zrc == Z_STREAM_END)
			r->in_member = false;
		else if (zrc == Z_DATA_ERROR)
			return qb_err_set(&r->err, QB_ECORRUPT, "gzip data is corrupt: %s",
					  r->zs.msg ? r->zs.msg : "invalid data");
		else if (zrc == Z_MEM_ERROR)
			return qb_err_set(&r->err, QB_ENOMEM, "out of memory in gzip decompression");
		else if (zrc != Z_OK && zrc != Z_BUF_ERROR)
			return qb_err_set(&r->err, QB_EINTERNAL, "gzip decompression failed (%d)",
					  zrc);
		if (*got)
			break;
		if (r->in_member && r->zs.avail_in == 0 && r->eof)
			return qb_err_set(&r->err, QB_ECORRUPT, "gzip data is truncated");
	}
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

uint64_t qb_gzr_bytes_in(const struct qb_gzr *r)
{
	return r->bytes_in;
}

void qb_gzr_free(struct qb_gzr *r)
{
	if (!r)
		return;
	if (r->zinit)
		inflateEnd(&r->zs);
	free(r->in);
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
	buf = malloc(IN_CAP);
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
		rc = qb_gzr_read(r, buf, IN_CAP, &got, err);
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
