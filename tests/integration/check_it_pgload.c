/*
 * check_it_pgload.c - the restore's data connections (src/lib/pg/load.c)
 * against a real PostgreSQL: COPY blocks loaded on several connections
 * must give the same rows, replay the script's session settings, and fall
 * back to one connection wherever loading side by side would change what
 * the script means (triggers and foreign keys before the data, a script's
 * own transaction).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* pg_dump's closing lines: a script not made by qbackup must end with them. */
#define PG_END "\n--\n-- PostgreSQL database dump complete\n--\n\n"

/* qrestore with RESTORE_JOBS=jobs into a new database target; returns its status. */
static int qrestore(char **out, const char *script, const char *target, int jobs)
{
	char *url = tu_pg_url("postgres");
	int rc;

	tu_pg_drop_db(target);
	rc = tu_sh(out, "env -u PGPASSWORD RESTORE_JOBS=%d DATABASE_URL='%s' %s/qrestore --db '%s' --target-db %s --yes -v </dev/null",
		   jobs, url, tu_env("QB_BUILD"), script, target);
	free(url);
	return rc;
}

static char *query(const char *db, const char *sql)
{
	char *out = NULL;

	ck_assert_msg(tu_psql(db, sql, &out) == 0, "%s on %s: %s", sql, db, out);
	return out;
}

static void assert_same(const char *a, const char *b, const char *sql)
{
	char *x = query(a, sql), *y = query(b, sql);

	ck_assert_msg(!strcmp(x, y), "%s: %s has %s, %s has %s", sql, a, x, b, y);
	free(x);
	free(y);
}

static void assert_no_scratch(void)
{
	char *out = query("postgres", "SELECT count(*) FROM pg_database WHERE datname LIKE '%qbrestore%';");

	ck_assert_str_eq(out, "0\n");
	free(out);
}

/* A script file in dir; caller frees the path. */
static char *script(const char *dir, const char *name, const char *text, size_t len)
{
	char *path;

	ck_assert_int_ge(asprintf(&path, "%s/%s", dir, name), 0);
	ck_assert_int_eq(tu_write_file(path, text, len), 0);
	return path;
}

/* Text of n COPY lines "i<TAB>PREFIXi" for a two-column table. */
static char *copy_lines(int from, int n, const char *prefix)
{
	size_t cap = (size_t)n * (strlen(prefix) + 24) + 1, len = 0;
	char *s = malloc(cap);

	ck_assert_ptr_nonnull(s);
	for (int i = from; i < from + n; i++)
		len += (size_t)snprintf(s + len, cap - len, "%d\t%s%d\n", i, prefix, i);
	return s;
}

/* Restore text (RESTORE_JOBS=2) into a new database target; it must succeed,
 * log `say` when not NULL, and sql there must give want.  Drops target. */
static void restore_gives(const char *text, size_t len, const char *target, const char *say,
			  const char *sql, const char *want)
{
	char *dir = tu_tmpdir(), *out = NULL, *path = script(dir, "script.sql", text, len);
	int rc = qrestore(&out, path, target, 2);

	ck_assert_msg(rc == 0, "qrestore: %s", out);
	ck_assert_msg(!say || strstr(out, say) != NULL, "says '%s': %s", say, out);
	free(out);
	out = query(target, sql);
	ck_assert_str_eq(out, want);
	free(out);
	tu_pg_drop_db(target);
	free(path);
	tu_rm_rf(dir);
	free(dir);
}

