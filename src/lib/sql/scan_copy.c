/*
 * scan_copy.c - the data of a COPY ... FROM stdin in a SQL script.
 *
 * Lines are found with memchr and handed out in place, about a megabyte of
 * whole lines per item, until a line that is exactly "\." (psql's rule: a
 * line that only starts with "\." is data).
 */
#include <string.h>

#include "sql/scan_int.h"

#define COPY_ITEM ((size_t)1 << 20)

static int truncated(struct qb_sqlscan *s, struct qb_err *err)
{
	return qb_err_set(err, QB_ECORRUPT, "input ends inside COPY data started at line %lu",
			  s->copy_line);
}

/*
 * What follows the ';' on the COPY line.  psql would run it after the data;
 * pg_dump never writes anything there, so only blanks and a comment pass.
 */
int qb_scan_copy_head(struct qb_sqlscan *s, struct qb_err *err)
{
	bool comment = false;
	int rc;

	for (;;) {
		char c;

		if (s->pos == s->end) {
			if ((rc = qb_scan_fill(s, 1, err)))
				return rc;
			if (s->pos == s->end)
				return truncated(s, err);
		}
		c = s->in[s->pos];
		if (c == '\n') {
			s->pos++;
			s->line++;
			s->mode = QB_SCAN_COPY;
			return QB_OK;
		}
		if (comment || c == ' ' || c == '\t' || c == '\r' || c == '\f') {
			s->pos++;
			continue;
		}
		if (c == '-') {
			if (s->end - s->pos < 2 && (rc = qb_scan_fill(s, 2, err)))
				return rc;
			if (s->end - s->pos >= 2 && s->in[s->pos + 1] == '-') {
				comment = true;
				s->pos += 2;
				continue;
			}
		}
		return qb_err_set(err, QB_EFORMAT,
				  "unexpected text after COPY ... FROM stdin on line %lu", s->line);
	}
}

/* A line (without its '\n') that ends the data: "\." or "\.\r". */
static bool end_marker(const char *p, size_t n)
{
	return (n == 2 || (n == 3 && p[2] == '\r')) && p[0] == '\\' && p[1] == '.';
}

int qb_scan_copy(struct qb_sqlscan *s, struct qb_sql_item *it, struct qb_err *err)
{
	size_t p = s->pos;            /* in[pos, p) are whole lines */
	size_t q = p;                 /* where the search for the next '\n' goes on */
	unsigned long lines = 0;
	int rc;

	for (;;) {
		const char *nl = memchr(s->in + q, '\n', s->end - q);
		size_t n = nl ? (size_t)(nl - s->in) - p : s->end - p, off;

		if (n > s->max) {
			if (p > s->pos)
				break;        /* hand out the data before it first */
			return qb_err_set(err, QB_EFORMAT,
					  "line %lu of COPY data is longer than %zu bytes", s->line,
					  s->max);
		}
		if ((nl || s->eof) && end_marker(s->in + p, n)) {
			if (p > s->pos)
				break;
			qb_scan_item(it, QB_SQL_COPY_END, "", 0, s->line);
			s->pos = p + n + (nl != NULL);
			s->line += nl != NULL;
			s->mode = QB_SCAN_SQL;
			return QB_OK;
		}
		if (nl) {
			p = q = p + n + 1;
			lines++;
			if (p - s->pos >= COPY_ITEM)
				break;
			continue;
		}
		/* no whole line left in the window */
		if (s->eof) {
			if (p > s->pos)
				break;
			return truncated(s, err);
		}
		if (p > s->pos && s->end - s->pos + QB_SCAN_READ_CHUNK > s->cap)
			break;                /* the window is full enough: hand out what we have */
		off = p - s->pos;
		q = s->end - s->pos;      /* searched up to here */
		if ((rc = qb_scan_fill(s, s->end - s->pos + 1, err)))
			return rc;
		p = s->pos + off;
		q += s->pos;
	}
	qb_scan_item(it, QB_SQL_COPY_DATA, s->in + s->pos, p - s->pos, s->line);
	qb_scan_hold(s, p);
	s->pos = p;
	s->line += lines;
	return QB_OK;
}
