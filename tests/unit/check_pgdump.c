/*
 * check_pgdump.c - the whole-file check of a dump script before a restore
 * (qb_db_check_script, pgdump.h), which needs no server: an empty or cut
 * short script and a statement on another database are refused before
 * anything runs.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qb/pgdump.h"
#include "testutil.h"

/* What pg_dump writes around a database's contents (15.14 and later). */
#define PG_HEAD "--\n-- PostgreSQL database dump\n--\n\n\\restrict abcDEF123\n\n" \
		"SET statement_timeout = 0;\nSET client_encoding = 'UTF8';\n\n"
#define PG_BODY "CREATE TABLE public.t (a integer);\n\nCOPY public.t (a) FROM stdin;\n1\n2\n\\.\n\n"
#define PG_TRAILER "--\n-- PostgreSQL database dump complete\n--\n\n"
#define UNRESTRICT "\\unrestrict M39lT9FviP4SpKbSsz7mxC9gMpEVx6xI1C3Q0S6ADbav4n4X0QMzbUt3GcsKo8E\n\n"

struct ck {
	char *dir;
	struct qb_db_script_info info;
	struct qb_err err;
};

/* Write text to dir/name (gzip it when gz) and check it; returns the code. */
static int check_text(struct ck *c, const char *name, const char *text, size_t len, bool gz)
{
	char *path, *out = NULL;
	int rc;

	ck_assert_int_ge(asprintf(&path, "%s/%s", c->dir, name), 0);
	ck_assert_int_eq(tu_write_file(path, text, len), 0);
	if (gz) {
		ck_assert_msg(tu_sh(&out, "gzip -6 -n -c '%s' > '%s.tmp' && mv '%s.tmp' '%s'",
				    path, path, path, path) == 0, "gzip: %s", out);
		free(out);
	}
	memset(&c->err, 0, sizeof(c->err));
	rc = qb_db_check_script(path, NULL, &c->info, &c->err);
	free(path);
	return rc;
}

static int check_str(struct ck *c, const char *text, bool gz)
{
	return check_text(c, gz ? "s.sql.gz" : "s.sql", text, strlen(text), gz);
}

static void ck_init(struct ck *c)
{
	memset(c, 0, sizeof(*c));
	c->dir = tu_tmpdir();
}

static void ck_done(struct ck *c)
{
	tu_rm_rf(c->dir);
	free(c->dir);
}

#define ASSERT_REFUSED(c, rc, code, words)                                                        \
	do {                                                                                      \
		ck_assert_msg((rc) == (code), "expected %d, got %d: %s", (code), (rc), (c)->err.msg); \
		ck_assert_msg(strstr((c)->err.msg, (words)) != NULL, "message: %s", (c)->err.msg); \
	} while (0)

START_TEST(empty_script_refused)
{
	/* A failed "pg_dump | gzip": a valid gzip of nothing. */
	static const char *const texts[] = {
		"",
		"\n\n",
		"--\n-- PostgreSQL database dump\n--\n\n" PG_TRAILER,
		"/* nothing */\n;\n;\n" PG_TRAILER UNRESTRICT,
		"--\n-- PostgreSQL database dump made by qbackup 0.1.0\n--\n\n--\n-- qbackup dump complete\n--\n",
	};
	struct ck c;

	ck_init(&c);
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		for (int gz = 0; gz <= 1; gz++) {
			int rc = check_str(&c, texts[i], gz);
			ASSERT_REFUSED(&c, rc, QB_ECORRUPT, "no SQL statement");
		}
	ck_done(&c);
}
END_TEST

