/*
 * check.c - qb_minio_snapshot_check(): every object file of a snapshot read
 * and compared with its index line, for `qbackup verify`.
 *
 * Unchanged objects are hard links to the previous snapshot's files, so one
 * file damaged on disk is damaged in every kept snapshot: this pass is where
 * that shows before a restore needs the file.  The index is read line by line
 * and each file streamed through one buffer, so memory stays flat whatever
 * the snapshot's size; the pass is bound by the disk or by MD5 (several
 * hundred MB/s on one core).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mirror/mirror_int.h"
#include "qb/hash.h"
#include "qb/log.h"
#include "qb/s3.h"

#define READ_BUF (4 << 20)
#define LOGGED 10            /* bad objects logged one by one */
#define IN_MESSAGE 3         /* ... and named in the error message */
#define KEY_IN_LOG 600       /* bytes of a printable key in a log line */
#define KEY_IN_MESSAGE 120   /* ... and in the error message */

struct check {
	const char *snapshot;
	int root;
	char *buf;
	struct qb_minio_check *out;
	char first[QB_ERRMSG_MAX];   /* the first bad objects, for the error message */
};

static void bad(struct check *c, const struct mx_entry *e, const char *why)
{
	char bucket[64 * 4 + 8], key[KEY_IN_LOG];
	size_t used = strlen(c->first);

	c->out->bad++;
	qb_printable(bucket, sizeof(bucket), e->bucket);
	if (c->out->bad <= LOGGED) {
		qb_printable(key, sizeof(key), e->key);
		qb_log(QB_LOG_ERROR, "snapshot '%s': object '%s' in bucket '%s' %s", c->snapshot,
		       key, bucket, why);
	}
	if (c->out->bad <= IN_MESSAGE) {
		qb_printable(key, KEY_IN_MESSAGE, e->key);
		snprintf(c->first + used, sizeof(c->first) - used, "%s'%s/%s' %s",
			 used ? "; " : "", bucket, key, why);
	}
}

/* The MD5 the file should have: the one recorded while fetching, else a plain
 * ETag (an older index).  The recorded one comes first: a multipart ETag is no
 * MD5, and neither is the ETag of an object encrypted with SSE-KMS or SSE-C. */
static const char *expected_md5(const struct mx_entry *e)
{
	if (qb_s3_etag_is_md5(e->md5))
		return e->md5;
	if (qb_s3_etag_is_md5(e->etag))
		return e->etag;
	return NULL;
}

/* Reads fd to the end into the MD5 of hex; *total: bytes read.  errno is kept. */
static int hash_file(struct check *c, int fd, char *hex, uint64_t *total)
{
	struct qb_hash *h = qb_hash_new(QB_MD5);

	*total = 0;
	if (!h) {
		errno = ENOMEM;
		return -1;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	for (;;) {
		ssize_t n = read(fd, c->buf, READ_BUF);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			qb_hash_free(h);
			errno = e;
			return -1;
		}
		if (n == 0)
			break;
		qb_hash_update(h, c->buf, (size_t)n);
		*total += (uint64_t)n;
	}
	qb_hash_final_hex(h, hex);
	qb_hash_free(h);
	/* Backups are not read again soon: leave the page cache to the live services. */
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	return 0;
}

/* Where the file of e is, relative to the snapshot: the index's path, checked as a
 * restore checks it (nothing outside the snapshot), or <bucket>/<key>. */
static bool stored_path(const struct mx_entry *e, char *path, size_t cap)
{
	int n;

	if (!mx_bucket_name_ok(e->bucket))
		return false;
	if (e->path[0]) {
		if (!mx_escaped_path_ok(e->bucket, e->path))
			return false;
		n = snprintf(path, cap, "%s", e->path);
	} else {
		if (!qb_minio_key_is_safe(e->key))
			return false;
		n = snprintf(path, cap, "%s/%s", e->bucket, e->key);
	}
	return n > 0 && (size_t)n < cap;
}

