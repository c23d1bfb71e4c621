/*
 * fuzz_gzround.c - qb_gzw then qb_gzr and zlib give the input back exactly.
 *
 * Input: level, threads, a size class, a compressibility, then the seed of
 * the data and of the write sizes.  Sizes are small (up to 64 KiB), or near
 * one, two or three blocks (QB_GZ_BLOCK) so that files of several members and
 * the member boundaries are reached; the data mixes bytes of the input,
 * random bytes, runs and copies from earlier.
 *
 * Asserted: bytes_in and bytes_out count what was written; the file has one
 * member per block started (one for empty input), each carrying its own
 * length in its "QB" field; our reader (serially, small reads, and in
 * qb_gzr_parallel mode, big reads), zlib and qb_gz_check_file all give back
 * exactly the input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "qb/gz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define B ((size_t)QB_GZ_BLOCK)

struct bytes {
	unsigned char *p;
	size_t len, cap;
};

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_gzround: %s\n", what);
	abort();
}

static int sink(void *ud, const void *p, size_t n, struct qb_err *err)
{
	struct bytes *b = ud;

	(void)err;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 65536;

		while (cap < b->len + n)
			cap *= 2;
		if (!(b->p = realloc(b->p, cap)))
			abort();
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return QB_OK;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* n bytes, compressibility c (0: random, 255: mostly runs and copies). */
static void gen(unsigned char *p, size_t n, unsigned c, const uint8_t *src, size_t nsrc,
		uint64_t *s)
{
	size_t i = 0;

	while (i < n) {
		uint64_t r = rnd(s);
		size_t run = 1 + (size_t)(r >> 8) % 300, k = r & 0xff;

		run = run < n - i ? run : n - i;
		if (k < c / 2) {
			memset(p + i, (int)(r >> 40), run);
		} else if (k < c && i > 0) {
			size_t from = (size_t)(r >> 20) % i;

			for (size_t j = 0; j < run; j++)
				p[i + j] = p[from + j];     /* overlapping, like LZ77 */
		} else if (nsrc && (k & 1)) {
			for (size_t j = 0; j < run; j++)
				p[i + j] = src[(i + j) % nsrc];
		} else {
			for (size_t j = 0; j < run; j++)
				p[i + j] = (unsigned char)(rnd(s) >> 32);
		}
		i += run;
	}
}

static void read_back(int fd, bool parallel, size_t cap, const unsigned char *want, size_t n,
		      unsigned char *buf)
{
	struct qb_err err = {0};
	struct qb_gzr *r = NULL;
	size_t got, at = 0;
	int rc;

	if (lseek(fd, 0, SEEK_SET) != 0 || qb_gzr_new(&r, fd, &err) != QB_OK)
		fail("qb_gzr_new failed");
	if (!qb_gzr_is_gzip(r))
		fail("qb_gzw wrote no gzip magic");
	if (parallel)
		qb_gzr_parallel(r);
	while ((rc = qb_gzr_read(r, buf, cap, &got, &err)) == QB_OK && got > 0) {
		if (at + got > n || memcmp(buf, want + at, got))
			fail("qb_gzr gives other bytes than were written");
		at += got;
	}
	if (rc != QB_OK) {
		fprintf(stderr, "%s\n", err.msg);
		fail("qb_gzr refuses what qb_gzw wrote");
	}
	if (at != n)
		fail("qb_gzr gives fewer bytes than were written");
	qb_gzr_free(r);
}

static void zlib_back(const struct bytes *z, const unsigned char *want, size_t n,
		      unsigned char *buf)
{
	z_stream zs = {0};
	size_t pos = 0, at = 0;

	if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
		abort();
	while (pos < z->len) {
		int zrc = Z_OK;

		inflateReset(&zs);
		zs.next_in = z->p + pos;
		zs.avail_in = (uInt)(z->len - pos);
		while (zrc == Z_OK) {
			zs.next_out = buf;
			zs.avail_out = 1 << 20;
			zrc = inflate(&zs, Z_NO_FLUSH);
			if (at + (1u << 20) - zs.avail_out > n ||
			    memcmp(buf, want + at, (1u << 20) - zs.avail_out))
				fail("zlib gives other bytes than were written");
			at += (1u << 20) - zs.avail_out;
		}
		if (zrc != Z_STREAM_END)
			fail("zlib refuses what qb_gzw wrote");
		pos = z->len - zs.avail_in;
	}
	inflateEnd(&zs);
	if (at != n)
		fail("zlib gives fewer bytes than were written");
}

