/*
 * testutil.h - helpers shared by the test suites.
 *
 * Integration suites (named suite_it_*) read the servers that
 * tests/harness/run.sh started from the environment:
 *   QB_TEST_PGHOST, QB_TEST_PGPORT, QB_TEST_PGUSER, QB_TEST_PGPASSWORD, QB_TEST_PGBIN
 *   QB_TEST_S3_ENDPOINT        (moto_server, http://127.0.0.1:PORT)
 *   QB_TEST_RECORDER_URL, QB_TEST_RECORDER_DIR   (HTTP recorder)
 *   QB_BUILD                   (the build folder holding qbackup and qrestore)
 * tu_env() fails the test when a variable is missing: a suite never skips silently.
 */
#ifndef QB_TESTUTIL_H
#define QB_TESTUTIL_H

#include <stddef.h>

const char *tu_env(const char *name);
/* A fresh 0700 folder under $TMPDIR; caller frees the string. */
char *tu_tmpdir(void);
void tu_rm_rf(const char *path);
/* Run a shell command; returns its exit status (or -1), output (stdout+stderr) in *out if out. */
int tu_sh(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Entries of a folder, hidden ones included ("ls -A | wc -l"). */
int tu_count_entries(const char *dir);
/* Whole file into a NUL-terminated buffer; NULL on failure. */
char *tu_read_file(const char *path, size_t *len);
int tu_write_file(const char *path, const void *p, size_t n);
/* libpq conninfo URI for database db on the test server (with password). */
char *tu_pg_url(const char *db);
/* Run SQL through psql on db (ON_ERROR_STOP); returns exit status; output in *out if out. */
int tu_psql(const char *db, const char *sql, char **out);
/* Create (dropping first) a database. */
void tu_pg_create_db(const char *db);
void tu_pg_drop_db(const char *db);

#endif
