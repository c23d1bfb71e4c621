/*
 * scan_stmt.c - the statement lexer of the SQL script scanner.
 *
 * It follows psql's (src/fe_utils/psqlscan.l), because a restore must split
 * a script exactly where psql would: a ';' ends a statement only outside
 * quotes and comments, outside parentheses, and outside the BEGIN ... END
 * of a CREATE FUNCTION / PROCEDURE body (psql's heuristic, needed for the
 * SQL-standard function bodies in pg_dump output).  A backslash outside all
 * of those starts a meta-command line.
 *
 * Statement text that lies in the window when its ';' arrives is handed out
 * in place; text that spans a refill or a meta-command is copied into
 * s->stmt as it goes (qb_scan_flush).
 */
#include <string.h>
#include <strings.h>

#include "sql/scan_int.h"

#define KW_MAX 9        /* longest word the lexer looks at: "procedure" */

enum lex { L_NORMAL, L_LINE_COMMENT, L_BLOCK, L_SQUOTE, L_DQUOTE, L_ESTRING, L_ESTR_END, L_DOLLAR };
enum tok { T_NONE, T_IDENT, T_NUM };
enum copy_state { C_FIRST, C_WANT_FROM, C_WANT_STDIN, C_YES, C_NO };

static bool ident_start(unsigned char c)
{
	return ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c == '_' || c >= 0x80;
}

static bool ident_cont(unsigned char c)
{
	return ident_start(c) || (c >= '0' && c <= '9') || c == '$';
}

/* The byte after in[pos] (reading more if needed), or -1 at the end of input. */
static int peek(struct qb_sqlscan *s, int *c, struct qb_err *err)
{
	int rc;

	if (s->end - s->pos < 2 && (rc = qb_scan_fill(s, 2, err)))
		return rc;
	*c = s->end - s->pos >= 2 ? (unsigned char)s->in[s->pos + 1] : -1;
	return QB_OK;
}

/* Move pos to the next a or b in the window (or its end), counting lines. */
static void skip_to(struct qb_sqlscan *s, char a, char b)
{
	const char *p = s->in + s->pos, *e = s->in + s->end;
	unsigned long lines = 0;

	while (p < e && *p != a && *p != b) {
		lines += *p == '\n';
		p++;
	}
	s->line += lines;
	s->pos = (size_t)(p - s->in);
}

static void begin_stmt(struct qb_sqlscan *s)
{
	if (s->in_stmt)
		return;
	s->in_stmt = true;
	s->stmt_line = s->line;
	s->run = s->pos;
	s->paren = s->begin_depth = s->nident = 0;
	s->joined = false;
	memset(s->idents, 0, sizeof(s->idents));
	s->copy = C_FIRST;
	qb_buf_reset(&s->stmt);
}

static bool word_is(const char *w, size_t n, const char *kw)
{
	return n == strlen(kw) && !strncasecmp(w, kw, n);
}

/* A word ended: psql's BEGIN ... END tracking in CREATE FUNCTION, and COPY ... FROM stdin. */
static void end_ident(struct qb_sqlscan *s, const char *w, size_t n)
{
	const char *id = s->idents;

	if (n > KW_MAX)
		n = KW_MAX + 1;    /* too long to be any word below */
	if (s->nident == 0)
		memset(s->idents, 0, sizeof(s->idents));
	if (s->nident < sizeof(s->idents) &&
	    (word_is(w, n, "create") || word_is(w, n, "function") || word_is(w, n, "procedure") ||
	     word_is(w, n, "or") || word_is(w, n, "replace")))
		s->idents[s->nident] = (char)(w[0] | 0x20);
	s->nident++;
	if (id[0] == 'c' && (id[1] == 'f' || id[1] == 'p' ||
			     (id[1] == 'o' && id[2] == 'r' && (id[3] == 'f' || id[3] == 'p'))) &&
	    s->paren == 0) {
		if (word_is(w, n, "begin"))
			s->begin_depth++;
		else if (word_is(w, n, "case") && s->begin_depth >= 1)
			s->begin_depth++;
		else if (word_is(w, n, "end") && s->begin_depth > 0)
			s->begin_depth--;
	}
	if (s->copy == C_FIRST)
		s->copy = word_is(w, n, "copy") ? C_WANT_FROM : C_NO;
	else if (s->copy == C_WANT_FROM && s->paren == 0 && word_is(w, n, "from"))
		s->copy = C_WANT_STDIN;
	else if (s->copy == C_WANT_FROM && s->paren == 0 && word_is(w, n, "to"))
		s->copy = C_NO;
	else if (s->copy == C_WANT_STDIN)
		s->copy = word_is(w, n, "stdin") ? C_YES : C_NO;
}

