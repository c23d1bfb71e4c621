/*
 * dump_func.c - functions, procedures and aggregates.
 *
 * Functions come from pg_get_functiondef(), which the server writes for its
 * own version; aggregates have no such function and are rebuilt from
 * pg_aggregate.
 */
#include <stdlib.h>
#include <string.h>

#include "dump_intern.h"

int dump_functions(struct dump_ctx *ctx)
{
	PGresult *r = dq(ctx,
		"SELECT p.oid, p.prokind, n.nspname || '.' || p.proname || '(' || "
		"pg_catalog.pg_get_function_identity_arguments(p.oid) || ')' AS sortname, "
		"pg_catalog.format('%%I.%%I', n.nspname, p.proname) || '(' || "
		"pg_catalog.pg_get_function_identity_arguments(p.oid) || ')' AS sig, "
		"pg_catalog.pg_get_functiondef(p.oid) AS def, " OWNER("p.proowner") " AS owner "
		"FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace "
		"WHERE" USER_SCHEMA("n") "AND" NOT_EXT_MEMBER(pg_proc, "p.oid")
		"AND" NOT_INTERNAL(pg_proc, "p.oid") "AND p.prokind IN ('f', 'p', 'w') ORDER BY 3");
	int rc = QB_OK;

	if (!r)
		return ctx->err->code;
	for (int i = 0; i < PQntuples(r) && !rc; i++) {
		const char *kind = pgc_str(r, i, "prokind")[0] == 'p' ? "PROCEDURE" : "FUNCTION";
		const char *def = pgc_str(r, i, "def");
		size_t len = strlen(def);
		struct dobj *o = dnode(ctx, CLS_PG_PROC, dval_oid(r, i, "oid"), SEC_PRE, P_FUNC,
				       pgc_str(r, i, "sortname"), kind, pgc_val(r, i, "sig"),
				       pgc_val(r, i, "owner"), kind);
		if (!o) {
			rc = ctx->err->code;
			break;
		}
		while (len && (def[len - 1] == '\n' || def[len - 1] == ' '))
			len--;
		rc = dobj_sql(o, ctx->err, "%.*s%s\n", (int)len, def, len && def[len - 1] == ';' ? "" : ";");
	}
	PQclear(r);
	return rc;
}

/* Append ",\n    KEY = value" when value is set. */
static int opt(struct dobj *o, struct qb_err *err, const char *key, const char *value)
{
	if (!value || !value[0])
		return QB_OK;
	return dobj_sql(o, err, ",\n    %s = %s", key, value);
}

