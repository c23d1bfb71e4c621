/*
 * fuzz_gzdiff.c - qb_gzr against zlib on any bytes.
 *
 * Input: an options byte, a read-size seed, then the file.  Options bit 0x10
 * makes the rest a list of members built here (so that checksums are right
 * and the fuzzer reaches the deflate data): each is a control byte, a 2-byte
 * length and that many bytes of raw deflate, wrapped in a gzip header (plain,
 * qb_gzw's "QB" length field, right or wrong, or a name and a header CRC) and
 * a trailer whose CRC-32 and ISIZE are those of what zlib (or, failing it,
 * libdeflate) inflates, unless the control byte spoils them.
 *
 * Asserted, for the file read serially and in qb_gzr_parallel mode, with read
 * sizes that cross qb_gzr's piece size:
 * - a file with the gzip magic is read to its end without error exactly when
 *   zlib (inflateInit2 16 + MAX_WBITS, reset after each member) decodes every
 *   member and nothing follows the last one; the outputs are then identical,
 *   bytes_in is the file's size, and a failure is QB_ECORRUPT and sticks;
 * - a file without the magic (an intended difference: zlib refuses it)
 *   comes back unchanged, as plain bytes;
 * - the other intended difference: libdeflate, which decodes our members,
 *   takes the reserved length symbols 286-287 and distance codes 30-31 that
 *   zlib refuses.  No encoder writes them and a member is still only taken
 *   with its CRC-32 and ISIZE right, so such a file is not damage; when zlib
 *   refuses a file we read for that reason only, nothing more is compared;
 * - qb_gz_check_file agrees: QB_OK with the same length exactly when the
 *   reader ends cleanly on gzip data.
 * libFuzzer's -timeout and -rss_limit_mb catch a hang or a huge allocation
 * (a member claiming a huge ISIZE or "QB" length).
 */
#include <libdeflate.h>
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
#define OUT_MAX ((size_t)64 << 20)     /* larger outputs are not compared */

struct bytes {
	unsigned char *p;
	size_t len, cap;
};

static void put(struct bytes *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;

		while (cap < b->len + n)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (!b->p)
			abort();
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void put_le(struct bytes *b, uint32_t v, int n)
{
	unsigned char c[4];

	for (int i = 0; i < n; i++)
		c[i] = (unsigned char)(v >> (8 * i));
	put(b, c, (size_t)n);
}

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_gzdiff: %s\n", what);
	abort();
}

/* zlib: inflate a raw deflate stream; 1 if it ended, with its output in out. */
static int zlib_raw(const unsigned char *p, size_t n, struct bytes *out)
{
	unsigned char buf[65536];
	z_stream zs = {0};
	int zrc = Z_OK;

	if (inflateInit2(&zs, -MAX_WBITS) != Z_OK)
		abort();
	zs.next_in = (unsigned char *)(uintptr_t)p;
	zs.avail_in = (uInt)n;
	while (zrc == Z_OK && out->len < OUT_MAX) {
		zs.next_out = buf;
		zs.avail_out = sizeof(buf);
		zrc = inflate(&zs, Z_NO_FLUSH);
		put(out, buf, sizeof(buf) - zs.avail_out);
	}
	inflateEnd(&zs);
	return zrc == Z_STREAM_END;
}

/*
 * The reference: every member decoded by zlib, nothing after the last.
 * 1: decoded; 0: refused; -1: the output is too big to compare.
 */
static int zlib_gunzip(const unsigned char *p, size_t n, struct bytes *out, const char **why)
{
	unsigned char buf[65536];
	z_stream zs = {0};
	size_t pos = 0;
	int ok = 0;

	if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
		abort();
	while (pos < n) {
		int zrc = Z_OK;

		ok = 0;
		inflateReset(&zs);
		zs.next_in = (unsigned char *)(uintptr_t)(p + pos);
		zs.avail_in = (uInt)(n - pos);
		while (zrc == Z_OK) {
			if (out->len > OUT_MAX) {
				ok = -1;
				goto out;
			}
			zs.next_out = buf;
			zs.avail_out = sizeof(buf);
			zrc = inflate(&zs, Z_NO_FLUSH);
			put(out, buf, sizeof(buf) - zs.avail_out);
		}
		if (zrc != Z_STREAM_END) {
			*why = zs.msg ? zs.msg : "";
			goto out;
		}
		pos = n - zs.avail_in;
		ok = pos == n;
	}
out:
	inflateEnd(&zs);
	return ok;
}

/* Members built from the fuzzer's deflate data (see the top of the file). */
static void build_members(const unsigned char *p, size_t n, struct bytes *file)
{
	while (n >= 3) {
		unsigned ctl = p[0];
		size_t len = (size_t)p[1] | (size_t)p[2] << 8;
		const unsigned char *defl = p + 3;
		struct bytes plain = {0}, head = {0};
		uint32_t crc, isize;
		size_t used = 0, got = 0;

		p += 3;
		n -= 3;
		len = len < n ? len : n;
		if (zlib_raw(defl, len, &plain)) {
			crc = (uint32_t)crc32(0, plain.p, (uInt)plain.len);
			isize = (uint32_t)plain.len;
		} else {
			struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
			unsigned char *o = malloc(B);

			if (!d || !o)
				abort();
			if (libdeflate_deflate_decompress_ex(d, defl, len, o, B, &used, &got) ==
			    LIBDEFLATE_SUCCESS) {
				crc = (uint32_t)crc32(0, o, (uInt)got);
				isize = (uint32_t)got;
			} else {
				crc = 0;
				isize = 0;
			}
			free(o);
			libdeflate_free_decompressor(d);
		}
		put(&head, "\x1f\x8b\x08", 3);
		switch (ctl & 3) {
		case 0:
			put(&head, "\0\0\0\0\0\0\3", 7);
			break;
		case 1:     /* qb_gzw's header, its length right */
		case 2:     /* ... or claimed from the control byte */
			put(&head, "\4\0\0\0\0\0\3\x08\0QB\4\0", 13);
			put_le(&head, (ctl & 3) == 1 ? (uint32_t)(20 + len + 8) :
				      (uint32_t)(ctl >> 2) * 0x01010101u, 4);
			break;
		default:    /* a name and a header CRC */
			put(&head, "\x0a\0\0\0\0\0\3name", 11);
			put(&head, "", 1);
			put_le(&head, (uint32_t)crc32(0, head.p, (uInt)head.len) & 0xffff, 2);
			break;
		}
		if (ctl & 0x40)
			crc ^= 1;
		if (ctl & 0x80)
			isize = 0xfffffff0u + (ctl & 0xf);
		put(file, head.p, head.len);
		put(file, defl, len);
		put_le(file, crc, 4);
		put_le(file, isize, 4);
		p += len;
		n -= len;
		free(head.p);
		free(plain.p);
	}
}

