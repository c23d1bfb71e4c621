/* check_sqlscan.c - the streaming SQL script scanner (sqlscan.h). */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qb/buf.h"
#include "qb/sqlscan.h"

/* A check without check's per-assertion bookkeeping (a write each), for hot loops. */
#define REQ(cond)                                                                         \
	do {                                                                              \
		if (!(cond))                                                              \
			ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #cond);             \
	} while (0)

/* ---- an in-memory read callback with chosen chunk sizes -------------------- */

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

struct src {
	const char *p;
	size_t len, off;
	size_t chunk;      /* most bytes per read; 0: as many as asked */
	uint64_t seed;     /* nonzero: random sizes in [1, chunk] */
	size_t fail_at;    /* with fails: a read starting at or past this offset fails */
	bool fails;
};

static int src_read(void *ud, void *p, size_t cap, size_t *got, struct qb_err *err)
{
	struct src *s = ud;
	size_t n = s->len - s->off;

	if (s->fails && s->off >= s->fail_at)
		return qb_err_set(err, QB_EIO, "simulated read failure at byte %zu", s->off);
	if (n > cap)
		n = cap;
	if (s->chunk && n > s->chunk)
		n = s->chunk;
	if (s->seed && n > 1)
		n = 1 + rnd(&s->seed) % n;
	memcpy(p, s->p + s->off, n);
	s->off += n;
	*got = n;
	return QB_OK;
}

/* ---- running the scanner over a whole input -------------------------------- */

struct item {
	enum qb_sql_kind kind;
	char *text;
	size_t len;
	unsigned long line;
	bool copy;
};

struct run {
	struct item *v;
	size_t n;
	size_t copy_items;     /* COPY_DATA items before merging */
	size_t copy_max;       /* largest COPY_DATA item */
	unsigned long eof_line;
	int rc;
	struct qb_err err;
};

static void run_free(struct run *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i].text);
	free(r->v);
	memset(r, 0, sizeof(*r));
}

static void push(struct run *r, const struct qb_sql_item *it)
{
	struct item *last = r->n ? &r->v[r->n - 1] : NULL;

	if (it->kind == QB_SQL_COPY_DATA) {
		r->copy_items++;
		if (it->len > r->copy_max)
			r->copy_max = it->len;
	}
	/* COPY data is cut where the reads fell: compare it merged */
	if (it->kind == QB_SQL_COPY_DATA && last && last->kind == QB_SQL_COPY_DATA) {
		last->text = realloc(last->text, last->len + it->len + 1);
		REQ(last->text != NULL);
		memcpy(last->text + last->len, it->text, it->len);
		last->len += it->len;
		last->text[last->len] = '\0';
		return;
	}
	r->v = realloc(r->v, (r->n + 1) * sizeof(*r->v));
	REQ(r->v != NULL);
	r->v[r->n].kind = it->kind;
	r->v[r->n].text = malloc(it->len + 1);
	REQ(r->v[r->n].text != NULL);
	memcpy(r->v[r->n].text, it->text, it->len);
	r->v[r->n].text[it->len] = '\0';
	r->v[r->n].len = it->len;
	r->v[r->n].line = it->line;
	r->v[r->n].copy = it->copy_from_stdin;
	r->n++;
}

static void scan(struct run *r, const char *text, size_t len, size_t chunk, uint64_t seed,
		 size_t max)
{
	struct src src = { text, len, 0, chunk, seed, 0, false };
	struct qb_sqlscan *s = NULL;
	struct qb_sql_item it;
	struct qb_err e2;

	memset(r, 0, sizeof(*r));
	REQ((qb_sqlscan_new(&s, src_read, &src, &r->err)) == (QB_OK));
	if (max)
		qb_sqlscan_set_max(s, max);
	for (;;) {
		memset(&it, 0xa5, sizeof(it));
		r->rc = qb_sqlscan_next(s, &it, &r->err);
		if (r->rc)
			break;
		REQ(it.text != NULL);
		REQ((it.text[it.len]) == ('\0'));
		REQ(it.kind == QB_SQL_STMT || !it.copy_from_stdin);
		if (it.kind == QB_SQL_EOF) {
			r->eof_line = it.line;
			break;
		}
		if (it.kind == QB_SQL_COPY_DATA) {
			REQ((it.len) > (0));
			REQ((it.text[it.len - 1]) == ('\n'));    /* whole lines */
		}
		push(r, &it);
	}
	/* a finished or failed scanner says the same thing again */
	memset(&e2, 0, sizeof(e2));
	REQ((qb_sqlscan_next(s, &it, &e2)) == (r->rc));
	if (r->rc)
		ck_assert_str_eq(e2.msg, r->err.msg);
	else
		REQ((it.kind) == (QB_SQL_EOF));
	qb_sqlscan_free(s);
}

static void same(const struct run *a, const struct run *b, const char *how)
{
	ck_assert_msg(a->rc == b->rc, "%s: rc %d vs %d (%s)", how, a->rc, b->rc, b->err.msg);
	if (a->rc)
		ck_assert_str_eq(a->err.msg, b->err.msg);
	else
		ck_assert_uint_eq(a->eof_line, b->eof_line);
	ck_assert_msg(a->n == b->n, "%s: %zu items vs %zu", how, a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		ck_assert_msg(a->v[i].kind == b->v[i].kind, "%s: item %zu kind", how, i);
		ck_assert_msg(a->v[i].len == b->v[i].len &&
			      !memcmp(a->v[i].text, b->v[i].text, a->v[i].len),
			      "%s: item %zu text [%s] vs [%s]", how, i, a->v[i].text, b->v[i].text);
		ck_assert_msg(a->v[i].line == b->v[i].line, "%s: item %zu line %lu vs %lu", how, i,
			      a->v[i].line, b->v[i].line);
		ck_assert_msg(a->v[i].copy == b->v[i].copy, "%s: item %zu copy flag", how, i);
	}
}

/*
 * Scan text fed whole, then a byte at a time, in small fixed chunks and in
 * random chunks: every way must give the same items.  Returns the first.
 */
