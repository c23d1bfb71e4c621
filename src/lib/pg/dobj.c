/*
 * dobj.c - the dumper's node registry, (classid, objid) map and
 * topological sort (see dump_intern.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dump_intern.h"
#include "qb/array.h"

static uint64_t key_of(unsigned classid, unsigned objid)
{
	return ((uint64_t)classid << 32) | objid;
}

static size_t slot_of(uint64_t key, size_t cap)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdULL;
	key ^= key >> 33;
	return (size_t)key & (cap - 1);
}

static int map_put(struct dump_ctx *ctx, uint64_t key, size_t val)
{
	if ((ctx->mapn + 1) * 2 > ctx->mapcap) {
		size_t cap = ctx->mapcap ? ctx->mapcap * 2 : 1024;
		struct dmap_slot *m = calloc(cap, sizeof(*m));
		if (!m)
			return qb_err_set(ctx->err, QB_ENOMEM, "out of memory");
		for (size_t i = 0; i < ctx->mapcap; i++) {
			if (ctx->map[i].key) {
				size_t s = slot_of(ctx->map[i].key, cap);
				while (m[s].key)
					s = (s + 1) & (cap - 1);
				m[s] = ctx->map[i];
			}
		}
		free(ctx->map);
		ctx->map = m;
		ctx->mapcap = cap;
	}
	{
		size_t s = slot_of(key, ctx->mapcap);
		while (ctx->map[s].key && ctx->map[s].key != key)
			s = (s + 1) & (ctx->mapcap - 1);
		if (!ctx->map[s].key)
			ctx->mapn++;
		ctx->map[s].key = key;
		ctx->map[s].val = val;
	}
	return QB_OK;
}

size_t dobj_find(const struct dump_ctx *ctx, unsigned classid, unsigned objid)
{
	uint64_t key = key_of(classid, objid);
	size_t s;

	if (!ctx->mapcap || !objid)
		return SIZE_MAX;
	s = slot_of(key, ctx->mapcap);
	while (ctx->map[s].key) {
		if (ctx->map[s].key == key)
			return ctx->map[s].val;
		s = (s + 1) & (ctx->mapcap - 1);
	}
	return SIZE_MAX;
}

size_t dobj_index(const struct dump_ctx *ctx, const struct dobj *o)
{
	for (size_t i = ctx->n; i-- > 0;)
		if (ctx->objs[i] == o)
			return i;
	return SIZE_MAX;
}

struct dobj *dobj_add(struct dump_ctx *ctx, unsigned classid, unsigned objid, int section,
		      int prio, const char *sortname, const char *descfmt, ...)
{
	struct dobj *o;
	va_list ap;

	if (qb_array_grow(&ctx->objs, &ctx->cap, ctx->n + 1, sizeof(*ctx->objs), 256)) {
		qb_err_set(ctx->err, QB_ENOMEM, "out of memory");
		return NULL;
	}
	o = calloc(1, sizeof(*o));
	if (!o) {
		qb_err_set(ctx->err, QB_ENOMEM, "out of memory");
		return NULL;
	}
	o->classid = classid;
	o->objid = objid;
	o->section = section;
	o->prio = prio;
	qb_buf_init(&o->sql, (size_t)1 << 30);
	o->sortname = strdup(sortname ? sortname : "");
	va_start(ap, descfmt);
	if (vasprintf(&o->desc, descfmt, ap) < 0)
		o->desc = NULL;
	va_end(ap);
	if (!o->sortname || !o->desc) {
		free(o->sortname);
		free(o->desc);
		free(o);
		qb_err_set(ctx->err, QB_ENOMEM, "out of memory");
		return NULL;
	}
	ctx->objs[ctx->n] = o;
	if (objid && map_put(ctx, key_of(classid, objid), ctx->n)) {
		free(o->sortname);
		free(o->desc);
		free(o);
		return NULL;
	}
	ctx->n++;
	return o;
}

int dobj_alias(struct dump_ctx *ctx, unsigned classid, unsigned objid, size_t idx)
{
	if (dobj_find(ctx, classid, objid) != SIZE_MAX)
		return QB_OK;  /* a real node wins over an alias */
	return map_put(ctx, key_of(classid, objid), idx);
}

