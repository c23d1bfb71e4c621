/*
 * fuzz_sqlscan.c - the SQL script scanner on any input, fed through the
 * read callback in different ways, must say the same thing:
 *   - as many bytes as asked, one byte at a time, random sizes: the same
 *     items (kind, text, line, COPY flag, \; flag; COPY data compared
 *     merged, since its cut into items is not part of the contract) and the
 *     same outcome;
 *   - a ceiling as large as the input (a small window that compacts and
 *     grows): the same again;
 *   - a small ceiling: what it hands out before failing is a prefix of the
 *     above, it fails with QB_EFORMAT or the default run's error, and when
 *     it succeeds it says the same.
 * Each run also checks the contract of every item (NUL after the text, a
 * statement ends in ';', a meta-command starts with '\' and holds no line
 * break, COPY data is whole lines, COPY items only after a COPY ... FROM
 * stdin), that line numbers never go back (a statement's may, to before
 * the meta-commands met inside it), that the end comes at line 1 +
 * the input's '\n's, that errors and the end are sticky, and that there are
 * never more items than bytes.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qb/sqlscan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQ(c) do { if (!(c)) abort(); } while (0)

struct src {
	const uint8_t *p;
	size_t len, off, chunk;
	uint64_t seed;
};

static int src_read(void *ud, void *p, size_t cap, size_t *got, struct qb_err *err)
{
	struct src *s = ud;
	size_t n = s->len - s->off;

	(void)err;
	if (n > cap)
		n = cap;
	if (s->chunk && n > s->chunk)
		n = s->chunk;
	if (s->seed && n > 1) {
		s->seed ^= s->seed << 13;
		s->seed ^= s->seed >> 7;
		s->seed ^= s->seed << 17;
		n = 1 + s->seed % n;
	}
	memcpy(p, s->p + s->off, n);
	s->off += n;
	*got = n;
	return QB_OK;
}

struct item {
	enum qb_sql_kind kind;
	char *text;
	size_t len;
	unsigned long line;
	bool copy, joined;
};

struct run {
	struct item *v;
	size_t n;
	int rc;
};

static void run_free(struct run *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i].text);
	free(r->v);
}

static void push(struct run *r, const struct qb_sql_item *it)
{
	struct item *last = r->n ? &r->v[r->n - 1] : NULL;

	if (it->kind == QB_SQL_COPY_DATA && last && last->kind == QB_SQL_COPY_DATA) {
		last->text = realloc(last->text, last->len + it->len + 1);
		REQ(last->text);
		memcpy(last->text + last->len, it->text, it->len + 1);
		last->len += it->len;
		return;
	}
	r->v = realloc(r->v, (r->n + 1) * sizeof(*r->v));
	REQ(r->v);
	r->v[r->n] = (struct item){ it->kind, malloc(it->len + 1), it->len, it->line,
				    it->copy_from_stdin, it->joined };
	REQ(r->v[r->n].text);
	memcpy(r->v[r->n].text, it->text, it->len + 1);
	r->n++;
}

static void scan(struct run *r, const uint8_t *p, size_t len, size_t chunk, uint64_t seed,
		 size_t max)
{
	struct src src = { p, len, 0, chunk, seed };
	struct qb_sqlscan *s;
	struct qb_sql_item it;
	struct qb_err err;
	unsigned long line = 1, base = 1, nl = 0;
	size_t items = 0;
	bool in_copy = false;

	memset(r, 0, sizeof(*r));
	for (size_t i = 0; i < len; i++)
		nl += p[i] == '\n';
	REQ(qb_sqlscan_new(&s, src_read, &src, &err) == QB_OK);
	if (max)
		qb_sqlscan_set_max(s, max);
	for (;;) {
		r->rc = qb_sqlscan_next(s, &it, &err);
		if (r->rc)
			break;
		REQ(++items <= len + 2);
		REQ(it.text && it.text[it.len] == '\0');
		/* a statement may start before the meta-commands met inside it */
		REQ(it.line >= (it.kind == QB_SQL_STMT ? base : line));
		if (it.line > line)
			line = it.line;
		if (it.kind != QB_SQL_META)
			base = line;
		switch (it.kind) {
		case QB_SQL_STMT:
			REQ(!in_copy && it.len >= 1 && it.text[it.len - 1] == ';');
			in_copy = it.copy_from_stdin;
			break;
		case QB_SQL_META:
			REQ(!in_copy && it.len >= 1 && it.text[0] == '\\');
			REQ(!memchr(it.text, '\n', it.len));
			break;
		case QB_SQL_COPY_DATA:
			REQ(in_copy && it.len >= 1 && it.text[it.len - 1] == '\n');
			break;
		case QB_SQL_COPY_END:
			REQ(in_copy);
			in_copy = false;
			break;
		case QB_SQL_EOF:
			REQ(!in_copy && it.line == 1 + nl && src.off == len);
			break;
		}
		push(r, &it);
		if (it.kind == QB_SQL_EOF)
			break;
	}
	/* sticky: the end stays the end, an error stays the same error */
	if (!r->rc)
		REQ(qb_sqlscan_next(s, &it, &err) == QB_OK && it.kind == QB_SQL_EOF);
	else
		REQ(qb_sqlscan_next(s, &it, &err) == r->rc);
	qb_sqlscan_free(s);
}

static bool item_eq(const struct item *a, const struct item *b)
{
	return a->kind == b->kind && a->len == b->len && a->line == b->line &&
	       a->copy == b->copy && a->joined == b->joined && !memcmp(a->text, b->text, a->len);
}

static void same(const struct run *a, const struct run *b)
{
	REQ(a->rc == b->rc && a->n == b->n);
	for (size_t i = 0; i < a->n; i++)
		REQ(item_eq(&a->v[i], &b->v[i]));
}

/* b stopped early: its items are a prefix of a's (its last COPY data may be cut short). */
static void prefix(const struct run *a, const struct run *b)
{
	REQ(b->n <= a->n);
	for (size_t i = 0; i < b->n; i++) {
		const struct item *x = &a->v[i], *y = &b->v[i];
		if (i + 1 == b->n && y->kind == QB_SQL_COPY_DATA && x->kind == QB_SQL_COPY_DATA)
			REQ(y->len <= x->len && y->line == x->line && !memcmp(x->text, y->text, y->len));
		else
			REQ(item_eq(x, y));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run a, b;
	uint64_t seed;
	size_t small;

	if (size < 2 || size > 1 << 16)
		return 0;
	seed = 0x9e3779b97f4a7c15ull * (data[0] + 1);
	small = (size_t)data[1] % 64 + 1;
	data += 2;
	size -= 2;

	scan(&a, data, size, 0, 0, 0);
	scan(&b, data, size, 1, 0, 0);
	same(&a, &b);
	run_free(&b);
	scan(&b, data, size, 0, seed, 0);
	same(&a, &b);
	run_free(&b);
	scan(&b, data, size, 0, seed, size + 1);
	same(&a, &b);
	run_free(&b);
	scan(&b, data, size, 0, seed, small);
	if (!b.rc) {
		same(&a, &b);
	} else {
		REQ(b.rc == QB_EFORMAT || b.rc == a.rc);
		prefix(&a, &b);
	}
	run_free(&b);
	run_free(&a);
	return 0;
}