/* in[pos] is '$' outside a word: a dollar quote's opening tag, or just a '$'. */
static int dollar(struct qb_sqlscan *s, enum lex *st, struct qb_err *err)
{
	size_t k = 1;
	int rc;

	for (;;) {
		unsigned char d;

		if (s->end - s->pos <= k) {
			if ((rc = qb_scan_fill(s, k + 1, err)))
				return rc;
			if (s->end - s->pos <= k)
				break;
		}
		d = (unsigned char)s->in[s->pos + k];
		if (d == '$') {
			qb_buf_reset(&s->tag);
			if ((rc = qb_buf_append(&s->tag, s->in + s->pos + 1, k - 1, err)))
				return rc;
			s->pos += k + 1;
			*st = L_DOLLAR;
			return QB_OK;
		}
		if (k == 1 ? !ident_start(d) : !ident_cont(d))
			break;     /* not a tag ($1 is a parameter: the 1 lexes as a number) */
		k++;
	}
	s->pos++;                          /* like psql: keep the '$', rescan the rest */
	return QB_OK;
}

/* in[pos] is the ';' that ends the statement. */
static int end_stmt(struct qb_sqlscan *s, struct qb_sql_item *it, struct qb_err *err)
{
	size_t stop = s->pos + 1;
	int rc;

	if (s->stmt.len == 0) {
		if (stop - s->run > s->max)
			return qb_err_set(err, QB_EFORMAT,
					  "statement at line %lu is longer than %zu bytes",
					  s->stmt_line, s->max);
		qb_scan_item(it, QB_SQL_STMT, s->in + s->run, stop - s->run, s->stmt_line);
		qb_scan_hold(s, stop);
	} else {
		if ((rc = qb_scan_flush(s, stop, err)))
			return rc;
		qb_scan_item(it, QB_SQL_STMT, s->stmt.data, s->stmt.len, s->stmt_line);
	}
	it->joined = s->joined;
	s->pos = stop;
	s->run = QB_SCAN_NONE;
	s->in_stmt = false;
	if (s->copy == C_YES) {
		it->copy_from_stdin = true;
		s->mode = QB_SCAN_COPY_HEAD;
		s->copy_line = s->line + 1;
	}
	return QB_OK;
}

/* in[pos] is a backslash starting a meta-command: hand out its line. */
static int meta(struct qb_sqlscan *s, struct qb_sql_item *it, struct qb_err *err)
{
	const char *nl;
	size_t off = 0, n, len;
	bool pending = s->run != QB_SCAN_NONE;
	int rc;

	if ((rc = qb_scan_flush(s, s->pos, err)))
		return rc;
	s->run = QB_SCAN_NONE;
	while (!(nl = memchr(s->in + s->pos + off, '\n', s->end - s->pos - off)) && !s->eof) {
		off = s->end - s->pos;
		if ((rc = qb_scan_fill(s, off + 1, err)))
			return rc;
	}
	n = nl ? (size_t)(nl - (s->in + s->pos)) : s->end - s->pos;
	len = n && s->in[s->pos + n - 1] == '\r' ? n - 1 : n;
	if (len > s->max)
		return qb_err_set(err, QB_EFORMAT, "line %lu is longer than %zu bytes", s->line,
				  s->max);
	qb_scan_item(it, QB_SQL_META, s->in + s->pos, len, s->line);
	qb_scan_hold(s, s->pos + len);
	s->pos += n;
	if (nl) {
		s->pos++;
		s->line++;
	}
	if (pending)
		s->run = s->pos;   /* the statement goes on after the meta-command */
	return QB_OK;
}

static int sql_eof(struct qb_sqlscan *s, struct qb_sql_item *it, enum lex st,
		   unsigned long com_line, struct qb_err *err)
{
	if (s->in_stmt)
		return qb_err_set(err, QB_ECORRUPT,
				  "input ends inside a statement started at line %lu",
				  s->stmt_line);
	if (st == L_BLOCK)
		return qb_err_set(err, QB_ECORRUPT,
				  "input ends inside a comment started at line %lu", com_line);
	s->mode = QB_SCAN_DONE;
	qb_scan_item(it, QB_SQL_EOF, "", 0, s->line);
	return QB_OK;
}

