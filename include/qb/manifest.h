/*
 * manifest.h - the JSON record of one run, beside its backups:
 * BACKUP_DIR/manifest_YYYYMMDD_HHMMSS.json (0600).
 *
 *	struct qb_manifest *m = qb_manifest_new(stamp, started);
 *	qb_manifest_add_db(m, &dump_result, &err);
 *	qb_manifest_add_artifact(m, "code", name, size, sha256, seconds, &err);
 *	qb_manifest_add_error(m, "minio", err.msg);
 *	qb_manifest_write(m, backup_dir, finished, &err);
 *	qb_manifest_free(m);
 *
 * It records, per artifact, its size and SHA-256 (for a folder: of its
 * object index), and for the database the server version and per-table row
 * counts; the run's start and end, the host and the tool's version.
 */
#ifndef QB_MANIFEST_H
#define QB_MANIFEST_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "qb/error.h"
#include "qb/pgdump.h"

struct qb_manifest;

struct qb_manifest *qb_manifest_new(const char *stamp, time_t started);  /* NULL: no memory */
int qb_manifest_add_db(struct qb_manifest *m, const struct qb_db_dump_result *r, struct qb_err *err);
int qb_manifest_add_artifact(struct qb_manifest *m, const char *kind, const char *name, uint64_t size,
			     const char *sha256, double seconds, struct qb_err *err);
/* A number on the last artifact added (objects, files, ...). */
int qb_manifest_set_count(struct qb_manifest *m, const char *key, uint64_t value, struct qb_err *err);
int qb_manifest_add_error(struct qb_manifest *m, const char *step, const char *message);
int qb_manifest_write(struct qb_manifest *m, const char *dir, time_t finished, struct qb_err *err);
void qb_manifest_free(struct qb_manifest *m);

/* What the manifest says about one artifact. */
struct qb_manifest_entry {
	char kind[16];
	char name[64];
	uint64_t size;
	char sha256[65];               /* "" when not recorded */
	struct qb_db_table_stat *tables;
	size_t ntables;
};

/* Look up artifact `name` (a backup's bare name) in the manifest of its
 * stamp in dir.  QB_ENOTFOUND when there is no manifest or no entry (old
 * backups have none). */
int qb_manifest_lookup(const char *dir, const char *name, struct qb_manifest_entry *e,
		       struct qb_err *err);
void qb_manifest_entry_release(struct qb_manifest_entry *e);

#endif