static void scan_all_n(struct run *r, const char *text, size_t len, size_t max)
{
	static const size_t chunks[] = { 1, 2, 3, 7, 64 };
	struct run o;
	char how[64];

	scan(r, text, len, 0, 0, max);
	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		if (chunks[i] == 1 && len > (1u << 20))
			continue;
		scan(&o, text, len, chunks[i], 0, max);
		snprintf(how, sizeof(how), "chunk %zu", chunks[i]);
		same(r, &o, how);
		run_free(&o);
	}
	for (uint64_t seed = 1; seed <= 4; seed++) {
		scan(&o, text, len, seed == 4 ? 300000 : 16 << seed, seed * 0x9e3779b97f4a7c15ull,
		     max);
		snprintf(how, sizeof(how), "random seed %llu", (unsigned long long)seed);
		same(r, &o, how);
		run_free(&o);
	}
}

static void scan_all(struct run *r, const char *text)
{
	scan_all_n(r, text, strlen(text), 0);
}

static void expect_item(const struct run *r, size_t i, enum qb_sql_kind kind, const char *text,
			unsigned long line)
{
	ck_assert_msg(i < r->n, "no item %zu (have %zu; rc %d %s)", i, r->n, r->rc, r->err.msg);
	ck_assert_msg(r->v[i].kind == kind, "item %zu: kind %d, want %d [%s]", i, r->v[i].kind,
		      kind, r->v[i].text);
	if (text)
		ck_assert_msg(r->v[i].len == strlen(text) &&
			      !memcmp(r->v[i].text, text, r->v[i].len),
			      "item %zu: [%s], want [%s]", i, r->v[i].text, text);
	if (line)
		ck_assert_msg(r->v[i].line == line, "item %zu: line %lu, want %lu", i, r->v[i].line,
			      line);
}

/* The input scans to exactly these statements (NULL-terminated), then EOF. */
static void expect_stmts(const char *input, const char *const *want)
{
	struct run r;
	size_t n = 0;

	scan_all(&r, input);
	ck_assert_msg(r.rc == QB_OK, "[%s]: %s", input, r.err.msg);
	while (want[n])
		n++;
	ck_assert_msg(r.n == n, "[%s]: %zu items, want %zu (first [%s])", input, r.n, n,
		      r.n ? r.v[0].text : "");
	for (size_t i = 0; i < n; i++)
		expect_item(&r, i, QB_SQL_STMT, want[i], 0);
	run_free(&r);
}

#define STMTS(input, ...) expect_stmts(input, (const char *const[]){ __VA_ARGS__, NULL })

static void expect_fail(const char *input, int code, const char *msg)
{
	struct run r;

	scan_all(&r, input);
	ck_assert_msg(r.rc == code, "[%s]: rc %d (%s), want %d", input, r.rc, r.err.msg, code);
	if (msg)
		ck_assert_str_eq(r.err.msg, msg);
	run_free(&r);
}

/* ---- statements ------------------------------------------------------------ */

START_TEST(t_basic)
{
	struct run r;

	scan_all(&r, "SELECT 1;\n  SELECT\n2;\r\n\r\nSELECT 3;SELECT 4;  \n");
	ck_assert_int_eq(r.rc, QB_OK);
	ck_assert_uint_eq(r.n, 4);
	expect_item(&r, 0, QB_SQL_STMT, "SELECT 1;", 1);
	expect_item(&r, 1, QB_SQL_STMT, "SELECT\n2;", 2);
	expect_item(&r, 2, QB_SQL_STMT, "SELECT 3;", 5);
	expect_item(&r, 3, QB_SQL_STMT, "SELECT 4;", 5);
	ck_assert(!r.v[0].copy);
	ck_assert_uint_eq(r.eof_line, 6);
	run_free(&r);
}
END_TEST

START_TEST(t_leading_comments)
{
	struct run r;

	scan_all(&r, "-- header; not a statement\n/* a /* nested; */ b; */\n\n"
		     "  SELECT /* kept; */ 1 -- kept too;\n;\n--tail");
	ck_assert_int_eq(r.rc, QB_OK);
	ck_assert_uint_eq(r.n, 1);
	expect_item(&r, 0, QB_SQL_STMT, "SELECT /* kept; */ 1 -- kept too;\n;", 4);
	ck_assert_uint_eq(r.eof_line, 6);
	run_free(&r);

	/* '-' and '/' that start no comment start the statement */
	STMTS("-1;/2;- -3;", "-1;", "/2;", "- -3;");
	STMTS("/**/SELECT 1;", "SELECT 1;");
	STMTS("SELECT 2 --x\r\n;", "SELECT 2 --x\r\n;");
}
END_TEST

START_TEST(t_blank)
{
	static const char *const blank[] = {
		"", " ", "\n\n\r\n\t\f", "-- only a comment", "-- c\n/* x /* y */ z */\n  ",
		";", " ; ;;\n;", "/* a */;-- b\n",
	};

	for (size_t i = 0; i < sizeof(blank) / sizeof(blank[0]); i++) {
		struct run r;

		scan_all(&r, blank[i]);
		ck_assert_msg(r.rc == QB_OK, "[%s]: %s", blank[i], r.err.msg);
		ck_assert_msg(r.n == 0, "[%s]: %zu items", blank[i], r.n);
		run_free(&r);
	}
}
END_TEST

START_TEST(t_quotes)
{
	STMTS("SELECT 'a;b\\';SELECT 2;", "SELECT 'a;b\\';", "SELECT 2;");
	STMTS("SELECT 'it''s; ok', '';SELECT 2;", "SELECT 'it''s; ok', '';", "SELECT 2;");
	STMTS("SELECT 'multi\nline;';", "SELECT 'multi\nline;';");
	STMTS("SELECT \"we;ird\"\"\\\" FROM t;SELECT 2;", "SELECT \"we;ird\"\"\\\" FROM t;",
	      "SELECT 2;");
	STMTS("SELECT U&'d\\0061t;a', u&\"x;\\\";", "SELECT U&'d\\0061t;a', u&\"x;\\\";");
	STMTS("SELECT N'a;', B'1;', X'f;';", "SELECT N'a;', B'1;', X'f;';");
	/* backslashes and ';' mean nothing inside quotes and comments */
	STMTS("SELECT '\\connect x; \\! ls';", "SELECT '\\connect x; \\! ls';");
	STMTS("SELECT 1 /* \\! ls; */ -- \\connect x;\n;",
	      "SELECT 1 /* \\! ls; */ -- \\connect x;\n;");
	STMTS("SELECT \"\\!\";", "SELECT \"\\!\";");
}
END_TEST

