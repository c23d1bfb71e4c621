/*
 * catalog.h - the backups in BACKUP_DIR: listing, deleting, rotating, disk.
 *
 * A backup is an entry of BACKUP_DIR whose name is exactly one of
 *	db_YYYYMMDD_HHMMSS.sql.gz      (regular file)
 *	minio_YYYYMMDD_HHMMSS          (folder)
 *	code_YYYYMMDD_HHMMSS.tar.gz    (regular file)
 * with a valid stamp.  The old shell scripts used the same names, so their
 * backups (which have no manifest) are listed, rotated and deleted like ours.
 * Anything else is never listed: temporary names (QB_TMP_PREFIX), hidden
 * files such as the run lock, manifests (manifest_YYYYMMDD_HHMMSS.json),
 * symlinks, and names of the wrong type (a folder called db_...sql.gz).
 *
 *	struct qb_catalog *cat;
 *	struct qb_disk disk;
 *	char *json;
 *	if (qb_catalog_scan(&cat, dir, &err)) ...;
 *	if (qb_disk_usage(dir, &disk, &err)) ...;
 *	if (qb_catalog_json(cat, &disk, &json, &err)) ...;   // the admin page's shape
 *	... free(json); qb_catalog_free(cat);
 *
 *	struct qb_prune_opts po = { .keep = 14, .max_age_days = 0, .dry_run = true };
 *	struct qb_prune_result pr;
 *	qb_catalog_prune(dir, &po, &pr, &err);  ... pr.items, pr.count ...
 *	qb_prune_result_release(&pr);
 *
 * Deleting and pruning change BACKUP_DIR: callers hold the run lock (lock.h).
 */
#ifndef QB_CATALOG_H
#define QB_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "qb/error.h"

enum qb_kind { QB_KIND_DB, QB_KIND_MINIO, QB_KIND_CODE };
#define QB_KIND_COUNT 3

#define QB_STAMP_LEN 15             /* "YYYYMMDD_HHMMSS" */
#define QB_BACKUP_NAME_MAX 48       /* longest backup name + NUL, with room */
#define QB_SIZE_STR_MAX 24          /* "1023.9 MB", "18446744073709551615 B" */

/* Name of a run manifest: "manifest_" stamp ".json" (the manifest module's naming). */
#define QB_MANIFEST_PREFIX "manifest_"
#define QB_MANIFEST_SUFFIX ".json"

struct qb_backup {
	enum qb_kind kind;
	char name[QB_BACKUP_NAME_MAX];      /* bare name in BACKUP_DIR */
	char stamp[QB_STAMP_LEN + 1];
	char date[20];                      /* "YYYY-MM-DD HH:MM:SS", from the name */
	time_t time;                        /* the stamp read as local time */
	uint64_t size;                      /* bytes; a minio folder: its regular files,
					     * each hard-linked inode counted once */
	uint64_t file_count;                /* minio: regular files, '.qbackup*' excluded */
	bool has_manifest;                  /* manifest_<stamp>.json exists */
	/* minio: why the folder could not be walked in full (a folder another user
	 * owns, say), or "" when it was.  Such a snapshot is still listed, rotated
	 * and deletable; its size and file_count are then 0, meaning unknown. */
	char unreadable[256];
};

struct qb_catalog {
	char *dir;
	struct qb_backup *list[QB_KIND_COUNT];   /* newest first (by stamp, then name) */
	size_t count[QB_KIND_COUNT];
	/* Stamps of manifests with no artifact at all (runs where every step
	 * failed), oldest first. */
	char (*orphans)[QB_STAMP_LEN + 1];
	size_t norphans;
};

/* "db", "minio", "code" (also the metrics label and --type value). */
const char *qb_kind_name(enum qb_kind kind);
/* Parse "db" / "minio" / "code"; false otherwise. */
bool qb_kind_parse(const char *s, enum qb_kind *kind);

/* Syntax only: is name a backup name?  Fills kind and stamp (QB_STAMP_LEN + 1). */
bool qb_backup_parse_name(const char *name, enum qb_kind *kind, char *stamp);
/* The backup name for kind and stamp into buf (QB_BACKUP_NAME_MAX). */
void qb_backup_make_name(enum qb_kind kind, const char *stamp, char *buf, size_t len);
/* Is name "manifest_<stamp>.json"?  Fills stamp (QB_STAMP_LEN + 1) when not NULL. */
bool qb_manifest_parse_name(const char *name, char *stamp);

/* Read BACKUP_DIR.  QB_ENOTFOUND when the folder does not exist.  Free with
 * qb_catalog_free.  A minio snapshot that cannot be walked is listed with its
 * reason in `unreadable` (qb_catalog_warn_unreadable logs each). */
