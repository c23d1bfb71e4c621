/*
 * dump_extdata.c - the rows of extensions' configuration tables.
 *
 * CREATE EXTENSION makes an extension's tables, so the dump leaves their
 * definitions out; but a table the extension registered with
 * pg_extension_config_dump() holds the user's rows (pg_extension.extconfig,
 * each with the WHERE clause in extcondition that tells them from the rows
 * the extension's script inserts).  Those rows are dumped after the
 * extension, as pg_dump does; a configuration sequence gets its value.
 */
#include <stdlib.h>

#include "dump_intern.h"
#include "qb/log.h"

/* Same extensions as dump_extensions(): the others are not in the dump. */
#define EXTCONFIG_SQL \
	"SELECT x.oid AS extoid, c.relkind, n.nspname || '.' || c.relname AS sortname, " \
	"pg_catalog.format('%%I.%%I', n.nspname, c.relname) AS q, " \
	"COALESCE(x.extcondition[k.i], '') AS filter, " \
	"COALESCE((SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' " \
	"  ORDER BY a.attnum) FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 " \
	"  AND NOT a.attisdropped AND a.attgenerated = ''), '') AS cols, " \
	"pg_catalog.pg_relation_size(c.oid) AS size " \
	"FROM pg_catalog.pg_extension x " \
	"CROSS JOIN LATERAL pg_catalog.unnest(x.extconfig) WITH ORDINALITY k(rel, i) " \
	"JOIN pg_catalog.pg_class c ON c.oid = k.rel " \
	"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace " \
	"WHERE x.oid >= 16384 ORDER BY 3"

static int config_relation(struct dump_ctx *ctx, PGresult *r, int i)
{
	size_t ext = dobj_find(ctx, CLS_PG_EXTENSION, dval_oid(r, i, "extoid"));
	const char *q = pgc_str(r, i, "q"), *sortname = pgc_str(r, i, "sortname");
	char kind = pgc_str(r, i, "relkind")[0];
	struct dobj *d;

	if (ext == SIZE_MAX)
		return QB_OK;  /* an extension the dump does not make */
	if (kind == 'S')
		return dump_seq_value(ctx, q, ext, sortname);
	if (kind != 'r') {
		/* COPY cannot read it as such; say so rather than lose it quietly. */
		qb_log(QB_LOG_WARN, "rows of extension configuration relation %s (relkind '%c') are not dumped",
		       q, kind);
		return QB_OK;
	}
	d = dump_data_node(ctx, q, sortname, pgc_str(r, i, "cols"), pgc_str(r, i, "filter"),
			   strtoull(pgc_str(r, i, "size"), NULL, 10));
	return d ? dobj_dep(ctx, dobj_index(ctx, d), ext) : ctx->err->code;
}

int dump_extension_data(struct dump_ctx *ctx)
{
	PGresult *r = dq(ctx, EXTCONFIG_SQL);
	int rc = QB_OK;

	if (!r)
		return ctx->err->code;
	for (int i = 0; i < PQntuples(r) && !rc; i++)
		rc = config_relation(ctx, r, i);
	PQclear(r);
	return rc;
}
