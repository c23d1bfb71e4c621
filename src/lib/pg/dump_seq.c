/*
 * dump_seq.c - sequences: definition before the tables, OWNED BY after
 * them, current value with the data.  Identity sequences are created by
 * their table (dump_table.c); only their value is set here.
 */
#include <stdlib.h>
#include <string.h>

#include "dump_intern.h"

/* The sequence's current value, read inside the dump's snapshot. */
int dump_seq_value(struct dump_ctx *ctx, const char *q, size_t after, const char *sortname)
{
	PGresult *r = dq(ctx, "SELECT last_value, is_called FROM %s", q);
	struct dobj *o;
	char *lit;
	int rc;

	if (!r)
		return ctx->err->code;
	lit = pgc_literal(ctx->conn, q);
	o = lit ? dobj_add(ctx, CLS_SYNTHETIC, 0, SEC_DATA, P_SEQSET, sortname, "sequence value %s", q) : NULL;
	if (!o) {
		free(lit);
		PQclear(r);
		return ctx->err->code ? ctx->err->code : QB_ENOMEM;
	}
	rc = dobj_sql(o, ctx->err, "SELECT pg_catalog.setval(%s, %s, %s);\n", lit, PQgetvalue(r, 0, 0),
		      strcmp(PQgetvalue(r, 0, 1), "t") ? "false" : "true");
	free(lit);
	PQclear(r);
	return rc ? rc : dobj_dep(ctx, dobj_index(ctx, o), after);
}

int dump_sequences(struct dump_ctx *ctx)
{
	PGresult *r = dq(ctx,
		"SELECT c.oid, n.nspname || '.' || c.relname AS sortname, "
		"pg_catalog.format('%%I.%%I', n.nspname, c.relname) AS q, " OWNER("c.relowner") " AS owner, "
		"pg_catalog.format_type(s.seqtypid, NULL) AS typ, s.seqstart, s.seqincrement, s.seqmax, "
		"s.seqmin, s.seqcache, s.seqcycle, %s AS unlogged, "
		"(SELECT d.refobjid FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_class'::pg_catalog.regclass "
		"  AND d.objid = c.oid AND d.refclassid = 'pg_class'::pg_catalog.regclass AND d.deptype = 'i') AS identity_of, "
		"(SELECT pg_catalog.format('%%I.%%I.%%I', tn.nspname, t.relname, a.attname) || E'\\t' || t.oid "
		"  FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_class t ON t.oid = d.refobjid "
		"  JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace "
		"  JOIN pg_catalog.pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid "
		"  WHERE d.classid = 'pg_class'::pg_catalog.regclass AND d.objid = c.oid "
		"  AND d.refclassid = 'pg_class'::pg_catalog.regclass AND d.deptype = 'a') AS owned_by "
		"FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
		"JOIN pg_catalog.pg_sequence s ON s.seqrelid = c.oid "
		"WHERE c.relkind = 'S' AND" USER_SCHEMA("n") "AND" NOT_EXT_MEMBER(pg_class, "c.oid") "ORDER BY 2",
		cat_sequence_unlogged_sql(ctx->version));
	int rc = QB_OK;

	if (!r)
		return ctx->err->code;
	for (int i = 0; i < PQntuples(r) && !rc; i++) {
		const char *q = pgc_str(r, i, "q"), *owned = pgc_val(r, i, "owned_by");
		struct dobj *o;

		if (pgc_val(r, i, "identity_of"))
			continue;  /* made by its table: see dump_identity_values() */
		o = dnode(ctx, CLS_PG_CLASS, dval_oid(r, i, "oid"), SEC_PRE, P_SEQUENCE, pgc_str(r, i, "sortname"),
			  "SEQUENCE", q, pgc_val(r, i, "owner"), "SEQUENCE");
		if (!o) {
			rc = ctx->err->code;
			break;
		}
		o->qualname = strdup(q);
		rc = dobj_sql(o, ctx->err,
			      "CREATE %sSEQUENCE %s\n    AS %s\n    START WITH %s\n    INCREMENT BY %s\n"
			      "    MINVALUE %s\n    MAXVALUE %s\n    CACHE %s%s;\n",
			      strcmp(pgc_str(r, i, "unlogged"), "t") ? "" : "UNLOGGED ", q, pgc_val(r, i, "typ"),
			      pgc_val(r, i, "seqstart"), pgc_val(r, i, "seqincrement"), pgc_val(r, i, "seqmin"),
			      pgc_val(r, i, "seqmax"), pgc_val(r, i, "seqcache"),
			      strcmp(pgc_str(r, i, "seqcycle"), "t") ? "" : "\n    CYCLE");
		if (!rc)
			rc = dump_seq_value(ctx, q, dobj_index(ctx, o), pgc_str(r, i, "sortname"));
		if (!rc && owned) {
			/* "schema.table.column\ttable_oid" */
			const char *tab = strchr(owned, '\t');
			size_t self = dobj_index(ctx, o);
			struct dobj *ob = dobj_add(ctx, CLS_SYNTHETIC, 0, SEC_PRE, P_SEQ_OWNED,
						   pgc_str(r, i, "sortname"), "sequence ownership %s", q);
			if (!ob || !tab) {
				rc = ctx->err->code ? ctx->err->code : QB_EINTERNAL;
				break;
			}
			rc = dobj_sql(ob, ctx->err, "ALTER SEQUENCE %s OWNED BY %.*s;\n", q, (int)(tab - owned), owned);
			if (!rc)
				rc = dobj_dep(ctx, dobj_index(ctx, ob), self);
			if (!rc)
				rc = dobj_want(ctx, ob, CLS_PG_CLASS, (unsigned)strtoul(tab + 1, NULL, 10));
		}
	}
	PQclear(r);
	return rc;
}

