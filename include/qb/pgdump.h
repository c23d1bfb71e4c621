/*
 * pgdump.h - PostgreSQL dump and restore over libpq, without pg_dump.
 *
 * Dump: one consistent snapshot (REPEATABLE READ, READ ONLY) of one
 * database, written as a plain SQL script that psql can also run, gzip
 * compressed on every core:
 *
 *	struct qb_db_dump_result res = {0};
 *	rc = qb_db_dump(cfg, backup_dir, "db_20260206_030000.sql.gz", &progress, &res, &err);
 *	... res.sha256, res.tables[i].rows ...
 *	qb_db_dump_result_release(&res);
 *
 * Every object of the database is reproduced, in dependency order; an
 * object the dumper cannot reproduce makes the dump fail with an error that
 * names it (a backup is never silently incomplete).
 *
 * Restore: qb_db_check_script() reads the whole file first (gzip integrity,
 * checksum, psql meta-commands, truncation) without touching any database;
 * qb_db_restore() then restores into a new database beside the target and
 * swaps names only when everything succeeded.  The previous target is kept
 * under a dated name, reported in the result.  What the script does not
 * carry is copied from the old target to the new database before the swap:
 * its settings (ALTER DATABASE ... SET), its roles' settings in it (ALTER
 * ROLE ... IN DATABASE ... SET; one the restoring user may not make is a
 * warning in the log) and its privileges (GRANT ... ON DATABASE).  A target
 * that other sessions are connected to is QB_EREFUSED before anything is
 * made, and again at the swap (they may come during the load), unless
 * terminate_connections.
 *
 * The connection comes from DATABASE_URL (a libpq URI or conninfo string),
 * else from libpq's own PG* variables.  A DATABASE_URL libpq cannot parse is
 * QB_ECONFIG with a message that does not quote it.  The server's notices
 * go to qb_log() at debug level.
 */
#ifndef QB_PGDUMP_H
#define QB_PGDUMP_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "qb/config.h"
#include "qb/error.h"
#include "qb/progress.h"

struct qb_db_table_stat {
	char *name;          /* schema-qualified, quoted as in SQL */
	int64_t rows;
};

struct qb_db_dump_result {
	char *path;          /* final path of the dump */
	char *database;      /* name of the database dumped */
	char *server_version;
	uint64_t raw_bytes;  /* SQL bytes before compression */
	uint64_t bytes;      /* file size */
	char sha256[65];
	struct qb_db_table_stat *tables;
	size_t ntables;
	size_t nobjects;
	time_t started, finished;
	double seconds;
};

int qb_db_dump(const struct qb_config *cfg, const char *backup_dir, const char *name,
	       const struct qb_progress_cb *progress, struct qb_db_dump_result *res,
	       struct qb_err *err);
void qb_db_dump_result_release(struct qb_db_dump_result *res);

/* What qb_db_check_script found. */
struct qb_db_script_info {
	bool gzip;
	bool from_qbackup;        /* the header says qbackup made it */
	uint64_t raw_bytes;
	uint64_t statements;
	uint64_t copy_blocks;
	char sha256[65];          /* of the file as stored */
	char encoding[64];        /* from a qbackup header, else "" */
	char lc_collate[128];
	char lc_ctype[128];
	char locale_provider[8];  /* "c" (libc), "i" (ICU), "b" (builtin); "" when not said */
	char locale[128];         /* the ICU or builtin locale */
	char owner[256];          /* the source database's owner, from a qbackup header, else "" */
};

/* Read the whole script; QB_ECORRUPT when truncated or damaged, when it holds
 * no SQL statement, or, for a script qbackup did not make, when it does not
 * end with pg_dump's closing line ("-- PostgreSQL database dump complete",
 * then only blank, "--" and \unrestrict lines); QB_EREFUSED for a psql
 * meta-command other than \connect, \restrict, \unrestrict, or a statement
 * that would touch another database (CREATE, ALTER, DROP DATABASE).
 * expected_sha256 may be NULL. */
int qb_db_check_script(const char *path, const char *expected_sha256,
		       struct qb_db_script_info *info, struct qb_err *err);

struct qb_db_restore_opts {
	const char *path;             /* the script */
	const char *target_db;        /* NULL: the database DATABASE_URL names */
	const char *expected_sha256;  /* from the manifest, or NULL */
	/* The caller already ran qb_db_check_script() on path (to ask before a
	 * restore): not read twice.  NULL: qb_db_restore() checks the whole file
	 * on a second thread while it creates the (empty) scratch database, and
	 * runs nothing of the script before the check passed.  The restore pass
	 * still checks every gzip CRC, the meta-commands and the end marker as it
	 * goes, and never swaps on a failure.  RESTORE_JOBS connections load the
	 * COPY data (src/lib/pg/load.h). */
	const struct qb_db_script_info *checked;
	bool terminate_connections;   /* disconnect sessions on the target at the swap (not before:
				       * the load runs meanwhile); false: refuse a target in use */
	bool drop_after;              /* restore test: drop the restored copy at the end */
	const struct qb_progress_cb *progress;
};

struct qb_db_restore_result {
	char *target;                 /* database restored into */
	char *previous;               /* what the old target was renamed to, or NULL */
	uint64_t statements;
	uint64_t copy_rows;
	struct qb_db_table_stat *tables;   /* rows loaded per COPY target */
	size_t ntables;
	double seconds;
};

int qb_db_restore(const struct qb_config *cfg, const struct qb_db_restore_opts *opts,
		  struct qb_db_restore_result *res, struct qb_err *err);
void qb_db_restore_result_release(struct qb_db_restore_result *res);

/* Stop the restores of this process, from any thread (a signal watcher): what
 * their connections run on the server is cancelled, and each fails with
 * QB_ECANCELLED ("interrupted") as a failed restore does, dropping the database
 * it was loading and leaving the target as it was (a restore already swapping
 * finishes).  Restores started afterwards fail at once. */
void qb_db_interrupt(void);

/* The database a restore would replace (target_db, or the one the configuration
 * names), for the question asked before: refused as qb_db_restore() refuses it
 * (a template; "postgres" when nothing names it).  Release with qb_db_target_release(). */
struct qb_db_target {
	char *name;
	char *server;                 /* "HOST:PORT" as connected (HOST may be a socket folder) */
	bool exists;
};
int qb_db_target(const struct qb_config *cfg, const char *target_db, struct qb_db_target *out,
		 struct qb_err *err);
void qb_db_target_release(struct qb_db_target *t);

/* Drop a database (used by restore tests); refuses the connection's own database. */
int qb_db_drop(const struct qb_config *cfg, const char *name, struct qb_err *err);

/* "postgresql://user:***@host/db": safe to log. Caller frees. */
char *qb_db_redact(const char *conninfo);

#endif
