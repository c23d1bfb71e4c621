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
 *
 * One known difference is left: libdeflate decodes the reserved length
 * symbols 286-287 and distance codes 30-31, which zlib refuses.  No encoder
 * writes them, and libdeflate still takes a member only with its CRC-32 and
 * ISIZE right, so a file that has them is not damage: the bytes given back
 * are those the member's checksum vouches for (fuzz/fuzz_gzdiff.c allows it).
 *
 * In parallel mode (gzdec_parallel) a member whose header gives its length
 * (qb_gzw's "QB" extra field) lets the next member, when it is already
 * buffered, be inflated on a second thread at the same time; it is handed
 * out at the next call.  A member that thread cannot inflate is simply
 * decoded again here, so errors are found and worded the same way.
 */
#include <errno.h>
#include <libdeflate.h>
#include <limits.h>
#include <pthread.h>
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
#define GZIP_FEXTRA 0x04

/* The member after the one being decoded, inflated on a second thread. */
struct ahead {
	bool active;                /* a thread runs (or ran) and is not joined */
	pthread_t thread;
	struct libdeflate_decompressor *ld;
	unsigned char *in, *out;
	size_t offset;              /* where it starts, after the member being decoded */
	size_t in_len, used, n;
	bool ok;
};

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
	bool parallel;
	struct ahead ah;
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

/* The length a qb_gzw member's header gives itself, or 0. */
static size_t member_length(const unsigned char *p, size_t avail)
{
	size_t n;

	if (avail < 20 || p[0] != 0x1f || p[1] != 0x8b || p[2] != 8 || p[3] != GZIP_FEXTRA ||
	    p[10] != 8 || p[11] != 0 || p[12] != 'Q' || p[13] != 'B' || p[14] != 4 || p[15] != 0)
		return 0;
	n = (size_t)p[16] | (size_t)p[17] << 8 | (size_t)p[18] << 16 | (size_t)p[19] << 24;
	return n >= 28 ? n : 0;
}

static void *ahead_main(void *arg)
{
	struct ahead *a = arg;

	a->ok = libdeflate_gzip_decompress_ex(a->ld, a->in, a->in_len, a->out, GZDEC_OUT_MIN,
					      &a->used, &a->n) == LIBDEFLATE_SUCCESS && a->used == a->in_len;
	return NULL;
}

/* Start inflating the member after the one at d->pos, if both say their length. */
static void ahead_start(struct gzdec *d)
{
	struct ahead *a = &d->ah;
	size_t avail = d->len - d->pos, first = member_length(d->in + d->pos, avail), second;

	if (!first || first >= avail)
		return;
	second = member_length(d->in + d->pos + first, avail - first);
	if (!second || second > avail - first)
		return;
	if (!a->ld && !(a->ld = libdeflate_alloc_decompressor()))
		return;
	if (!a->in && !(a->in = malloc(IN_CAP)))
		return;
	if (!a->out && !(a->out = malloc(GZDEC_OUT_MIN)))
		return;
	memcpy(a->in, d->in + d->pos + first, second);
	a->offset = first;
	a->in_len = second;
	a->active = pthread_create(&a->thread, NULL, ahead_main, a) == 0;
}

static void ahead_drop(struct ahead *a)
{
	if (a->active)
		pthread_join(a->thread, NULL);
	a->active = false;
}

/* The member inflated ahead, if it succeeded: given out as the next piece. */
static bool ahead_take(struct gzdec *d, unsigned char *out, size_t *len)
{
	struct ahead *a = &d->ah;

	if (!a->active)
		return false;
	ahead_drop(a);
	if (!a->ok)
		return false;   /* decoded again by the caller, which words the error */
	memcpy(out, a->out, a->n);
	d->pos += a->used;
	d->bytes_in += a->used;
	d->fast_members++;
	*len = a->n;
	return true;
}

void gzdec_parallel(struct gzdec *d, bool on)
{
	d->parallel = on;
}

int gzdec_next(struct gzdec *d, unsigned char *out, size_t cap, size_t *len, struct qb_err *err)
{
	*len = 0;
	if (cap == 0 || (cap < GZDEC_OUT_MIN && !d->slow))
		return qb_err_set(err, QB_EINTERNAL, "gzip decoder given %zu bytes of room", cap);
	while (!d->slow) {
		size_t used = 0, n = 0;

		if (ahead_take(d, out, &n)) {
			if (n > 0) {
				*len = n;
				return QB_OK;
			}
			continue;
		}
		if (d->len - d->pos < FAST_IN_MIN && !d->eof && fill(d, FAST_IN_MIN, err) != QB_OK)
			return err->code;
		if (d->pos == d->len)
			return QB_OK;       /* the end, after a whole member */
		if (d->parallel)
			ahead_start(d);
		/* libdeflate skips a header CRC; zlib checks it. */
		if (d->len - d->pos < 4 || (d->in[d->pos + 3] & GZIP_FHCRC) ||
		    libdeflate_gzip_decompress_ex(d->ld, d->in + d->pos, d->len - d->pos, out,
						  GZDEC_OUT_MIN, &used, &n) != LIBDEFLATE_SUCCESS) {
			ahead_drop(&d->ah);
			d->slow = true;
			break;
		}
		if (d->ah.active && used != d->ah.offset)
			ahead_drop(&d->ah);   /* the header's length was wrong: not the next member */
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
	ahead_drop(&d->ah);
	libdeflate_free_decompressor(d->ah.ld);
	free(d->ah.in);
	free(d->ah.out);
	if (d->zinit)
		inflateEnd(&d->zs);
	libdeflate_free_decompressor(d->ld);
	free(d->in);
	free(d);
}
