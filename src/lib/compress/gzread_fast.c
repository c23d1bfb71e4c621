/*
 * gzread_fast.c - the gzip stream decoder of gz_int.h.
 *
 * libdeflate decompresses a member in one call, about twice as fast as zlib,
 * but only when the whole member is in memory and its output fits the room
 * given; it reports success only for a member that ended inside the buffer
 * with the right CRC-32 and ISIZE.  The input buffer is therefore kept
 * holding at least FAST_IN_MIN bytes (more than any member qb_gzw writes can
 * take) unless the input ends first, and the output room is one qb_gzw block.
 * Any failure - a member bigger than that, cut short, or damaged - goes over
 * to zlib, starting again at that member's first byte and streaming to the
 * end of the file: zlib handles members of any size, and it decides, with
 * the same messages as ever, what is truncated and what is corrupt.
 */
#include <errno.h>
#include <libdeflate.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "gz_int.h"

/*
 * A qb_gzw member holds at most QB_GZ_BLOCK bytes; libdeflate's bound on its
 * compressed size adds 5 bytes per few thousand (under 5 KiB for 4 MiB) and
 * the gzip wrapper 18: a sixteenth more is ample.
 */
#define FAST_IN_MIN ((size_t)QB_GZ_BLOCK + QB_GZ_BLOCK / 16)
/* Room to read big pieces past the part kept: memmove stays small beside inflate. */
#define IN_CAP ((size_t)2 * QB_GZ_BLOCK)
#define GZIP_FHCRC 0x02

struct gzdec {
	int fd;
	unsigned char *in;
	size_t pos, len;            /* in[pos, len): read and not yet consumed */
	bool eof;
	struct libdeflate_decompressor *ld;
	bool slow;                  /* zlib from here to the end */
	bool zinit, in_member;
	z_stream zs;
	uint64_t bytes_in, fast_members;
};

int gzdec_new(struct gzdec **out, int fd, const void *head, size_t n, struct qb_err *err)
{
	struct gzdec *d;

	*out = NULL;
	if (n > IN_CAP)
		return qb_err_set(err, QB_EINTERNAL, "gzip decoder given %zu bytes to start", n);
	d = calloc(1, sizeof(*d));
	if (!d || !(d->in = malloc(IN_CAP)) || !(d->ld = libdeflate_alloc_decompressor())) {
		gzdec_free(d);
		return qb_err_set(err, QB_ENOMEM, "unable to allocate a gzip reader");
	}
	d->fd = fd;
	if (n > 0)
		memcpy(d->in, head, n);
	d->len = n;
	*out = d;
	return QB_OK;
}

