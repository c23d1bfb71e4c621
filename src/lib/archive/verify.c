/*
 * verify.c - read a whole code tarball: gzip, tar structure, member names.
 *
 * This is also extraction's first pass: nothing is written to the target
 * before the whole tarball is known to be intact and safe.
 */
#include <string.h>

#include "archive/archive_int.h"

static int read_data(struct archive *a, uint64_t *bytes)
{
	const void *buf;
	size_t size;
	la_int64_t off;
	int r;

	while ((r = archive_read_data_block(a, &buf, &size, &off)) == ARCHIVE_OK)
		*bytes += size;
	return r == ARCHIVE_EOF ? ARCHIVE_OK : r;
}

static int verify(const char *tarball, struct qb_code_check *st, struct qb_err *err)
{
	struct qb_code_check tmp;
	struct arc_reader *r = NULL;
	struct arc_guard *g = arc_guard_new();
	struct archive_entry *e;
	int rc;

	if (!st)
		st = &tmp;
	memset(st, 0, sizeof(*st));
	if (!g)
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	rc = arc_reader_open(&r, tarball, err);
	while (!rc) {
		int s = archive_read_next_header(arc_reader_archive(r), &e);
		if (s == ARCHIVE_EOF)
			break;
		if (s < ARCHIVE_WARN) {
			rc = arc_reader_error(r, tarball, err);
			break;
		}
		rc = arc_guard_check(g, e, err);
		if (rc)
			break;
		st->entries++;
		st->files += archive_entry_filetype(e) == AE_IFREG && !archive_entry_hardlink(e);
		if (read_data(arc_reader_archive(r), &st->bytes) < ARCHIVE_WARN)
			rc = arc_reader_error(r, tarball, err);
	}
	if (!rc)
		rc = arc_reader_drain(r, tarball, err);
	if (rc == QB_EREFUSED)
		qb_err_prefix(err, "'%s'", tarball);
	arc_reader_free(r);
	arc_guard_free(g);
	return rc;
}

int qb_code_verify(const char *tarball, struct qb_code_check *st, struct qb_err *err)
{
	struct arc_locale loc;
	int rc;

	arc_locale_begin(&loc);
	rc = verify(tarball, st, err);
	arc_locale_end(&loc);
	return rc;
}
