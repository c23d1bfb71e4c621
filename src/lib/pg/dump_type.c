/*
 * dump_type.c - enum, composite, domain and range types.
 *
 * Base types written in C (CREATE TYPE with input/output functions) only
 * come from extensions; one outside an extension is refused by name.
 */
#include <stdlib.h>
#include <string.h>

#include "dump_intern.h"

#define COLLATE_CLAUSE(coll, typcoll)                                                        \
	"CASE WHEN " coll " <> 0 AND " coll " <> " typcoll " THEN (SELECT ' COLLATE ' || "      \
	"pg_catalog.format('%%I.%%I', cn.nspname, co.collname) FROM pg_catalog.pg_collation co " \
	"JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = " coll ") ELSE '' END"

static int domain_constraints(struct dump_ctx *ctx)
{
	PGresult *r = dq(ctx,
		"SELECT c.oid, c.contypid, pg_catalog.quote_ident(c.conname) AS name, "
		"pg_catalog.pg_get_constraintdef(c.oid) AS def, c.convalidated "
		"FROM pg_catalog.pg_constraint c WHERE c.contypid <> 0 AND c.contype = 'c' ORDER BY c.conname");
	int rc = QB_OK;

	if (!r)
		return ctx->err->code;
	for (int i = 0; i < PQntuples(r) && !rc; i++) {
		size_t idx = dobj_find(ctx, CLS_PG_TYPE, dval_oid(r, i, "contypid"));
		/* NOT VALID: rows may break it, so after the data, as pg_dump does. */
		bool late = !pgc_true(r, i, "convalidated");
		struct dobj *dom, *o;
		char *name;
		if (idx == SIZE_MAX || ctx->objs[idx]->classid != CLS_PG_TYPE)
			continue;
		dom = ctx->objs[idx];
		name = qb_asprintf("%s ON DOMAIN %s", pgc_str(r, i, "name"), dom->acl_target);
		o = name ? dnode(ctx, CLS_PG_CONSTRAINT, dval_oid(r, i, "oid"), late ? SEC_POST : SEC_PRE,
				 late ? P_CHECK_LATE : P_TYPE, dom->sortname, "CONSTRAINT", name, NULL, NULL) : NULL;
		free(name);
		if (!o)
			return ctx->err->code ? ctx->err->code : QB_ENOMEM;
		rc = dobj_sql(o, ctx->err, "ALTER DOMAIN %s ADD CONSTRAINT %s %s;\n", dom->acl_target,
			      pgc_str(r, i, "name"), pgc_str(r, i, "def"));
		if (!rc)
			rc = dobj_dep(ctx, dobj_index(ctx, o), idx);
	}
	PQclear(r);
	return rc;
}

static int add_type(struct dump_ctx *ctx, PGresult *r, int i)
{
	const char *q = pgc_str(r, i, "q"), *tt = pgc_str(r, i, "typtype");
	const char *kind = tt[0] == 'd' ? "DOMAIN" : "TYPE";
	struct dobj *o = dnode(ctx, CLS_PG_TYPE, dval_oid(r, i, "oid"), SEC_PRE, P_TYPE,
			       pgc_str(r, i, "sortname"), kind, q, pgc_val(r, i, "owner"), kind);

	if (!o)
		return ctx->err->code;
	switch (tt[0]) {
	case 'e': {
		const char *labels = pgc_val(r, i, "labels");
		return dobj_sql(o, ctx->err, "CREATE TYPE %s AS ENUM (%s%s%s);\n", q, labels ? "\n    " : "",
				labels ? labels : "", labels ? "\n" : "");
	}
	case 'c': {
		const char *cols = pgc_val(r, i, "cols");
		if (dobj_alias(ctx, CLS_PG_CLASS, dval_oid(r, i, "typrelid"), dobj_index(ctx, o)))
			return ctx->err->code;
		return dobj_sql(o, ctx->err, "CREATE TYPE %s AS (%s%s%s);\n", q, cols ? "\n    " : "",
				cols ? cols : "", cols ? "\n" : "");
	}
	case 'd': {
		const char *def = pgc_val(r, i, "typdefault");
		return dobj_sql(o, ctx->err, "CREATE DOMAIN %s AS %s%s%s%s%s;\n", q, pgc_val(r, i, "basetype"),
				pgc_val(r, i, "collate"), def ? " DEFAULT " : "", def ? def : "",
				strcmp(pgc_str(r, i, "typnotnull"), "t") ? "" : " NOT NULL");
	}
	case 'r': {
		const char *v;
		int rc = dobj_sql(o, ctx->err, "CREATE TYPE %s AS RANGE (\n    subtype = %s", q,
				  pgc_val(r, i, "rngsubtype"));
		if (!rc && (v = pgc_val(r, i, "rngsubopc")))
			rc = dobj_sql(o, ctx->err, ",\n    subtype_opclass = %s", v);
		if (!rc && (v = pgc_val(r, i, "rngcollation")))
			rc = dobj_sql(o, ctx->err, ",\n    collation = %s", v);
		if (!rc && (v = pgc_val(r, i, "rngcanonical")))
			rc = dobj_sql(o, ctx->err, ",\n    canonical = %s", v);
		if (!rc && (v = pgc_val(r, i, "rngsubdiff")))
			rc = dobj_sql(o, ctx->err, ",\n    subtype_diff = %s", v);
		if (!rc && (v = pgc_val(r, i, "multirange")))
			rc = dobj_sql(o, ctx->err, ",\n    multirange_type_name = %s", v);
		return rc ? rc : dobj_sql(o, ctx->err, "\n);\n");
	}
	default:
		return qb_err_set(ctx->err, QB_EUNSUPPORTED,
				  "type %s is a base or pseudo type defined outside an extension; "
				  "qbackup cannot dump it", q);
	}
}

