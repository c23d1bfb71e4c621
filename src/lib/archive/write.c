/*
 * write.c - the code archive's output chain.
 *
 *	walk.c -> libarchive (pax) -> on_write -> qb_gzw (all cores)
 *	       -> sink -> SHA-256 + qb_afile (temporary name, fsync, rename)
 *
 * libarchive only produces the uncompressed tar; compression is ours so
 * the code archive uses every core like the database dump, and the hash is
 * taken over exactly the bytes that reach the disk.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "archive/archive_int.h"
#include "qb/fsutil.h"
#include "qb/gz.h"
#include "qb/log.h"

#define GZ_LEVEL 6

struct chain {
	struct qb_afile f;
	struct qb_hash *h;
	struct qb_gzw *gz;
	struct qb_err err;     /* why the chain failed, for the walker */
	bool discard;          /* failed: let libarchive close without writing */
};

static int sink(void *ud, const void *p, size_t n, struct qb_err *err)
{
	struct chain *c = ud;
	int rc = qb_afile_write(&c->f, p, n, err);

	if (!rc)
		qb_hash_update(c->h, p, n);
	return rc;
}

static la_ssize_t on_write(struct archive *a, void *ud, const void *buf, size_t n)
{
	struct chain *c = ud;

	if (c->discard)
		return (la_ssize_t)n;
	if (c->err.code)
		return -1;
	if (qb_gzw_write(c->gz, buf, n, &c->err)) {
		archive_set_error(a, EIO, "%s", c->err.msg);
		return -1;
	}
	return (la_ssize_t)n;
}

static int open_writer(struct archive **out, struct chain *c, struct qb_err *err)
{
	struct archive *a = archive_write_new();

	*out = a;
	if (!a)
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	if (archive_write_set_format_pax(a) != ARCHIVE_OK ||
	    archive_write_open(a, c, NULL, on_write, NULL) != ARCHIVE_OK)
		return qb_err_set(err, QB_EINTERNAL, "unable to start the tar writer: %s",
				  archive_error_string(a));
	return QB_OK;
}

static void final_progress(const struct qb_progress_cb *cb, const struct qb_code_stats *st,
			   const struct timespec *t0)
{
	struct qb_progress p = { .step = "code", .final = true };
	struct timespec now;

	if (!cb || !cb->fn)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	p.items_done = p.items_total = st->files;
	p.bytes_done = p.bytes_total = st->bytes_in;
	p.elapsed = (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
	cb->fn(cb->ud, &p);
}

static int finish(struct archive *a, struct chain *c, struct qb_code_stats *st,
		  struct qb_err *err)
{
	int rc;

	if (archive_write_close(a) != ARCHIVE_OK) {
		if (c->err.code) {
			if (err)
				*err = c->err;
			return c->err.code;
		}
		return qb_err_set(err, QB_EIO, "unable to finish the tar stream: %s",
				  archive_error_string(a));
	}
	if ((rc = qb_gzw_finish(c->gz, err)))
		return rc;
	st->tar_bytes = qb_gzw_bytes_in(c->gz);
	st->bytes_out = c->f.written;
	qb_hash_final_hex(c->h, st->sha256);
	return qb_afile_commit(&c->f, err);
}

static int archive_tree(const char *code_dir, const char *backup_dir, const char *name,
			const char *excludes, const struct qb_progress_cb *progress,
			struct qb_code_stats *st, struct qb_err *err)
{
	struct chain c = { .f = { .fd = -1 } };
	struct arc_excludes ex = { 0 };
	struct archive *a = NULL;
	struct arc_walk w = { .ex = &ex, .progress = progress, .st = st, .sink_err = &c.err };
	struct stat bst;
	struct timespec t0;
	int rc;

	memset(st, 0, sizeof(*st));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = arc_excludes_parse(&ex, excludes, err);
	if (rc)
		return rc;
	if (!(c.h = qb_hash_new(QB_SHA256))) {
		rc = qb_err_set(err, QB_ENOMEM, "out of memory");
		goto out;
	}
	rc = qb_afile_open(&c.f, backup_dir, name, err);
	if (!rc)
		rc = qb_gzw_new(&c.gz, sink, &c, GZ_LEVEL, 0, err);
	if (!rc)
		rc = open_writer(&a, &c, err);
	if (rc)
		goto out;
	w.a = a;
	if (stat(backup_dir, &bst) == 0) {
		w.skip_set = true;
		w.skip_dev = bst.st_dev;
		w.skip_ino = bst.st_ino;
	}
	rc = arc_walk_tree(&w, code_dir, err);
	if (!rc)
		rc = finish(a, &c, st, err);
	if (!rc) {
		qb_log(QB_LOG_INFO, "code archive '%s': %llu files, %llu bytes in, %llu bytes out",
		       name, (unsigned long long)st->files, (unsigned long long)st->bytes_in,
		       (unsigned long long)st->bytes_out);
		final_progress(progress, st, &t0);
	}
out:
	/* Not archive_write_fail(): libarchive then skips its close and leaks
	 * the output buffer.  Its close writes the tar trailer, which we drop. */
	c.discard = true;
	archive_write_free(a);
	qb_gzw_free(c.gz);
	qb_afile_abort(&c.f);
	qb_hash_free(c.h);
	arc_excludes_release(&ex);
	return rc;
}

int qb_code_archive(const char *code_dir, const char *backup_dir, const char *name,
		    const char *excludes, const struct qb_progress_cb *progress,
		    struct qb_code_stats *st, struct qb_err *err)
{
	struct arc_locale loc;
	int rc;

	arc_locale_begin(&loc);
	rc = archive_tree(code_dir, backup_dir, name, excludes, progress, st, err);
	arc_locale_end(&loc);
	return rc;
}
