/*
 * dump_lob.c - large objects: created, owned, granted and filled with the
 * data (dump.c streams their contents in chunks with lo_get).
 */
#include <stdlib.h>

#include "dump_intern.h"

int dump_large_objects(struct dump_ctx *ctx)
{
	PGresult *r = dq(ctx,
		"SELECT l.oid, pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(l.lomowner)) AS owner "
		"FROM pg_catalog.pg_largeobject_metadata l ORDER BY l.oid");
	int rc = QB_OK;

	if (!r)
		return ctx->err->code;
	for (int i = 0; i < PQntuples(r) && !rc; i++) {
		const char *oid = pgc_str(r, i, "oid");
		struct dobj *o = dnode(ctx, CLS_PG_LARGEOBJECT, dval_oid(r, i, "oid"), SEC_DATA, P_LOB, "",
				       "LARGE OBJECT", oid, pgc_val(r, i, "owner"), "LARGE OBJECT");
		if (!o)
			return ctx->err->code;
		o->kind = DK_LOB;
		rc = dobj_sql(o, ctx->err, "SELECT pg_catalog.lo_create('%s');\n", oid);
	}
	PQclear(r);
	return rc;
}