int dobj_dep(struct dump_ctx *ctx, size_t from, size_t to)
{
	struct dobj *o;

	if (from == to || from >= ctx->n || to >= ctx->n)
		return QB_OK;
	o = ctx->objs[from];
	for (size_t i = 0; i < o->ndeps; i++)
		if (o->deps[i] == to)
			return QB_OK;
	if (qb_array_grow(&o->deps, &o->capdeps, o->ndeps + 1, sizeof(*o->deps), 4))
		return qb_err_set(ctx->err, QB_ENOMEM, "out of memory");
	o->deps[o->ndeps++] = to;
	return QB_OK;
}

int dobj_sql(struct dobj *o, struct qb_err *err, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int rc;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (!s)
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	rc = qb_buf_puts(&o->sql, s, err);
	free(s);
	return rc;
}

int dobj_meta(struct dobj *o, const char *comment_target, const char *acl_kind,
	      const char *acl_target, const char *owner, struct qb_err *err)
{
	if ((comment_target && !(o->comment_target = strdup(comment_target))) ||
	    (acl_kind && !(o->acl_kind = strdup(acl_kind))) ||
	    (acl_target && !(o->acl_target = strdup(acl_target))) ||
	    (owner && !(o->owner = strdup(owner))))
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	return QB_OK;
}

/* Min-heap on (section, prio, sortname, index). */
static int before(const struct dump_ctx *ctx, size_t a, size_t b)
{
	const struct dobj *x = ctx->objs[a], *y = ctx->objs[b];
	int c;

	if (x->section != y->section)
		return x->section < y->section;
	if (x->prio != y->prio)
		return x->prio < y->prio;
	c = strcmp(x->sortname, y->sortname);
	if (c)
		return c < 0;
	return a < b;
}

static void heap_push(const struct dump_ctx *ctx, size_t *h, size_t *n, size_t v)
{
	size_t i = (*n)++;

	h[i] = v;
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!before(ctx, h[i], h[p]))
			break;
		size_t t = h[i]; h[i] = h[p]; h[p] = t;
		i = p;
	}
}

static size_t heap_pop(const struct dump_ctx *ctx, size_t *h, size_t *n)
{
	size_t top = h[0], i = 0;

	h[0] = h[--(*n)];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < *n && before(ctx, h[l], h[m]))
			m = l;
		if (r < *n && before(ctx, h[r], h[m]))
			m = r;
		if (m == i)
			break;
		size_t t = h[i]; h[i] = h[m]; h[m] = t;
		i = m;
	}
	return top;
}

static int cycle_error(struct dump_ctx *ctx)
{
	struct qb_buf b;
	int shown = 0;

	qb_buf_init(&b, 2048);
	for (size_t i = 0; i < ctx->n && shown < 8; i++) {
		if (!ctx->objs[i]->done && ctx->objs[i]->nin) {
			qb_buf_printf(&b, NULL, "%s%s", shown ? ", " : "", ctx->objs[i]->desc);
			shown++;
		}
	}
	qb_err_set(ctx->err, QB_EUNSUPPORTED,
		   "circular dependency the dumper cannot order, among: %s", b.data ? b.data : "?");
	qb_buf_release(&b);
	return QB_EUNSUPPORTED;
}

int dobj_sort(struct dump_ctx *ctx, size_t **order, struct qb_err *err)
{
	size_t *heap, *out, hn = 0, on = 0, *count;

	(void)err;
	*order = NULL;
	heap = malloc((ctx->n + 1) * sizeof(*heap));
	out = malloc((ctx->n + 1) * sizeof(*out));
	count = calloc(ctx->n + 1, sizeof(*count));
	if (!heap || !out || !count) {
		free(heap);
		free(out);
		free(count);
		return qb_err_set(ctx->err, QB_ENOMEM, "out of memory");
	}
	/* Reverse edges: who waits for each node. */
	for (size_t i = 0; i < ctx->n; i++) {
		ctx->objs[i]->nin = ctx->objs[i]->ndeps;
		for (size_t j = 0; j < ctx->objs[i]->ndeps; j++)
			count[ctx->objs[i]->deps[j]]++;
	}
	for (size_t i = 0; i < ctx->n; i++) {
		free(ctx->objs[i]->rdeps);
		ctx->objs[i]->rdeps = count[i] ? malloc(count[i] * sizeof(size_t)) : NULL;
		ctx->objs[i]->nrdeps = 0;
		if (count[i] && !ctx->objs[i]->rdeps) {
			free(heap);
			free(out);
			free(count);
			return qb_err_set(ctx->err, QB_ENOMEM, "out of memory");
		}
	}
	free(count);
	for (size_t i = 0; i < ctx->n; i++)
		for (size_t j = 0; j < ctx->objs[i]->ndeps; j++) {
			struct dobj *d = ctx->objs[ctx->objs[i]->deps[j]];
			d->rdeps[d->nrdeps++] = i;
		}
	for (size_t i = 0; i < ctx->n; i++)
		if (!ctx->objs[i]->nin)
			heap_push(ctx, heap, &hn, i);
	while (hn) {
		size_t v = heap_pop(ctx, heap, &hn);
		struct dobj *o = ctx->objs[v];
		o->done = 1;
		out[on++] = v;
		for (size_t j = 0; j < o->nrdeps; j++)
			if (--ctx->objs[o->rdeps[j]]->nin == 0)
				heap_push(ctx, heap, &hn, o->rdeps[j]);
	}
	free(heap);
	if (on != ctx->n) {
		free(out);
		return cycle_error(ctx);
	}
	*order = out;
	return QB_OK;
}

