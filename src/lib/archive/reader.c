/*
 * reader.c - a tar reader whose bytes come through qb_gzr.
 *
 * Our gzip reader rather than libarchive's filter: it checks every
 * member's CRC and length (the multi-member files qb_gzw writes), reports
 * truncation as QB_ECORRUPT, and reads plain tar unchanged (but not from a
 * file named .gz: see qb_gzr_check_name).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "archive/archive_int.h"
#include "qb/gz.h"

#define CHUNK (256u << 10)

struct arc_reader {
	struct archive *a;
	struct qb_gzr *gz;
	int fd;
	struct qb_err err;    /* the gzip layer's error, when it failed */
	char buf[CHUNK];
};

static la_ssize_t on_read(struct archive *a, void *ud, const void **out)
{
	struct arc_reader *r = ud;
	size_t got = 0;

	if (qb_gzr_read(r->gz, r->buf, sizeof(r->buf), &got, &r->err)) {
		archive_set_error(a, EIO, "%s", r->err.msg);
		return -1;
	}
	*out = r->buf;
	return (la_ssize_t)got;
}

int arc_reader_open(struct arc_reader **out, const char *path, struct qb_err *err)
{
	struct arc_reader *r = calloc(1, sizeof(*r));
	int rc;

	*out = NULL;
	if (!r)
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0) {
		rc = qb_err_sys(err, errno == ENOENT ? QB_ENOTFOUND : QB_EIO, errno,
				"unable to open '%s'", path);
		goto fail;
	}
	rc = qb_gzr_new(&r->gz, r->fd, err);
	if (!rc)
		rc = qb_gzr_check_name(r->gz, path, err);
	if (rc)
		goto fail;
	r->a = archive_read_new();
	if (!r->a) {
		rc = qb_err_set(err, QB_ENOMEM, "out of memory");
		goto fail;
	}
	/* tar only (ustar, pax, GNU): no other format is ever a code archive. */
	archive_read_support_format_tar(r->a);
	if (archive_read_open(r->a, r, NULL, on_read, NULL) != ARCHIVE_OK) {
		rc = arc_reader_error(r, path, err);
		goto fail;
	}
	*out = r;
	return QB_OK;
fail:
	arc_reader_free(r);
	return rc;
}

struct archive *arc_reader_archive(struct arc_reader *r)
{
	return r->a;
}

int arc_reader_error(struct arc_reader *r, const char *path, struct qb_err *err)
{
	if (r->err.code)
		return qb_err_set(err, r->err.code, "'%s': %s", path, r->err.msg);
	const char *why = archive_error_string(r->a);

	return qb_err_set(err, QB_ECORRUPT, "'%s' is not a valid tar archive: %s", path,
			  why ? why : "unknown error");
}

int arc_reader_drain(struct arc_reader *r, const char *path, struct qb_err *err)
{
	size_t got;

	do {
		if (qb_gzr_read(r->gz, r->buf, sizeof(r->buf), &got, &r->err))
			return arc_reader_error(r, path, err);
	} while (got);
	return QB_OK;
}

void arc_reader_free(struct arc_reader *r)
{
	if (!r)
		return;
	if (r->a)
		archive_read_free(r->a);
	qb_gzr_free(r->gz);
	if (r->fd >= 0)
		close(r->fd);
	free(r);
}