/* One object; a difference is recorded with bad(), only running out of memory fails. */
static int check_one(struct check *c, const struct mx_entry *e, struct qb_err *err)
{
	char path[2048], why[200], md5[QB_HASH_HEX_MAX];
	const char *want = expected_md5(e);
	struct stat st;
	uint64_t got;
	int fd;

	if (!stored_path(e, path, sizeof(path))) {
		bad(c, e, "is stored at a path the index may not name");
		return QB_OK;
	}
	/* O_NONBLOCK: a FIFO planted in the snapshot must not hang verify. */
	fd = qb_open_nofollow(c->root, path, O_RDONLY | O_NONBLOCK, 0);
	if (fd < 0) {
		if (errno == ENOMEM)
			return qb_err_set(err, QB_ENOMEM, "out of memory");
		if (errno == ENOENT) {
			bad(c, e, "is missing");
			return QB_OK;
		}
		/* ELOOP or ENOTDIR for a symlink on the way (a restore refuses it too),
		 * EACCES, EIO, ... */
		snprintf(why, sizeof(why), "cannot be opened: %s", strerror(errno));
		bad(c, e, why);
		return QB_OK;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		bad(c, e, "is not a regular file");
		return QB_OK;
	}
	if ((uint64_t)st.st_size != e->size) {
		close(fd);
		snprintf(why, sizeof(why), "is %llu bytes, the index says %llu",
			 (unsigned long long)st.st_size, (unsigned long long)e->size);
		bad(c, e, why);
		return QB_OK;
	}
	/* Read even without an MD5 to compare: a sector that no longer reads shows. */
	if (hash_file(c, fd, md5, &got) < 0) {
		int e2 = errno;
		close(fd);
		if (e2 == ENOMEM)
			return qb_err_set(err, QB_ENOMEM, "out of memory");
		snprintf(why, sizeof(why), "cannot be read: %s", strerror(e2));
		bad(c, e, why);
		return QB_OK;
	}
	close(fd);
	if (got != e->size) {
		snprintf(why, sizeof(why), "is %llu bytes, the index says %llu",
			 (unsigned long long)got, (unsigned long long)e->size);
		bad(c, e, why);
	} else if (!want) {
		c->out->size_only++;
	} else if (strcasecmp(md5, want)) {
		snprintf(why, sizeof(why), "has MD5 %s, the index says %s", md5, want);
		bad(c, e, why);
	} else {
		c->out->md5_checked++;
	}
	return QB_OK;
}

int qb_minio_snapshot_check(const char *snapshot_dir, struct qb_minio_check *out,
			    struct qb_err *err)
{
	struct check c = { .snapshot = snapshot_dir, .root = -1, .out = out };
	struct mx_reader *r = NULL;
	bool got = true;
	int rc;

	memset(out, 0, sizeof(*out));
	c.root = open(snapshot_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (c.root < 0)
		return qb_err_sys(err, errno == ENOENT ? QB_ENOTFOUND : QB_EIO, errno,
				  "unable to open snapshot '%s'", snapshot_dir);
	rc = mx_reader_open(&r, c.root, QB_MINIO_INDEX, true, err);
	if (rc == QB_ENOTFOUND) {
		/* An `mc mirror` folder: no sizes or checksums to compare with. */
		close(c.root);
		qb_err_clear(err);
		return qb_minio_snapshot_info(snapshot_dir, &out->objects, &out->bytes, err);
	}
	out->indexed = true;
	if (!rc && !(c.buf = malloc(READ_BUF)))
		rc = qb_err_set(err, QB_ENOMEM, "out of memory");
	while (!rc) {
		struct mx_entry e;
		if ((rc = mx_reader_next(r, &e, &got, err)) || !got)
			break;
		out->objects++;
		out->bytes += e.size;
		rc = check_one(&c, &e, err);
	}
	if (rc && rc != QB_ENOMEM)
		qb_err_prefix(err, "reading snapshot '%s'", snapshot_dir);
	else if (!rc && out->bad)
		rc = qb_err_set(err, QB_ECORRUPT, "snapshot '%s': %llu of %llu objects do not match "
				"the index: %s%s", snapshot_dir, (unsigned long long)out->bad,
				(unsigned long long)out->objects, c.first,
				out->bad > IN_MESSAGE ? "; ..." : "");
	free(c.buf);
	mx_reader_free(r);
	close(c.root);
	return rc;
}