START_TEST(foreign_without_trailer_refused)
{
	static const char *const texts[] = {
		PG_HEAD PG_BODY,
		/* cut inside the closing comment block */
		PG_HEAD PG_BODY "--\n",
		PG_HEAD PG_BODY "--\n-- PostgreSQL database dump comp",
		/* the closing line not on a line of its own */
		PG_HEAD PG_BODY "SELECT 1; -- PostgreSQL database dump complete\n",
		/* the closing line with something other than pg_dump's after it */
		PG_HEAD PG_BODY PG_TRAILER "SELECT 1;\n",
		PG_HEAD PG_BODY PG_TRAILER UNRESTRICT "CREATE TABLE x (a int);\n",
		/* the closing line as COPY data: the script ends with the data's end */
		PG_HEAD "COPY public.t (a) FROM stdin;\n-- PostgreSQL database dump complete\n\\.\n",
		/* in a block comment */
		PG_HEAD "/*\n-- PostgreSQL database dump complete\n--\n*/\n",
	};
	struct ck c;

	ck_init(&c);
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		for (int gz = 0; gz <= 1; gz++) {
			int rc = check_str(&c, texts[i], gz);
			ck_assert_msg(rc == QB_ECORRUPT, "text %zu: %d %s", i, rc, c.err.msg);
			ck_assert_msg(strstr(c.err.msg, "cut short") &&
				      strstr(c.err.msg, "-- PostgreSQL database dump complete"),
				      "text %zu names the missing closing line: %s", i, c.err.msg);
		}
	ck_done(&c);
}
END_TEST

START_TEST(foreign_with_trailer_accepted)
{
	static const char *const texts[] = {
		PG_HEAD PG_BODY PG_TRAILER,                           /* pg_dump before 15.14 */
		PG_HEAD PG_BODY PG_TRAILER UNRESTRICT,                /* 15.14 and later */
		PG_HEAD PG_BODY "\n-- Completed on 2026-02-06\n\n" PG_TRAILER UNRESTRICT,  /* -v */
		"SET a = 1;\r\n--\r\n-- PostgreSQL database dump complete\r\n--\r\n\r\n\\unrestrict k\r\n",
		PG_HEAD PG_BODY PG_TRAILER "\\unrestrict abc",         /* cut in its last line */
	};
	struct ck c;

	ck_init(&c);
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		for (int gz = 0; gz <= 1; gz++) {
			int rc = check_str(&c, texts[i], gz);
			ck_assert_msg(rc == QB_OK, "text %zu: %s", i, c.err.msg);
			ck_assert(!c.info.from_qbackup);
			ck_assert_uint_ge(c.info.statements, 1);
		}
	ck_done(&c);
}
END_TEST

/* A script of exactly len bytes: head, then padding statements, then end. */
static char *padded(const char *head, const char *end, size_t len)
{
	char *s = malloc(len + 1);
	size_t n = strlen(head), m = strlen(end), pos;

	ck_assert_ptr_nonnull(s);
	ck_assert_uint_ge(len, n + m + 16);
	memcpy(s, head, n);
	pos = n;
	while (len - m - pos > 16) {
		memcpy(s + pos, "SELECT 1;\n", 10);
		pos += 10;
	}
	memset(s + pos, '\n', len - m - pos);
	memcpy(s + len - m, end, m + 1);
	return s;
}

START_TEST(end_across_the_header_window)
{
	/* The first 4096 bytes are read ahead to see the header; an end marker
	 * that straddles them and the rest of the stream is still seen. */
	struct ck c;

	ck_init(&c);
	for (size_t len = 4096 - 8; len <= 4096 + 300; len += 3) {
		char *ours = padded("--\n-- PostgreSQL database dump made by qbackup 0.1.0\n--\n",
				    "\n--\n-- qbackup dump complete\n--\n", len);
		char *theirs = padded(PG_HEAD, PG_TRAILER UNRESTRICT, len);
		for (int gz = 0; gz <= 1; gz++) {
			int rc = check_text(&c, gz ? "o.sql.gz" : "o.sql", ours, len, gz);
			ck_assert_msg(rc == QB_OK, "ours, %zu bytes: %s", len, c.err.msg);
			ck_assert(c.info.from_qbackup);
			rc = check_text(&c, gz ? "t.sql.gz" : "t.sql", theirs, len, gz);
			ck_assert_msg(rc == QB_OK, "pg_dump's, %zu bytes: %s", len, c.err.msg);
		}
		free(ours);
		free(theirs);
	}
	ck_done(&c);
}
END_TEST