/* Every member says its own length, and there are as many as blocks started. */
static void check_members(const struct bytes *z, size_t n)
{
	size_t pos = 0, members = 0;

	while (pos < z->len) {
		const unsigned char *p = z->p + pos;
		size_t len;

		if (z->len - pos < 28 || p[0] != 0x1f || p[1] != 0x8b || p[3] != 4 ||
		    p[12] != 'Q' || p[13] != 'B')
			fail("member without qb_gzw's header");
		len = (size_t)p[16] | (size_t)p[17] << 8 | (size_t)p[18] << 16 |
		      (size_t)p[19] << 24;
		if (len < 28 || len > z->len - pos)
			fail("member length field out of the file");
		pos += len;
		members++;
	}
	if (members != (n ? (n + B - 1) / B : 1))
		fail("not one member per block");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char *buf;
	struct bytes z = {0};
	struct qb_err err = {0};
	struct qb_gzw *w;
	unsigned char *in;
	size_t n, off;
	uint64_t s = 0x9e3779b97f4a7c15u, raw = 0;
	int level, threads, fd;
	char path[64];

	if (size < 4)
		return 0;
	if (!buf && !(buf = malloc(2 * B + 3)))
		abort();
	level = 1 + data[0] % 12;
	threads = data[1] % 5;
	for (size_t i = 4; i < size && i < 12; i++)
		s = s * 31 + data[i];
	if (data[2] & 0x80) {
		/* Near a block boundary: 1 to 3 blocks, give or take a few bytes. */
		n = (size_t)(1 + data[2] % 3) * B + (size_t)(data[2] >> 3 & 0x7) - 4;
		if (level > 6)
			level = 1 + level % 6;      /* keep a run short */
	} else {
		n = ((size_t)(data[2] & 0x7f) << 9 | (size_t)data[3] << 1) % (64u << 10);
	}
	in = malloc(n ? n : 1);
	if (!in)
		abort();
	gen(in, n, data[3], data + 4, size - 4, &s);

	if (qb_gzw_new(&w, sink, &z, level, threads, &err) != QB_OK)
		fail("qb_gzw_new failed");
	for (off = 0; off < n;) {
		size_t k = (size_t)(rnd(&s) % 4 == 0 ? rnd(&s) % (2 * B) : rnd(&s) % 70000);

		k = k < n - off ? k : n - off;
		if (qb_gzw_write(w, in + off, k, &err) != QB_OK)
			fail("qb_gzw_write failed");
		off += k;
	}
	if (qb_gzw_finish(w, &err) != QB_OK)
		fail("qb_gzw_finish failed");
	if (qb_gzw_bytes_in(w) != n || qb_gzw_bytes_out(w) != z.len)
		fail("qb_gzw counts other bytes than it took and gave");
	qb_gzw_free(w);
	check_members(&z, n);

	fd = memfd_create("fuzz_gzround", 0);
	if (fd < 0 || write(fd, z.p, z.len) != (ssize_t)z.len)
		abort();
	read_back(fd, false, 1 + (size_t)(rnd(&s) % 70000), in, n, buf);
	read_back(fd, true, rnd(&s) % 2 ? B : 2 * B + 3, in, n, buf);
	zlib_back(&z, in, n, buf);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (qb_gz_check_file(path, &raw, &err) != QB_OK || raw != n)
		fail("qb_gz_check_file refuses what qb_gzw wrote");
	close(fd);
	free(in);
	free(z.p);
	return 0;
}
