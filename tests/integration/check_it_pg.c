/*
 * check_it_pg.c - the database dump and restore against a real PostgreSQL
 * (started by tests/harness/run.sh), through the built binaries.
 *
 * The reference for "complete" is pg_dump itself: after a round trip, a
 * full pg_dump of the source and of the restored database must be the
 * same text (but for pg_dump's own header and \restrict lines).
 */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "qb/fsutil.h"
#include "qb/lock.h"
#include "testutil.h"

static void roles(void)
{
	ck_assert_int_eq(tu_psql("postgres",
		"DO $$ BEGIN "
		"IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'qb_owner') THEN CREATE ROLE qb_owner; END IF; "
		"IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'qb_reader') THEN CREATE ROLE qb_reader; END IF; "
		"IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'qb_writer') THEN CREATE ROLE qb_writer; END IF; "
		"END $$;", NULL), 0);
}

static void load_fixture(const char *db)
{
	char *out = NULL;
	int rc;

	roles();
	tu_pg_create_db(db);
	rc = tu_sh(&out, "PGPASSWORD='%s' '%s/psql' -X -q -v ON_ERROR_STOP=1 -h %s -p %s -U %s -d %s -f '%s/tests/fixtures/rich.sql'",
		   tu_env("QB_TEST_PGPASSWORD"), tu_env("QB_TEST_PGBIN"), tu_env("QB_TEST_PGHOST"),
		   tu_env("QB_TEST_PGPORT"), tu_env("QB_TEST_PGUSER"), db, tu_env("QB_SRCDIR"));
	ck_assert_msg(rc == 0, "fixture failed to load: %s", out);
	free(out);
}

/* pg_dump's full text of db, without the lines that differ by design. */
static char *pg_dump_text(const char *db)
{
	char *out = NULL;
	int rc = tu_sh(&out, "PGPASSWORD='%s' '%s/pg_dump' -h %s -p %s -U %s -d %s "
		       "| grep -v -e '^\\\\restrict' -e '^\\\\unrestrict' -e '^-- Dumped' -e '^-- Started' -e '^-- Completed'",
		       tu_env("QB_TEST_PGPASSWORD"), tu_env("QB_TEST_PGBIN"), tu_env("QB_TEST_PGHOST"),
		       tu_env("QB_TEST_PGPORT"), tu_env("QB_TEST_PGUSER"), db);
	ck_assert_msg(rc == 0, "pg_dump %s failed: %s", db, out);
	return out;
}

static void assert_same_dump(const char *a, const char *b)
{
	char *da = pg_dump_text(a), *db = pg_dump_text(b);

	if (strcmp(da, db) != 0) {
		char *dir = tu_tmpdir(), *diff = NULL, *pa, *pb;
		ck_assert_int_ge(asprintf(&pa, "%s/a.sql", dir), 0);
		ck_assert_int_ge(asprintf(&pb, "%s/b.sql", dir), 0);
		tu_write_file(pa, da, strlen(da));
		tu_write_file(pb, db, strlen(db));
		tu_sh(&diff, "diff -u '%s' '%s' | head -80", pa, pb);
		ck_abort_msg("pg_dump of %s and %s differ:\n%s", a, b, diff);
	}
	free(da);
	free(db);
}

/* Run a binary of the build with BACKUP_DIR and DATABASE_URL set; returns its exit status. */
static int run(char **out, const char *dir, const char *db, const char *args)
{
	char *url = tu_pg_url(db);
	int rc = tu_sh(out, "env -u PGPASSWORD BACKUP_DIR='%s' DATABASE_URL='%s' %s/%s </dev/null", dir, url,
		       tu_env("QB_BUILD"), args);
	free(url);
	return rc;
}

/* The one db_*.sql.gz in dir (caller frees), or NULL. */
static char *find_dump(const char *dir)
{
	char *out = NULL;
	size_t n;

	tu_sh(&out, "ls '%s' | grep '^db_.*\\.sql\\.gz$' | head -1", dir);
	n = strlen(out);
	while (n && out[n - 1] == '\n')
		out[--n] = '\0';
	if (!n) {
		free(out);
		return NULL;
	}
	return out;
}