START_TEST(t_estrings)
{
	struct run r;

	STMTS("SELECT E'it\\'s; ok';SELECT 2;", "SELECT E'it\\'s; ok';", "SELECT 2;");
	STMTS("SELECT e'x\\\\';SELECT 2;", "SELECT e'x\\\\';", "SELECT 2;");
	STMTS("SELECT E'a''b\\';c';", "SELECT E'a''b\\';c';");
	STMTS("SELECT E'\\\\\\';';", "SELECT E'\\\\\\';';");
	/* only a lone E before the quote makes an escape string */
	STMTS("SELECT somE'x\\';SELECT 2;", "SELECT somE'x\\';", "SELECT 2;");
	STMTS("SELECT ee'x\\';SELECT 2;", "SELECT ee'x\\';", "SELECT 2;");
	/* 'a' <newline> 'b' continues a string, and an E string stays one */
	STMTS("SELECT E'a'\n'\\';';SELECT 2;", "SELECT E'a'\n'\\';';", "SELECT 2;");
	STMTS("SELECT E'a' -- c\n  '\\';';", "SELECT E'a' -- c\n  '\\';';");
	STMTS("SELECT E'a' '\\';SELECT 2;", "SELECT E'a' '\\';", "SELECT 2;");

	/* lines go on counting through escaped newlines and continuations */
	scan_all(&r, "SELECT E'a\\\nb' -- c\n\n 'x';\nSELECT 2;");
	ck_assert_int_eq(r.rc, QB_OK);
	ck_assert_uint_eq(r.n, 2);
	expect_item(&r, 1, QB_SQL_STMT, "SELECT 2;", 5);
	run_free(&r);
}
END_TEST

START_TEST(t_dollar)
{
	STMTS("SELECT $$a;b\\$$;SELECT 2;", "SELECT $$a;b\\$$;", "SELECT 2;");
	STMTS("SELECT $tag$ ; ' \" $$ ; $tag$;", "SELECT $tag$ ; ' \" $$ ; $tag$;");
	STMTS("DO $a$ x $b$ ; $a $b$ ; $a$;SELECT 2;", "DO $a$ x $b$ ; $a $b$ ; $a$;", "SELECT 2;");
	STMTS("SELECT $a$ $ab$ ; $a$;", "SELECT $a$ $ab$ ; $a$;");
	STMTS("SELECT $_x1$;$_X1$;$_x1$;", "SELECT $_x1$;$_X1$;$_x1$;");
	STMTS("SELECT $\xc3\xa9t\xc3\xa9$;$\xc3\xa9t\xc3\xa9$;",
	      "SELECT $\xc3\xa9t\xc3\xa9$;$\xc3\xa9t\xc3\xa9$;");
	/* $1 is a parameter; a$b$ is a name; a lone $ is a $ */
	STMTS("PREPARE p(int) AS SELECT $1;SELECT 2;", "PREPARE p(int) AS SELECT $1;", "SELECT 2;");
	STMTS("SELECT $1$a;SELECT 2;", "SELECT $1$a;", "SELECT 2;");
	STMTS("SELECT a$b$c;SELECT $d;", "SELECT a$b$c;", "SELECT $d;");
	STMTS("SELECT $1$$;$$;", "SELECT $1$$;$$;");
	STMTS("SELECT 1$$;$$;", "SELECT 1$$;$$;");
	STMTS("SELECT $9 || $q$;$q$;", "SELECT $9 || $q$;$q$;");
}
END_TEST

START_TEST(t_comments)
{
	STMTS("SELECT /* a /* b */ ; */ 1;SELECT 2;", "SELECT /* a /* b */ ; */ 1;", "SELECT 2;");
	STMTS("/* a /* b */ c; */ SELECT 1;", "SELECT 1;");
	STMTS("SELECT 1 /*/ ; */;", "SELECT 1 /*/ ; */;");
	STMTS("SELECT 1 /* **/;", "SELECT 1 /* **/;");
	STMTS("SELECT 1 -- ; \\x\n, 2;", "SELECT 1 -- ; \\x\n, 2;");
	STMTS("SELECT 1 --; \r, 2;", "SELECT 1 --; \r, 2;");
	STMTS("SELECT 1 */ 2;", "SELECT 1 */ 2;");
}
END_TEST

START_TEST(t_parens_and_bodies)
{
	/* psql: no statement ends inside parentheses (pg_dump's rules) */
	STMTS("CREATE RULE r AS ON DELETE TO t DO INSTEAD (DELETE FROM a; UPDATE b SET n = 1);\n"
	      "SELECT 2;",
	      "CREATE RULE r AS ON DELETE TO t DO INSTEAD (DELETE FROM a; UPDATE b SET n = 1);",
	      "SELECT 2;");
	STMTS("SELECT ((1;)));SELECT 2;", "SELECT ((1;)));", "SELECT 2;");
	/* nor inside a CREATE FUNCTION's BEGIN ... END (SQL-standard bodies) */
	STMTS("CREATE FUNCTION f() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n"
	      " SELECT CASE WHEN true THEN 1 ELSE 2 END;\n SELECT 1;\nEND;\nSELECT 2;",
	      "CREATE FUNCTION f() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n"
	      " SELECT CASE WHEN true THEN 1 ELSE 2 END;\n SELECT 1;\nEND;",
	      "SELECT 2;");
	STMTS("create or replace procedure p() begin atomic insert into t values (1); end;"
	      "select 2;",
	      "create or replace procedure p() begin atomic insert into t values (1); end;",
	      "select 2;");
	STMTS("CREATE PROCEDURE p() BEGIN ATOMIC SELECT 1; END;SELECT 2;",
	      "CREATE PROCEDURE p() BEGIN ATOMIC SELECT 1; END;", "SELECT 2;");
	/* elsewhere BEGIN is a statement of its own */
	STMTS("BEGIN;\nSELECT CASE WHEN true THEN 1 END;\nEND;",
	      "BEGIN;", "SELECT CASE WHEN true THEN 1 END;", "END;");
	STMTS("CREATE TABLE begin (a int);SELECT 2;", "CREATE TABLE begin (a int);", "SELECT 2;");
	/* words in parentheses do not count; CASE counts only inside BEGIN */
	STMTS("CREATE FUNCTION f(begin int) RETURNS int LANGUAGE sql RETURN 1;SELECT 2;",
	      "CREATE FUNCTION f(begin int) RETURNS int LANGUAGE sql RETURN 1;", "SELECT 2;");
	STMTS("CREATE FUNCTION s.case() RETURNS int LANGUAGE sql RETURN 1;SELECT 2;",
	      "CREATE FUNCTION s.case() RETURNS int LANGUAGE sql RETURN 1;", "SELECT 2;");
	/* psql's \; puts a ';' in the statement without ending it */
	STMTS("SELECT 1\\; SELECT 2;SELECT 3;", "SELECT 1; SELECT 2;", "SELECT 3;");
	STMTS("\\;SELECT 1;", ";SELECT 1;");
	STMTS("CREATE FUNCTION f() RETURNS int LANGUAGE sql RETURN 1\\; SELECT 1 AS begin;"
	      "SELECT 2;",
	      "CREATE FUNCTION f() RETURNS int LANGUAGE sql RETURN 1; SELECT 1 AS begin;",
	      "SELECT 2;");
	STMTS("SELECT 1\\; CREATE FUNCTION f() BEGIN ATOMIC SELECT 1; END;SELECT 2;",
	      "SELECT 1; CREATE FUNCTION f() BEGIN ATOMIC SELECT 1; END;", "SELECT 2;");
}
END_TEST

