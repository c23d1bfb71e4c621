/*
 * verify.h - checking backups without restoring them, and restore tests.
 *
 * qb_verify_backup() reads one backup whole: a database dump's gzip
 * stream, script and end marker; a code tarball's gzip and tar; a MinIO
 * snapshot's object index and every file it names (size, and MD5 where the
 * index knows one: qb_minio_snapshot_check()).  Where a manifest records a
 * SHA-256, it is recomputed and compared.  A damaged backup is QB_ECORRUPT.
 *
 * qb_restore_test() restores a database dump into a scratch database,
 * compares each table's row count with the manifest, and drops it.
 */
#ifndef QB_VERIFY_H
#define QB_VERIFY_H

#include <stddef.h>

#include "qb/config.h"
#include "qb/error.h"

/* detail: a short human summary ("1234 statements, sha256 matches the manifest"). */
int qb_verify_backup(const char *dir, const char *name, char *detail, size_t len, struct qb_err *err);
int qb_restore_test(const struct qb_config *cfg, const char *dir, const char *name, char *detail,
		    size_t len, struct qb_err *err);

#endif
