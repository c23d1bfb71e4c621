/*
 * mirror.h - snapshots of MinIO (S3) buckets on disk, and their restore.
 *
 * A snapshot is BACKUP_DIR/minio_YYYYMMDD_HHMMSS/<bucket>/<key as path>:
 *   1) qb_minio_backup() lists each bucket page by page and, for every object,
 *      hard-links the file of the newest previous complete snapshot when key,
 *      size and ETag match, or downloads it (in parallel, MINIO_PARALLEL at
 *      once), checking Content-Length and, for plain ETags, the MD5;
 *   2) the snapshot is built under a QB_TMP_PREFIX name and renamed to
 *      minio_<stamp> only once complete, index written and data synced: a
 *      folder named minio_* is always whole;
 *   3) qb_minio_restore() puts a snapshot back (ours, or a folder made by
 *      `mc mirror`), skipping objects already identical on the server.
 *
 *	struct qb_minio_stats st;
 *	if (qb_minio_backup(cfg, backup_dir, stamp, &progress, &st, &err)) ...
 *	qb_log(QB_LOG_INFO, "%llu objects: %llu fetched, %llu linked", ...);
 *
 * Settings: the MINIO_* keys of s3.h, and MINIO_BUCKETS (comma-separated bucket
 * names; empty or unset: every bucket the key can list).
 *
 * Inside a snapshot:
 *   <bucket>/<key>               each object whose key is a safe relative path
 *   .qbackup-escaped/<bucket>/<name>
 *                                objects whose key is not (a leading '/', empty,
 *                                '.' or '..' segments, a segment longer than 255
 *                                bytes, a key that is also the folder of other keys
 *                                like "clash" and "clash/inner.pdf"); <name> is
 *                                the key %-escaped, shortened with a SHA-256 when
 *                                long; each one is logged as a warning with its key
 *   .qbackup-index               one line per object, sorted by bucket then key:
 *                                bucket, key, size, ETag, Last-Modified, Content-Type,
 *                                MD5 (of the bytes stored, computed while fetching),
 *                                stored path (empty: <bucket>/<key>), separated by
 *                                tabs, with \\ \t \n \r and \xHH escapes; the first
 *                                line is "qbackup-minio-index 1"
 * Bucket names cannot start with a dot, so neither name can collide with a bucket.
 * Files are created 0600 and folders 0700; a fetched file gets the object's
 * Last-Modified time as its mtime.
 */
#ifndef QB_MIRROR_H
#define QB_MIRROR_H

#include <stdbool.h>
#include <stdint.h>

#include "qb/config.h"
#include "qb/error.h"
#include "qb/progress.h"

#define QB_MINIO_PREFIX "minio_"
#define QB_MINIO_INDEX ".qbackup-index"
#define QB_MINIO_ESCAPED ".qbackup-escaped"

/* True when MINIO_ENDPOINT is set: the documents half is wanted.  Missing keys are
 * then an error of qb_minio_backup, not a silent skip. */
bool qb_minio_configured(const struct qb_config *cfg);

struct qb_minio_stats {
	uint64_t objects;        /* objects in the snapshot (backup) or in the folder (restore) */
	uint64_t fetched;        /* downloaded (restore: uploaded, the objects moved) */
	uint64_t linked;         /* hard-linked from the previous snapshot */
	uint64_t bytes;          /* bytes of all objects */
	uint64_t bytes_fetched;  /* (restore: bytes uploaded) */
	uint64_t skipped;        /* restore: identical on the server already */
	uint64_t deleted;        /* restore with delete_extra: removed from the server */
	unsigned buckets;
	unsigned warnings;       /* unsafe keys, vanished objects, ... (each one logged) */
	double seconds;
	uint64_t uploaded;       /* restore */
	uint64_t bytes_uploaded;
	uint64_t escaped;        /* objects stored under an escaped name */
	uint64_t created;        /* restore: buckets created */
	uint64_t damaged;        /* restore: objects left out, their file missing, of
				  * another size, or not matching the index's MD5 */
	bool finished;           /* restore: went through every object (the damaged
				  * ones left out); false when it stopped */
};