/* ---- meta-commands --------------------------------------------------------- */

START_TEST(t_meta)
{
	struct run r;

	scan_all(&r, "\\restrict abc123\n\\connect mydb\r\nSELECT 1; \\! rm -rf /\nSELECT 2;\n"
		     "SELECT 3 \\g x\n, 4;\n\\unrestrict abc123");
	ck_assert_int_eq(r.rc, QB_OK);
	ck_assert_uint_eq(r.n, 8);
	expect_item(&r, 0, QB_SQL_META, "\\restrict abc123", 1);
	expect_item(&r, 1, QB_SQL_META, "\\connect mydb", 2);
	expect_item(&r, 2, QB_SQL_STMT, "SELECT 1;", 3);
	expect_item(&r, 3, QB_SQL_META, "\\! rm -rf /", 3);
	expect_item(&r, 4, QB_SQL_STMT, "SELECT 2;", 4);
	/* a meta-command inside a statement: handed out, the statement goes on */
	expect_item(&r, 5, QB_SQL_META, "\\g x", 5);
	expect_item(&r, 6, QB_SQL_STMT, "SELECT 3 , 4;", 5);
	expect_item(&r, 7, QB_SQL_META, "\\unrestrict abc123", 7);
	ck_assert_uint_eq(r.eof_line, 7);
	run_free(&r);

	scan_all(&r, "SELECT 1 \\gexec\n");
	ck_assert_int_eq(r.rc, QB_ECORRUPT);
	ck_assert_uint_eq(r.n, 1);
	expect_item(&r, 0, QB_SQL_META, "\\gexec", 1);
	run_free(&r);

	scan_all(&r, "\\\n\\\r\n");
	ck_assert_int_eq(r.rc, QB_OK);
	ck_assert_uint_eq(r.n, 2);
	expect_item(&r, 0, QB_SQL_META, "\\", 1);
	expect_item(&r, 1, QB_SQL_META, "\\", 2);
	run_free(&r);
}
END_TEST

/* ---- COPY ------------------------------------------------------------------ */

START_TEST(t_copy)
{
	struct run r;

	scan_all(&r, "COPY public.t (a, b) FROM stdin;\n"
		     "1\tfoo\\\\bar\n"
		     "2\t\\N\n"
		     "\\.x\n"
		     "3\tcrlf;\r\n"
		     "\\.\n"
		     "SELECT 1;\n");
	ck_assert_int_eq(r.rc, QB_OK);
	ck_assert_uint_eq(r.n, 4);
	expect_item(&r, 0, QB_SQL_STMT, "COPY public.t (a, b) FROM stdin;", 1);
	ck_assert(r.v[0].copy);
	expect_item(&r, 1, QB_SQL_COPY_DATA, "1\tfoo\\\\bar\n2\t\\N\n\\.x\n3\tcrlf;\r\n", 2);
	expect_item(&r, 2, QB_SQL_COPY_END, "", 6);
	expect_item(&r, 3, QB_SQL_STMT, "SELECT 1;", 7);
	ck_assert(!r.v[3].copy);
	run_free(&r);

	/* CRLF end marker, empty data, a comment after the ';', the end at EOF */
	scan_all(&r, "copy t from STDIN ; -- rows\r\n\\.\r\nCOPY u FROM stdin;\n\\.\n"
		     "COPY v FROM stdin;\r\n\\\\.\n\\.");
	ck_assert_int_eq(r.rc, QB_OK);
	ck_assert_uint_eq(r.n, 7);
	expect_item(&r, 0, QB_SQL_STMT, "copy t from STDIN ;", 1);
	ck_assert(r.v[0].copy);
	expect_item(&r, 1, QB_SQL_COPY_END, "", 2);
	expect_item(&r, 2, QB_SQL_STMT, "COPY u FROM stdin;", 3);
	expect_item(&r, 3, QB_SQL_COPY_END, "", 4);
	expect_item(&r, 4, QB_SQL_STMT, "COPY v FROM stdin;", 5);
	expect_item(&r, 5, QB_SQL_COPY_DATA, "\\\\.\n", 6);
	expect_item(&r, 6, QB_SQL_COPY_END, "", 7);
	ck_assert_uint_eq(r.eof_line, 7);
	run_free(&r);

	/* data lines that only look like the end, and blank lines */
	scan_all(&r, "COPY t FROM stdin;\n\\. \n \\.\n\\.\r\r\n\n\\.\n");
	ck_assert_int_eq(r.rc, QB_OK);
	ck_assert_uint_eq(r.n, 3);
	expect_item(&r, 1, QB_SQL_COPY_DATA, "\\. \n \\.\n\\.\r\r\n\n", 2);
	expect_item(&r, 2, QB_SQL_COPY_END, "", 6);
	run_free(&r);
}
END_TEST