static char *dump_rich(const char *src, const char *dir)
{
	char *out = NULL, *name, *path;
	struct stat st;

	load_fixture(src);
	ck_assert_msg(run(&out, dir, src, "qbackup --type db -v") == 0, "qbackup failed: %s", out);
	ck_assert_msg(strstr(out, "qbtest-") == NULL, "the password reached the output: %s", out);
	ck_assert_msg(strstr(out, "dumped ") != NULL, "-v should log one line per table: %s", out);
	free(out);
	name = find_dump(dir);
	ck_assert_ptr_nonnull(name);
	ck_assert_int_ge(asprintf(&path, "%s/%s", dir, name), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(stat(dir, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0700);
	free(name);
	return path;
}

START_TEST(roundtrip_rich)
{
	char *dir = tu_tmpdir(), *out = NULL, *path, *args, *manifest = NULL;

	path = dump_rich("qb_src", dir);
	tu_pg_drop_db("qb_dst");
	ck_assert_int_ge(asprintf(&args, "qrestore --db '%s' --target-db qb_dst --yes", path), 0);
	ck_assert_msg(run(&out, dir, "qb_src", args) == 0, "qrestore failed: %s", out);
	free(out);
	assert_same_dump("qb_src", "qb_dst");
	/* Debian's PostgreSQL 15.20 gives every column a pg_attver option that its
	 * pg_dump leaves out; SET (pg_attver=...) fails on other servers. */
	ck_assert_int_eq(tu_sh(&out, "gunzip -c '%s' | grep -c pg_attver || true", path), 0);
	ck_assert_str_eq(out, "0\n");
	free(out);
	/* The manifest records the per-table row counts and the file's checksum. */
	tu_sh(&manifest, "cat '%s'/manifest_*.json", dir);
	ck_assert_msg(strstr(manifest, "\"sha256\"") && strstr(manifest, "\"app.clients\"") &&
		      strstr(manifest, "\"server_version\""), "manifest: %s", manifest);
	free(manifest);
	/* A damaged manifest does not stop a restore (the dump checks itself), but the
	 * SHA-256 it can no longer check is said out loud. */
	ck_assert_int_eq(tu_sh(NULL, "for f in '%s'/manifest_*.json; do printf '{' > \"$f\"; done",
			       dir), 0);
	tu_pg_drop_db("qb_dst");
	ck_assert_msg(run(&out, dir, "qb_src", args) == 0, "qrestore failed: %s", out);
	ck_assert_msg(strstr(out, "cannot be checked against the manifest") &&
		      strstr(out, "not valid JSON"), "%s", out);
	free(out);
	free(args);
	free(path);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(psql_reads_our_dump)
{
	char *dir = tu_tmpdir(), *out = NULL, *path;
	int rc;

	path = dump_rich("qb_src2", dir);
	tu_pg_create_db("qb_psql");
	rc = tu_sh(&out, "gunzip -c '%s' | PGPASSWORD='%s' '%s/psql' -X -q -v ON_ERROR_STOP=1 -h %s -p %s -U %s -d qb_psql",
		   path, tu_env("QB_TEST_PGPASSWORD"), tu_env("QB_TEST_PGBIN"), tu_env("QB_TEST_PGHOST"),
		   tu_env("QB_TEST_PGPORT"), tu_env("QB_TEST_PGUSER"));
	ck_assert_msg(rc == 0, "gunzip | psql failed: %s", out);
	free(out);
	assert_same_dump("qb_src2", "qb_psql");
	free(path);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(restores_pg_dump_plain)
{
	char *dir = tu_tmpdir(), *out = NULL, *args;
	int rc;

	load_fixture("qb_src3");
	rc = tu_sh(&out, "PGPASSWORD='%s' '%s/pg_dump' -h %s -p %s -U %s -d qb_src3 | gzip -6 > '%s/db_20260206_030000.sql.gz'",
		   tu_env("QB_TEST_PGPASSWORD"), tu_env("QB_TEST_PGBIN"), tu_env("QB_TEST_PGHOST"),
		   tu_env("QB_TEST_PGPORT"), tu_env("QB_TEST_PGUSER"), dir);
	ck_assert_msg(rc == 0, "pg_dump failed: %s", out);
	free(out);
	tu_pg_drop_db("qb_old");
	/* A bare name is looked up in BACKUP_DIR, as the old runbook did. */
	ck_assert_int_ge(asprintf(&args, "qrestore --db db_20260206_030000.sql.gz --target-db qb_old --yes"), 0);
	ck_assert_msg(run(&out, dir, "qb_src3", args) == 0, "qrestore of a pg_dump file failed: %s", out);
	free(out);
	assert_same_dump("qb_src3", "qb_old");
	free(args);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

/* The target, with a marker row: must survive every refused restore. */
static void make_target(const char *db)
{
	tu_pg_create_db(db);
	ck_assert_int_eq(tu_psql(db, "CREATE TABLE marker (v text); INSERT INTO marker VALUES ('untouched');", NULL), 0);
}

static void assert_target_untouched(const char *db)
{
	char *out = NULL;

	ck_assert_int_eq(tu_psql(db, "SELECT v FROM marker;", &out), 0);
	ck_assert_str_eq(out, "untouched\n");
	free(out);
	/* No scratch database left behind. */
	ck_assert_int_eq(tu_psql("postgres", "SELECT count(*) FROM pg_database WHERE datname LIKE '%qbrestore%';", &out), 0);
	ck_assert_str_eq(out, "0\n");
	free(out);
}

START_TEST(truncated_dump_refused)
{
	char *dir = tu_tmpdir(), *out = NULL, *path, *args;
	struct stat st;
	int rc;

	path = dump_rich("qb_src4", dir);
	make_target("qb_trunc");
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(truncate(path, st.st_size * 2 / 3), 0);
	ck_assert_int_ge(asprintf(&args, "qrestore --db '%s' --target-db qb_trunc --yes", path), 0);
	rc = run(&out, dir, "qb_src4", args);
	ck_assert_msg(rc == 6, "a truncated dump must be refused with status 6, got %d: %s", rc, out);
	ck_assert_msg(strstr(out, "truncated") || strstr(out, "manifest"), "message: %s", out);
	free(out);
	assert_target_untouched("qb_trunc");
	free(args);
	free(path);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(shell_escape_refused)
{
	char *dir = tu_tmpdir(), *out = NULL, *path, *flag, *args, *sql;
	struct stat st;
	int rc;

	make_target("qb_bang");
	ck_assert_int_ge(asprintf(&flag, "%s/pwned", dir), 0);
	ck_assert_int_ge(asprintf(&path, "%s/evil.sql", dir), 0);
	ck_assert_int_ge(asprintf(&sql, "CREATE TABLE t (a int);\n\\! touch %s\nINSERT INTO marker VALUES ('x');\n", flag), 0);
	tu_write_file(path, sql, strlen(sql));
	ck_assert_int_ge(asprintf(&args, "qrestore --db '%s' --target-db qb_bang --yes", path), 0);
	rc = run(&out, dir, "qb_bang", args);
	ck_assert_msg(rc == 5, "\\! must be refused with status 5, got %d: %s", rc, out);
	ck_assert_msg(strstr(out, "\\!") != NULL, "the message names the meta-command: %s", out);
	ck_assert_int_ne(stat(flag, &st), 0);
	assert_target_untouched("qb_bang");
	free(out);
	free(sql);
	free(args);
	free(flag);
	free(path);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

/* A script that changes how the server reads strings after the check: the
 * statement the scanner reads as one SELECT would run a CREATE TABLE too. */
static void lexing_change_refused(const char *target, const char *set, const char *words)
{
	char *dir = tu_tmpdir(), *out = NULL, *path, *args, *sql;
	int rc;

	make_target(target);
	ck_assert_int_ge(asprintf(&path, "%s/odd.sql", dir), 0);
	ck_assert_int_ge(asprintf(&sql, "%s\nSELECT 'x\\'';CREATE TABLE pwned (a int);--';\n"
				  "INSERT INTO marker VALUES ('x');\n--\n"
				  "-- PostgreSQL database dump complete\n--\n", set), 0);
	tu_write_file(path, sql, strlen(sql));
	ck_assert_int_ge(asprintf(&args, "qrestore --db '%s' --target-db %s --yes", path, target), 0);
	rc = run(&out, dir, target, args);
	ck_assert_msg(rc == 5, "status 5 expected, got %d: %s", rc, out);
	ck_assert_msg(strstr(out, words) && strstr(out, "line 1"), "the message names line 1 and %s: %s",
		      words, out);
	free(out);
	assert_target_untouched(target);
	free(sql);
	free(args);
	free(path);
	tu_rm_rf(dir);
	free(dir);
}

START_TEST(string_rules_changed_refused)
{
	lexing_change_refused("qb_scs", "SET standard_conforming_strings = off;",
			      "standard_conforming_strings");
	lexing_change_refused("qb_sjis", "SET client_encoding = 'SJIS';", "client_encoding");
}
END_TEST

/* Restore a legacy file made by cmd (run in dir, writing db_20260206_030000.sql.gz)
 * onto a target with a marker row: refused with status 6 and words in the message. */
static void legacy_refused(const char *target, const char *cmd, const char *words)
{
	char *dir = tu_tmpdir(), *out = NULL, *args;
	int rc;

	make_target(target);
	rc = tu_sh(&out, "cd '%s' && export PGPASSWORD='%s' PGBIN='%s' PGHOST=%s PGPORT=%s PGUSER=%s && %s", dir,
		   tu_env("QB_TEST_PGPASSWORD"), tu_env("QB_TEST_PGBIN"), tu_env("QB_TEST_PGHOST"),
		   tu_env("QB_TEST_PGPORT"), tu_env("QB_TEST_PGUSER"), cmd);
	ck_assert_msg(rc == 0, "%s: %s", cmd, out);
	free(out);
	ck_assert_int_ge(asprintf(&args, "qrestore --db db_20260206_030000.sql.gz --target-db %s --yes", target), 0);
	rc = run(&out, dir, target, args);
	ck_assert_msg(rc == 6, "status 6 expected, got %d: %s", rc, out);
	ck_assert_msg(strstr(out, words) != NULL, "the message says '%s': %s", words, out);
	free(out);
	assert_target_untouched(target);
	free(args);
	tu_rm_rf(dir);
	free(dir);
}

START_TEST(legacy_empty_or_cut_dump_refused)
{
	/* The old scripts' "pg_dump | gzip" after pg_dump failed at once: a valid gzip of nothing. */
	legacy_refused("qb_legacy_empty", "gzip -c </dev/null > db_20260206_030000.sql.gz", "no SQL statement");
	/* pg_dump's output cut where its closing line starts: every statement is whole. */
	load_fixture("qb_src6");
	legacy_refused("qb_legacy_cut",
		       "\"$PGBIN/pg_dump\" -d qb_src6 > full.sql && "
		       "grep -q '^-- PostgreSQL database dump complete$' full.sql && "
		       "sed '/^-- PostgreSQL database dump complete$/,$d' full.sql "
		       "| gzip > db_20260206_030000.sql.gz",
		       "-- PostgreSQL database dump complete");
}
END_TEST

START_TEST(damaged_gzip_magic_refused)
{
	/* One bit flipped in the first byte (0x1f ^ 0x40): refused as damaged, not
	 * read as plain SQL that fails on a line of binary noise. */
	load_fixture("qb_src6");
	legacy_refused("qb_bad_magic",
		       "\"$PGBIN/pg_dump\" -d qb_src6 | gzip | { printf '\\137'; tail -c +2; } "
		       "> db_20260206_030000.sql.gz",
		       "db_20260206_030000.sql.gz' is named .gz but is not gzip data (damaged?)");
}
END_TEST

START_TEST(escapes_in_a_script_not_echoed)
{
	/* A line of the script quoted in the error: its terminal escapes are shown, not sent. */
	static const char script[] = "SELECT 1;\n\\\033[2J\033]0;owned\007x\n";
	char *dir = tu_tmpdir(), *out = NULL, *path, *args;
	int rc;

	make_target("qb_esc");
	ck_assert_int_ge(asprintf(&path, "%s/esc.sql", dir), 0);
	ck_assert_int_eq(tu_write_file(path, script, strlen(script)), 0);
	ck_assert_int_ge(asprintf(&args, "qrestore --db '%s' --target-db qb_esc --yes", path), 0);
	rc = run(&out, dir, "qb_esc", args);
	ck_assert_msg(rc == 5, "status 5 expected, got %d: %s", rc, out);
	ck_assert_msg(strstr(out, "line 2: ") && strstr(out, "'\\\\x1b[2J\\x1b]0;owned\\x07x'"),
		      "the escapes are shown: %s", out);
	ck_assert_msg(!strchr(out, '\033') && !strchr(out, '\007'), "nothing raw: %s", out);
	free(out);
	assert_target_untouched("qb_esc");
	free(args);
	free(path);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(replace_keeps_previous)
{
	char *dir = tu_tmpdir(), *out = NULL, *path, *args;
	int rc;

	path = dump_rich("qb_src5", dir);
	make_target("qb_live");
	/* Without a terminal and without --yes: refused, nothing changed. */
	ck_assert_int_ge(asprintf(&args, "qrestore --db '%s' --target-db qb_live", path), 0);
	rc = run(&out, dir, "qb_src5", args);
	ck_assert_msg(rc == 5 && strstr(out, "--yes"), "no --yes: status %d: %s", rc, out);
	free(out);
	assert_target_untouched("qb_live");
	free(args);
	ck_assert_int_ge(asprintf(&args, "qrestore --db '%s' --target-db qb_live --yes", path), 0);
	rc = run(&out, dir, "qb_src5", args);
	ck_assert_msg(rc == 0, "qrestore failed: %s", out);
	ck_assert_msg(strstr(out, "qb_live_before_") != NULL, "the old database's new name is said: %s", out);
	free(out);
	assert_same_dump("qb_src5", "qb_live");
	ck_assert_int_eq(tu_psql("postgres", "SELECT datname FROM pg_database WHERE datname LIKE 'qb_live_before_%';", &out), 0);
	ck_assert_msg(strncmp(out, "qb_live_before_", 15) == 0, "previous kept: %s", out);
	{
		char *db = strdup(out), *check = NULL;
		db[strcspn(db, "\n")] = '\0';
		ck_assert_int_eq(tu_psql(db, "SELECT v FROM marker;", &check), 0);
		ck_assert_str_eq(check, "untouched\n");
		free(check);
		tu_pg_drop_db(db);
		free(db);
	}
	free(out);
	/* Again within the same second as a restore before it: that one's kept name is
	 * taken (made here for the next seconds), so this one keeps its own under _2. */
	{
		char names[8][64];
		time_t now = time(NULL);
		for (int i = 0; i < 8; i++) {
			char stamp[32];
			qb_stamp(now + i, stamp, sizeof(stamp));
			snprintf(names[i], sizeof(names[i]), "qb_live_before_%s", stamp);
			tu_pg_create_db(names[i]);
		}
		rc = run(&out, dir, "qb_src5", args);
		ck_assert_msg(rc == 0 && strstr(out, "qb_live_before_") && strstr(out, "_2\""),
			      "a taken name (%d): %s", rc, out);
		free(out);
		for (int i = 0; i < 8; i++)
			tu_pg_drop_db(names[i]);
		ck_assert_int_eq(tu_psql("postgres", "SELECT datname FROM pg_database WHERE datname LIKE "
					 "'qb_live_before_%';", &out), 0);
		out[strcspn(out, "\n")] = '\0';
		ck_assert_msg(strlen(out) > 2 && !strcmp(out + strlen(out) - 2, "_2"), "kept: %s", out);
		tu_pg_drop_db(out);
		free(out);
	}
	free(args);
	free(path);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

/* A scratch database an interrupted restore left is named, and left alone. */
START_TEST(leftover_scratch_warned)
{
	char *dir = tu_tmpdir(), *out = NULL, *path, *args;
	int rc;

	path = dump_rich("qb_src_lo", dir);
	make_target("qb_lo");
	tu_pg_create_db("qb_lo_qbrestore_20200101_000000");
	tu_pg_create_db("qb_lo2_qbrestore_20200101_000000");   /* another database's */
	ck_assert_int_ge(asprintf(&args, "qrestore --db '%s' --target-db qb_lo --yes", path), 0);
	rc = run(&out, dir, "qb_src_lo", args);
	ck_assert_msg(rc == 0, "qrestore failed: %s", out);
	ck_assert_msg(strstr(out, "\"qb_lo_qbrestore_20200101_000000\" is left by a restore that did not finish"),
		      "the leftover is named: %s", out);
	ck_assert_msg(strstr(out, "dropdb -h '") && strstr(out, " 'qb_lo_qbrestore_20200101_000000'"),
		      "its dropdb, quoted for a shell: %s", out);
	ck_assert_msg(!strstr(out, "qb_lo2_qbrestore"), "only this target's leftovers: %s", out);
	free(out);
	ck_assert_int_eq(tu_psql("postgres", "SELECT count(*) FROM pg_database WHERE datname LIKE 'qb\\_lo%qbrestore%';",
				 &out), 0);
	ck_assert_msg(!strcmp(out, "2\n"), "both leftovers are still there: %s", out);
	free(out);
	tu_pg_drop_db("qb_lo_qbrestore_20200101_000000");
	tu_pg_drop_db("qb_lo2_qbrestore_20200101_000000");
	ck_assert_int_eq(tu_psql("postgres", "SELECT datname FROM pg_database WHERE datname LIKE 'qb\\_lo\\_before\\_%';",
				 &out), 0);
	out[strcspn(out, "\n")] = '\0';
	if (out[0])
		tu_pg_drop_db(out);
	free(out);
	free(args);
	free(path);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

/* On a new server the dump's roles are missing: the restore stops at the
 * first one with what to do, and changes nothing. */
START_TEST(missing_role_hinted)
{
	char *dir = tu_tmpdir(), *out = NULL, *name, *args;
	int rc;

	ck_assert_int_eq(tu_psql("postgres", "DROP ROLE IF EXISTS qb_gone; CREATE ROLE qb_gone;", NULL), 0);
	tu_pg_create_db("qb_src_gone");
	ck_assert_int_eq(tu_psql("qb_src_gone", "CREATE TABLE t (a int); INSERT INTO t VALUES (1); "
				 "ALTER TABLE t OWNER TO qb_gone;", NULL), 0);
	rc = run(&out, dir, "qb_src_gone", "qbackup --type db");
	ck_assert_msg(rc == 0, "qbackup failed: %s", out);
	free(out);
	tu_pg_drop_db("qb_src_gone");
	ck_assert_int_eq(tu_psql("postgres", "DROP ROLE qb_gone;", NULL), 0);
	make_target("qb_gone_t");
	name = find_dump(dir);
	ck_assert_ptr_nonnull(name);
	ck_assert_int_ge(asprintf(&args, "qrestore --db '%s' --target-db qb_gone_t --yes", name), 0);
	rc = run(&out, dir, "qb_gone_t", args);
	ck_assert_msg(rc != 0, "a restore without the owner's role must fail: %s", out);
	ck_assert_msg(strstr(out, "qb_gone") && strstr(out, "a dump does not create roles") &&
		      strstr(out, "CREATE ROLE"), "the message says what to do: %s", out);
	free(out);
	assert_target_untouched("qb_gone_t");
	tu_pg_drop_db("qb_gone_t");
	free(args);
	free(name);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(unsupported_object_fails_by_name)
{
	char *dir = tu_tmpdir(), *out = NULL;
	int rc;

	tu_pg_create_db("qb_evt");
	ck_assert_int_eq(tu_psql("qb_evt",
		"CREATE FUNCTION evt() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN END $$;"
		"CREATE EVENT TRIGGER audit_ddl ON ddl_command_end EXECUTE FUNCTION evt();", NULL), 0);
	rc = run(&out, dir, "qb_evt", "qbackup --type db");
	ck_assert_msg(rc == 1, "status %d: %s", rc, out);
	ck_assert_msg(strstr(out, "event trigger") && strstr(out, "audit_ddl"), "names the object: %s", out);
	free(out);
	/* No file under a backup name, and no leftover. */
	ck_assert_int_eq(tu_sh(&out, "ls -A '%s' | grep -c -e '^db_' -e '^.qb-tmp' || true", dir), 0);
	ck_assert_str_eq(out, "0\n");
	free(out);
	tu_pg_drop_db("qb_evt");
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

/* A GRANT or REVOKE on a built-in or an extension's object is not dumped
 * (restoring it needs the objects' superuser owner): the backup succeeds and
 * says so, naming them; a fresh database's own privileges raise nothing. */
START_TEST(changed_builtin_privileges_warned)
{
	char *dir = tu_tmpdir(), *out = NULL;
	int rc;

	roles();
	tu_pg_create_db("qb_privs");
	ck_assert_int_eq(tu_psql("qb_privs", "CREATE EXTENSION pg_trgm; CREATE TABLE t (a text);", NULL), 0);
	rc = run(&out, dir, "qb_privs", "qbackup --type db");
	ck_assert_msg(rc == 0, "status %d: %s", rc, out);
	ck_assert_msg(strstr(out, "privileges") == NULL, "nothing changed, nothing to say: %s", out);
	free(out);
	ck_assert_int_eq(tu_psql("qb_privs",
		"GRANT EXECUTE ON FUNCTION pg_catalog.pg_ls_dir(text) TO qb_reader;"
		"REVOKE EXECUTE ON FUNCTION public.similarity(text, text) FROM PUBLIC;"
		"REVOKE USAGE ON LANGUAGE plpgsql FROM PUBLIC;", NULL), 0);
	tu_rm_rf(dir);
	free(dir);
	dir = tu_tmpdir();
	rc = run(&out, dir, "qb_privs", "qbackup --type db");
	ck_assert_msg(rc == 0, "status %d: %s", rc, out);
	ck_assert_msg(strstr(out, "function pg_ls_dir(text)") && strstr(out, "function public.similarity(text,text)") &&
		      strstr(out, "language plpgsql") && strstr(out, "not dumped"), "names them: %s", out);
	free(out);
	tu_pg_drop_db("qb_privs");
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

/* A restore takes the run lock: while a run holds it, qrestore stops at once (exit 4),
 * names the run and touches nothing. */
START_TEST(restore_refused_while_a_run_holds_the_lock)
{
	char *dir = tu_tmpdir(), *out = NULL, *path, *args;
	struct qb_lock *lk = NULL;
	struct qb_err err = { 0 };

	path = dump_rich("qb_src5", dir);
	tu_pg_drop_db("qb_dst5");
	ck_assert_int_eq(qb_lock_acquire(&lk, dir, "all", &err), QB_OK);
	ck_assert_int_ge(asprintf(&args, "qrestore --db '%s' --target-db qb_dst5 --yes", path), 0);
	ck_assert_int_eq(run(&out, dir, "qb_src5", args), 4);
	ck_assert_msg(strstr(out, "type all") && strstr(out, "wait for it to end"), "%s", out);
	free(out);
	ck_assert_int_ne(tu_sh(&out, "PGPASSWORD='%s' '%s/psql' -X -q -At -h %s -p %s -U %s -d qb_dst5 "
			       "-c 'SELECT 1'", tu_env("QB_TEST_PGPASSWORD"), tu_env("QB_TEST_PGBIN"),
			       tu_env("QB_TEST_PGHOST"), tu_env("QB_TEST_PGPORT"),
			       tu_env("QB_TEST_PGUSER")), 0);
	free(out);
	/* The question comes before the lock: a restore waiting for its answer does not
	 * hold the night's backup off (here, without a terminal, it asks for --yes). */
	{
		char *ask = NULL;
		ck_assert_int_ge(asprintf(&ask, "qrestore --db '%s' --target-db qb_src5", path), 0);
		ck_assert_int_eq(run(&out, dir, "qb_src5", ask), 5);
		ck_assert_msg(strstr(out, "--yes") && !strstr(out, "wait for it to end"), "%s", out);
		free(out);
		free(ask);
	}
	qb_lock_free(lk);
	/* Released: the same command goes through. */
	ck_assert_msg(run(&out, dir, "qb_src5", args) == 0, "%s", out);
	free(out);
	/* Where no run ever started (no lock file), qrestore does not make one: made by
	 * root, it would lock the backup user's runs out. */
	ck_assert_int_eq(tu_sh(NULL, "rm '%s/.qbackup.lock'", dir), 0);
	ck_assert_msg(run(&out, dir, "qb_src5", args) == 0, "%s", out);
	free(out);
	ck_assert_int_ne(tu_sh(NULL, "test -e '%s/.qbackup.lock'", dir), 0);
	free(args);
	free(path);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

/* qbackup --type db into dir with this DATABASE_URL; its exit status, output in *out. */
static int dump_with_url(char **out, const char *dir, const char *url)
{
	return tu_sh(out, "BACKUP_DIR='%s' DATABASE_URL='%s' %s/qbackup --type db </dev/null", dir, url,
		     tu_env("QB_BUILD"));
}

/* qbackup --type db of url into dir, which must succeed: the dump's name (caller frees). */
static char *dumped(const char *dir, const char *url)
{
	char *out = NULL, *name;
	int rc = dump_with_url(&out, dir, url);

	ck_assert_msg(rc == 0, "qbackup failed: %s", out);
	free(out);
	name = find_dump(dir);
	ck_assert_ptr_nonnull(name);
	return name;
}

/* The application's setting: its role (LOGIN CREATEDB, password pw), made if
 * missing, owns a new database src; dst, where it restores, does not exist. */
static void app_source(const char *role, const char *pw, const char *src, const char *dst)
{
	char *sql = NULL;

	ck_assert_int_ge(asprintf(&sql, "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE "
				  "rolname = '%s') THEN CREATE ROLE %s LOGIN CREATEDB PASSWORD '%s'; "
				  "END IF; END $$;", role, role, pw), 0);
	ck_assert_int_eq(tu_psql("postgres", sql, NULL), 0);
	free(sql);
	tu_pg_drop_db(src);
	tu_pg_drop_db(dst);
	ck_assert_int_ge(asprintf(&sql, "CREATE DATABASE %s OWNER %s;", src, role), 0);
	ck_assert_int_eq(tu_psql("postgres", sql, NULL), 0);
	free(sql);
}


START_TEST(unreachable_database_fails_cleanly)
{
	char *dir = tu_tmpdir(), *out = NULL;
	int rc = dump_with_url(&out, dir, "postgresql://postgres:s3cr3t-pw@127.0.0.1:1/x");

	ck_assert_msg(rc == 1, "status %d: %s", rc, out);
	ck_assert_msg(strstr(out, "unable to connect") != NULL, "message: %s", out);
	ck_assert_msg(strstr(out, "s3cr3t-pw") == NULL, "the password leaked: %s", out);
	free(out);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

/* A database's settings, its roles' settings in it and its privileges (the
 * ACL's entries sorted: their order is not part of what they grant). */
static char *db_properties(const char *db)
{
	char *sql, *out = NULL;

	ck_assert_int_ge(asprintf(&sql,
		"SELECT coalesce(r.rolname, '-') || ' ' || s.setconfig::text FROM pg_db_role_setting s "
		"JOIN pg_database d ON d.oid = s.setdatabase LEFT JOIN pg_roles r ON r.oid = s.setrole "
		"WHERE d.datname = '%s' "
		"UNION ALL SELECT 'acl ' || coalesce((SELECT array_agg(a::text ORDER BY a::text) "
		"FROM unnest(d.datacl) a)::text, 'default') FROM pg_database d WHERE d.datname = '%s' "
		"ORDER BY 1;", db, db), 0);
	ck_assert_int_eq(tu_psql("postgres", sql, &out), 0);
	free(sql);
	return out;
}

/* qrestore of a one-table script over db, connecting as url (NULL: the test
 * user); returns its status, output in *out; the previous database is dropped. */
static int restore_over(char **out, const char *db, const char *url)
{
	char *dir = tu_tmpdir(), *path, *own = url ? NULL : tu_pg_url("postgres"), *prev = NULL;
	/* Ends as pg_dump's scripts do: a foreign script without it is taken as cut short. */
	const char *sql = "CREATE TABLE restored (a int);\n\n"
			  "--\n-- PostgreSQL database dump complete\n--\n\n";
	int rc;

	ck_assert_int_ge(asprintf(&path, "%s/small.sql", dir), 0);
	tu_write_file(path, sql, strlen(sql));
	rc = tu_sh(out, "env -u PGPASSWORD BACKUP_DIR='%s' DATABASE_URL='%s' %s/qrestore --db '%s' "
		   "--target-db %s --yes </dev/null", dir, url ? url : own, tu_env("QB_BUILD"), path, db);
	ck_assert_int_eq(tu_psql("postgres", "SELECT datname FROM pg_database "
				 "WHERE datname LIKE 'qb\\_%\\_before\\_%';", &prev), 0);
	for (char *p = prev, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
		*nl = '\0';
		tu_pg_drop_db(p);
	}
	free(prev);
	free(own);
	free(path);
	tu_rm_rf(dir);
	free(dir);
	return rc;
}

START_TEST(restore_keeps_settings)
{
	char *before, *after, *out = NULL;
	int rc;

	roles();
	make_target("qb_props");
	ck_assert_int_eq(tu_psql("postgres",
		"ALTER DATABASE qb_props SET search_path = app, public, \"My \"\"Q\"\" Schema\";"
		"ALTER DATABASE qb_props SET temp_tablespaces = '';"
		"ALTER DATABASE qb_props SET work_mem = '8MB';"
		/* Copied after the script, or the restore's own sessions would be read-only. */
		"ALTER DATABASE qb_props SET default_transaction_read_only = on;"
		"ALTER ROLE qb_reader IN DATABASE qb_props SET search_path = \"x, y\", app;"
		"ALTER ROLE qb_reader IN DATABASE qb_props SET statement_timeout = '5s';", NULL), 0);
	before = db_properties("qb_props");
	ck_assert_msg(strstr(before, "- {\"search_path=app, public, \\\"My \\\"\\\"Q\\\"\\\" Schema\\\"\"") &&
		      strstr(before, "qb_reader {\"search_path=\\\"x, y\\\", app\",statement_timeout=5s}"),
		      "fixture: %s", before);
	rc = restore_over(&out, "qb_props", NULL);
	ck_assert_msg(rc == 0, "qrestore failed: %s", out);
	free(out);
	after = db_properties("qb_props");
	ck_assert_str_eq(after, before);
	ck_assert_int_eq(tu_psql("qb_props", "SELECT count(*) FROM restored; SHOW search_path;", &out), 0);
	ck_assert_str_eq(out, "0\napp, public, \"My \"\"Q\"\" Schema\"\n");
	free(out);
	free(before);
	free(after);
	tu_pg_drop_db("qb_props");
}
END_TEST

/* Restore over db after grants (whose ACL has the entry expect); the ACL
 * must come back entry for entry. */
static void assert_acl_kept(const char *db, const char *grants, const char *expect)
{
	char *before, *after, *out = NULL;
	int rc;

	make_target(db);
	ck_assert_int_eq(tu_psql(db, grants, NULL), 0);
	before = db_properties(db);
	ck_assert_msg(strstr(before, expect) != NULL, "fixture: %s", before);
	rc = restore_over(&out, db, NULL);
	ck_assert_msg(rc == 0, "qrestore failed: %s", out);
	free(out);
	after = db_properties(db);
	ck_assert_str_eq(after, before);
	free(before);
	free(after);
}

START_TEST(restore_keeps_privileges)
{
	char *out = NULL;

	roles();
	/* The owner kept its implicit privileges but CREATE. */
	assert_acl_kept("qb_acl",
		"REVOKE CONNECT ON DATABASE qb_acl FROM PUBLIC;"
		"GRANT CONNECT ON DATABASE qb_acl TO qb_reader;"
		"GRANT TEMPORARY ON DATABASE qb_acl TO qb_writer WITH GRANT OPTION;"
		"REVOKE CREATE ON DATABASE qb_acl FROM CURRENT_USER;", "=T/");
	ck_assert_int_eq(tu_psql("postgres", "SELECT has_database_privilege('qb_reader', 'qb_acl', 'CONNECT'), "
				 "has_database_privilege('qb_owner', 'qb_acl', 'CONNECT'), "
				 "has_database_privilege('qb_writer', 'qb_acl', 'TEMPORARY WITH GRANT OPTION');", &out), 0);
	ck_assert_str_eq(out, "t|f|t\n");
	free(out);
	tu_pg_drop_db("qb_acl");
	/* Another owner, who took all but CONNECT (with grant option) away from itself. */
	assert_acl_kept("qb_acl2",
		"ALTER DATABASE qb_acl2 OWNER TO qb_owner;"
		"REVOKE ALL ON DATABASE qb_acl2 FROM qb_owner;"
		"GRANT CONNECT ON DATABASE qb_acl2 TO qb_owner WITH GRANT OPTION;"
		"GRANT CREATE ON DATABASE qb_acl2 TO qb_reader;", "qb_owner=c*/qb_owner,qb_reader=C/qb_owner}");
	tu_pg_drop_db("qb_acl2");
}
END_TEST

/* A restoring user who may not ALTER ROLE: that role's setting is a warning. */
START_TEST(role_setting_without_privilege_warns)
{
	char *before, *after, *out = NULL, *url;
	int rc;

	roles();
	ck_assert_int_eq(tu_psql("postgres",
		"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'qb_restorer') THEN "
		"CREATE ROLE qb_restorer LOGIN CREATEDB PASSWORD 'qb-restorer-pw'; END IF; END $$;", NULL), 0);
	tu_pg_drop_db("qb_nopriv");
	ck_assert_int_eq(tu_psql("postgres",
		"CREATE DATABASE qb_nopriv OWNER qb_restorer TEMPLATE template0;"
		"ALTER DATABASE qb_nopriv SET search_path = app, public;"
		"ALTER ROLE qb_reader IN DATABASE qb_nopriv SET work_mem = '9MB';", NULL), 0);
	before = db_properties("qb_nopriv");
	ck_assert_int_ge(asprintf(&url, "postgresql://qb_restorer:qb-restorer-pw@%s:%s/postgres",
				  tu_env("QB_TEST_PGHOST"), tu_env("QB_TEST_PGPORT")), 0);
	rc = restore_over(&out, "qb_nopriv", url);
	ck_assert_msg(rc == 0, "qrestore failed: %s", out);
	ck_assert_msg(strstr(out, "work_mem") && strstr(out, "qb_reader") && strstr(out, "not copied"),
		      "the role's setting left behind is named: %s", out);
	free(out);
	after = db_properties("qb_nopriv");
	ck_assert_str_eq(after, "- {\"search_path=app, public\"}\nacl default\n");
	free(url);
	free(before);
	free(after);
	tu_pg_drop_db("qb_nopriv");
}
END_TEST

/* What a restore needs of its user is checked before the load, and said:
 * CREATEDB, then the right to rename the target (its owner, or a superuser). */
START_TEST(restore_rights_checked_first)
{
	char *out = NULL, *url;
	int rc;

	ck_assert_int_eq(tu_psql("postgres",
		"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'qb_restorer') THEN "
		"CREATE ROLE qb_restorer LOGIN CREATEDB PASSWORD 'qb-restorer-pw'; END IF; "
		"IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'qb_nocreate') THEN "
		"CREATE ROLE qb_nocreate LOGIN PASSWORD 'qb-nocreate-pw'; END IF; END $$;", NULL), 0);
	make_target("qb_rights");
	ck_assert_int_ge(asprintf(&url, "postgresql://qb_nocreate:qb-nocreate-pw@%s:%s/postgres",
				  tu_env("QB_TEST_PGHOST"), tu_env("QB_TEST_PGPORT")), 0);
	rc = restore_over(&out, "qb_rights", url);
	ck_assert_msg(rc == 3 && strstr(out, "\"qb_nocreate\" may not create databases") &&
		      strstr(out, "PGPASSWORD"), "without CREATEDB (%d): %s", rc, out);
	free(out);
	free(url);
	ck_assert_int_ge(asprintf(&url, "postgresql://qb_restorer:qb-restorer-pw@%s:%s/postgres",
				  tu_env("QB_TEST_PGHOST"), tu_env("QB_TEST_PGPORT")), 0);
	rc = restore_over(&out, "qb_rights", url);
	ck_assert_msg(rc == 3 && strstr(out, "may not rename database \"qb_rights\"") &&
		      !strstr(out, "restoring"), "not the target's owner (%d): %s", rc, out);
	free(out);
	free(url);
	assert_target_untouched("qb_rights");
	tu_pg_drop_db("qb_rights");
}
END_TEST

/*
 * The application's own role (LOGIN CREATEDB, owner of its database, not a
 * superuser) dumps and restores its database.  Dumps used to carry
 * COMMENT ON EXTENSION plpgsql, which only the bootstrap superuser may run.
 */
START_TEST(app_owner_restores_its_own_dump)
{
	char *dir = tu_tmpdir(), *out = NULL, *url, *name, *rows = NULL;
	int rc;

	app_source("qb_app", "qb-app-pw", "qb_app_src", "qb_app_dst");
	ck_assert_int_eq(tu_psql("qb_app_src",
		"SET ROLE qb_app; CREATE TABLE dossiers (id int PRIMARY KEY, nom text);"
		"INSERT INTO dossiers VALUES (1, 'Dupont'), (2, 'Martin');"
		"COMMENT ON TABLE dossiers IS 'les dossiers';"
		"CREATE FUNCTION total() RETURNS bigint LANGUAGE plpgsql "
		"AS $f$ BEGIN RETURN (SELECT count(*) FROM dossiers); END $f$;", NULL), 0);
	ck_assert_int_ge(asprintf(&url, "postgresql://qb_app:qb-app-pw@%s:%s/qb_app_src",
				  tu_env("QB_TEST_PGHOST"), tu_env("QB_TEST_PGPORT")), 0);
	name = dumped(dir, url);
	rc = tu_sh(&out, "env -u PGPASSWORD BACKUP_DIR='%s' DATABASE_URL='%s' %s/qrestore --db %s "
		   "--target-db qb_app_dst --yes </dev/null", dir, url, tu_env("QB_BUILD"), name);
	ck_assert_msg(rc == 0, "qrestore as the database's owner failed: %s", out);
	free(out);
	ck_assert_int_eq(tu_psql("qb_app_dst", "SELECT total() || ' ' || pg_catalog.obj_description("
				 "'dossiers'::regclass, 'pg_class') || ' ' || "
				 "(SELECT rolname FROM pg_roles r JOIN pg_database d ON d.datdba = r.oid "
				 "WHERE d.datname = 'qb_app_dst');", &rows), 0);
	ck_assert_str_eq(rows, "2 les dossiers qb_app\n");
	free(rows);
	free(name);
	free(url);
	tu_pg_drop_db("qb_app_src");
	tu_pg_drop_db("qb_app_dst");
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

/* qbackup of src, then qrestore of its dump into a new database dst, both as the test user. */
static void dump_and_restore(const char *src, const char *dst)
{
	char *dir = tu_tmpdir(), *out = NULL, *name, *args;

	ck_assert_msg(run(&out, dir, src, "qbackup --type db") == 0, "qbackup failed: %s", out);
	free(out);
	name = find_dump(dir);
	ck_assert_ptr_nonnull(name);
	tu_pg_drop_db(dst);
	ck_assert_int_ge(asprintf(&args, "qrestore --db '%s/%s' --target-db %s --yes", dir, name, dst), 0);
	ck_assert_msg(run(&out, dir, src, args) == 0, "qrestore failed: %s", out);
	free(out);
	free(args);
	free(name);
	tu_rm_rf(dir);
	free(dir);
}

/* Every column default of db's tables in public: "table.column=expression", or "=none". */
static char *column_defaults(const char *db)
{
	char *out = NULL;

	ck_assert_int_eq(tu_psql(db, "SELECT c.relname || '.' || a.attname || '=' || "
		"coalesce(pg_get_expr(d.adbin, d.adrelid), 'none') FROM pg_attribute a "
		"JOIN pg_class c ON c.oid = a.attrelid LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid "
		"AND d.adnum = a.attnum WHERE c.relnamespace = 'public'::regnamespace "
		"AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped ORDER BY 1;", &out), 0);
	return out;
}

/* A child made by INHERITS or PARTITION OF takes its parents' defaults: one whose
 * default was dropped must come back without one, not with its parent's. */
START_TEST(dropped_inherited_default_stays_dropped)
{
	char *before, *after, *rows = NULL;

	tu_pg_create_db("qb_inh_src");
	ck_assert_int_eq(tu_psql("qb_inh_src",
		"CREATE TABLE parent (id int, status text DEFAULT 'active');"
		"CREATE TABLE child () INHERITS (parent);"
		"ALTER TABLE child ALTER COLUMN status DROP DEFAULT;"
		"CREATE TABLE grandchild () INHERITS (child);"
		"CREATE TABLE mid () INHERITS (parent);"
		"CREATE TABLE leaf () INHERITS (mid);"
		"ALTER TABLE leaf ALTER COLUMN status DROP DEFAULT;"
		"CREATE TABLE adopted (id int, status text);"
		"ALTER TABLE adopted INHERIT parent;"
		"CREATE TABLE own_default (id int, status text DEFAULT 'own') INHERITS (parent);"
		"CREATE TABLE counted (n int DEFAULT 5);"
		"CREATE TABLE counter () INHERITS (counted);"
		"ALTER TABLE counter ALTER COLUMN n DROP DEFAULT;"
		"ALTER TABLE counter ALTER COLUMN n SET NOT NULL;"
		"ALTER TABLE counter ALTER COLUMN n ADD GENERATED ALWAYS AS IDENTITY;"
		"CREATE TABLE pt (k int DEFAULT 7, v text) PARTITION BY LIST (v);"
		"CREATE TABLE pt1 PARTITION OF pt FOR VALUES IN ('a');"
		"ALTER TABLE pt1 ALTER COLUMN k DROP DEFAULT;"
		"CREATE TABLE pt2 (k int, v text);"
		"ALTER TABLE pt ATTACH PARTITION pt2 FOR VALUES IN ('b');", NULL), 0);
	dump_and_restore("qb_inh_src", "qb_inh_dst");
	before = column_defaults("qb_inh_src");
	after = column_defaults("qb_inh_dst");
	ck_assert_msg(strstr(before, "child.status=none\n") && strstr(before, "mid.status='active'::text\n") &&
		      strstr(before, "pt1.k=none\n"), "the source is not what the test means: %s", before);
	ck_assert_str_eq(after, before);
	free(before);
	free(after);
	ck_assert_int_eq(tu_psql("qb_inh_dst",
		"INSERT INTO child (id) VALUES (1) RETURNING coalesce(status, 'null');", &rows), 0);
	ck_assert_str_eq(rows, "null\n");
	free(rows);
	tu_pg_drop_db("qb_inh_src");
	tu_pg_drop_db("qb_inh_dst");
}
END_TEST

/* relrowsecurity, relforcerowsecurity and the rows of table notes in db, read as the test user. */
static char *notes_state(const char *db)
{
	char *out = NULL;

	ck_assert_int_eq(tu_psql(db, "SELECT relrowsecurity || ' ' || relforcerowsecurity || ' ' || "
		"(SELECT string_agg(id || ':' || author, ',' ORDER BY id) FROM notes) "
		"FROM pg_class WHERE oid = 'notes'::regclass;", &out), 0);
	return out;
}

/* A table with FORCE ROW LEVEL SECURITY is restored by its owner, who is no
 * superuser: its rows are loaded before row security is switched on, by
 * qrestore and by psql alike. */
START_TEST(owner_restores_forced_row_security)
{
	char *dir = tu_tmpdir(), *out = NULL, *url, *name, *before, *after;
	int rc;

	app_source("qb_rls", "qb-rls-pw", "qb_rls_src", "qb_rls_dst");
	ck_assert_int_eq(tu_psql("qb_rls_src",
		"SET ROLE qb_rls; CREATE TABLE notes (id int PRIMARY KEY, author text);"
		"INSERT INTO notes VALUES (1, 'qb_rls'), (2, 'someone'), (3, 'other');"
		"ALTER TABLE notes ENABLE ROW LEVEL SECURITY; ALTER TABLE notes FORCE ROW LEVEL SECURITY;"
		"CREATE POLICY own_notes ON notes USING (author = current_user);", NULL), 0);
	/* The nightly dump runs as the test user (a superuser): with FORCE, the
	 * owner itself could not read the rows other than its own. */
	ck_assert_msg(run(&out, dir, "qb_rls_src", "qbackup --type db") == 0, "qbackup failed: %s", out);
	free(out);
	name = find_dump(dir);
	ck_assert_ptr_nonnull(name);
	ck_assert_int_ge(asprintf(&url, "postgresql://qb_rls:qb-rls-pw@%s:%s/qb_rls_src",
				  tu_env("QB_TEST_PGHOST"), tu_env("QB_TEST_PGPORT")), 0);
	rc = tu_sh(&out, "env -u PGPASSWORD BACKUP_DIR='%s' DATABASE_URL='%s' %s/qrestore --db %s "
		   "--target-db qb_rls_dst --yes </dev/null", dir, url, tu_env("QB_BUILD"), name);
	ck_assert_msg(rc == 0, "qrestore as the table's owner failed: %s", out);
	free(out);
	before = notes_state("qb_rls_src");
	ck_assert_str_eq(before, "true true 1:qb_rls,2:someone,3:other\n");
	after = notes_state("qb_rls_dst");
	ck_assert_str_eq(after, before);
	free(after);
	/* The same file through psql, as the owner, into a database it owns. */
	tu_pg_drop_db("qb_rls_dst");
	ck_assert_int_eq(tu_psql("postgres", "CREATE DATABASE qb_rls_dst OWNER qb_rls;", NULL), 0);
	free(url);
	ck_assert_int_ge(asprintf(&url, "postgresql://qb_rls:qb-rls-pw@%s:%s/qb_rls_dst",
				  tu_env("QB_TEST_PGHOST"), tu_env("QB_TEST_PGPORT")), 0);
	rc = tu_sh(&out, "gunzip -c '%s/%s' | env -u PGPASSWORD psql -X -q -v ON_ERROR_STOP=1 '%s' 2>&1",
		   dir, name, url);
	ck_assert_msg(rc == 0, "gunzip | psql as the table's owner failed: %s", out);
	free(out);
	after = notes_state("qb_rls_dst");
	ck_assert_str_eq(after, before);
	free(after);
	free(before);
	free(name);
	free(url);
	tu_pg_drop_db("qb_rls_src");
	tu_pg_drop_db("qb_rls_dst");
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

/* A tiny extension with a configuration table (and its sequence), installed
 * into the test server's SHAREDIR for the "extension" case and removed after
 * it, whatever its outcome. */
static const char ext_control[] = "comment = 'qbackup test: a configuration table'\n"
				  "default_version = '1.0'\nrelocatable = false\n";
static const char ext_script[] =
	"CREATE TABLE qb_cfg (id serial PRIMARY KEY, name text, builtin boolean NOT NULL DEFAULT false);\n"
	"SELECT pg_catalog.pg_extension_config_dump('qb_cfg', 'WHERE NOT builtin');\n"
	"SELECT pg_catalog.pg_extension_config_dump('qb_cfg_id_seq', '');\n"
	"INSERT INTO qb_cfg (name, builtin) VALUES ('shipped', true);\n";

/* Path of file name in the server's extension folder (caller frees). */
static char *ext_path(const char *name)
{
	char *dir = NULL, *path;
	size_t n;

	ck_assert_int_eq(tu_psql("postgres", "SELECT setting FROM pg_config WHERE name = 'SHAREDIR';", &dir), 0);
	n = strlen(dir);
	while (n && dir[n - 1] == '\n')
		dir[--n] = '\0';
	ck_assert_int_ge(asprintf(&path, "%s/extension/%s", dir, name), 0);
	free(dir);
	return path;
}

static void ext_files(bool install)
{
	char *control = ext_path("qb_cfgtest.control"), *script = ext_path("qb_cfgtest--1.0.sql");

	if (install) {
		ck_assert_int_eq(tu_write_file(control, ext_control, strlen(ext_control)), 0);
		ck_assert_int_eq(tu_write_file(script, ext_script, strlen(ext_script)), 0);
		/* The server may run as another user (postgres, when the tests run as root). */
		ck_assert_int_eq(chmod(control, 0644), 0);
		ck_assert_int_eq(chmod(script, 0644), 0);
	} else {
		unlink(control);
		unlink(script);
	}
	free(control);
	free(script);
}

static void ext_files_install(void)
{
	ext_files(true);
}

static void ext_files_remove(void)
{
	ext_files(false);
}

/* The rows and the sequence value of the extension's configuration table. */
static char *config_rows(const char *db)
{
	char *out = NULL;

	ck_assert_int_eq(tu_psql(db, "SELECT string_agg(id || ':' || name || ':' || builtin, ',' ORDER BY id) "
				 "|| ' ' || (SELECT last_value FROM qb_cfg_id_seq) FROM qb_cfg;", &out), 0);
	return out;
}

/* The rows a user adds to an extension's configuration table are dumped (the
 * ones its script inserts are not, by its filter) and come back after
 * CREATE EXTENSION, with the sequence's value. */
START_TEST(extension_config_rows_kept)
{
	char *before, *after;

	tu_pg_create_db("qb_ext_src");
	ck_assert_int_eq(tu_psql("qb_ext_src", "CREATE EXTENSION qb_cfgtest;"
				 "INSERT INTO qb_cfg (name) VALUES ('mine'), ('yours');", NULL), 0);
	dump_and_restore("qb_ext_src", "qb_ext_dst");
	before = config_rows("qb_ext_src");
	ck_assert_str_eq(before, "1:shipped:true,2:mine:false,3:yours:false 3\n");
	after = config_rows("qb_ext_dst");
	ck_assert_str_eq(after, before);
	free(after);
	free(before);
	tu_pg_drop_db("qb_ext_src");
	tu_pg_drop_db("qb_ext_dst");
}
END_TEST

/* On a new server the restore makes the database anew: it belongs to the role
 * that owned the source (so that the application may create tables in its
 * public schema), even one whose name holds a newline, a tab and a '%'
 * (the dump's header line carries it encoded, and stays a comment). */
START_TEST(new_database_gets_the_dumps_owner)
{
	char *dir = tu_tmpdir(), *out = NULL, *name, *rows = NULL, *url = tu_pg_url("qb_own_src");
	char *super = tu_pg_url("postgres");
	int rc;

	ck_assert_int_eq(tu_psql("postgres",
		"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = E'qb_o\\nw\\tn%er') "
		"THEN CREATE ROLE \"qb_o\nw\tn%er\"; END IF; END $$;", NULL), 0);
	tu_pg_drop_db("qb_own_src");
	tu_pg_drop_db("qb_own_dst");
	ck_assert_int_eq(tu_psql("postgres", "CREATE DATABASE qb_own_src OWNER \"qb_o\nw\tn%er\";", NULL), 0);
	ck_assert_int_eq(tu_psql("qb_own_src", "CREATE TABLE t (a int); INSERT INTO t VALUES (1);", NULL), 0);
	name = dumped(dir, url);
	rc = tu_sh(&out, "BACKUP_DIR='%s' DATABASE_URL='%s' %s/qrestore --db %s --target-db qb_own_dst "
		   "--yes </dev/null", dir, super, tu_env("QB_BUILD"), name);
	ck_assert_msg(rc == 0 && strstr(out, "into a new database \"qb_own_dst\"") && !strstr(out, "owner"),
		      "qrestore into a new database (%d): %s", rc, out);
	free(out);
	ck_assert_int_eq(tu_psql("qb_own_dst", "SELECT r.rolname = E'qb_o\\nw\\tn%er' FROM pg_roles r "
				 "JOIN pg_database d ON d.datdba = r.oid WHERE d.datname = 'qb_own_dst';",
				 &rows), 0);
	ck_assert_str_eq(rows, "t\n");
	free(rows);
	/* gunzip | psql reads the same file: the header stays one comment line. */
	tu_pg_drop_db("qb_own_dst");
	ck_assert_int_eq(tu_psql("postgres", "CREATE DATABASE qb_own_dst;", NULL), 0);
	rc = tu_sh(&out, "gunzip -c '%s/%s' | psql -X -q -v ON_ERROR_STOP=1 '%s' >/dev/null 2>&1; "
		   "psql -X -At -c 'SELECT a FROM t' '%s'", dir, name, url, url);
	ck_assert_msg(rc == 0, "psql: %s", out);
	free(out);
	free(name);
	free(url);
	free(super);
	tu_pg_drop_db("qb_own_src");
	tu_pg_drop_db("qb_own_dst");
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

/*
 * A restore over make_target(target) of a dump that takes seconds to load (1.5 M
 * rows and an index), with the shell's `then` run once the new database exists
 * (the load has begun; $p is qrestore's pid); *out ends with "exit=N".  perl: a
 * background job of a script starts with SIGINT ignored, where Ctrl-C's is not.
 */
static int mid_load(const char *target, const char *then, char **out)
{
	char *dir = tu_tmpdir(), *src = NULL, *url, *super = tu_pg_url("postgres"), *name;
	int rc;

	ck_assert_int_ge(asprintf(&src, "%s_src", target), 0);
	url = tu_pg_url(src);
	tu_pg_create_db(src);
	ck_assert_int_eq(tu_psql(src, "CREATE TABLE big AS SELECT g AS id, md5(g::text) AS h "
				 "FROM generate_series(1, 1500000) g; CREATE INDEX ON big (h);", NULL), 0);
	name = dumped(dir, url);
	make_target(target);
	rc = tu_sh(out, "BACKUP_DIR='%s' DATABASE_URL='%s' RESTORE_JOBS=1 perl -e '$SIG{INT} = \"DEFAULT\"; "
		   "exec @ARGV' %s/qrestore --db %s --target-db %s --yes </dev/null 2>&1 & p=$!; "
		   "for i in $(seq 1 200); do n=$(psql -X -At -c \"SELECT count(*) FROM pg_database WHERE "
		   "datname LIKE '%s_qbrestore_%%'\" '%s'); [ \"$n\" = 1 ] && break; sleep 0.05; done; "
		   "%s; wait $p; echo \"exit=$?\"", dir, super, tu_env("QB_BUILD"), name, target, target,
		   super, then);
	tu_pg_drop_db(src);
	free(name);
	free(url);
	free(src);
	free(super);
	tu_rm_rf(dir);
	free(dir);
	return rc;
}

/* Ctrl-C in the middle of the load: what runs on the server is cancelled, the
 * new database dropped, the target left as it was, exit status 130. */
START_TEST(interrupted_restore_tidies_up)
{
	char *out = NULL;
	int rc = mid_load("qb_int", "sleep 0.3; kill -INT $p", &out);

	ck_assert_msg(rc == 0 && strstr(out, "exit=130") && strstr(out, "stopping the database restore") &&
		      strstr(out, "interrupted") && strstr(out, "\"qb_int\" is unchanged"),
		      "interrupted restore (%d): %s", rc, out);
	ck_assert_msg(!strstr(out, "restored"), "reported as restored: %s", out);
	free(out);
	assert_target_untouched("qb_int");
	tu_pg_drop_db("qb_int");
}
END_TEST

/* The application reconnects during the load: the swap refuses (exit 5), and the
 * message says the load was dropped and how to load and disconnect at once. */
START_TEST(connection_at_the_swap_refused)
{
	char *out = NULL, *target = tu_pg_url("qb_swp"), *then = NULL;
	int rc;

	ck_assert_int_ge(asprintf(&then, "psql -X -q -c 'SELECT pg_sleep(20)' '%s' >/dev/null 2>&1 & "
				  "h=$!; trap 'kill $h 2>/dev/null' EXIT", target), 0);
	rc = mid_load("qb_swp", then, &out);
	ck_assert_msg(rc == 0 && strstr(out, "exit=5") && strstr(out, "at the swap, after the whole load") &&
		      strstr(out, "--terminate-connections") && strstr(out, "\"qb_swp\" is unchanged"),
		      "a connection at the swap (%d): %s", rc, out);
	free(out);
	assert_target_untouched("qb_swp");
	free(then);
	free(target);
	tu_pg_drop_db("qb_swp");
}
END_TEST

/* A database on ICU's locales comes back on them, made anew (from the dump's
 * header) or replacing itself (from the target): text sorts as it did. */
START_TEST(icu_database_keeps_its_provider)
{
	char *dir = tu_tmpdir(), *out = NULL, *name, *rows = NULL, *url = tu_pg_url("qb_icu_src");
	char *super = tu_pg_url("postgres");
	const char *check = "SELECT d.datlocprovider::text || ' ' || d.daticulocale || ' ' || "
			    "(SELECT string_agg(s, ',' ORDER BY s) FROM w) FROM pg_database d "
			    "WHERE d.datname = current_database();";
	int rc;

	tu_pg_drop_db("qb_icu_src");
	tu_pg_drop_db("qb_icu_new");
	ck_assert_int_eq(tu_psql("postgres", "CREATE DATABASE qb_icu_src TEMPLATE template0 "
				 "LOCALE_PROVIDER icu ICU_LOCALE 'fr-FR' LOCALE 'C.UTF-8';", NULL), 0);
	ck_assert_int_eq(tu_psql("qb_icu_src", "CREATE TABLE w (s text); "
				 "INSERT INTO w VALUES ('a'), ('B'), ('é'), ('z'), ('E');", NULL), 0);
	ck_assert_int_eq(tu_psql("qb_icu_src", check, &rows), 0);
	ck_assert_str_eq(rows, "i fr-FR a,B,E,é,z\n");
	free(rows);
	name = dumped(dir, url);
	for (int i = 0; i < 2; i++) {
		const char *target = i == 0 ? "qb_icu_new" : "qb_icu_src";
		rc = tu_sh(&out, "BACKUP_DIR='%s' DATABASE_URL='%s' %s/qrestore --db %s --target-db %s "
			   "--yes </dev/null", dir, super, tu_env("QB_BUILD"), name, target);
		ck_assert_msg(rc == 0, "qrestore into %s (%d): %s", target, rc, out);
		free(out);
		ck_assert_int_eq(tu_psql(target, check, &rows), 0);
		ck_assert_msg(!strcmp(rows, "i fr-FR a,B,E,é,z\n"), "%s: %s", target, rows);
		free(rows);
	}
	ck_assert_int_eq(tu_psql("postgres", "SELECT datname FROM pg_database WHERE datname LIKE "
				 "'qb\\_icu\\_src\\_before\\_%';", &out), 0);
	for (char *d = strtok(out, "\n"); d; d = strtok(NULL, "\n"))
		tu_pg_drop_db(d);
	free(out);
	free(name);
	free(url);
	free(super);
	tu_pg_drop_db("qb_icu_src");
	tu_pg_drop_db("qb_icu_new");
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

/* DATABASE_URL without /NAME: libpq would take the user's name, "postgres", the
 * maintenance database; a restore refuses it before anything, and names the fix. */
START_TEST(unnamed_postgres_target_refused)
{
	char *dir = tu_tmpdir(), *out = NULL, *url, *path;
	const char *sql = "CREATE TABLE restored (a int);\n\n--\n-- PostgreSQL database dump complete\n--\n";
	int rc;

	ck_assert_int_ge(asprintf(&url, "postgresql://postgres@%s:%s", tu_env("QB_TEST_PGHOST"),
				  tu_env("QB_TEST_PGPORT")), 0);
	ck_assert_int_ge(asprintf(&path, "%s/small.sql", dir), 0);
	tu_write_file(path, sql, strlen(sql));
	rc = tu_sh(&out, "env -u PGDATABASE BACKUP_DIR='%s' DATABASE_URL='%s' %s/qrestore --db '%s' --yes "
		   "</dev/null", dir, url, tu_env("QB_BUILD"), path);
	ck_assert_msg(rc == 3 && strstr(out, "names no database") && strstr(out, "--target-db"),
		      "restore into the unnamed database (%d): %s", rc, out);
	free(out);
	/* Nor into a template, by name or by its flag. */
	tu_pg_create_db("qb_tmpl");
	ck_assert_int_eq(tu_psql("postgres", "ALTER DATABASE qb_tmpl IS_TEMPLATE true;", NULL), 0);
	for (int i = 0; i < 2; i++) {
		char *super = tu_pg_url("postgres");
		rc = tu_sh(&out, "BACKUP_DIR='%s' DATABASE_URL='%s' %s/qrestore --db '%s' --target-db %s "
			   "--yes </dev/null", dir, super, tu_env("QB_BUILD"), path, i ? "qb_tmpl" : "template1");
		free(super);
		ck_assert_msg(rc == 5 && strstr(out, "template database"), "a template (%d): %s", rc, out);
		free(out);
	}
	ck_assert_int_eq(tu_psql("postgres", "ALTER DATABASE qb_tmpl IS_TEMPLATE false;", NULL), 0);
	tu_pg_drop_db("qb_tmpl");
	ck_assert_int_eq(tu_psql("postgres", "SELECT count(*) FROM pg_tables WHERE tablename = 'restored';",
				 &out), 0);
	ck_assert_str_eq(out, "0\n");
	free(out);
	free(path);
	free(url);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

/* A NOTICE on the maintenance connection (copying a temp_tablespaces that names
 * no tablespace) goes to the log, not to stderr through libpq. */
START_TEST(notices_not_printed)
{
	char *out = NULL;
	int rc;

	make_target("qb_notice");
	ck_assert_int_eq(tu_psql("postgres", "ALTER DATABASE qb_notice SET temp_tablespaces = qb_nowhere;", NULL), 0);
	rc = restore_over(&out, "qb_notice", NULL);
	ck_assert_msg(rc == 0, "qrestore failed: %s", out);
	ck_assert_msg(strstr(out, "NOTICE") == NULL, "libpq printed a notice: %s", out);
	free(out);
	tu_pg_drop_db("qb_notice");
}
END_TEST

START_TEST(unparsable_url_hides_password)
{
	char *dir = tu_tmpdir(), *out = NULL;
	int rc = dump_with_url(&out, dir, "postgresql://app:hunter2%zz@127.0.0.1:1/x");

	ck_assert_msg(rc == 1, "status %d: %s", rc, out);
	ck_assert_msg(strstr(out, "not a valid PostgreSQL connection string") != NULL, "message: %s", out);
	ck_assert_msg(strstr(out, "hunter2") == NULL, "the password leaked: %s", out);
	free(out);
	/* Should libpq ever quote it, the password is masked (here it is also the host). */
	rc = dump_with_url(&out, dir, "postgresql://app:127.0.0.1@127.0.0.1:1/x");
	ck_assert_msg(rc == 1, "status %d: %s", rc, out);
	ck_assert_msg(strstr(out, "unable to connect") && strstr(out, "\"***\""), "message: %s", out);
	ck_assert_msg(strstr(out, "127.0.0.1") == NULL, "the password leaked: %s", out);
	free(out);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

Suite *suite_it_pg(void)
{
	Suite *s = suite_create("it_pg");
	TCase *tc = tcase_create("roundtrip");

	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, roundtrip_rich);
	tcase_add_test(tc, psql_reads_our_dump);
	tcase_add_test(tc, restores_pg_dump_plain);
	tcase_add_test(tc, truncated_dump_refused);
	tcase_add_test(tc, shell_escape_refused);
	tcase_add_test(tc, string_rules_changed_refused);
	tcase_add_test(tc, leftover_scratch_warned);
	tcase_add_test(tc, legacy_empty_or_cut_dump_refused);
	tcase_add_test(tc, damaged_gzip_magic_refused);
	tcase_add_test(tc, escapes_in_a_script_not_echoed);
	tcase_add_test(tc, replace_keeps_previous);
	tcase_add_test(tc, missing_role_hinted);
	tcase_add_test(tc, unsupported_object_fails_by_name);
	tcase_add_test(tc, changed_builtin_privileges_warned);
	tcase_add_test(tc, unreachable_database_fails_cleanly);
	tcase_add_test(tc, restore_refused_while_a_run_holds_the_lock);
	tcase_add_test(tc, restore_keeps_settings);
	tcase_add_test(tc, restore_keeps_privileges);
	tcase_add_test(tc, role_setting_without_privilege_warns);
	tcase_add_test(tc, app_owner_restores_its_own_dump);
	tcase_add_test(tc, new_database_gets_the_dumps_owner);
	tcase_add_test(tc, unnamed_postgres_target_refused);
	tcase_add_test(tc, restore_rights_checked_first);
	tcase_add_test(tc, interrupted_restore_tidies_up);
	tcase_add_test(tc, icu_database_keeps_its_provider);
	tcase_add_test(tc, connection_at_the_swap_refused);
	tcase_add_test(tc, notices_not_printed);
	tcase_add_test(tc, unparsable_url_hides_password);
	tcase_add_test(tc, dropped_inherited_default_stays_dropped);
	tcase_add_test(tc, owner_restores_forced_row_security);
	suite_add_tcase(s, tc);
	tc = tcase_create("extension");
	tcase_set_timeout(tc, 600);
	tcase_add_unchecked_fixture(tc, ext_files_install, ext_files_remove);
	tcase_add_test(tc, extension_config_rows_kept);
	suite_add_tcase(s, tc);
	return s;
}
