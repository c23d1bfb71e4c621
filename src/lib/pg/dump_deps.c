/*
 * dump_deps.c - the order constraints between nodes, from pg_depend.
 *
 * pg_depend says "object X needs object Y".  Many X and Y are parts of a
 * node rather than nodes (a view's rewrite rule, a table's row type, an
 * array type, a constraint's index, an extension's members): an internal
 * ('i') or extension ('e') dependency makes the part resolve to its whole.
 * Normal and automatic dependencies then become edges between nodes.
 */
#include <stdlib.h>
#include <string.h>

#include "dump_intern.h"

static size_t host_of(const struct dump_ctx *ctx, size_t idx)
{
	while (idx != SIZE_MAX && ctx->objs[idx]->host)
		idx = ctx->objs[idx]->host - 1;
	return idx;
}

static int aliases(struct dump_ctx *ctx, PGresult *r)
{
	/* Parts of parts (the array of a table's row type): repeat until stable. */
	for (int pass = 0; pass < 4; pass++) {
		size_t before = ctx->mapn;
		for (int i = 0; i < PQntuples(r); i++) {
			char t = pgc_str(r, i, "deptype")[0];
			size_t ref;
			if (t != 'i' && t != 'e')
				continue;
			ref = dobj_find(ctx, dval_oid(r, i, "refclassid"), dval_oid(r, i, "refobjid"));
			if (ref != SIZE_MAX &&
			    dobj_alias(ctx, dval_oid(r, i, "classid"), dval_oid(r, i, "objid"), ref))
				return ctx->err->code;
		}
		if (ctx->mapn == before)
			break;
	}
	return QB_OK;
}

static int edges(struct dump_ctx *ctx, PGresult *r)
{
	for (int i = 0; i < PQntuples(r); i++) {
		char t = pgc_str(r, i, "deptype")[0];
		size_t from, to;
		if (t != 'n' && t != 'a')
			continue;
		from = host_of(ctx, dobj_find(ctx, dval_oid(r, i, "classid"), dval_oid(r, i, "objid")));
		to = dobj_find(ctx, dval_oid(r, i, "refclassid"), dval_oid(r, i, "refobjid"));
		if (from == SIZE_MAX || to == SIZE_MAX || from == to)
			continue;
		/* A sequence OWNED BY a column: ownership is its own node after the
		 * table, while the table's default may need the sequence first. */
		if (t == 'a' && ctx->objs[from]->prio == P_SEQUENCE)
			continue;
		if (dobj_dep(ctx, from, to))
			return ctx->err->code;
	}
	return QB_OK;
}

/* A materialized view's refresh waits for the refreshes of those it reads. */
static int refresh_chains(struct dump_ctx *ctx)
{
	size_t *refresh_of = calloc(ctx->n, sizeof(size_t));

	if (!refresh_of)
		return qb_err_set(ctx->err, QB_ENOMEM, "out of memory");
	for (size_t i = 0; i < ctx->n; i++)
		if (ctx->objs[i]->prio == P_REFRESH && ctx->objs[i]->ndeps)
			refresh_of[ctx->objs[i]->deps[0]] = i + 1;
	for (size_t i = 0; i < ctx->n; i++) {
		struct dobj *o = ctx->objs[i];
		if (o->prio != P_REFRESH || !o->ndeps)
			continue;
		struct dobj *mv = ctx->objs[o->deps[0]];
		for (size_t j = 0; j < mv->ndeps; j++)
			if (refresh_of[mv->deps[j]] && dobj_dep(ctx, i, refresh_of[mv->deps[j]] - 1)) {
				free(refresh_of);
				return ctx->err->code;
			}
	}
	free(refresh_of);
	return QB_OK;
}

/* Everything after the data waits for all of it (indexes, keys, triggers). */
static int barrier(struct dump_ctx *ctx)
{
	struct dobj *b = dobj_add(ctx, CLS_SYNTHETIC, 0, SEC_DATA, P_BARRIER, "", "end of data");
	size_t bi;

	if (!b)
		return ctx->err->code;
	bi = ctx->n - 1;
	ctx->barrier = bi;
	for (size_t i = 0; i < ctx->n; i++) {
		int sec = ctx->objs[i]->section;
		if (i == bi)
			continue;
		if ((sec == SEC_DATA && dobj_dep(ctx, bi, i)) || (sec == SEC_POST && dobj_dep(ctx, i, bi)))
			return ctx->err->code;
	}
	return QB_OK;
}

int dump_deps(struct dump_ctx *ctx)
{
	PGresult *r = dq(ctx,
		"SELECT classid, objid, refclassid, refobjid, deptype FROM pg_catalog.pg_depend "
		"WHERE deptype IN ('n', 'a', 'i', 'e') AND classid <> 0 AND refclassid <> 0");
	int rc;

	if (!r)
		return ctx->err->code;
	rc = aliases(ctx, r);
	if (!rc)
		rc = dobj_resolve_wants(ctx);
	if (!rc)
		rc = edges(ctx, r);
	PQclear(r);
	if (!rc)
		rc = refresh_chains(ctx);
	if (!rc)
		rc = barrier(ctx);
	return rc;
}
