/*
 * fuzz_mxindex.c - the object index, both ways.  The first byte picks:
 *   even: a round trip.  The rest is split at NUL bytes into bucket, key,
 *         ETag, Last-Modified, Content-Type, MD5 and path (any other bytes),
 *         a size from the next 8 bytes, and a repeat count that makes the
 *         Last-Modified up to 256 times longer (as long as a hostile listing
 *         may send).  What mx_writer_line() accepts, the reader must give back
 *         identical, line for line, and then report the end; a line the
 *         reader could not read back must be refused by the writer.
 *   odd:  the bytes are an index file (with or without the header check):
 *         reading never crashes, fails with an error message, and every entry
 *         it gives has a bucket and a key.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mirror/mirror_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int dirfd_ = -1;
static char dir_[] = "/dev/shm/qb-fuzz-mxindex.XXXXXX";
static const char *const NAME = "index";

static void cleanup(void)
{
	unlinkat(dirfd_, NAME, 0);
	rmdir(dir_);
}

static void write_file(const void *p, size_t n)
{
	int fd = openat(dirfd_, NAME, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || (n && write(fd, p, n) != (ssize_t)n))
		abort();
	close(fd);
}

static void read_any(const uint8_t *data, size_t size, bool header)
{
	struct mx_reader *r;
	struct mx_entry e;
	struct qb_err err = { 0 };
	bool got = true;
	int rc;

	write_file(data, size);
	rc = mx_reader_open(&r, dirfd_, NAME, header, &err);
	if (rc) {
		if (!err.msg[0] || r)
			abort();
		return;
	}
	while (!(rc = mx_reader_next(r, &e, &got, &err)) && got)
		if (!e.bucket[0] || !e.key[0] || !e.etag || !e.path)
			abort();
	if (rc && !err.msg[0])
		abort();
	mx_reader_free(r);
}

static void round_trip(const uint8_t *data, size_t size)
{
	const char *f[7] = { "", "", "", "", "", "", "" };
	char *copy = malloc(size + 1), *lm = NULL;
	struct mx_entry in, out;
	struct mx_writer w;
	struct mx_reader *r;
	struct qb_err err = { 0 };
	size_t p = 0, rep = 1, lml;
	bool got;
	int nf = 0, rc;

	if (!copy)
		abort();
	memcpy(copy, data, size);
	copy[size] = '\0';
	memset(&in, 0, sizeof(in));
	while (p < size && nf < 7) {
		f[nf++] = copy + p;
		p += strlen(copy + p) + 1;
	}
	for (int i = 0; i < 8 && p < size; i++, p++)
		in.size = in.size << 8 | (uint8_t)copy[p];
	if (p < size)
		rep = 1 + (uint8_t)copy[p];
	lml = strlen(f[3]);
	lm = malloc(rep * lml + 1);
	if (!lm)
		abort();
	for (size_t i = 0; i < rep; i++)
		memcpy(lm + i * lml, f[3], lml);
	lm[rep * lml] = '\0';
	in.bucket = f[0];
	in.key = f[1];
	in.etag = f[2];
	in.last_modified = lm;
	in.content_type = f[4];
	in.md5 = f[5];
	in.path = f[6];

	write_file(NULL, 0);
	mx_writer_init(&w, NULL, openat(dirfd_, NAME, O_WRONLY | O_TRUNC | O_CLOEXEC));
	if (w.fd < 0)
		abort();
	rc = mx_writer_header(&w, &err);
	if (!rc)
		rc = mx_writer_line(&w, &in, &err);
	if (!rc) {
		/* A second line, to see that the first one ended where it should. */
		struct mx_entry two = in;
		two.key = "second";
		two.size = 7;
		rc = mx_writer_line(&w, &two, &err);
	}
	if (!rc)
		rc = mx_writer_flush(&w, &err);
	close(w.fd);
	mx_writer_release(&w);
	if (rc) {
		if (rc != QB_EFORMAT || !err.msg[0])
			abort();
		goto out;
	}
	if (mx_reader_open(&r, dirfd_, NAME, true, &err))
		abort();
	rc = mx_reader_next(r, &out, &got, &err);
	if (!in.bucket[0] || !in.key[0]) {
		/* The reader refuses an empty bucket or key: the writer is not asked for one. */
		if (!rc)
			abort();
	} else {
		if (rc || !got || strcmp(out.bucket, in.bucket) || strcmp(out.key, in.key) ||
		    out.size != in.size || strcmp(out.etag, in.etag) ||
		    strcmp(out.last_modified, in.last_modified) ||
		    strcmp(out.content_type, in.content_type) || strcmp(out.md5, in.md5) ||
		    strcmp(out.path, in.path))
			abort();
		rc = mx_reader_next(r, &out, &got, &err);
		if (rc || !got || strcmp(out.key, "second") || out.size != 7)
			abort();
		rc = mx_reader_next(r, &out, &got, &err);
		if (rc || got)
			abort();
	}
	mx_reader_free(r);
out:
	free(lm);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (dirfd_ < 0) {
		if (!mkdtemp(dir_))
			abort();
		dirfd_ = open(dir_, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dirfd_ < 0)
			abort();
		atexit(cleanup);
	}
	if (size < 1)
		return 0;
	if (data[0] & 1)
		read_any(data + 1, size - 1, data[0] & 2);
	else
		round_trip(data + 1, size - 1);
	return 0;
}