void dobj_free_all(struct dump_ctx *ctx)
{
	for (size_t i = 0; i < ctx->n; i++) {
		struct dobj *o = ctx->objs[i];
		qb_buf_release(&o->sql);
		free(o->sortname);
		free(o->desc);
		free(o->comment_target);
		free(o->acl_kind);
		free(o->acl_target);
		free(o->owner);
		free(o->qualname);
		free(o->copy_out);
		free(o->copy_in);
		free(o->deps);
		free(o->wants);
		free(o->rdeps);
		free(o);
	}
	free(ctx->objs);
	free(ctx->map);
	ctx->objs = NULL;
	ctx->map = NULL;
	ctx->n = ctx->cap = ctx->mapcap = ctx->mapn = 0;
}

PGresult *dq(struct dump_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	char *sql;
	PGresult *r;

	va_start(ap, fmt);
	if (vasprintf(&sql, fmt, ap) < 0)
		sql = NULL;
	va_end(ap);
	if (!sql) {
		qb_err_set(ctx->err, QB_ENOMEM, "out of memory");
		return NULL;
	}
	r = pgc_query(ctx->conn, sql, ctx->err);
	free(sql);
	return r;
}

unsigned dval_oid(const PGresult *r, int row, const char *col)
{
	const char *v = pgc_val(r, row, col);

	return v ? (unsigned)strtoul(v, NULL, 10) : 0;
}

struct dobj *dnode(struct dump_ctx *ctx, unsigned classid, unsigned objid, int section, int prio,
		   const char *sortname, const char *kind, const char *name, const char *owner,
		   const char *acl_kind)
{
	char lower[64];
	struct dobj *o;
	char *target;
	size_t i;

	for (i = 0; kind[i] && i < sizeof(lower) - 1; i++)
		lower[i] = (char)(kind[i] >= 'A' && kind[i] <= 'Z' ? kind[i] + 32 : kind[i]);
	lower[i] = '\0';
	o = dobj_add(ctx, classid, objid, section, prio, sortname, "%s %s", lower, name);
	if (!o)
		return NULL;
	target = qb_asprintf("%s %s", kind, name);
	if (!target || dobj_meta(o, target, acl_kind, name, owner, ctx->err)) {
		free(target);
		qb_err_set(ctx->err, QB_ENOMEM, "out of memory");
		return NULL;
	}
	free(target);
	return o;
}

int dobj_want(struct dump_ctx *ctx, struct dobj *o, unsigned classid, unsigned objid)
{
	uint64_t *v = realloc(o->wants, (o->nwants + 1) * sizeof(*v));

	if (!v)
		return qb_err_set(ctx->err, QB_ENOMEM, "out of memory");
	o->wants = v;
	o->wants[o->nwants++] = key_of(classid, objid);
	return QB_OK;
}

int dobj_resolve_wants(struct dump_ctx *ctx)
{
	for (size_t i = 0; i < ctx->n; i++) {
		struct dobj *o = ctx->objs[i];
		for (size_t j = 0; j < o->nwants; j++) {
			size_t t = dobj_find(ctx, (unsigned)(o->wants[j] >> 32), (unsigned)o->wants[j]);
			if (t != SIZE_MAX && dobj_dep(ctx, i, t))
				return ctx->err->code;
		}
	}
	return QB_OK;
}
