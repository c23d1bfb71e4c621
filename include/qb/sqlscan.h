/*
 * sqlscan.h - split a plain SQL script (qbackup's or pg_dump's) into
 * statements, COPY data and psql meta-commands, streaming.
 *
 * The scanner pulls bytes through a read callback and hands out one item at
 * a time; it never holds more than one statement (or one chunk of COPY
 * data) in memory.  It understands what a psql script can contain:
 * '--' and nested block comments, 'single' and E'escaped' strings,
 * "quoted identifiers", $tag$dollar quotes$tag$, and backslash
 * meta-commands outside all of those.
 *
 *	struct qb_sqlscan *s;
 *	struct qb_sql_item it;
 *	qb_sqlscan_new(&s, read_fn, ud, &err);
 *	while (!(rc = qb_sqlscan_next(s, &it, &err)) && it.kind != QB_SQL_EOF)
 *		switch (it.kind) { ... }
 *	qb_sqlscan_free(s);
 *
 * After a statement item with copy_from_stdin set, the items that follow are
 * QB_SQL_COPY_DATA chunks (whole lines, the terminating "\." line excluded)
 * and then one QB_SQL_COPY_END.  Input that ends inside a statement, a
 * quote, a comment or COPY data is QB_ECORRUPT (a truncated script).
 *
 * Statements end where psql would end them: at a ';' outside quotes and
 * comments, outside parentheses, and outside the BEGIN ... END of a
 * CREATE FUNCTION / PROCEDURE (SQL-standard bodies); psql's "\;" puts a
 * plain ';' into the statement.  An empty statement (a lone ';') gives no
 * item.  A meta-command inside a statement is handed out when met; the
 * statement goes on after its line.  copy_from_stdin is set when the first
 * word is COPY and the first FROM or TO outside parentheses is FROM STDIN
 * (WITH options may follow).  After its ';' only blanks and a "--" comment
 * may share the line (psql would run more SQL there after the data; that is
 * refused as QB_EFORMAT).  A COPY data line ends the data only when it is
 * exactly "\." (or "\.\r"), like psql.
 *
 * Every item's text is NUL-terminated (text[len] == '\0').  A statement, a
 * line of COPY data or a meta-command longer than the ceiling is QB_EFORMAT
 * naming its line.  Errors are sticky: after one, every call returns it
 * again; after QB_SQL_EOF every call returns QB_SQL_EOF.  Errors of the read
 * callback come back unchanged.
 */
#ifndef QB_SQLSCAN_H
#define QB_SQLSCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "qb/error.h"

/* Pull up to cap bytes into p; *got == 0 means end of input. */
typedef int (*qb_read_fn)(void *ud, void *p, size_t cap, size_t *got, struct qb_err *err);

enum qb_sql_kind {
	QB_SQL_STMT,       /* text: the statement, with its ';', leading blanks and comments removed */
	QB_SQL_META,       /* text: the meta-command line from the backslash, no newline */
	QB_SQL_COPY_DATA,  /* text: one or more whole lines of COPY data */
	QB_SQL_COPY_END,   /* the "\." line was reached */
	QB_SQL_EOF
};

struct qb_sql_item {
	enum qb_sql_kind kind;
	const char *text;          /* borrowed: valid until the next call */
	size_t len;
	unsigned long line;        /* 1-based line where the item starts */
	bool copy_from_stdin;      /* QB_SQL_STMT: a COPY ... FROM stdin */
	bool joined;               /* QB_SQL_STMT: psql's \; joined several statements in it */
};

/* Ceiling on one statement's size (and on one line of COPY data or one meta-command). */
#define QB_SQLSCAN_STMT_MAX ((size_t)1 << 30)

struct qb_sqlscan;
int qb_sqlscan_new(struct qb_sqlscan **out, qb_read_fn read, void *ud, struct qb_err *err);
int qb_sqlscan_next(struct qb_sqlscan *s, struct qb_sql_item *it, struct qb_err *err);
void qb_sqlscan_free(struct qb_sqlscan *s);
/* Lower the ceiling (default QB_SQLSCAN_STMT_MAX; larger values are clamped to it). */
void qb_sqlscan_set_max(struct qb_sqlscan *s, size_t max);

#endif