START_TEST(t_copy_detection)
{
	static const struct {
		const char *sql;
		bool copy;
	} cases[] = {
		{ "COPY public.t (a, b) FROM stdin;", true },
		{ "copy t from STDIN;", true },
		{ "COPY t FROM stdin WITH (FORMAT csv, HEADER);", true },
		{ "COPY t FROM STDIN WITH CSV HEADER;", true },
		{ "COPY \"from\" (\"to\") FROM /* c */ stdin;", true },
		{ "COPY BINARY t FROM stdin;", true },
		{ "COPY t (a) FROM stdin WHERE a > 1;", true },
		{ "COPY t TO stdout;", false },
		{ "COPY (SELECT * FROM stdin) TO stdout;", false },
		{ "COPY t FROM '/tmp/stdin';", false },
		{ "COPY t FROM PROGRAM 'cat stdin';", false },
		{ "COPY t FROM stdin_file;", false },
		{ "SELECT 'COPY t FROM stdin';", false },
		{ "SELECT 1 FROM stdin;", false },
		{ "COPYX t FROM stdin;", false },
		{ "\"COPY\" t FROM stdin;", false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct run r;
		char buf[256];

		snprintf(buf, sizeof(buf), "%s\n%s", cases[i].sql, cases[i].copy ? "1\n\\.\n" : "");
		scan_all(&r, buf);
		ck_assert_msg(r.rc == QB_OK, "[%s]: %s", cases[i].sql, r.err.msg);
		ck_assert_uint_eq(r.n, cases[i].copy ? 3 : 1);
		ck_assert_msg(r.v[0].copy == cases[i].copy, "[%s]: copy_from_stdin %d",
			      cases[i].sql, r.v[0].copy);
		if (cases[i].copy) {
			expect_item(&r, 1, QB_SQL_COPY_DATA, "1\n", 2);
			expect_item(&r, 2, QB_SQL_COPY_END, "", 3);
		}
		run_free(&r);
	}

	/* psql would run more SQL on the COPY line after the data; refused */
	expect_fail("COPY t FROM stdin; SELECT 1;\n\\.\n", QB_EFORMAT,
		    "unexpected text after COPY ... FROM stdin on line 1");
	expect_fail("SELECT 1;\nCOPY t FROM stdin; /* x */\n\\.\n", QB_EFORMAT,
		    "unexpected text after COPY ... FROM stdin on line 2");
}
END_TEST

/* ---- truncated input ------------------------------------------------------- */

START_TEST(t_truncated)
{
	static const struct {
		const char *sql;
		const char *msg;
	} cases[] = {
		{ "SELECT 1", "input ends inside a statement started at line 1" },
		{ "SELECT 1;\n\nSELECT 'abc", "input ends inside a statement started at line 3" },
		{ "SELECT 'it''", "input ends inside a statement started at line 1" },
		{ "SELECT E'ab\\'", "input ends inside a statement started at line 1" },
		{ "SELECT E'ab\\", "input ends inside a statement started at line 1" },
		{ "SELECT E'ab'\n", "input ends inside a statement started at line 1" },
		{ "SELECT \"ab", "input ends inside a statement started at line 1" },
		{ "\n SELECT $q$ abc $q", "input ends inside a statement started at line 2" },
		{ "SELECT $q$ abc $Q$", "input ends inside a statement started at line 1" },
		{ "SELECT $", "input ends inside a statement started at line 1" },
		{ "SELECT 1 /* a /* b */ ;", "input ends inside a statement started at line 1" },
		{ "SELECT 1 -- ;", "input ends inside a statement started at line 1" },
		{ "SELECT (1;", "input ends inside a statement started at line 1" },
		{ "CREATE FUNCTION f() BEGIN ATOMIC SELECT 1;",
		  "input ends inside a statement started at line 1" },
		{ "SELECT 1;\n/* a\n/* b */", "input ends inside a comment started at line 2" },
		{ "/*", "input ends inside a comment started at line 1" },
		{ "COPY t FROM stdin;", "input ends inside COPY data started at line 2" },
		{ "COPY t FROM stdin; -- x", "input ends inside COPY data started at line 2" },
		{ "COPY t FROM stdin;\n", "input ends inside COPY data started at line 2" },
		{ "\nCOPY t FROM stdin;\n1\n2\n", "input ends inside COPY data started at line 3" },
		{ "COPY t FROM stdin;\n1\n2", "input ends inside COPY data started at line 2" },
		{ "COPY t FROM stdin;\n1\n\\.x\n",
		  "input ends inside COPY data started at line 2" },
		{ "COPY t FROM stdin;\n1\n\\", "input ends inside COPY data started at line 2" },
		{ "COPY t FROM stdin;\n1\n\\.\r\r",
		  "input ends inside COPY data started at line 2" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_fail(cases[i].sql, QB_ECORRUPT, cases[i].msg);
}
END_TEST

/* ---- a pg_dump-like script ------------------------------------------------- */

static const char dump[] =
	"--\n"
	"-- PostgreSQL database dump\n"
	"--\n"
	"\n"
	"\\restrict Xy7abcDEF\n"
	"\n"
	"-- Dumped from database version 17.6\n"
	"-- Dumped by pg_dump version 17.6\n"
	"\n"
	"SET statement_timeout = 0;\n"
	"SET client_encoding = 'UTF8';\n"
	"SET standard_conforming_strings = on;\n"
	"SELECT pg_catalog.set_config('search_path', '', false);\n"
	"SET check_function_bodies = false;\n"
	"\n"
	"--\n"
	"-- Name: app; Type: SCHEMA; Schema: -; Owner: app\n"
	"--\n"
	"\n"
	"CREATE SCHEMA app;\n"
	"\n"
	"\n"
	"ALTER SCHEMA app OWNER TO app;\n"
	"\n"
	"--\n"
	"-- Name: touch(); Type: FUNCTION; Schema: app; Owner: app\n"
	"--\n"
	"\n"
	"CREATE FUNCTION app.touch() RETURNS trigger\n"
	"    LANGUAGE plpgsql\n"
	"    AS $_$\n"
	"BEGIN\n"
	"    NEW.updated := now(); -- ; inside\n"
	"    RAISE NOTICE 'it''s %; \\ ok', $$ ; $$;\n"
	"    RETURN NEW;\n"
	"END;\n"
	"$_$;\n"
	"\n"
	"CREATE FUNCTION app.add(a integer, b integer) RETURNS integer\n"
	"    LANGUAGE sql IMMUTABLE\n"
	"    BEGIN ATOMIC\n"
	" SELECT CASE WHEN (a IS NULL) THEN 0 ELSE (a + b) END AS \"case\";\n"
	" SELECT (a + b);\n"
	"END;\n"
	"\n"
	"CREATE FUNCTION app.q(text) RETURNS text\n"
	"    LANGUAGE sql\n"
	"    AS $_$SELECT $1 || ';'$_$;\n"
	"\n"
	"CREATE TABLE app.t (\n"
	"    id integer NOT NULL,\n"
	"    \"weird;name\" text DEFAULT 'a;b'::text,\n"
	"    note text\n"
	");\n"
	"\n"
	"COMMENT ON TABLE app.t IS E'multi\\nline; it\\'s';\n"
	"\n"
	"CREATE RULE r AS\n"
	"    ON DELETE TO app.t DO INSTEAD ( DELETE FROM app.t2\n"
	"  WHERE (t2.id = old.id);\n"
	" UPDATE app.t3 SET n = 1;\n"
	");\n"
	"\n"
	"COPY app.t (id, \"weird;name\", note) FROM stdin;\n"
	"1\ta;b\t\\N\n"
	"2\ttab\\there\tback\\\\slash\n"
	"3\t\\\\.x\t\xc3\xbcn\xc3\xaf" "c\xc3\xb6" "d\xc3\xa9\n"
	"\\.x\n"
	"4\t$$\t'\n"
	"\\.\n"
	"\n"
	"SELECT pg_catalog.setval('app.t_id_seq', 3, true);\n"
	"\n"
	"/* block\n"
	"   /* nested */ comment; */\n"
	"CREATE INDEX t_note ON app.t USING btree (note);\n"
	"\n"
	"--\n"
	"-- PostgreSQL database dump complete\n"
	"--\n"
	"\n"
	"\\unrestrict Xy7abcDEF\n"
	"\n";

/* Expected items of dump[]: the text runs from `from` to the end of `to` (NULL: `from` alone). */
static const struct {
	enum qb_sql_kind kind;
	const char *from, *to;
	bool copy;
} dump_items[] = {
	{ QB_SQL_META, "\\restrict Xy7abcDEF", NULL, false },
	{ QB_SQL_STMT, "SET statement_timeout = 0;", NULL, false },
	{ QB_SQL_STMT, "SET client_encoding = 'UTF8';", NULL, false },
	{ QB_SQL_STMT, "SET standard_conforming_strings = on;", NULL, false },
	{ QB_SQL_STMT, "SELECT pg_catalog.set_config(", "false);", false },
	{ QB_SQL_STMT, "SET check_function_bodies = false;", NULL, false },
	{ QB_SQL_STMT, "CREATE SCHEMA app;", NULL, false },
	{ QB_SQL_STMT, "ALTER SCHEMA app OWNER TO app;", NULL, false },
	{ QB_SQL_STMT, "CREATE FUNCTION app.touch()", "END;\n$_$;", false },
	{ QB_SQL_STMT, "CREATE FUNCTION app.add(", "\nEND;", false },
	{ QB_SQL_STMT, "CREATE FUNCTION app.q(", "$_$;", false },
	{ QB_SQL_STMT, "CREATE TABLE app.t (", ");", false },
	{ QB_SQL_STMT, "COMMENT ON TABLE app.t", "s';", false },
	{ QB_SQL_STMT, "CREATE RULE r AS", "\n);", false },
	{ QB_SQL_STMT, "COPY app.t (id,", "FROM stdin;", true },
	{ QB_SQL_COPY_DATA, "1\ta;b", "\t'\n", false },
	{ QB_SQL_COPY_END, "\n\\.\n", NULL, false },
	{ QB_SQL_STMT, "SELECT pg_catalog.setval(", "true);", false },
	{ QB_SQL_STMT, "CREATE INDEX t_note", "(note);", false },
	{ QB_SQL_META, "\\unrestrict Xy7abcDEF", NULL, false },
};

static unsigned long line_at(const char *text, const char *p)
{
	unsigned long line = 1;

	for (const char *q = text; q < p; q++)
		line += *q == '\n';
	return line;
}

START_TEST(t_dump)
{
	const size_t n = sizeof(dump_items) / sizeof(dump_items[0]);
	struct run r;

	scan_all_n(&r, dump, sizeof(dump) - 1, 0);
	ck_assert_msg(r.rc == QB_OK, "%s", r.err.msg);
	ck_assert_uint_eq(r.n, n);
	for (size_t i = 0; i < n; i++) {
		const char *from = strstr(dump, dump_items[i].from), *to;
		char *want;

		ck_assert_ptr_nonnull(from);
		if (dump_items[i].kind == QB_SQL_COPY_END) {
			expect_item(&r, i, QB_SQL_COPY_END, "", line_at(dump, from + 1));
			continue;
		}
		to = dump_items[i].to ? strstr(from, dump_items[i].to) : from;
		ck_assert_ptr_nonnull(to);
		to += strlen(dump_items[i].to ? dump_items[i].to : dump_items[i].from);
		want = strndup(from, (size_t)(to - from));
		expect_item(&r, i, dump_items[i].kind, want, line_at(dump, from));
		ck_assert_msg(r.v[i].copy == dump_items[i].copy, "item %zu copy flag", i);
		free(want);
	}
	ck_assert_uint_eq(r.eof_line, line_at(dump, dump + sizeof(dump) - 1));
	run_free(&r);
}
END_TEST

/* Every way of cutting the dump short is corrupt, or ends cleanly between items. */
START_TEST(t_dump_cut)
{
	struct run full, r;

	scan(&full, dump, sizeof(dump) - 1, 0, 0, 0);
	ck_assert_int_eq(full.rc, QB_OK);
	for (size_t len = 0; len < sizeof(dump) - 1; len++) {
		scan(&r, dump, len, 7, 0, 0);
		ck_assert_msg(r.rc == QB_OK || r.rc == QB_ECORRUPT, "cut at %zu: rc %d %s", len,
			      r.rc, r.err.msg);
		REQ((r.n) <= (full.n));
		/* what came out agrees with the full run; only a last meta-command line or
		 * COPY data may be shorter, never a statement.  A cut right after the "\."
		 * of a "\.x" data line looks like the end of the data: COPY_END follows. */
		for (size_t i = 0; i < r.n; i++) {
			REQ((r.v[i].kind) == (full.v[i].kind));
			REQ((r.v[i].line) == (full.v[i].line));
			if (r.v[i].len == full.v[i].len) {
				REQ(!strcmp(r.v[i].text, full.v[i].text));
				continue;
			}
			REQ(r.v[i].kind == QB_SQL_META || r.v[i].kind == QB_SQL_COPY_DATA);
			REQ(!strncmp(r.v[i].text, full.v[i].text, r.v[i].len));
			REQ(i + 1 == r.n || (i + 2 == r.n && r.v[i + 1].kind == QB_SQL_COPY_END));
			break;
		}
		run_free(&r);
	}
	run_free(&full);
}
END_TEST

/* ---- big inputs and ceilings ----------------------------------------------- */

#define COPY_BIG "COPY public.big (id, name, note) FROM stdin;\n"

static char *gen_copy(size_t rows, size_t *len, size_t *data_len)
{
	struct qb_buf b;
	struct qb_err err;
	size_t start;

	qb_buf_init(&b, (size_t)1 << 30);
	ck_assert_int_eq(qb_buf_puts(&b, COPY_BIG, &err), 0);
	start = b.len;
	for (size_t i = 0; i < rows; i++)
		REQ(qb_buf_printf(&b, &err, "%zu\tname %zu; \\\\x\t%s\n", i, i * 7,
				  i % 5 ? "\\N" : "some text\\twith tab") == 0);
	*data_len = b.len - start;
	ck_assert_int_eq(qb_buf_puts(&b, "\\.\nSELECT 1;\n", &err), 0);
	*len = b.len;
	return qb_buf_detach(&b);
}

START_TEST(t_big_copy)
{
	size_t len, data_len, rows = 120000;
	char *text = gen_copy(rows, &len, &data_len);
	struct run r;

	scan_all_n(&r, text, len, 0);
	ck_assert_msg(r.rc == QB_OK, "%s", r.err.msg);
	ck_assert_uint_eq(r.n, 4);
	ck_assert(r.v[0].copy);
	expect_item(&r, 1, QB_SQL_COPY_DATA, NULL, 2);
	ck_assert_uint_eq(r.v[1].len, data_len);
	ck_assert(!memcmp(r.v[1].text, text + strlen(COPY_BIG), data_len));
	expect_item(&r, 2, QB_SQL_COPY_END, "", rows + 2);
	expect_item(&r, 3, QB_SQL_STMT, "SELECT 1;", rows + 3);
	run_free(&r);

	/* many lines per item, about a megabyte each */
	scan(&r, text, len, 0, 0, 0);
	ck_assert_uint_gt(r.copy_items, 1);
	ck_assert_uint_lt(r.copy_items, data_len / 4096);
	ck_assert_uint_le(r.copy_max, ((size_t)1 << 20) + 100);
	run_free(&r);
	free(text);
}
END_TEST

START_TEST(t_huge_items)
{
	const size_t big = (size_t)3 << 20;
	struct qb_buf b;
	struct qb_err err;
	struct run r;
	char *text;
	size_t len;

	/* one COPY line and one statement of 3 MiB each: longer than a window or an item */
	qb_buf_init(&b, (size_t)1 << 30);
	ck_assert_int_eq(qb_buf_puts(&b, "COPY t FROM stdin;\n", &err), 0);
	for (size_t i = 0; i < big; i++)
		REQ(qb_buf_append(&b, i % 61 ? "x" : "\t", 1, &err) == 0);
	ck_assert_int_eq(qb_buf_puts(&b, "\n\\.\nSELECT '", &err), 0);
	for (size_t i = 0; i < big; i++)
		REQ(qb_buf_append(&b, i % 67 ? "y" : ";", 1, &err) == 0);
	ck_assert_int_eq(qb_buf_puts(&b, "';\n", &err), 0);
	len = b.len;
	text = qb_buf_detach(&b);

	scan_all_n(&r, text, len, 0);
	ck_assert_msg(r.rc == QB_OK, "%s", r.err.msg);
	ck_assert_uint_eq(r.n, 4);
	expect_item(&r, 1, QB_SQL_COPY_DATA, NULL, 2);
	ck_assert_uint_eq(r.v[1].len, big + 1);
	expect_item(&r, 2, QB_SQL_COPY_END, "", 3);
	expect_item(&r, 3, QB_SQL_STMT, NULL, 4);
	ck_assert_uint_eq(r.v[3].len, big + strlen("SELECT '';"));
	ck_assert(!memcmp(r.v[3].text, text + len - r.v[3].len - 1, r.v[3].len));
	run_free(&r);
	free(text);
}
END_TEST

START_TEST(t_limits)
{
	static const char ok[] = "SELECT 'abcdefghij';\nCOPY t FROM stdin;\n0123456789\n\\.\n"
				 "\\connect abcdefghij\n";
	char many[4096];
	struct run r;
	size_t n = 0;

	/* exactly at the ceiling passes */
	scan_all_n(&r, ok, sizeof(ok) - 1, 20);
	ck_assert_msg(r.rc == QB_OK, "%s", r.err.msg);
	ck_assert_uint_eq(r.n, 5);
	run_free(&r);

	scan_all_n(&r, "SELECT 1;\nSELECT 'abcdefghijk';",
		   strlen("SELECT 1;\nSELECT 'abcdefghijk';"), 20);
	ck_assert_int_eq(r.rc, QB_EFORMAT);
	ck_assert_str_eq(r.err.msg, "statement at line 2 is longer than 20 bytes");
	ck_assert_uint_eq(r.n, 1);
	run_free(&r);

	/* a statement longer than the ceiling that never ends: the ceiling is met first */
	scan_all_n(&r, "SELECT 'abcdefghijklmnopqrstuvwxyz",
		   strlen("SELECT 'abcdefghijklmnopqrstuvwxyz"), 20);
	ck_assert_int_eq(r.rc, QB_EFORMAT);
	run_free(&r);

	scan_all_n(&r, "COPY t FROM stdin;\n1\n012345678901234567890\n\\.\n",
		   strlen("COPY t FROM stdin;\n1\n012345678901234567890\n\\.\n"), 20);
	ck_assert_int_eq(r.rc, QB_EFORMAT);
	ck_assert_str_eq(r.err.msg, "line 3 of COPY data is longer than 20 bytes");
	run_free(&r);

	/* short lines then a long one: the short ones come out first, however read */
	n = (size_t)snprintf(many, sizeof(many), "COPY t FROM stdin;\n");
	/* 45: whole reads put the long line in the window just after a short one */
	for (int i = 0; i < 45; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "%d\n", i % 10);
	n += (size_t)snprintf(many + n, sizeof(many) - n, "012345678901234567890\n\\.\n");
	scan_all_n(&r, many, n, 20);
	ck_assert_int_eq(r.rc, QB_EFORMAT);
	ck_assert_str_eq(r.err.msg, "line 47 of COPY data is longer than 20 bytes");
	ck_assert_uint_eq(r.n, 2);
	ck_assert_uint_eq(r.v[1].len, 90);
	run_free(&r);

	/* many short lines: fine, whatever the ceiling */
	n = 0;
	n += (size_t)snprintf(many, sizeof(many), "COPY t FROM stdin;\n");
	for (int i = 0; i < 300; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "%d\n", i);
	n += (size_t)snprintf(many + n, sizeof(many) - n, "\\.\n");
	scan_all_n(&r, many, n, 20);
	ck_assert_msg(r.rc == QB_OK, "%s", r.err.msg);
	ck_assert_uint_eq(r.n, 3);
	ck_assert_uint_eq(r.v[1].len, n - strlen("COPY t FROM stdin;\n") - 3);
	run_free(&r);

	scan_all_n(&r, "\\connect 0123456789012345678901234567890123456789\n",
		   strlen("\\connect 0123456789012345678901234567890123456789\n"), 20);
	ck_assert_int_eq(r.rc, QB_EFORMAT);
	run_free(&r);
}
END_TEST

/* ---- the read callback ----------------------------------------------------- */

START_TEST(t_read_error)
{
	static const char text[] = "SELECT 1;\nSELECT 2;\nCOPY t FROM stdin;\n1\n2\n\\.\n";
	const size_t cuts[] = { 0, 5, 12, 35, 40 };

	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		struct src src = { text, sizeof(text) - 1, 0, 3, 0, cuts[i], true };
		struct qb_sqlscan *s;
		struct qb_sql_item it;
		struct qb_err err = { 0 };
		char want[128];
		int rc;

		ck_assert_int_eq(qb_sqlscan_new(&s, src_read, &src, &err), QB_OK);
		while (!(rc = qb_sqlscan_next(s, &it, &err)) && it.kind != QB_SQL_EOF)
			;
		ck_assert_int_eq(rc, QB_EIO);
		snprintf(want, sizeof(want), "simulated read failure at byte %zu", src.off);
		ck_assert_str_eq(err.msg, want);
		/* and it stays failed */
		memset(&err, 0, sizeof(err));
		ck_assert_int_eq(qb_sqlscan_next(s, &it, &err), QB_EIO);
		ck_assert_str_eq(err.msg, want);
		qb_sqlscan_free(s);
	}
}
END_TEST

static int greedy_read(void *ud, void *p, size_t cap, size_t *got, struct qb_err *err)
{
	(void)ud;
	(void)err;
	memset(p, ' ', cap);
	*got = cap + 1;
	return QB_OK;
}

START_TEST(t_api)
{
	struct qb_sqlscan *s = (struct qb_sqlscan *)1;
	struct src src = { "", 0, 0, 0, 0, 0, false };
	struct qb_sql_item it;
	struct qb_err err = { 0 };

	ck_assert_int_eq(qb_sqlscan_new(&s, NULL, NULL, &err), QB_EARG);
	ck_assert_int_eq(qb_sqlscan_next(NULL, &it, &err), QB_EARG);
	qb_sqlscan_free(NULL);
	qb_sqlscan_set_max(NULL, 5);
	ck_assert_int_eq(qb_sqlscan_new(&s, src_read, &src, NULL), QB_OK);
	ck_assert_int_eq(qb_sqlscan_next(s, &it, NULL), QB_OK);
	ck_assert_int_eq(it.kind, QB_SQL_EOF);
	ck_assert_uint_eq(it.len, 0);
	ck_assert_uint_eq(it.line, 1);
	qb_sqlscan_free(s);

	/* a callback that claims more than it was given room for */
	ck_assert_int_eq(qb_sqlscan_new(&s, greedy_read, NULL, &err), QB_OK);
	ck_assert_int_eq(qb_sqlscan_next(s, &it, &err), QB_EINTERNAL);
	qb_sqlscan_free(s);
}
END_TEST

extern Suite *suite_sqlscan(void);

Suite *suite_sqlscan(void)
{
	Suite *s = suite_create("sqlscan");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, t_basic);
	tcase_add_test(tc, t_leading_comments);
	tcase_add_test(tc, t_blank);
	tcase_add_test(tc, t_quotes);
	tcase_add_test(tc, t_estrings);
	tcase_add_test(tc, t_dollar);
	tcase_add_test(tc, t_comments);
	tcase_add_test(tc, t_parens_and_bodies);
	tcase_add_test(tc, t_meta);
	tcase_add_test(tc, t_copy);
	tcase_add_test(tc, t_copy_detection);
	tcase_add_test(tc, t_truncated);
	tcase_add_test(tc, t_dump);
	tcase_add_test(tc, t_dump_cut);
	tcase_add_test(tc, t_big_copy);
	tcase_add_test(tc, t_huge_items);
	tcase_add_test(tc, t_limits);
	tcase_add_test(tc, t_read_error);
	tcase_add_test(tc, t_api);
	suite_add_tcase(s, tc);
	return s;
}