int dump_types(struct dump_ctx *ctx)
{
	PGresult *r = dq(ctx,
		"SELECT t.oid, t.typtype, n.nspname || '.' || t.typname AS sortname, "
		"pg_catalog.format('%%I.%%I', n.nspname, t.typname) AS q, " OWNER("t.typowner") " AS owner, "
		"t.typrelid, pg_catalog.format_type(t.typbasetype, t.typtypmod) AS basetype, t.typnotnull, "
		"t.typdefault, " COLLATE_CLAUSE("t.typcollation", "bt.typcollation") " AS collate, "
		"pg_catalog.format_type(rg.rngsubtype, NULL) AS rngsubtype, "
		"CASE WHEN rg.rngsubopc <> 0 THEN (SELECT pg_catalog.format('%%I.%%I', on2.nspname, oc.opcname) "
		"  FROM pg_catalog.pg_opclass oc JOIN pg_catalog.pg_namespace on2 ON on2.oid = oc.opcnamespace "
		"  WHERE oc.oid = rg.rngsubopc AND NOT oc.opcdefault) END AS rngsubopc, "
		"CASE WHEN rg.rngcollation <> 0 AND rg.rngcollation <> st.typcollation THEN "
		"  (SELECT pg_catalog.format('%%I.%%I', cn.nspname, co.collname) FROM pg_catalog.pg_collation co "
		"   JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = rg.rngcollation) END "
		"  AS rngcollation, "
		"NULLIF(rg.rngcanonical, 0)::pg_catalog.regproc AS rngcanonical, "
		"NULLIF(rg.rngsubdiff, 0)::pg_catalog.regproc AS rngsubdiff, %s AS multirange, "
		"(SELECT pg_catalog.string_agg(pg_catalog.quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder) "
		"  FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid) AS labels, "
		"(SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname) || ' ' || "
		"  pg_catalog.format_type(a.atttypid, a.atttypmod) || " COLLATE_CLAUSE("a.attcollation", "at.typcollation")
		"  , E',\n    ' ORDER BY a.attnum) FROM pg_catalog.pg_attribute a "
		"  JOIN pg_catalog.pg_type at ON at.oid = a.atttypid "
		"  WHERE t.typtype = 'c' AND a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped) AS cols "
		"FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace "
		"LEFT JOIN pg_catalog.pg_type bt ON bt.oid = t.typbasetype "
		"LEFT JOIN pg_catalog.pg_range rg ON rg.rngtypid = t.oid "
		"LEFT JOIN pg_catalog.pg_type st ON st.oid = rg.rngsubtype "
		"WHERE" USER_SCHEMA("n") "AND" NOT_EXT_MEMBER(pg_type, "t.oid")
		"AND t.typtype IN ('b', 'c', 'd', 'e', 'p', 'r') "
		"AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_type e WHERE e.typarray = t.oid) "
		"AND (t.typtype <> 'c' OR (SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid = t.typrelid) = 'c') "
		"ORDER BY 3",
		ctx->version >= 140000 ?
		"(SELECT pg_catalog.format('%I.%I', mn.nspname, mt.typname) FROM pg_catalog.pg_type mt "
		" JOIN pg_catalog.pg_namespace mn ON mn.oid = mt.typnamespace WHERE mt.oid = rg.rngmultitypid)" :
		"NULL::text");
	int rc = QB_OK;

	if (!r)
		return ctx->err->code;
	for (int i = 0; i < PQntuples(r) && !rc; i++)
		rc = add_type(ctx, r, i);
	PQclear(r);
	if (!rc)
		rc = domain_constraints(ctx);
	return rc;
}