/* Read until at least `want` bytes are buffered or the input ends. */
static int fill(struct gzdec *d, size_t want, struct qb_err *err)
{
	if (d->pos > 0) {
		memmove(d->in, d->in + d->pos, d->len - d->pos);
		d->len -= d->pos;
		d->pos = 0;
	}
	while (d->len < want && !d->eof) {
		ssize_t n = read(d->fd, d->in + d->len, IN_CAP - d->len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return qb_err_sys(err, QB_EIO, errno, "unable to read gzip input");
		if (n == 0)
			d->eof = true;
		d->len += (size_t)n;
	}
	return QB_OK;
}

static int start_zlib(struct gzdec *d, struct qb_err *err)
{
	/* 16 + MAX_WBITS: gzip wrapper only, with CRC-32 and length checks. */
	int zrc = inflateInit2(&d->zs, 16 + MAX_WBITS);

	if (zrc != Z_OK)
		return qb_err_set(err, zrc == Z_MEM_ERROR ? QB_ENOMEM : QB_EINTERNAL,
				  "unable to start gzip decompression");
	d->zinit = true;
	return QB_OK;
}

/*
 * zlib: stream into out until it is full, the input ends, or the buffered
 * input is used up with something to give (a pipe need not be waited on).
 * After each member's end the stream is reset, so whatever follows must be
 * another whole member: trailing bytes that are not one are reported as
 * corrupt, never silently dropped.
 */
static int next_slow(struct gzdec *d, unsigned char *out, size_t cap, size_t *len,
		     struct qb_err *err)
{
	size_t done = 0;

	while (done < cap) {
		size_t avail;
		int zrc;

		if (d->pos == d->len && done == 0 && !d->eof && fill(d, 1, err) != QB_OK)
			return err->code;
		/* Give what there is; or the end, after a whole member. */
		if (d->pos == d->len && (done > 0 || !d->in_member))
			break;
		if (!d->in_member) {
			inflateReset(&d->zs);
			d->in_member = true;
		}
		avail = d->len - d->pos;
		d->zs.next_in = d->in + d->pos;
		d->zs.avail_in = (uInt)avail;
		d->zs.next_out = out + done;
		d->zs.avail_out = cap - done > UINT_MAX ? UINT_MAX : (uInt)(cap - done);
		zrc = inflate(&d->zs, Z_NO_FLUSH);
		d->pos += avail - d->zs.avail_in;
		d->bytes_in += avail - d->zs.avail_in;
		done = (size_t)(d->zs.next_out - out);
		if (zrc == Z_STREAM_END)
			d->in_member = false;
		else if (zrc == Z_DATA_ERROR)
			return qb_err_set(err, QB_ECORRUPT, "gzip data is corrupt: %s",
					  d->zs.msg ? d->zs.msg : "invalid data");
		else if (zrc == Z_MEM_ERROR)
			return qb_err_set(err, QB_ENOMEM, "out of memory in gzip decompression");
		else if (zrc != Z_OK && zrc != Z_BUF_ERROR)
			return qb_err_set(err, QB_EINTERNAL, "gzip decompression failed (%d)", zrc);
		else if (d->pos == d->len && d->eof)
			/* All input taken, the member not ended: its trailer is missing. */
			return qb_err_set(err, QB_ECORRUPT, "gzip data is truncated");
	}
	*len = done;
	return QB_OK;
}

int gzdec_next(struct gzdec *d, unsigned char *out, size_t cap, size_t *len, struct qb_err *err)
{
	*len = 0;
	if (cap == 0 || (cap < GZDEC_OUT_MIN && !d->slow))
		return qb_err_set(err, QB_EINTERNAL, "gzip decoder given %zu bytes of room", cap);
	while (!d->slow) {
		size_t used = 0, n = 0;

		if (d->len - d->pos < FAST_IN_MIN && !d->eof && fill(d, FAST_IN_MIN, err) != QB_OK)
			return err->code;
		if (d->pos == d->len)
			return QB_OK;       /* the end, after a whole member */
		/* libdeflate skips a header CRC; zlib checks it. */
		if (d->len - d->pos < 4 || (d->in[d->pos + 3] & GZIP_FHCRC) ||
		    libdeflate_gzip_decompress_ex(d->ld, d->in + d->pos, d->len - d->pos, out,
						  GZDEC_OUT_MIN, &used, &n) != LIBDEFLATE_SUCCESS) {
			d->slow = true;
			break;
		}
		d->pos += used;
		d->bytes_in += used;
		d->fast_members++;
		if (n > 0) {
			*len = n;
			return QB_OK;
		}
	}
	if (!d->zinit && start_zlib(d, err) != QB_OK)
		return err->code;
	return next_slow(d, out, cap, len, err);
}

bool gzdec_streaming(const struct gzdec *d)
{
	return d->slow;
}

uint64_t gzdec_bytes_in(const struct gzdec *d)
{
	return d->bytes_in;
}

void gzdec_stats(const struct gzdec *d, uint64_t *fast_members, bool *slow)
{
	*fast_members = d->fast_members;
	*slow = d->slow;
}

void gzdec_free(struct gzdec *d)
{
	if (!d)
		return;
	if (d->zinit)
		inflateEnd(&d->zs);
	libdeflate_free_decompressor(d->ld);
	free(d->in);
	free(d);
}