static const size_t sizes[] = { 1, 3, 100, 4093, 65536, B - 1, B, B + 1, 2 * B + 3 };
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

/* Our reader on fd, reads sized by seed; QB_OK or its error, output in out. */
static int ours(int fd, bool parallel, unsigned seed, unsigned char *buf, struct bytes *out,
		uint64_t *bytes_in, bool *is_gzip)
{
	struct qb_err err = {0}, again = {0};
	struct qb_gzr *r = NULL;
	size_t got, i = seed % NSIZES, step = 1 + seed / NSIZES % 4;
	int rc;

	if (lseek(fd, 0, SEEK_SET) != 0 || qb_gzr_new(&r, fd, &err) != QB_OK)
		fail("qb_gzr_new failed");
	*is_gzip = qb_gzr_is_gzip(r);
	if (parallel)
		qb_gzr_parallel(r);
	while ((rc = qb_gzr_read(r, buf, sizes[i], &got, &err)) == QB_OK && got > 0) {
		if (got > sizes[i])
			fail("read more than asked");
		put(out, buf, got);
		i = (i + step) % NSIZES;
		if (out->len > OUT_MAX)
			break;
	}
	*bytes_in = qb_gzr_bytes_in(r);
	if (rc != QB_OK) {
		if (got != 0)
			fail("bytes given with an error");
		if (qb_gzr_read(r, buf, 1, &got, &again) != rc || got != 0 ||
		    strcmp(again.msg, err.msg))
			fail("error does not stick");
		if (rc != QB_ECORRUPT) {
			fprintf(stderr, "rc %d: %s\n", rc, err.msg);
			fail("a bad file is not QB_ECORRUPT");
		}
	}
	qb_gzr_free(r);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char *buf;
	struct bytes file = {0}, ref = {0}, out[2] = {{0}};
	char path[64];
	uint64_t raw = 0, in[2];
	bool gz[2];
	const char *why = "";
	int fd, zok, rc[2], crc;
	struct qb_err err = {0};

	if (size < 2)
		return 0;
	if (!buf && !(buf = malloc(2 * B + 3)))
		abort();
	if (data[0] & 0x10)
		build_members(data + 2, size - 2, &file);
	else
		put(&file, data + 2, size - 2);

	fd = memfd_create("fuzz_gzdiff", 0);
	if (fd < 0 || (file.len && write(fd, file.p, file.len) != (ssize_t)file.len))
		abort();
	rc[0] = ours(fd, false, data[1], buf, &out[0], &in[0], &gz[0]);
	rc[1] = ours(fd, true, data[1] ^ data[0], buf, &out[1], &in[1], &gz[1]);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	crc = qb_gz_check_file(path, &raw, &err);
	zok = zlib_gunzip(file.p, file.len, &ref, &why);

	if (out[0].len > OUT_MAX || out[1].len > OUT_MAX || zok < 0)
		goto out;
	if (rc[0] != rc[1] || out[0].len != out[1].len ||
	    (out[0].len && memcmp(out[0].p, out[1].p, out[0].len)))
		fail("serial and parallel reads differ");
	if (!gz[0]) {
		if (rc[0] != QB_OK || out[0].len != file.len ||
		    (file.len && memcmp(out[0].p, file.p, file.len)))
			fail("plain bytes do not pass through");
		if (crc != QB_ECORRUPT)
			fail("qb_gz_check_file takes plain bytes");
		goto out;
	}
	/* The second intended difference (see gzread_fast.c). */
	if (rc[0] == QB_OK && zok == 0 && (!strcmp(why, "invalid literal/length code") ||
					   !strcmp(why, "invalid distance code")))
		goto out;
	if ((rc[0] == QB_OK) != (zok == 1)) {
		fprintf(stderr, "ours %d zlib %d (%s)\n", rc[0], zok, why);
		fail("reader and zlib disagree on whether the file is good");
	}
	if (rc[0] == QB_OK) {
		if (ref.len != out[0].len || (ref.len && memcmp(ref.p, out[0].p, ref.len)))
			fail("reader and zlib give different bytes");
		if (in[0] != file.len || in[1] != file.len)
			fail("bytes_in is not the file's size");
	}
	if ((crc == QB_OK) != (rc[0] == QB_OK) || (crc == QB_OK && raw != out[0].len)) {
		fprintf(stderr, "check %d (%s) reader %d\n", crc, err.msg, rc[0]);
		fail("qb_gz_check_file and the reader disagree");
	}
out:
	close(fd);
	free(file.p);
	free(ref.p);
	free(out[0].p);
	free(out[1].p);
	return 0;
}
