/*
 * scan.c - the streaming SQL script scanner (include/qb/sqlscan.h): the
 * input window and the public calls.  Statements are lexed in scan_stmt.c,
 * COPY data in scan_copy.c.
 *
 * The window is refilled through the read callback at most READ_CHUNK at a
 * time; it grows past its first size only for lookahead (a long line of COPY
 * data, a meta-command, a dollar-quote tag), never beyond the ceiling.
 */
#include <stdlib.h>
#include <string.h>

#include "sql/scan_int.h"

#define READ_CHUNK QB_SCAN_READ_CHUNK
#define WIN_INIT (((size_t)1 << 20) + READ_CHUNK)   /* a COPY item and a read */
#define WIN_SLACK 16    /* lookahead past the ceiling: the "$"s around a tag, a "\r" */

void qb_scan_item(struct qb_sql_item *it, enum qb_sql_kind kind, const char *text, size_t len,
		  unsigned long line)
{
	it->kind = kind;
	it->text = text;
	it->len = len;
	it->line = line;
	it->copy_from_stdin = false;
	it->joined = false;
}

void qb_scan_hold(struct qb_sqlscan *s, size_t at)
{
	if (at < s->end) {
		s->held = at;
		s->held_ch = s->in[at];
	}
	s->in[at] = '\0';
}

static void unhold(struct qb_sqlscan *s)
{
	if (s->held != QB_SCAN_NONE) {
		s->in[s->held] = s->held_ch;
		s->held = QB_SCAN_NONE;
	}
}

/* Copy statement text in[run, upto) into s->stmt. */
int qb_scan_flush(struct qb_sqlscan *s, size_t upto, struct qb_err *err)
{
	int rc;

	if (s->run == QB_SCAN_NONE || upto == s->run)
		return QB_OK;
	rc = qb_buf_append(&s->stmt, s->in + s->run, upto - s->run, err);
	if (rc == QB_EFORMAT)
		return qb_err_set(err, QB_EFORMAT, "statement at line %lu is longer than %zu bytes",
				  s->stmt_line, s->max);
	if (rc)
		return rc;
	s->run = upto;
	return QB_OK;
}

static int grow(struct qb_sqlscan *s, size_t n, struct qb_err *err)
{
	size_t lim = s->max + WIN_SLACK, cap;
	char *p;

	if (n > lim)
		return qb_err_set(err, QB_EFORMAT, "line %lu is longer than %zu bytes", s->line,
				  s->max);
	cap = s->cap ? s->cap * 2 : WIN_INIT;
	if (cap < n)
		cap = n;
	if (cap > lim)
		cap = lim;
	p = realloc(s->in, cap + 1);
	if (!p)
		return qb_err_set(err, QB_ENOMEM,
				  "out of memory growing the input window to %zu bytes", cap);
	s->in = p;
	s->cap = cap;
	return QB_OK;
}

int qb_scan_fill(struct qb_sqlscan *s, size_t n, struct qb_err *err)
{
	while (s->end - s->pos < n && !s->eof) {
		size_t want, got = 0;
		int rc;

		if ((rc = qb_scan_flush(s, s->pos, err)))
			return rc;
		if (s->pos > 0) {
			memmove(s->in, s->in + s->pos, s->end - s->pos);
			s->end -= s->pos;
			if (s->run != QB_SCAN_NONE)
				s->run = 0;
			s->pos = 0;
		}
		if (s->end == s->cap && (rc = grow(s, n, err)))
			return rc;
		want = s->cap - s->end;
		if (want > READ_CHUNK)
			want = READ_CHUNK;
		if ((rc = s->read(s->ud, s->in + s->end, want, &got, err)))
			return rc;
		if (got > want)
			return qb_err_set(err, QB_EINTERNAL,
					  "read callback returned %zu bytes for %zu", got, want);
		if (!got)
			s->eof = true;
		s->end += got;
	}
	return QB_OK;
}

int qb_sqlscan_new(struct qb_sqlscan **out, qb_read_fn read, void *ud, struct qb_err *err)
{
	struct qb_sqlscan *s;

	if (!out || !read)
		return qb_err_set(err, QB_EARG, "sql scanner needs a read callback");
	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return qb_err_set(err, QB_ENOMEM, "out of memory creating a sql scanner");
	s->read = read;
	s->ud = ud;
	s->max = QB_SQLSCAN_STMT_MAX;
	s->run = QB_SCAN_NONE;
	s->held = QB_SCAN_NONE;
	s->line = 1;
	s->mode = QB_SCAN_SQL;
	qb_buf_init(&s->stmt, s->max);
	qb_buf_init(&s->tag, s->max);
	*out = s;
	return QB_OK;
}

void qb_sqlscan_set_max(struct qb_sqlscan *s, size_t max)
{
	if (!s)
		return;
	if (max > QB_SQLSCAN_STMT_MAX)
		max = QB_SQLSCAN_STMT_MAX;
	if (max < 1)
		max = 1;
	s->max = s->stmt.max = s->tag.max = max;
}

int qb_sqlscan_next(struct qb_sqlscan *s, struct qb_sql_item *it, struct qb_err *err)
{
	struct qb_err local;
	int rc;

	if (!s || !it)
		return qb_err_set(err, QB_EARG, "sql scanner called without a scanner or an item");
	unhold(s);
	if (s->mode == QB_SCAN_FAILED)
		return qb_err_set(err, s->fail.code, "%s", s->fail.msg);
	if (!err) {
		qb_err_clear(&local);
		err = &local;
	}
	switch (s->mode) {
	case QB_SCAN_DONE:
		qb_scan_item(it, QB_SQL_EOF, "", 0, s->line);
		return QB_OK;
	case QB_SCAN_COPY_HEAD:
		if ((rc = qb_scan_copy_head(s, err)))
			break;
		__attribute__((fallthrough));
	case QB_SCAN_COPY:
		rc = qb_scan_copy(s, it, err);
		break;
	default:
		rc = qb_scan_sql(s, it, err);
		break;
	}
	if (rc) {
		s->fail = *err;
		s->fail.code = rc;
		s->mode = QB_SCAN_FAILED;
	}
	return rc;
}

void qb_sqlscan_free(struct qb_sqlscan *s)
{
	if (!s)
		return;
	free(s->in);
	qb_buf_release(&s->stmt);
	qb_buf_release(&s->tag);
	free(s);
}