/* Writes BACKUP_DIR/minio_<stamp>/ (built under a QB_TMP_PREFIX name, renamed when
 * complete).  stamp is "YYYYMMDD_HHMMSS".  On any failure the partial folder is
 * removed and the error names the bucket, key and HTTP status; an object deleted
 * between the listing and its download is a warning, not a failure.  progress may
 * be NULL; st is filled even on failure (what was done). */
int qb_minio_backup(const struct qb_config *cfg, const char *backup_dir, const char *stamp,
		    const struct qb_progress_cb *progress, struct qb_minio_stats *st,
		    struct qb_err *err);

/* Restores a snapshot folder (ours, with its index, or an `mc mirror` folder without one,
 * whose keys are then the relative paths of its files).  snapshot_dir is a path, or a
 * bare name looked up in BACKUP_DIR.  Each top-level folder is a bucket, created if
 * missing; objects go back under their exact keys with their Content-Type (guessed from
 * the extension without an index); objects of the same size and MD5 on the server are
 * skipped; files above the part size go up in parts.  delete_extra also deletes the
 * objects of those buckets that the snapshot does not hold (other buckets are untouched).
 * An object whose file is damaged (missing, another size, not the index's MD5) is left
 * out, logged, and the others restored: QB_ECORRUPT at the end, st->damaged saying how
 * many, and err naming the first.  Its key on the server is neither written nor deleted. */
int qb_minio_restore(const struct qb_config *cfg, const char *snapshot_dir, bool delete_extra,
		     const struct qb_progress_cb *progress, struct qb_minio_stats *st,
		     struct qb_err *err);

/* The same for a part of the snapshot: only is "BUCKET" or "BUCKET/PREFIX" (a plain start
 * of keys, as in S3; NULL: everything).  Other buckets and keys are not touched, on the
 * server either: delete_extra deletes only the objects under the part.  A part that is
 * not a bucket of the snapshot, or holds no object of it, is refused (QB_ENOTFOUND)
 * before anything is sent. */
int qb_minio_restore_part(const struct qb_config *cfg, const char *snapshot_dir,
			  const char *only, bool delete_extra,
			  const struct qb_progress_cb *progress, struct qb_minio_stats *st,
			  struct qb_err *err);

/* Count objects and bytes of a snapshot (from its index when present, else by walking
 * its bucket folders), reading no object file. */
int qb_minio_snapshot_info(const char *snapshot_dir, uint64_t *objects, uint64_t *bytes,
			   struct qb_err *err);

/* What qb_minio_snapshot_check() found. */
struct qb_minio_check {
	bool indexed;            /* false: no index (an `mc mirror` folder), files counted only */
	uint64_t objects;
	uint64_t bytes;          /* as the index says (without one: of the files) */
	uint64_t md5_checked;    /* size and MD5 match */
	uint64_t size_only;      /* size matches, no MD5 known (multipart ETag, none recorded) */
	uint64_t bad;            /* missing, another size or MD5, unreadable */
};

/* For verify: reads every object file of a snapshot and compares it with its index
 * line.  The file is found at the index's path (escaped names included) and opened
 * without following a symlink anywhere on the way; its size must be the index's and,
 * when an MD5 is known (the one recorded while fetching, else a plain ETag, 32 hex
 * digits), its MD5 too.  Every object is checked; the first ten bad ones are each
 * logged as an error, and any bad one makes the result QB_ECORRUPT, the message
 * naming the snapshot, the count and the first three keys (control bytes and non-text
 * bytes as \xHH) with what differs.  Without an index, the files are only counted
 * (indexed false), as qb_minio_snapshot_info() does.  A damaged index is QB_ECORRUPT
 * too.  Memory stays flat (index read line by line, files streamed); out is filled
 * even on failure. */
int qb_minio_snapshot_check(const char *snapshot_dir, struct qb_minio_check *out,
			    struct qb_err *err);

/* Exposed for the tests. */
/* True when key can be stored as the relative path <bucket>/<key> (a clash with another
 * key's folder is found while writing, not here). */
bool qb_minio_key_is_safe(const char *key);
/* The escaped file name of key (one path segment, no '/', at most 200 bytes); caller frees. */
char *qb_minio_escaped_name(const char *key);

#endif