START_TEST(many_connections_same_rows)
{
	char *dir = tu_tmpdir(), *out = NULL, *url = tu_pg_url("qb_ld_src"), *path = NULL;
	const char *rows = "SELECT count(*), md5(string_agg(d::text, ',' ORDER BY id)) FROM docs d;";
	int rc;

	/* About 12 MB of COPY data: a dozen pieces, shared by the connections. */
	tu_pg_create_db("qb_ld_src");
	ck_assert_int_eq(tu_psql("qb_ld_src",
		"CREATE TABLE clients (id int PRIMARY KEY, name text);"
		"INSERT INTO clients SELECT i, 'client ' || i FROM generate_series(1, 500) i;"
		"CREATE TABLE docs (id int PRIMARY KEY, client int REFERENCES clients, body text, meta jsonb);"
		"INSERT INTO docs SELECT i, 1 + i % 500, repeat(md5(i::text), 6) || E'\\ttab\\nline\\\\', "
		"jsonb_build_object('n', i) FROM generate_series(1, 50000) i;"
		"CREATE INDEX docs_client ON docs (client);"
		"CREATE TABLE small (k text PRIMARY KEY); INSERT INTO small VALUES ('a'), ('b');", NULL), 0);
	rc = tu_sh(&out, "env -u PGPASSWORD BACKUP_DIR='%s' DATABASE_URL='%s' %s/qbackup --type db </dev/null",
		   dir, url, tu_env("QB_BUILD"));
	ck_assert_msg(rc == 0, "qbackup: %s", out);
	free(out);
	ck_assert_int_eq(tu_sh(&out, "ls '%s'/db_*.sql.gz | head -1 | tr -d '\\n'", dir), 0);
	path = out;
	for (int jobs = 1; jobs <= 3; jobs += 2) {
		rc = qrestore(&out, path, "qb_ld_dst", jobs);
		ck_assert_msg(rc == 0, "qrestore with %d jobs: %s", jobs, out);
		ck_assert_msg(strstr(out, "50502 rows") != NULL, "every row counted once: %s", out);
		free(out);
		assert_same("qb_ld_src", "qb_ld_dst", rows);
		assert_same("qb_ld_src", "qb_ld_dst", "SELECT string_agg(k, ',' ORDER BY k) FROM small;");
		assert_same("qb_ld_src", "qb_ld_dst",
			    "SELECT string_agg(conname || ':' || convalidated, ',' ORDER BY conname) FROM pg_constraint "
			    "WHERE conrelid = 'docs'::regclass;");
	}
	assert_no_scratch();
	tu_pg_drop_db("qb_ld_dst");
	tu_pg_drop_db("qb_ld_src");
	free(path);
	free(url);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(session_settings_replayed)
{
	/* LATIN1 data: a connection that missed the SET would refuse the byte 0xE9 as UTF-8. */
	static const char text[] =
		"SET client_encoding = 'LATIN1';\n"
		"SET standard_conforming_strings = on;\n"
		"SELECT pg_catalog.set_config('search_path', '', false);\n"
		"CREATE TABLE public.t (a text);\n"
		"COPY public.t (a) FROM stdin;\n"
		"caf\xe9\n"
		"na\xefve\n"
		"\\.\n" PG_END;
	restore_gives(text, sizeof(text) - 1, "qb_ld_enc", NULL, "SELECT string_agg(a, ',' ORDER BY a) FROM t;",
		      "café,naïve\n");
}
END_TEST

START_TEST(foreign_keys_before_data_load_in_order)
{
	/* The referencing table's rows are checked as they arrive: loaded beside
	 * the parent's (not yet committed) rows they would fail. */
	char *parent = copy_lines(1, 20000, "p"), *child = copy_lines(1, 20000, ""), *text;

	ck_assert_int_ge(asprintf(&text,
		"CREATE TABLE public.p (id int PRIMARY KEY, v text);\n"
		"CREATE TABLE public.c (id int, p int REFERENCES public.p);\n"
		"COPY public.p (id, v) FROM stdin;\n%s\\.\n"
		"COPY public.c (id, p) FROM stdin;\n%s\\.\n" PG_END, parent, child), 0);
	restore_gives(text, strlen(text), "qb_ld_fk", "one at a time", "SELECT count(*) FROM c JOIN p ON p.id = c.p;",
		      "20000\n");
	free(text);
	free(parent);
	free(child);
}
END_TEST

START_TEST(script_transaction_stays_on_one_connection)
{
	/* Other connections cannot see a table made in an open transaction. */
	static const char text[] =
		"BEGIN;\n"
		"CREATE TABLE public.t (a int);\n"
		"COPY public.t (a) FROM stdin;\n1\n2\n3\n\\.\n"
		"COMMIT;\n" PG_END;
	restore_gives(text, sizeof(text) - 1, "qb_ld_txn", NULL, "SELECT sum(a) FROM t;", "6\n");
}
END_TEST

START_TEST(bad_row_on_a_data_connection)
{
	/* Several pieces of good rows, then one that is not an integer. */
	char *good = copy_lines(1, 60000, "some text to make the data larger than one piece, row ");
	char *dir = tu_tmpdir(), *out = NULL, *text, *path, *url = tu_pg_url("postgres");
	int rc;

	ck_assert_int_ge(asprintf(&text,
		"CREATE TABLE public.t (id int, v text);\n"
		"COPY public.t (id, v) FROM stdin;\n%snot-a-number\tx\n\\.\n" PG_END, good), 0);
	path = script(dir, "bad.sql", text, strlen(text));
	tu_pg_create_db("qb_ld_bad");
	ck_assert_int_eq(tu_psql("qb_ld_bad", "CREATE TABLE marker (v text); INSERT INTO marker VALUES ('untouched');", NULL), 0);
	rc = tu_sh(&out, "env -u PGPASSWORD RESTORE_JOBS=2 DATABASE_URL='%s' %s/qrestore --db '%s' --target-db qb_ld_bad --yes </dev/null",
		   url, tu_env("QB_BUILD"), path);
	ck_assert_msg(rc != 0, "a bad row must fail the restore: %s", out);
	ck_assert_msg(strstr(out, "line 2") && strstr(out, "not-a-number") && strstr(out, "unchanged"),
		      "names the COPY's line, the value, and the untouched target: %s", out);
	free(out);
	out = query("qb_ld_bad", "SELECT v FROM marker;");
	ck_assert_str_eq(out, "untouched\n");
	free(out);
	assert_no_scratch();
	tu_pg_drop_db("qb_ld_bad");
	free(path);
	free(text);
	free(good);
	free(url);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

/* A CHECK refuses a row on a data connection: the message says the tables load
 * side by side and how to load them in order (a CHECK that reads another table
 * may look before that table's rows are in); RESTORE_JOBS=1 gives no such hint. */
START_TEST(check_on_a_data_connection_hints)
{
	static const char text[] =
		"CREATE TABLE public.parent (id int);\n"
		"CREATE FUNCTION public.parent_exists(i int) RETURNS boolean LANGUAGE sql STABLE\n"
		"    AS $$SELECT EXISTS (SELECT 1 FROM public.parent WHERE id = i)$$;\n"
		"CREATE TABLE public.child (pid int CHECK (public.parent_exists(pid)));\n"
		"COPY public.child (pid) FROM stdin;\n1\n\\.\n"
		"COPY public.parent (id) FROM stdin;\n1\n\\.\n" PG_END;
	char *dir = tu_tmpdir(), *out = NULL, *path, *url = tu_pg_url("postgres");
	int rc;

	path = script(dir, "check.sql", text, strlen(text));
	for (int jobs = 2; jobs >= 1; jobs--) {
		tu_pg_create_db("qb_ld_check");
		rc = tu_sh(&out, "env -u PGPASSWORD RESTORE_JOBS=%d DATABASE_URL='%s' %s/qrestore --db '%s' "
			   "--target-db qb_ld_check --yes </dev/null", jobs, url, tu_env("QB_BUILD"), path);
		ck_assert_msg(rc != 0 && strstr(out, "child_pid_check"), "jobs %d (%d): %s", jobs, rc, out);
		ck_assert_msg(!strstr(out, "RESTORE_JOBS=1") == (jobs == 1), "jobs %d: %s", jobs, out);
		free(out);
		assert_no_scratch();
		tu_pg_drop_db("qb_ld_check");
	}
	free(path);
	free(url);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(index_builds_side_by_side)
{
	/* Consecutive index builds run on the data connections; a failing one
	 * (a unique index over duplicates) fails the restore and names its line. */
	static const char good[] =
		"CREATE TABLE public.a (x int, y text);\n"
		"CREATE TABLE public.b (x int);\n"
		"COPY public.a (x, y) FROM stdin;\n1\tone\n2\ttwo\n3\tthree\n\\.\n"
		"COPY public.b (x) FROM stdin;\n5\n6\n\\.\n"
		"CREATE INDEX a_x ON public.a USING btree (x);\n"
		"CREATE UNIQUE INDEX a_y ON public.a USING btree (y);\n"
		"CREATE INDEX a_xy ON public.a USING btree (x, y) WHERE (x > 1);\n"
		"CREATE INDEX b_x ON public.b USING btree ((x + 1));\n"
		"COMMENT ON INDEX public.a_x IS 'made beside the others';\n" PG_END;
	static const char bad[] =
		"CREATE TABLE public.t (a int);\n"
		"COPY public.t (a) FROM stdin;\n1\n1\n\\.\n"
		"CREATE INDEX t_a ON public.t USING btree (a);\n"
		"CREATE UNIQUE INDEX t_u ON public.t USING btree (a);\n"
		"CREATE INDEX t_b ON public.t USING btree ((a + 1));\n" PG_END;
	char *dir = tu_tmpdir(), *out = NULL;
	char *pg = script(dir, "good.sql", good, sizeof(good) - 1), *pb = script(dir, "bad.sql", bad, sizeof(bad) - 1);
	int rc = qrestore(&out, pg, "qb_ld_idx", 2);

	ck_assert_msg(rc == 0, "qrestore: %s", out);
	free(out);
	out = query("qb_ld_idx", "SELECT string_agg(c.relname || ':' || i.indisvalid, ',' ORDER BY c.relname) "
		    "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relnamespace = 'public'::regnamespace;");
	ck_assert_str_eq(out, "a_x:true,a_xy:true,a_y:true,b_x:true\n");
	free(out);
	out = query("qb_ld_idx", "SELECT obj_description('public.a_x'::regclass, 'pg_class');");
	ck_assert_str_eq(out, "made beside the others\n");
	free(out);
	rc = qrestore(&out, pb, "qb_ld_idx2", 2);
	ck_assert_msg(rc != 0, "a unique index over duplicates must fail: %s", out);
	ck_assert_msg(strstr(out, "line 7") && strstr(out, "t_u"), "names the statement: %s", out);
	free(out);
	assert_no_scratch();
	tu_pg_drop_db("qb_ld_idx");
	free(pg);
	free(pb);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(fewer_connections_than_asked)
{
	/* A role allowed 3 connections: the maintenance and main connections
	 * and one data connection fit, the other data connections do not.  The
	 * restore goes on with what it has, and says so. */
	char *dir = tu_tmpdir(), *out = NULL, *text, *path, *url;
	char *rows = copy_lines(1, 30000, "row ");
	int rc;

	ck_assert_int_eq(tu_psql("postgres",
		"DROP ROLE IF EXISTS qb_lim; CREATE ROLE qb_lim LOGIN CREATEDB PASSWORD 'qb-lim-pw' CONNECTION LIMIT 3;",
		NULL), 0);
	ck_assert_int_ge(asprintf(&text,
		"CREATE TABLE public.t (id int, v text);\n"
		"COPY public.t (id, v) FROM stdin;\n%s\\.\n" PG_END, rows), 0);
	path = script(dir, "lim.sql", text, strlen(text));
	ck_assert_int_ge(asprintf(&url, "postgresql://qb_lim:qb-lim-pw@%s:%s/postgres", tu_env("QB_TEST_PGHOST"),
				  tu_env("QB_TEST_PGPORT")), 0);
	tu_pg_drop_db("qb_ld_lim");
	rc = tu_sh(&out, "env -u PGPASSWORD RESTORE_JOBS=3 DATABASE_URL='%s' %s/qrestore --db '%s' --target-db qb_ld_lim --yes </dev/null",
		   url, tu_env("QB_BUILD"), path);
	ck_assert_msg(rc == 0, "qrestore: %s", out);
	ck_assert_msg(strstr(out, "going on with fewer") != NULL, "says it has fewer connections: %s", out);
	ck_assert_msg(strstr(out, "qb-lim-pw") == NULL, "the password leaked: %s", out);
	free(out);
	out = query("qb_ld_lim", "SELECT count(*), sum(id) FROM t;");
	ck_assert_str_eq(out, "30000|450015000\n");
	free(out);
	assert_no_scratch();
	tu_pg_drop_db("qb_ld_lim");
	ck_assert_int_eq(tu_psql("postgres", "DROP ROLE qb_lim;", NULL), 0);
	free(url);
	free(path);
	free(text);
	free(rows);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(restore_jobs_checked)
{
	static const char text[] = "CREATE TABLE public.t (a int);\n" PG_END;
	char *dir = tu_tmpdir(), *out = NULL, *path = script(dir, "one.sql", text, sizeof(text) - 1);
	int rc = qrestore(&out, path, "qb_ld_jobs", 0);

	ck_assert_msg(rc == 3, "RESTORE_JOBS=0 is a configuration error (status 3), got %d: %s", rc, out);
	ck_assert_msg(strstr(out, "RESTORE_JOBS") != NULL, "names the key: %s", out);
	free(out);
	tu_pg_drop_db("qb_ld_jobs");
	free(path);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

Suite *suite_it_pgload(void)
{
	Suite *s = suite_create("it_pgload");
	TCase *tc = tcase_create("load");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, many_connections_same_rows);
	tcase_add_test(tc, session_settings_replayed);
	tcase_add_test(tc, foreign_keys_before_data_load_in_order);
	tcase_add_test(tc, script_transaction_stays_on_one_connection);
	tcase_add_test(tc, bad_row_on_a_data_connection);
	tcase_add_test(tc, check_on_a_data_connection_hints);
	tcase_add_test(tc, index_builds_side_by_side);
	tcase_add_test(tc, fewer_connections_than_asked);
	tcase_add_test(tc, restore_jobs_checked);
	suite_add_tcase(s, tc);
	return s;
}