START_TEST(qbackup_marker_only_as_the_last_line)
{
	/* qbackup's end marker counts only as a line of its own that ends the
	 * dump: a dump cut right after a line that merely ends with its words,
	 * or one with SQL after it, is refused. */
#define QB_HEAD "--\n-- PostgreSQL database dump made by qbackup 0.1.0\n--\n\n"
#define QB_END "\n--\n-- qbackup dump complete\n--\n"
	static const char *const bad[] = {
		QB_HEAD "CREATE TABLE t (a int); -- qbackup dump complete\n",
		QB_HEAD "CREATE TABLE t (a int);\n--- qbackup dump complete\n--\n",
		QB_HEAD "CREATE TABLE t (a int);" QB_END "SELECT 1;\n",
	};
	static const char *const good[] = {
		QB_HEAD "CREATE TABLE t (a int);" QB_END,
		QB_HEAD "CREATE TABLE t (a int);" QB_END "\n",
		QB_HEAD "CREATE TABLE t (a int);\n-- qbackup dump complete",
	};
	struct ck c;

	ck_init(&c);
	for (int gz = 0; gz <= 1; gz++) {
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			ASSERT_REFUSED(&c, check_str(&c, bad[i], gz), QB_ECORRUPT, "end marker");
		for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
			int rc = check_str(&c, good[i], gz);
			ck_assert_msg(rc == QB_OK, "text %zu: %d %s", i, rc, c.err.msg);
			ck_assert(c.info.from_qbackup);
		}
	}
	ck_done(&c);
#undef QB_HEAD
#undef QB_END
}
END_TEST

START_TEST(other_database_refused)
{
	static const struct {
		const char *stmt;
		unsigned long line;
	} bad[] = {
		{ "CREATE DATABASE x;", 2 },
		{ "DROP DATABASE x;", 2 },
		{ "DROP/**/DATABASE x;", 2 },
		{ "DROP\r\nDATABASE x;", 2 },
		{ "DROP -- c\nDATABASE x;", 2 },
		{ "drop /* a /* nested */ b */ database x;", 2 },
		{ "Drop\tDatabase IF EXISTS x;", 2 },
		{ "CREATE\fDATABASE x;", 2 },
		{ "DROP\vDATABASE\"x\";", 2 },
		{ "ALTER DATABASE x RENAME TO y;", 2 },
		{ "alter database x owner to r;", 2 },
		{ "ALTER/* c */DATABASE x SET work_mem = '8MB';", 2 },
		{ "\n\n/* before */ -- and\n ALTER --\n\n DATABASE x CONNECTION LIMIT 1;", 5 },
	};
	struct ck c;

	ck_init(&c);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *text, want[32];
		int rc;
		ck_assert_int_ge(asprintf(&text, "SET a = 1;\n%s\n" PG_TRAILER UNRESTRICT, bad[i].stmt), 0);
		rc = check_str(&c, text, i % 2);
		ck_assert_msg(rc == QB_EREFUSED, "'%s' must be refused: %d %s", bad[i].stmt, rc, c.err.msg);
		snprintf(want, sizeof(want), "line %lu:", bad[i].line);
		ck_assert_msg(strstr(c.err.msg, want) && strstr(c.err.msg, "database"), "'%s': %s", bad[i].stmt,
			      c.err.msg);
		free(text);
	}
	ck_done(&c);
}
END_TEST

/* psql's \; sends several statements as one query: the check above would read only the
 * first.  pg_dump never writes it, so a script that does is refused. */
START_TEST(joined_statements_refused)
{
	static const char *const bad[] = {
		"SELECT 1\\; ALTER DATABASE x RENAME TO y;",
		"CREATE TABLE t (a int)\\;DROP DATABASE x;",
		"SELECT 1\\; SELECT 2;",
	};
	struct ck c;

	ck_init(&c);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *text;
		int rc;
		ck_assert_int_ge(asprintf(&text, "SET a = 1;\n%s\n" PG_TRAILER UNRESTRICT, bad[i]), 0);
		rc = check_str(&c, text, i % 2);
		ck_assert_msg(rc == QB_EREFUSED, "'%s' must be refused: %d %s", bad[i], rc, c.err.msg);
		ck_assert_msg(strstr(c.err.msg, "line 2:") && strstr(c.err.msg, "\\;"), "'%s': %s",
			      bad[i], c.err.msg);
		free(text);
	}
	ck_done(&c);
}
END_TEST

