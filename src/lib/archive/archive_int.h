/* archive_int.h - what the archive module's files share; not part of the public API. */
#ifndef QB_ARCHIVE_INT_H
#define QB_ARCHIVE_INT_H

#include <archive.h>
#include <archive_entry.h>
#include <locale.h>
#include <stdbool.h>
#include <sys/types.h>

#include "qb/archive.h"

/*
 * File names as UTF-8 while libarchive works: this thread only (uselocale),
 * so the pax headers carry UTF-8 names rather than "hdrcharset=BINARY"
 * when the front end runs in the C locale.  A no-op when C.UTF-8 is missing.
 */
struct arc_locale {
	locale_t utf8, old;
};
void arc_locale_begin(struct arc_locale *l);
void arc_locale_end(struct arc_locale *l);

/* The exclude list: names or globs matched against one path component. */
struct arc_excludes {
	char **pat;
	size_t n;
};
int arc_excludes_parse(struct arc_excludes *ex, const char *list, struct qb_err *err);
bool arc_excluded(const struct arc_excludes *ex, const char *name);
void arc_excludes_release(struct arc_excludes *ex);

/* Walking CODE_DIR into an open libarchive writer (walk.c). */
struct arc_walk {
	struct archive *a;                     /* pax writer, opened */
	const struct arc_excludes *ex;
	const struct qb_progress_cb *progress; /* may be NULL */
	struct qb_code_stats *st;              /* entries, files, bytes_in counted here */
	bool skip_set;                         /* a folder never to enter (BACKUP_DIR) */
	dev_t skip_dev;
	ino_t skip_ino;
	const struct qb_err *sink_err;         /* code != 0 once the output chain failed */
};
int arc_walk_tree(struct arc_walk *w, const char *code_dir, struct qb_err *err);

/* A tar reader over a (gzip or plain) file, decompressed by qb_gzr. */
struct arc_reader;
int arc_reader_open(struct arc_reader **out, const char *path, struct qb_err *err);
struct archive *arc_reader_archive(struct arc_reader *r);
/* Turn a libarchive status < ARCHIVE_WARN into an error naming path. */
int arc_reader_error(struct arc_reader *r, const char *path, struct qb_err *err);
/* After the tar end: read what is left of the file, so that every gzip
 * member's CRC and length are checked. */
int arc_reader_drain(struct arc_reader *r, const char *path, struct qb_err *err);
void arc_reader_free(struct arc_reader *r);

/* Member-name checks, in archive order: absolute names, "..", and paths
 * through a symlink member seen earlier.  QB_EREFUSED naming the member. */
struct arc_guard;
struct arc_guard *arc_guard_new(void);
int arc_guard_check(struct arc_guard *g, struct archive_entry *e, struct qb_err *err);
/* Record a member (already checked) as left out of the extraction. */
int arc_guard_leave_out(struct arc_guard *g, struct archive_entry *e, struct qb_err *err);
/* A member of that name was extracted after all (a later member of the same
 * name): hard links to it are no longer left out. */
void arc_guard_extracted(struct arc_guard *g, struct archive_entry *e);
/* Is e a hard link to a member left out?  1 yes, 0 no, -1 out of memory. */
int arc_guard_to_left_out(const struct arc_guard *g, struct archive_entry *e);
void arc_guard_free(struct arc_guard *g);

#endif