int qb_scan_sql(struct qb_sqlscan *s, struct qb_sql_item *it, struct qb_err *err)
{
	enum lex st = L_NORMAL, after = L_NORMAL;
	enum tok tok = T_NONE;
	char kw[KW_MAX];
	size_t kwlen = 0, depth = 0, n;
	unsigned long com_line = 0;
	bool nl = false;
	char q;
	int rc, c2;

	for (;;) {
		unsigned char c;

		if (s->pos == s->end) {
			if ((rc = qb_scan_fill(s, 1, err)))
				return rc;
			if (s->pos == s->end)
				return sql_eof(s, it, st, com_line, err);
		}
		c = (unsigned char)s->in[s->pos];
		switch (st) {
		case L_NORMAL:
			break;
		case L_LINE_COMMENT:
			if (c == '\n' || c == '\r')
				st = after;
			else
				skip_to(s, '\n', '\r');
			continue;
		case L_BLOCK:
			if (c != '*' && c != '/') {
				skip_to(s, '*', '/');
				continue;
			}
			if ((rc = peek(s, &c2, err)))
				return rc;
			if (c == '*' && c2 == '/') {
				s->pos += 2;
				if (--depth == 0)
					st = L_NORMAL;
			} else if (c == '/' && c2 == '*') {
				s->pos += 2;
				depth++;
			} else {
				s->pos++;
			}
			continue;
		case L_SQUOTE:
		case L_DQUOTE:
			/* '' and "" need no lookahead: a closed quote reopened is the same thing */
			q = st == L_SQUOTE ? '\'' : '"';
			if (c != q) {
				skip_to(s, q, q);
				continue;
			}
			s->pos++;
			st = L_NORMAL;
			continue;
		case L_ESTRING:
			if (c != '\'' && c != '\\') {
				skip_to(s, '\'', '\\');
				continue;
			}
			if ((rc = peek(s, &c2, err)))
				return rc;
			if (c == '\\') {
				s->line += c2 == '\n';
				s->pos += c2 < 0 ? 1 : 2;
			} else if (c2 == '\'') {
				s->pos += 2;
			} else {
				s->pos++;
				st = L_ESTR_END;
				nl = false;
			}
			continue;
		case L_ESTR_END:
			/* E'...' <whitespace with a newline> '...' continues the E string */
			if (c == ' ' || c == '\t' || c == '\f' || c == '\n' || c == '\r') {
				s->line += c == '\n';
				nl = nl || c == '\n' || c == '\r';
				s->pos++;
				continue;
			}
			if (c == '\'' && nl) {
				s->pos++;
				st = L_ESTRING;
				continue;
			}
			if (c == '-') {
				if ((rc = peek(s, &c2, err)))
					return rc;
				if (c2 == '-') {
					s->pos += 2;
					st = L_LINE_COMMENT;
					after = L_ESTR_END;
					continue;
				}
			}
			st = after = L_NORMAL;
			break;
		case L_DOLLAR:
			if (c != '$') {
				skip_to(s, '$', '$');
				continue;
			}
			n = s->tag.len + 2;
			if (s->end - s->pos < n && (rc = qb_scan_fill(s, n, err)))
				return rc;
			if (s->end - s->pos >= n && s->in[s->pos + n - 1] == '$' &&
			    (!s->tag.len || !memcmp(s->in + s->pos + 1, s->tag.data, s->tag.len))) {
				s->pos += n;
				st = L_NORMAL;
			} else {
				s->pos++;
			}
			continue;
		}

		/* L_NORMAL: first finish the word or number in progress */
		if (tok == T_IDENT) {
			if (ident_cont(c)) {
				if (kwlen < KW_MAX)
					kw[kwlen] = (char)c;
				kwlen++;
				s->pos++;
				continue;
			}
			tok = T_NONE;
			if (c == '\'' && kwlen == 1 && (kw[0] | 0x20) == 'e') {
				s->pos++;
				st = L_ESTRING;
				continue;
			}
			end_ident(s, kw, kwlen);
		} else if (tok == T_NUM) {
			/* digits and dots; a letter starts a word, as in psql (1e'x' is 1, e'x') */
			if ((c >= '0' && c <= '9') || c == '.') {
				s->pos++;
				continue;
			}
			tok = T_NONE;
		}

		if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\n') {
			s->line += c == '\n';
			s->pos++;
			continue;
		}
		if (c == '-' || c == '/') {
			if ((rc = peek(s, &c2, err)))
				return rc;
			if (c2 == (c == '-' ? '-' : '*')) {
				if (!s->in_stmt)
					com_line = s->line;
				s->pos += 2;
				st = c == '-' ? L_LINE_COMMENT : L_BLOCK;
				after = L_NORMAL;
				depth = 1;
				continue;
			}
		}
		if (c == '\\') {
			if ((rc = peek(s, &c2, err)))
				return rc;
			if (c2 != ';' && c2 != ':')
				return meta(s, it, err);
			/* psql: \; and \: put a plain ';' or ':' into the statement */
			begin_stmt(s);
			if ((rc = qb_scan_flush(s, s->pos, err)))
				return rc;
			s->run = s->pos + 1;
			s->pos += 2;
			if (c2 == ';') {
				s->nident = 0;
				s->joined = true;
			}
			continue;
		}
		if (c == ';' && !s->in_stmt) {
			s->pos++;          /* an empty statement: nothing to run */
			continue;
		}
		begin_stmt(s);
		switch (c) {
		case '\'':
			st = L_SQUOTE;
			break;
		case '"':
			st = L_DQUOTE;
			break;
		case '$':
			if ((rc = dollar(s, &st, err)))
				return rc;
			continue;
		case '(':
			s->paren++;
			break;
		case ')':
			if (s->paren > 0)
				s->paren--;
			break;
		case ';':
			if (s->paren == 0 && s->begin_depth == 0)
				return end_stmt(s, it, err);
			break;
		default:
			if (ident_start(c)) {
				tok = T_IDENT;
				kw[0] = (char)c;
				kwlen = 1;
			} else if (c >= '0' && c <= '9') {
				tok = T_NUM;
			}
			break;
		}
		s->pos++;
	}
}
