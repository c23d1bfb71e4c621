/*
 * dump_schema.c - schemas, extensions, collations, text search.
 */
#include <stdlib.h>
#include <string.h>

#include "dump_intern.h"

int dump_schemas(struct dump_ctx *ctx)
{
	PGresult *r = dq(ctx,
		"SELECT n.oid, n.nspname, pg_catalog.quote_ident(n.nspname) AS q, " OWNER("n.nspowner") " AS owner, "
		"pg_catalog.obj_description(n.oid, 'pg_namespace') IS NULL AS nocomment "
		"FROM pg_catalog.pg_namespace n WHERE" USER_SCHEMA("n") "AND" NOT_EXT_MEMBER(pg_namespace, "n.oid")
		"ORDER BY n.nspname");
	int rc = QB_OK;

	if (!r)
		return ctx->err->code;
	for (int i = 0; i < PQntuples(r) && !rc; i++) {
		const char *q = pgc_str(r, i, "q");
		struct dobj *o = dnode(ctx, CLS_PG_NAMESPACE, dval_oid(r, i, "oid"), SEC_PRE, P_SCHEMA,
				       pgc_val(r, i, "nspname"), "SCHEMA", q, pgc_val(r, i, "owner"), "SCHEMA");
		if (!o) {
			rc = ctx->err->code;
			break;
		}
		/* public exists in every new database (template0), with a comment that
		 * may have been removed since; the rest is created. */
		if (strcmp(pgc_str(r, i, "nspname"), "public") != 0)
			rc = dobj_sql(o, ctx->err, "CREATE SCHEMA %s;\n", q);
		else if (pgc_true(r, i, "nocomment"))
			rc = dobj_sql(o, ctx->err, "COMMENT ON SCHEMA public IS NULL;\n");
	}
	PQclear(r);
	return rc;
}

int dump_extensions(struct dump_ctx *ctx)
{
	PGresult *r = dq(ctx,
		"SELECT x.oid, x.extname, pg_catalog.quote_ident(x.extname) AS q, "
		"pg_catalog.quote_ident(n.nspname) AS nsp "
		"FROM pg_catalog.pg_extension x JOIN pg_catalog.pg_namespace n ON n.oid = x.extnamespace "
		/* As pg_dump: the ones initdb made (plpgsql) are in every new database,
		 * and their COMMENT ON needs the bootstrap superuser, which would make
		 * every dump restorable by a superuser only. */
		"WHERE x.oid >= 16384 "
		"ORDER BY x.extname");
	int rc = QB_OK;

	if (!r)
		return ctx->err->code;
	for (int i = 0; i < PQntuples(r) && !rc; i++) {
		const char *q = pgc_str(r, i, "q");
		struct dobj *o = dnode(ctx, CLS_PG_EXTENSION, dval_oid(r, i, "oid"), SEC_PRE, P_EXTENSION,
				       pgc_val(r, i, "extname"), "EXTENSION", q, NULL, NULL);
		if (!o) {
			rc = ctx->err->code;
			break;
		}
		rc = dobj_sql(o, ctx->err, "CREATE EXTENSION IF NOT EXISTS %s WITH SCHEMA %s;\n", q,
			      pgc_val(r, i, "nsp"));
	}
	PQclear(r);
	return rc;
}

int dump_collations(struct dump_ctx *ctx)
{
	PGresult *r = dq(ctx,
		"SELECT c.oid, n.nspname || '.' || c.collname AS sortname, "
		"pg_catalog.format('%%I.%%I', n.nspname, c.collname) AS q, c.collprovider, "
		"c.collisdeterministic, pg_catalog.quote_literal(c.collcollate) AS lc_collate, "
		"pg_catalog.quote_literal(c.collctype) AS lc_ctype, "
		"pg_catalog.quote_literal(%s) AS locale, " OWNER("c.collowner") " AS owner "
		"FROM pg_catalog.pg_collation c JOIN pg_catalog.pg_namespace n ON n.oid = c.collnamespace "
		"WHERE" USER_SCHEMA("n") "AND" NOT_EXT_MEMBER(pg_collation, "c.oid")
		"ORDER BY 2", cat_collation_locale_sql(ctx->version));
	int rc = QB_OK;

	if (!r)
		return ctx->err->code;
	for (int i = 0; i < PQntuples(r) && !rc; i++) {
		const char *q = pgc_str(r, i, "q"), *prov = pgc_str(r, i, "collprovider");
		const char *det = strcmp(pgc_str(r, i, "collisdeterministic"), "t") ? ", deterministic = false" : "";
		struct dobj *o = dnode(ctx, CLS_PG_COLLATION, dval_oid(r, i, "oid"), SEC_PRE, P_COLLATION,
				       pgc_str(r, i, "sortname"), "COLLATION", q, pgc_val(r, i, "owner"), NULL);
		if (!o) {
			rc = ctx->err->code;
			break;
		}
		if (prov[0] == 'c')
			rc = dobj_sql(o, ctx->err, "CREATE COLLATION %s (provider = libc, lc_collate = %s, lc_ctype = %s%s);\n",
				      q, pgc_val(r, i, "lc_collate"), pgc_val(r, i, "lc_ctype"), det);
		else if (prov[0] == 'i' || prov[0] == 'b')
			rc = dobj_sql(o, ctx->err, "CREATE COLLATION %s (provider = %s, locale = %s%s);\n", q,
				      prov[0] == 'i' ? "icu" : "builtin",
				      pgc_val(r, i, "locale") ? pgc_val(r, i, "locale") : pgc_val(r, i, "lc_collate"), det);
		else
			rc = qb_err_set(ctx->err, QB_EUNSUPPORTED, "collation %s has an unknown provider '%s'", q, prov);
	}
	PQclear(r);
	return rc;
}

