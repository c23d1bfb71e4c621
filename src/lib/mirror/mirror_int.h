/*
 * mirror_int.h - what the files of src/lib/mirror/ share: the object index
 * (format, writer, streaming reader), key and bucket name rules, the sorted
 * folder walk, the previous-snapshot finder and progress pacing.
 */
#ifndef QB_MIRROR_INT_H
#define QB_MIRROR_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "qb/buf.h"
#include "qb/config.h"
#include "qb/fsutil.h"
#include "qb/mirror.h"
#include "qb/progress.h"

#define MX_INDEX_HEADER "qbackup-minio-index 1"
#define MX_LINE_MAX (64 * 1024)

/* One line of the index.  Strings are borrowed (from the reader's line buffer, valid
 * until the next read, or from the writer's caller). */
struct mx_entry {
	const char *bucket;
	const char *key;
	uint64_t size;
	const char *etag;
	const char *last_modified;
	const char *content_type;
	const char *md5;         /* hex MD5 of the bytes stored, "" if unknown */
	const char *path;        /* "" when stored at <bucket>/<key> */
};

/* keys.c */
bool mx_bucket_name_ok(const char *name);
/* Order of the index: bucket, then key, both as bytes. */
int mx_cmp(const char *b1, const char *k1, const char *b2, const char *k2);
const char *mx_guess_type(const char *name);
/* ".qbackup-escaped/<bucket>/<escaped name>"; caller frees. */
char *mx_escaped_path(const char *bucket, const char *key);

/* index.c: a buffered writer to an fd or a qb_afile, and a streaming reader. */
struct mx_writer {
	struct qb_afile *af;     /* or */
	int fd;
	struct qb_buf buf;
};
void mx_writer_init(struct mx_writer *w, struct qb_afile *af, int fd);
int mx_writer_header(struct mx_writer *w, struct qb_err *err);
int mx_writer_line(struct mx_writer *w, const struct mx_entry *e, struct qb_err *err);
int mx_writer_flush(struct mx_writer *w, struct qb_err *err);
void mx_writer_release(struct mx_writer *w);

struct mx_reader;
/* Open dirfd/name (an index or a spool: header checked when want_header). */
int mx_reader_open(struct mx_reader **out, int dirfd, const char *name, bool want_header,
		   struct qb_err *err);
/* *got false at the end. */
int mx_reader_next(struct mx_reader *r, struct mx_entry *e, bool *got, struct qb_err *err);
/* After an error of mx_reader_next: it was that one line's (its fields), and
 * the reader may go on to the next; false for a read error or a cut line. */
bool mx_reader_line_bad(const struct mx_reader *r);
void mx_reader_free(struct mx_reader *r);
/* An index's Last-Modified ("2026-02-06T03:00:00.000Z") in whole seconds, as the
 * stored file's mtime is set; false if it cannot be read. */
bool mx_iso_time(const char *iso, time_t *t);

/* walk.c: what is not a folder under dirfd/sub, in key order ("a-b" before "a/b"),
 * as paths relative to dirfd/sub: regular files, and symlinks and special files
 * (*regular false; regular may be NULL).  Only one folder level's names are held
 * per depth. */
struct mx_walk;
int mx_walk_open(struct mx_walk **out, int dirfd, const char *sub, struct qb_err *err);
int mx_walk_next(struct mx_walk *w, const char **rel, uint64_t *size, bool *regular,
		 bool *got, struct qb_err *err);
void mx_walk_free(struct mx_walk *w);
/* Sorted names of the bucket folders of a snapshot (no dot names); caller frees each. */
int mx_list_bucket_dirs(int rootfd, char ***names, unsigned *n, struct qb_err *err);
void mx_free_names(char **names, unsigned n);

/* place.c: where the files of one bucket go in a snapshot being built.  A key is
 * stored at <bucket>/<key> when it is safe, else under its escaped path.  When a
 * key needs as a folder what an earlier key made a file ("clash" then
 * "clash/inner.pdf"), the earlier file moves to its escaped path and `moved` is
 * told, since only the earlier key's index line knows it. */
struct mx_tree {
	int root_fd;
	const char *bucket;
	int bucket_fd;
	int esc_fd;              /* .qbackup-escaped/<bucket>, -1 until needed */
	char *last_dir;          /* the last parent folder known to exist */
	int (*moved)(void *ud, const char *key, const char *path, struct qb_err *err);
	void *ud;
};
void mx_tree_init(struct mx_tree *t, int root_fd);
int mx_tree_bucket(struct mx_tree *t, const char *bucket, struct qb_err *err);
void mx_tree_end_bucket(struct mx_tree *t);
/* Create key's file (0600, empty) and give its fd.  *path: NULL for <bucket>/<key>, or
 * the escaped path (set here when the key clashed with a folder: *clashed true). */
int mx_tree_create(struct mx_tree *t, const char *key, char **path, bool *clashed, int *fd,
		   struct qb_err *err);
/* The same, hard-linking src (relative to src_fd) instead; *linked false (and nothing
 * made) when the source is missing, not size bytes, or cannot be linked here. */
int mx_tree_link(struct mx_tree *t, const char *key, char **path, bool *clashed, int src_fd,
		 const char *src, uint64_t size, const time_t *mtime, bool *linked,
		 struct qb_err *err);
void mx_tree_unlink(struct mx_tree *t, const char *key, const char *path);
/* True for a stored path that an index may name: .qbackup-escaped/<bucket>/<one name>. */
bool mx_escaped_path_ok(const char *bucket, const char *path);

/* snap.c */
/* Newest BACKUP_DIR/minio_<stamp> with an index, other than `self`; *out NULL if none. */
int mx_find_previous(const char *backup_dir, const char *self, char **out, struct qb_err *err);
/* MINIO_BUCKETS, or every bucket the key can list; sorted, checked. */
struct qb_s3;
int mx_buckets(const struct qb_config *cfg, struct qb_s3 *s3, char ***names, unsigned *n,
	       struct qb_err *err);

struct mx_progress {
	const struct qb_progress_cb *cb;
	const char *step;
	double t0;
	double last;
};
double mx_now(void);
void mx_progress_init(struct mx_progress *p, const struct qb_progress_cb *cb, const char *step);
/* Calls the front end at most five times a second, and always when final. */
void mx_progress(struct mx_progress *p, uint64_t items, uint64_t items_total, uint64_t bytes,
		 uint64_t bytes_total, const char *current, bool final);

#endif