START_TEST(database_words_elsewhere_allowed)
{
	/* What pg_dump writes, and words that only look alike. */
	static const char text[] =
		PG_HEAD
		"COMMENT ON DATABASE x IS 'DROP DATABASE y';\n"
		"CREATE TABLE public.databases (a integer);\n"
		"CREATE TABLE public.\"database\" (a integer);\n"
		"DROP TABLE IF EXISTS public.database_x;\n"
		"ALTER TABLE public.databases OWNER TO r;\n"
		"CREATE DATABASES_ARE_NOT_A_THING;\n"
		"SELECT 'ALTER DATABASE x';\n"
		"/* DROP DATABASE x; */ SELECT 1;\n"
		"-- CREATE DATABASE x;\n"
		PG_BODY PG_TRAILER UNRESTRICT;
	struct ck c;
	int rc;

	ck_init(&c);
	rc = check_str(&c, text, true);
	ck_assert_msg(rc == QB_OK, "%s", c.err.msg);
	ck_assert_uint_eq(c.info.statements, 12);
	ck_done(&c);
}
END_TEST

START_TEST(damaged_gzip_magic_refused)
{
	/* One bit flipped in a .sql.gz's first byte (0x1f ^ 0x40): not read as plain SQL. */
	static const char text[] = PG_HEAD PG_BODY PG_TRAILER UNRESTRICT;
	char *path, *out = NULL;
	struct ck c;
	int rc;

	ck_init(&c);
	ck_assert_int_eq(check_text(&c, "d.sql.gz", text, strlen(text), true), QB_OK);
	ck_assert_int_ge(asprintf(&path, "%s/d.sql.gz", c.dir), 0);
	ck_assert_msg(tu_sh(&out, "printf '\\137' | dd of='%s' bs=1 conv=notrunc status=none",
			    path) == 0, "%s", out);
	free(out);
	memset(&c.err, 0, sizeof(c.err));
	rc = qb_db_check_script(path, NULL, &c.info, &c.err);
	ASSERT_REFUSED(&c, rc, QB_ECORRUPT, "is named .gz but is not gzip data (damaged?)");
	ck_assert_msg(strstr(c.err.msg, path) != NULL, "the file is named: %s", c.err.msg);
	free(path);
	/* Empty and named .gz: said so too. */
	rc = check_text(&c, "e.sql.gz", "", 0, false);
	ASSERT_REFUSED(&c, rc, QB_ECORRUPT, "is named .gz but is empty");
	/* Plain SQL under a plain name, and gzip under any name, are still read. */
	rc = check_text(&c, "p.sql", text, strlen(text), false);
	ck_assert_msg(rc == QB_OK && !c.info.gzip, "plain .sql: %s", c.err.msg);
	rc = check_text(&c, "g.sql", text, strlen(text), true);
	ck_assert_msg(rc == QB_OK && c.info.gzip, "gzip named .sql: %s", c.err.msg);
	ck_done(&c);
}
END_TEST

Suite *suite_pgdump(void)
{
	Suite *s = suite_create("pgdump");
	TCase *tc = tcase_create("script");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, empty_script_refused);
	tcase_add_test(tc, foreign_without_trailer_refused);
	tcase_add_test(tc, foreign_with_trailer_accepted);
	tcase_add_test(tc, end_across_the_header_window);
	tcase_add_test(tc, qbackup_marker_only_as_the_last_line);
	tcase_add_test(tc, other_database_refused);
	tcase_add_test(tc, joined_statements_refused);
	tcase_add_test(tc, database_words_elsewhere_allowed);
	tcase_add_test(tc, damaged_gzip_magic_refused);
	suite_add_tcase(s, tc);
	return s;
}