/* Identity sequences: their values, after their table, and a node of their
 * own for their comment and grants (GRANT ... ON ALL SEQUENCES reaches them). */
int dump_identity_values(struct dump_ctx *ctx)
{
	PGresult *r = dq(ctx,
		"SELECT c.oid, n.nspname || '.' || c.relname AS sortname, "
		"pg_catalog.format('%%I.%%I', n.nspname, c.relname) AS q, d.refobjid AS tab, "
		OWNER("c.relowner") " AS owner "
		"FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
		"JOIN pg_catalog.pg_depend d ON d.classid = 'pg_class'::pg_catalog.regclass AND d.objid = c.oid "
		"AND d.refclassid = 'pg_class'::pg_catalog.regclass AND d.deptype = 'i' "
		"WHERE c.relkind = 'S' AND" USER_SCHEMA("n") "ORDER BY 2");
	int rc = QB_OK;

	if (!r)
		return ctx->err->code;
	for (int i = 0; i < PQntuples(r) && !rc; i++) {
		size_t t = dobj_find(ctx, CLS_PG_CLASS, dval_oid(r, i, "tab"));
		struct dobj *o;
		if (t == SIZE_MAX)
			continue;  /* an extension's table */
		rc = dump_seq_value(ctx, pgc_str(r, i, "q"), t, pgc_str(r, i, "sortname"));
		if (rc)
			break;
		o = dnode(ctx, CLS_PG_CLASS, dval_oid(r, i, "oid"), SEC_PRE, P_SEQ_OWNED, pgc_str(r, i, "sortname"),
			  "SEQUENCE", pgc_str(r, i, "q"), pgc_val(r, i, "owner"), "SEQUENCE");
		if (!o) {
			rc = ctx->err->code;
			break;
		}
		o->owner_follows = true;  /* ALTER SEQUENCE ... OWNER refuses an identity sequence */
		rc = dobj_dep(ctx, dobj_index(ctx, o), t);
	}
	PQclear(r);
	return rc;
}
