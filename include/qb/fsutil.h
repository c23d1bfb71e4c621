/*
 * fsutil.h - files that appear whole or not at all, and folder helpers.
 *
 * Every artifact is written under a temporary name that starts with
 * QB_TMP_PREFIX, in the folder it will live in, then fsynced and renamed
 * into place.  Such names are never listed as backups, and leftovers of a
 * crashed run are removed by the next one (qb_clean_leftovers).
 *
 *	struct qb_afile f;
 *	if (qb_afile_open(&f, dir, "db_20260206_030000.sql.gz", &err)) ...
 *	qb_afile_write(&f, data, n, &err) ...
 *	if (failed) qb_afile_abort(&f); else qb_afile_commit(&f, &err);
 *
 * Files are created 0600, folders 0700.
 */
#ifndef QB_FSUTIL_H
#define QB_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "qb/error.h"

#define QB_TMP_PREFIX ".qb-tmp."

struct qb_afile {
	int fd;
	char *dir;
	char *final;      /* full final path */
	char *tmp;        /* full temporary path */
	uint64_t written;
	uint64_t flushing; /* writeback started up to here (the commit's fsync then waits less) */
};

int qb_afile_open(struct qb_afile *f, const char *dir, const char *name, struct qb_err *err);
int qb_afile_write(struct qb_afile *f, const void *p, size_t n, struct qb_err *err);
/* fsync, close, rename into place (never over an existing file), fsync dir. */
int qb_afile_commit(struct qb_afile *f, struct qb_err *err);
/* Close and unlink the temporary file; safe after commit and on a zeroed struct. */
void qb_afile_abort(struct qb_afile *f);

/* Write all of p to fd, retrying on EINTR and short writes. */
int qb_write_all(int fd, const void *p, size_t n, struct qb_err *err);
int qb_fsync_dir(const char *dir, struct qb_err *err);
/* mkdir -p with mode for every folder created; existing folders are kept. */
int qb_mkdir_p(const char *path, unsigned mode, struct qb_err *err);
/* Join with a single '/', caller frees; NULL on allocation failure. */
char *qb_path_join(const char *a, const char *b);
/* Make a unique temporary folder name in dir for final name `name`; caller frees. */
char *qb_tmp_name(const char *dir, const char *name);

/* "YYYYMMDD_HHMMSS" of t in local time; buf at least 16 bytes. */
void qb_stamp(time_t t, char *buf, size_t len);
/* Parse a stamp back; false when s does not start with one, or with an
 * impossible date or time (February 30, 12:00:60). */
bool qb_stamp_parse(const char *s, struct tm *tm);

/* The folder holding rel (relative to dirfd), reached without following a symlink on
 * the way; *leaf points at rel's last name.  A new fd, or -1 with errno. */
int qb_open_parent_nofollow(int dirfd, const char *rel, const char **leaf);
/* openat(dirfd, rel, flags | O_NOFOLLOW) with no symlink followed anywhere in rel. */
int qb_open_nofollow(int dirfd, const char *rel, int flags, unsigned mode);

/* Remove QB_TMP_PREFIX leftovers in dir (files and folders, recursively).  One that
 * cannot be removed does not stop the others; the first failure is returned, naming it. */
int qb_clean_leftovers(const char *dir, unsigned *removed, struct qb_err *err);
/* rm -rf of path, without following symlinks. */
int qb_remove_tree(const char *path, struct qb_err *err);

#endif