static int ts_mappings(struct dump_ctx *ctx)
{
	PGresult *r = dq(ctx,
		"SELECT m.mapcfg, t.alias, pg_catalog.string_agg(pg_catalog.format('%%I.%%I', dn.nspname, d.dictname), "
		"', ' ORDER BY m.mapseqno) AS dicts "
		"FROM pg_catalog.pg_ts_config_map m JOIN pg_catalog.pg_ts_config c ON c.oid = m.mapcfg "
		"CROSS JOIN LATERAL pg_catalog.ts_token_type(c.cfgparser) t "
		"JOIN pg_catalog.pg_ts_dict d ON d.oid = m.mapdict "
		"JOIN pg_catalog.pg_namespace dn ON dn.oid = d.dictnamespace "
		"WHERE t.tokid = m.maptokentype "
		"GROUP BY m.mapcfg, t.alias, m.maptokentype ORDER BY m.mapcfg, m.maptokentype");
	int rc = QB_OK;

	if (!r)
		return ctx->err->code;
	for (int i = 0; i < PQntuples(r) && !rc; i++) {
		size_t idx = dobj_find(ctx, CLS_PG_TS_CONFIG, dval_oid(r, i, "mapcfg"));
		struct dobj *o;
		if (idx == SIZE_MAX)
			continue;  /* a built-in or extension configuration */
		o = ctx->objs[idx];
		if (o->classid != CLS_PG_TS_CONFIG)
			continue;
		rc = dobj_sql(o, ctx->err, "ALTER TEXT SEARCH CONFIGURATION %s ADD MAPPING FOR %s WITH %s;\n",
			      o->acl_target, pgc_val(r, i, "alias"), pgc_val(r, i, "dicts"));
	}
	PQclear(r);
	return rc;
}

int dump_textsearch(struct dump_ctx *ctx)
{
	PGresult *r = dq(ctx,
		"SELECT d.oid, n.nspname || '.' || d.dictname AS sortname, "
		"pg_catalog.format('%%I.%%I', n.nspname, d.dictname) AS q, "
		"pg_catalog.format('%%I.%%I', tn.nspname, t.tmplname) AS tmpl, d.dictinitoption, "
		OWNER("d.dictowner") " AS owner "
		"FROM pg_catalog.pg_ts_dict d JOIN pg_catalog.pg_namespace n ON n.oid = d.dictnamespace "
		"JOIN pg_catalog.pg_ts_template t ON t.oid = d.dicttemplate "
		"JOIN pg_catalog.pg_namespace tn ON tn.oid = t.tmplnamespace "
		"WHERE" USER_SCHEMA("n") "AND" NOT_EXT_MEMBER(pg_ts_dict, "d.oid") "ORDER BY 2");
	int rc = QB_OK;

	if (!r)
		return ctx->err->code;
	for (int i = 0; i < PQntuples(r) && !rc; i++) {
		const char *q = pgc_str(r, i, "q"), *opt = pgc_val(r, i, "dictinitoption");
		struct dobj *o = dnode(ctx, CLS_PG_TS_DICT, dval_oid(r, i, "oid"), SEC_PRE, P_TSDICT,
				       pgc_str(r, i, "sortname"), "TEXT SEARCH DICTIONARY", q,
				       pgc_val(r, i, "owner"), NULL);
		if (!o) {
			rc = ctx->err->code;
			break;
		}
		rc = dobj_sql(o, ctx->err, "CREATE TEXT SEARCH DICTIONARY %s (TEMPLATE = %s%s%s);\n", q,
			      pgc_val(r, i, "tmpl"), opt ? ", " : "", opt ? opt : "");
	}
	PQclear(r);
	if (rc)
		return rc;

	r = dq(ctx,
		"SELECT c.oid, n.nspname || '.' || c.cfgname AS sortname, "
		"pg_catalog.format('%%I.%%I', n.nspname, c.cfgname) AS q, "
		"pg_catalog.format('%%I.%%I', pn.nspname, p.prsname) AS parser, " OWNER("c.cfgowner") " AS owner "
		"FROM pg_catalog.pg_ts_config c JOIN pg_catalog.pg_namespace n ON n.oid = c.cfgnamespace "
		"JOIN pg_catalog.pg_ts_parser p ON p.oid = c.cfgparser "
		"JOIN pg_catalog.pg_namespace pn ON pn.oid = p.prsnamespace "
		"WHERE" USER_SCHEMA("n") "AND" NOT_EXT_MEMBER(pg_ts_config, "c.oid") "ORDER BY 2");
	if (!r)
		return ctx->err->code;
	for (int i = 0; i < PQntuples(r) && !rc; i++) {
		const char *q = pgc_str(r, i, "q");
		struct dobj *o = dnode(ctx, CLS_PG_TS_CONFIG, dval_oid(r, i, "oid"), SEC_PRE, P_TSCONFIG,
				       pgc_str(r, i, "sortname"), "TEXT SEARCH CONFIGURATION", q,
				       pgc_val(r, i, "owner"), NULL);
		if (!o) {
			rc = ctx->err->code;
			break;
		}
		rc = dobj_sql(o, ctx->err, "CREATE TEXT SEARCH CONFIGURATION %s (PARSER = %s);\n", q,
			      pgc_val(r, i, "parser"));
	}
	PQclear(r);
	return rc ? rc : ts_mappings(ctx);
}