int qb_catalog_scan(struct qb_catalog **out, const char *dir, struct qb_err *err);
/* The same, but only the newest minio snapshot is walked for its size and
 * file count (the others say 0; when the newest is unreadable, the next ones
 * are walked until one is not): for callers that need names, or the newest
 * backup's size, without walking fourteen snapshots. */
int qb_catalog_scan_newest(struct qb_catalog **out, const char *dir, struct qb_err *err);
void qb_catalog_free(struct qb_catalog *cat);
/* Borrowed from cat; NULL when absent. */
const struct qb_backup *qb_catalog_find(const struct qb_catalog *cat, const char *name);
const struct qb_backup *qb_catalog_latest(const struct qb_catalog *cat, enum qb_kind kind);
/* The backup of b's kind made just before b (b borrowed from cat); NULL when none. */
const struct qb_backup *qb_catalog_before(const struct qb_catalog *cat, const struct qb_backup *b);
/* Log a warning for each snapshot listed as unreadable; how many there were. */
size_t qb_catalog_warn_unreadable(const struct qb_catalog *cat);

/* Human size, 1024 base, B KB MB GB TB, at most one decimal, no ".0":
 * "512 B", "2 KB", "15.2 MB".  buf: QB_SIZE_STR_MAX bytes. */
void qb_format_size(uint64_t bytes, char *buf, size_t len);

/*
 * Disk usage of the filesystem holding a path, as `df -h` shows it:
 * used_percent rounded up like df's Use% (reserved blocks excluded), and
 * qb_format_df_size() for "55G", "9.5G", "512M".
 */
struct qb_disk {
	uint64_t total;        /* bytes */
	uint64_t used;         /* bytes */
	uint64_t avail;        /* bytes available to unprivileged users */
	int used_percent;      /* 0..100, -1 when the filesystem reports no blocks */
};
int qb_disk_usage(const char *path, struct qb_disk *d, struct qb_err *err);
void qb_format_df_size(uint64_t bytes, char *buf, size_t len);
/* *over = used_percent > alert_percent (DISK_ALERT_PERCENT, default 80). */
int qb_disk_check(const char *path, long alert_percent, struct qb_disk *d, bool *over,
		  struct qb_err *err);

/*
 * The listing in the admin page's shape, newest first (one line, no newline):
 * {"backups":{"database":[{"name","size","date"}],"minio":[{"name","size","date","fileCount"}],
 *  "code":[{"name","size","date"}]},"diskUsage":{"used":"45%","available":"55G"},"backupDir":DIR}
 * disk NULL: measured on cat->dir.  *out is the caller's to free.
 */
int qb_catalog_json(const struct qb_catalog *cat, const struct qb_disk *disk, char **out,
		    struct qb_err *err);
/* The same as a human table (several lines, ends with a newline).  Caller frees. */
int qb_catalog_table(const struct qb_catalog *cat, const struct qb_disk *disk, char **out,
		     struct qb_err *err);

/*
 * Is this an acceptable name for delete?  len is the length the caller
 * decoded (an HTTP query can carry a NUL): refused when it differs from
 * strlen(name), when empty, with a '/', "..", a leading dot, or when it is
 * not a backup name.  QB_EREFUSED with a message naming why.
 */
int qb_backup_check_name(const char *name, size_t len, struct qb_err *err);
/*
 * Delete one backup by bare name: checked as above, then it must exist in
 * dir with the right type (else QB_ENOTFOUND).  A minio folder is renamed to
 * a temporary name first (so a half-deleted folder is never listed), then
 * removed without following symlinks.  When no artifact of that stamp is
 * left, its manifest is removed too.
 */
int qb_backup_delete(const char *dir, const char *name, struct qb_err *err);

/*
 * Rotation.  Per kind, newest first: the first `keep` are kept; with
 * max_age_days > 0 those older than that are deleted too; the newest of a
 * kind is never deleted, whatever its age.  Manifests whose stamp has no
 * artifact left afterwards are deleted with them, and so are the manifests
 * of runs that left no artifact at all once they are older than every
 * backup kept.  dry_run: nothing is touched, the result says what would
 * go.  now 0: time(NULL).
 */
struct qb_prune_opts {
	long keep;             /* >= 1 (BACKUP_KEEP, default 14) */
	long max_age_days;     /* 0: no age limit (BACKUP_MAX_AGE_DAYS) */
	bool dry_run;
	time_t now;
};
struct qb_prune_result {
	struct qb_backup *items;   /* deleted (or that would be), per kind, newest first */
	size_t count;
	char **manifests;          /* manifest names deleted (or that would be) */
	size_t nmanifests;
	uint64_t bytes;            /* sum of items' sizes */
};
/* res is filled even on error (what was deleted before it). Release it in every case. */
int qb_catalog_prune(const char *dir, const struct qb_prune_opts *opts,
		     struct qb_prune_result *res, struct qb_err *err);
void qb_prune_result_release(struct qb_prune_result *res);

#endif