int dump_aggregates(struct dump_ctx *ctx)
{
	PGresult *r = dq(ctx,
		"SELECT p.oid, n.nspname || '.' || p.proname || '(' || "
		"pg_catalog.pg_get_function_identity_arguments(p.oid) || ')' AS sortname, "
		"pg_catalog.format('%%I.%%I', n.nspname, p.proname) AS q, "
		"pg_catalog.pg_get_function_identity_arguments(p.oid) AS idargs, "
		"pg_catalog.pg_get_function_arguments(p.oid) AS args, " OWNER("p.proowner") " AS owner, "
		"a.aggkind, a.aggtransfn::pg_catalog.regproc AS sfunc, "
		"pg_catalog.format_type(a.aggtranstype, NULL) AS stype, "
		"NULLIF(a.aggtransspace, 0) AS sspace, "
		"NULLIF(a.aggfinalfn, 0)::pg_catalog.regproc AS finalfunc, a.aggfinalextra, "
		"a.aggfinalmodify, NULLIF(a.aggcombinefn, 0)::pg_catalog.regproc AS combinefunc, "
		"NULLIF(a.aggserialfn, 0)::pg_catalog.regproc AS serialfunc, "
		"NULLIF(a.aggdeserialfn, 0)::pg_catalog.regproc AS deserialfunc, "
		"pg_catalog.quote_literal(a.agginitval) AS initcond, "
		"NULLIF(a.aggmtransfn, 0)::pg_catalog.regproc AS msfunc, "
		"NULLIF(a.aggminvtransfn, 0)::pg_catalog.regproc AS minvfunc, "
		"CASE WHEN a.aggmtranstype <> 0 THEN pg_catalog.format_type(a.aggmtranstype, NULL) END AS mstype, "
		"NULLIF(a.aggmtransspace, 0) AS msspace, "
		"NULLIF(a.aggmfinalfn, 0)::pg_catalog.regproc AS mfinalfunc, a.aggmfinalextra, a.aggmfinalmodify, "
		"pg_catalog.quote_literal(a.aggminitval) AS minitcond, "
		"CASE WHEN a.aggsortop <> 0 THEN (SELECT 'OPERATOR(' || pg_catalog.quote_ident(opn.nspname) || '.' || "
		"  o.oprname || ')' FROM pg_catalog.pg_operator o JOIN pg_catalog.pg_namespace opn "
		"  ON opn.oid = o.oprnamespace WHERE o.oid = a.aggsortop) END AS sortop, p.proparallel "
		"FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace "
		"JOIN pg_catalog.pg_aggregate a ON a.aggfnoid = p.oid "
		"WHERE" USER_SCHEMA("n") "AND" NOT_EXT_MEMBER(pg_proc, "p.oid") "ORDER BY 2");
	int rc = QB_OK;

	if (!r)
		return ctx->err->code;
	for (int i = 0; i < PQntuples(r) && !rc; i++) {
		const char *args = pgc_str(r, i, "args"), *idargs = pgc_str(r, i, "idargs");
		const char *par = pgc_str(r, i, "proparallel");
		char *sig = qb_asprintf("%s(%s)", pgc_str(r, i, "q"), idargs[0] ? idargs : "*");
		static const char *const modify[] = { "READ_ONLY", "SHAREABLE", "READ_WRITE" };
		const char *fm = pgc_str(r, i, "aggfinalmodify"), *mfm = pgc_str(r, i, "aggmfinalmodify");
		struct dobj *o = sig ? dnode(ctx, CLS_PG_PROC, dval_oid(r, i, "oid"), SEC_PRE, P_AGG,
					     pgc_str(r, i, "sortname"), "AGGREGATE", sig,
					     pgc_val(r, i, "owner"), "FUNCTION") : NULL;
		free(sig);
		if (!o) {
			rc = ctx->err->code ? ctx->err->code : QB_ENOMEM;
			break;
		}
		/* GRANT ... ON FUNCTION takes the aggregate's signature without "*". */
		free(o->acl_target);
		o->acl_target = qb_asprintf("%s(%s)", pgc_str(r, i, "q"), idargs);
		rc = dobj_sql(o, ctx->err, "CREATE AGGREGATE %s(%s) (\n    SFUNC = %s,\n    STYPE = %s",
			      pgc_str(r, i, "q"), args[0] ? args : "*", pgc_val(r, i, "sfunc"), pgc_val(r, i, "stype"));
		if (!rc) rc = opt(o, ctx->err, "SSPACE", pgc_val(r, i, "sspace"));
		if (!rc) rc = opt(o, ctx->err, "FINALFUNC", pgc_val(r, i, "finalfunc"));
		if (!rc && !strcmp(pgc_str(r, i, "aggfinalextra"), "t"))
			rc = dobj_sql(o, ctx->err, ",\n    FINALFUNC_EXTRA");
		if (!rc && pgc_val(r, i, "finalfunc"))
			rc = opt(o, ctx->err, "FINALFUNC_MODIFY",
				 modify[fm[0] == 's' ? 1 : fm[0] == 'w' ? 2 : 0]);
		if (!rc) rc = opt(o, ctx->err, "COMBINEFUNC", pgc_val(r, i, "combinefunc"));
		if (!rc) rc = opt(o, ctx->err, "SERIALFUNC", pgc_val(r, i, "serialfunc"));
		if (!rc) rc = opt(o, ctx->err, "DESERIALFUNC", pgc_val(r, i, "deserialfunc"));
		if (!rc) rc = opt(o, ctx->err, "INITCOND", pgc_val(r, i, "initcond"));
		if (!rc) rc = opt(o, ctx->err, "MSFUNC", pgc_val(r, i, "msfunc"));
		if (!rc) rc = opt(o, ctx->err, "MINVFUNC", pgc_val(r, i, "minvfunc"));
		if (!rc) rc = opt(o, ctx->err, "MSTYPE", pgc_val(r, i, "mstype"));
		if (!rc) rc = opt(o, ctx->err, "MSSPACE", pgc_val(r, i, "msspace"));
		if (!rc) rc = opt(o, ctx->err, "MFINALFUNC", pgc_val(r, i, "mfinalfunc"));
		if (!rc && !strcmp(pgc_str(r, i, "aggmfinalextra"), "t"))
			rc = dobj_sql(o, ctx->err, ",\n    MFINALFUNC_EXTRA");
		if (!rc && pgc_val(r, i, "mfinalfunc"))
			rc = opt(o, ctx->err, "MFINALFUNC_MODIFY",
				 modify[mfm[0] == 's' ? 1 : mfm[0] == 'w' ? 2 : 0]);
		if (!rc) rc = opt(o, ctx->err, "MINITCOND", pgc_val(r, i, "minitcond"));
		if (!rc) rc = opt(o, ctx->err, "SORTOP", pgc_val(r, i, "sortop"));
		if (!rc && par[0] != 'u')
			rc = opt(o, ctx->err, "PARALLEL", par[0] == 's' ? "SAFE" : "RESTRICTED");
		if (!rc && pgc_str(r, i, "aggkind")[0] == 'h')
			rc = dobj_sql(o, ctx->err, ",\n    HYPOTHETICAL");
		if (!rc)
			rc = dobj_sql(o, ctx->err, "\n);\n");
	}
	PQclear(r);
	return rc;
}
