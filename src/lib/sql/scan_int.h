/*
 * scan_int.h - what scan.c (the window), scan_stmt.c (statements) and
 * scan_copy.c (COPY data) share inside the SQL script scanner.  Not a
 * public header.
 *
 * Input sits in a window: in[pos, end) are the bytes read but not yet
 * consumed, in[cap] is a spare byte so that an item handed out in place can
 * always be NUL-terminated (the byte it overwrote is put back by the next
 * call).  line is the line of in[pos].
 */
#ifndef QB_SQL_SCAN_INT_H
#define QB_SQL_SCAN_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "qb/buf.h"
#include "qb/sqlscan.h"

#define QB_SCAN_NONE ((size_t)-1)
#define QB_SCAN_READ_CHUNK ((size_t)256 << 10)   /* most asked of the read callback at once */

enum qb_scan_mode { QB_SCAN_SQL, QB_SCAN_COPY_HEAD, QB_SCAN_COPY, QB_SCAN_DONE, QB_SCAN_FAILED };

struct qb_sqlscan {
	qb_read_fn read;
	void *ud;
	char *in;               /* the window, cap + 1 bytes */
	size_t cap, pos, end;
	size_t max;             /* ceiling on a statement, a line, a dollar-quote tag */
	size_t run;             /* in[run, pos): statement text not yet copied to stmt, or NONE */
	size_t held;            /* where the NUL ending the last in-place item was put, or NONE */
	char held_ch;           /* the byte it replaced */
	bool eof;               /* the read callback reported the end */
	unsigned long line;
	enum qb_scan_mode mode;
	unsigned long copy_line;   /* first line of the COPY data */

	/* The statement being collected (psqlscan.l's per-statement state). */
	bool in_stmt;
	bool joined;            /* a \; in the statement so far */
	unsigned long stmt_line;
	size_t paren;           /* ( ... ) depth */
	size_t begin_depth;     /* BEGIN ... END depth in CREATE FUNCTION / PROCEDURE */
	size_t nident;          /* identifiers seen so far */
	char idents[4];         /* first letters of create/or/replace/function/procedure */
	int copy;               /* enum copy_state in scan_stmt.c */
	struct qb_buf stmt;     /* text that spanned a refill or a meta-command */
	struct qb_buf tag;      /* the open dollar quote's tag */

	struct qb_err fail;     /* a failed scanner keeps returning this */
};

/* Make end - pos >= n unless the input ends first (refills, compacts, grows). */
int qb_scan_fill(struct qb_sqlscan *s, size_t n, struct qb_err *err);
/* NUL-terminate an in-place item at in[at]; undone by the next call. */
void qb_scan_hold(struct qb_sqlscan *s, size_t at);
/* Copy statement text in[run, upto) into s->stmt. */
int qb_scan_flush(struct qb_sqlscan *s, size_t upto, struct qb_err *err);
void qb_scan_item(struct qb_sql_item *it, enum qb_sql_kind kind, const char *text, size_t len,
		  unsigned long line);
/* Statements and meta-commands, up to the next one or the end (scan_stmt.c). */
int qb_scan_sql(struct qb_sqlscan *s, struct qb_sql_item *it, struct qb_err *err);
/* The rest of the COPY statement's line, then COPY data items and the end marker. */
int qb_scan_copy_head(struct qb_sqlscan *s, struct qb_err *err);
int qb_scan_copy(struct qb_sqlscan *s, struct qb_sql_item *it, struct qb_err *err);

#endif
