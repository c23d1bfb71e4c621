/*
 * dump_post.c - what is created after the data: primary, unique,
 * exclusion and foreign keys, indexes (and their attachment to partitioned
 * parents), triggers, rules, row-level security policies, extended
 * statistics.
 */
#include <stdlib.h>
#include <string.h>

#include "dump_intern.h"

/* A node "NAME ON TABLE" attached to table tbl (found by oid). */
static struct dobj *on_table(struct dump_ctx *ctx, unsigned cls, unsigned oid, int prio, const char *kind,
			     const char *name, const char *tq, const char *sortname, unsigned tbl)
{
	char *target = qb_asprintf("%s ON %s", name, tq);
	struct dobj *o = target ? dnode(ctx, cls, oid, SEC_POST, prio, sortname, kind, target, NULL, NULL) : NULL;

	free(target);
	if (!o) {
		if (!ctx->err->code)
			qb_err_set(ctx->err, QB_ENOMEM, "out of memory");
		return NULL;
	}
	if (dobj_want(ctx, o, CLS_PG_CLASS, tbl))
		return NULL;
	return o;
}

static int cluster_replident(struct dump_ctx *ctx, struct dobj *o, PGresult *r, int i)
{
	int rc = QB_OK;

	if (pgc_true(r, i, "indisclustered"))
		rc = dobj_sql(o, ctx->err, "ALTER TABLE %s CLUSTER ON %s;\n", pgc_str(r, i, "tq"),
			      pgc_val(r, i, "iname"));
	if (!rc && pgc_true(r, i, "indisreplident"))
		rc = dobj_sql(o, ctx->err, "ALTER TABLE ONLY %s REPLICA IDENTITY USING INDEX %s;\n",
			      pgc_str(r, i, "tq"), pgc_val(r, i, "iname"));
	return rc;
}

int dump_constraints(struct dump_ctx *ctx)
{
	PGresult *r = dq(ctx,
		"SELECT co.oid, co.contype, co.conrelid, c.relkind, pg_catalog.quote_ident(co.conname) AS name, "
		"n.nspname || '.' || c.relname || ' ' || co.conname AS sortname, "
		"pg_catalog.format('%%I.%%I', n.nspname, c.relname) AS tq, "
		"pg_catalog.pg_get_constraintdef(co.oid) AS def, co.conparentid, co.conindid, "
		"pg_catalog.quote_ident(ic.relname) AS iname, i.indisclustered, i.indisreplident "
		"FROM pg_catalog.pg_constraint co JOIN pg_catalog.pg_class c ON c.oid = co.conrelid "
		"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
		"LEFT JOIN pg_catalog.pg_index i ON i.indexrelid = co.conindid AND co.contype <> 'f' "
		"LEFT JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid "
		"WHERE co.contype IN ('p', 'u', 'x', 'f') AND c.relkind IN ('r', 'p', 'm') AND" USER_SCHEMA("n")
		"AND" NOT_EXT_MEMBER(pg_class, "c.oid") "ORDER BY 6");
	int rc = QB_OK;

	if (!r)
		return ctx->err->code;
	for (int i = 0; i < PQntuples(r) && !rc; i++) {
		char type = pgc_str(r, i, "contype")[0];
		bool partitioned = pgc_str(r, i, "relkind")[0] == 'p';
		unsigned parent = dval_oid(r, i, "conparentid");
		struct dobj *o;

		if (type == 'f' && parent) {
			/* A partition's copy of its parent's foreign key: the parent's makes it. */
			continue;
		}
		o = on_table(ctx, CLS_PG_CONSTRAINT, dval_oid(r, i, "oid"), type == 'f' ? P_FK : P_CONSTRAINT,
			     "CONSTRAINT", pgc_str(r, i, "name"), pgc_str(r, i, "tq"), pgc_str(r, i, "sortname"),
			     dval_oid(r, i, "conrelid"));
		if (!o)
			return ctx->err->code;
		/* ONLY, so that a parent's key does not cascade: each partition's own
		 * constraint is created by name and attached (dump_indexes). A foreign
		 * key on a partitioned table must cascade. */
		rc = dobj_sql(o, ctx->err, "ALTER TABLE %s%s ADD CONSTRAINT %s %s;\n",
			      type == 'f' && partitioned ? "" : "ONLY ", pgc_str(r, i, "tq"), pgc_str(r, i, "name"),
			      pgc_str(r, i, "def"));
		if (!rc && type != 'f') {
			if (dobj_alias(ctx, CLS_PG_CLASS, dval_oid(r, i, "conindid"), dobj_index(ctx, o)))
				return ctx->err->code;
			rc = cluster_replident(ctx, o, r, i);
		}
	}
	PQclear(r);
	return rc;
}

static int index_attach(struct dump_ctx *ctx)
{
	PGresult *r = dq(ctx,
		"SELECT i.inhrelid, i.inhparent, pg_catalog.format('%%I.%%I', pn.nspname, p.relname) AS pq, "
		"pg_catalog.format('%%I.%%I', cn.nspname, c.relname) AS cq "
		"FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid "
		"JOIN pg_catalog.pg_namespace cn ON cn.oid = c.relnamespace "
		"JOIN pg_catalog.pg_class p ON p.oid = i.inhparent "
		"JOIN pg_catalog.pg_namespace pn ON pn.oid = p.relnamespace "
		"WHERE c.relkind IN ('i', 'I') ORDER BY 4");
	int rc = QB_OK;

	if (!r)
		return ctx->err->code;
	for (int i = 0; i < PQntuples(r) && !rc; i++) {
		size_t child = dobj_find(ctx, CLS_PG_CLASS, dval_oid(r, i, "inhrelid"));
		size_t parent = dobj_find(ctx, CLS_PG_CLASS, dval_oid(r, i, "inhparent"));
		struct dobj *o;
		if (child == SIZE_MAX || parent == SIZE_MAX)
			continue;
		o = dobj_add(ctx, CLS_SYNTHETIC, 0, SEC_POST, P_INDEX_ATTACH, pgc_val(r, i, "cq"),
			     "index attachment %s", pgc_val(r, i, "cq"));
		if (!o)
			return ctx->err->code;
		rc = dobj_sql(o, ctx->err, "ALTER INDEX %s ATTACH PARTITION %s;\n", pgc_val(r, i, "pq"),
			      pgc_val(r, i, "cq"));
		if (!rc)
			rc = dobj_dep(ctx, dobj_index(ctx, o), child);
		if (!rc)
			rc = dobj_dep(ctx, dobj_index(ctx, o), parent);
	}
	PQclear(r);
	return rc;
}

int dump_indexes(struct dump_ctx *ctx)
{
	PGresult *r = dq(ctx,
		"SELECT i.indexrelid, i.indrelid, n.nspname || '.' || ic.relname AS sortname, "
		"pg_catalog.format('%%I.%%I', n.nspname, ic.relname) AS q, pg_catalog.quote_ident(ic.relname) AS iname, "
		"pg_catalog.format('%%I.%%I', tn.nspname, t.relname) AS tq, "
		"pg_catalog.pg_get_indexdef(i.indexrelid) AS def, i.indisclustered, i.indisreplident, "
		"i.indisvalid, t.relkind, "
		/* Statistics targets of expression columns (ALTER INDEX ... ALTER COLUMN n). */
		"(SELECT pg_catalog.string_agg(pg_catalog.format("
		"  E'ALTER INDEX %%I.%%I ALTER COLUMN %%s SET STATISTICS %%s;\\n', n.nspname, ic.relname, a.attnum, %s), "
		"  '' ORDER BY a.attnum) "
		"  FROM pg_catalog.pg_attribute a WHERE a.attrelid = i.indexrelid AND a.attnum > 0 "
		"  AND %s IS NOT NULL) AS stats "
		"FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid "
		"JOIN pg_catalog.pg_namespace n ON n.oid = ic.relnamespace "
		"JOIN pg_catalog.pg_class t ON t.oid = i.indrelid "
		"JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace "
		"WHERE t.relkind IN ('r', 'p', 'm') AND" USER_SCHEMA("tn") "AND" NOT_EXT_MEMBER(pg_class, "t.oid")
		"AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint co WHERE co.conindid = i.indexrelid "
		"  AND co.conrelid = i.indrelid AND co.contype IN ('p', 'u', 'x')) ORDER BY 3",
		cat_attstattarget_sql(ctx->version), cat_attstattarget_sql(ctx->version));
	int rc = QB_OK;

	if (!r)
		return ctx->err->code;
	for (int i = 0; i < PQntuples(r) && !rc; i++) {
		struct dobj *o;
		/* An invalid index is a failed CREATE INDEX CONCURRENTLY: nothing to restore.
		 * A partitioned parent's index is invalid until all partitions attach. */
		if (!pgc_true(r, i, "indisvalid") && pgc_str(r, i, "relkind")[0] != 'p')
			continue;
		o = dnode(ctx, CLS_PG_CLASS, dval_oid(r, i, "indexrelid"), SEC_POST, P_INDEX,
			  pgc_str(r, i, "sortname"), "INDEX", pgc_str(r, i, "q"), NULL, NULL);
		if (!o || dobj_want(ctx, o, CLS_PG_CLASS, dval_oid(r, i, "indrelid")))
			return ctx->err->code;
		rc = dobj_sql(o, ctx->err, "%s;\n%s", pgc_str(r, i, "def"),
			      pgc_val(r, i, "stats") ? pgc_val(r, i, "stats") : "");
		if (!rc)
			rc = cluster_replident(ctx, o, r, i);
	}
	PQclear(r);
	return rc ? rc : index_attach(ctx);
}

/* ALTER TABLE ... ENABLE/DISABLE TRIGGER for state en ('O', 'D', 'R', 'A'). */
static int trigger_state(struct dump_ctx *ctx, struct dobj *o, const char *tq, const char *name, char en)
{
	return dobj_sql(o, ctx->err, "ALTER TABLE %s %s TRIGGER %s;\n", tq,
			en == 'D' ? "DISABLE" : en == 'R' ? "ENABLE REPLICA" : en == 'A' ? "ENABLE ALWAYS" : "ENABLE",
			name);
}

/* A partition's copy of its parent's trigger is made by the parent's, in the
 * parent's state, and ALTER TABLE on a partitioned table sets it all the way
 * down: a copy whose state is not its parent's is set after the parent's. */
static int trigger_clones(struct dump_ctx *ctx)
{
	PGresult *r;
	int rc = QB_OK;

	if (ctx->version < 130000)
		return QB_OK;  /* no tgparentid */
	r = dq(ctx,
		"SELECT t.oid, t.tgrelid, t.tgparentid, pg_catalog.quote_ident(t.tgname) AS name, "
		"n.nspname || '.' || c.relname || ' ' || t.tgname AS sortname, "
		"pg_catalog.format('%%I.%%I', n.nspname, c.relname) AS tq, t.tgenabled, "
		"(WITH RECURSIVE up(oid, parent) AS (SELECT t.oid, t.tgparentid UNION ALL "
		"  SELECT p.oid, p.tgparentid FROM up JOIN pg_catalog.pg_trigger p ON p.oid = up.parent) "
		"  SELECT up.oid FROM up WHERE up.parent = 0) AS root "
		"FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_trigger pt ON pt.oid = t.tgparentid "
		"JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid "
		"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
		"WHERE t.tgenabled <> pt.tgenabled AND" USER_SCHEMA("n") "ORDER BY 5");
	if (!r)
		return ctx->err->code;
	for (int i = 0; i < PQntuples(r) && !rc; i++) {
		struct dobj *o = dobj_add(ctx, CLS_PG_TRIGGER, dval_oid(r, i, "oid"), SEC_POST, P_TRIGGER,
					  pgc_str(r, i, "sortname"), "state of trigger %s ON %s", pgc_str(r, i, "name"),
					  pgc_str(r, i, "tq"));
		if (!o || dobj_want(ctx, o, CLS_PG_TRIGGER, dval_oid(r, i, "root")) ||
		    dobj_want(ctx, o, CLS_PG_TRIGGER, dval_oid(r, i, "tgparentid")) ||
		    dobj_want(ctx, o, CLS_PG_CLASS, dval_oid(r, i, "tgrelid"))) {
			rc = ctx->err->code;
			break;
		}
		rc = trigger_state(ctx, o, pgc_str(r, i, "tq"), pgc_str(r, i, "name"),
				   pgc_str(r, i, "tgenabled")[0]);
	}
	PQclear(r);
	return rc;
}

int dump_triggers(struct dump_ctx *ctx)
{
	PGresult *r = dq(ctx,
		"SELECT t.oid, t.tgrelid, pg_catalog.quote_ident(t.tgname) AS name, "
		"n.nspname || '.' || c.relname || ' ' || t.tgname AS sortname, "
		"pg_catalog.format('%%I.%%I', n.nspname, c.relname) AS tq, "
		"pg_catalog.pg_get_triggerdef(t.oid) AS def, t.tgenabled "
		"FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid "
		"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
		"WHERE NOT t.tgisinternal AND %s AND" USER_SCHEMA("n") "AND" NOT_EXT_MEMBER(pg_class, "c.oid")
		"ORDER BY 4", cat_trigger_parent_sql(ctx->version));
	int rc = QB_OK;

	if (!r)
		return ctx->err->code;
	for (int i = 0; i < PQntuples(r) && !rc; i++) {
		char en = pgc_str(r, i, "tgenabled")[0];
		struct dobj *o = on_table(ctx, CLS_PG_TRIGGER, dval_oid(r, i, "oid"), P_TRIGGER, "TRIGGER",
					  pgc_str(r, i, "name"), pgc_str(r, i, "tq"), pgc_str(r, i, "sortname"),
					  dval_oid(r, i, "tgrelid"));
		if (!o)
			return ctx->err->code;
		rc = dobj_sql(o, ctx->err, "%s;\n", pgc_str(r, i, "def"));
		if (!rc && en != 'O')
			rc = trigger_state(ctx, o, pgc_str(r, i, "tq"), pgc_str(r, i, "name"), en);
	}
	PQclear(r);
	return rc ? rc : trigger_clones(ctx);
}

int dump_rules(struct dump_ctx *ctx)
{
	PGresult *r = dq(ctx,
		"SELECT r.oid, r.ev_class, pg_catalog.quote_ident(r.rulename) AS name, "
		"n.nspname || '.' || c.relname || ' ' || r.rulename AS sortname, "
		"pg_catalog.format('%%I.%%I', n.nspname, c.relname) AS tq, "
		"pg_catalog.pg_get_ruledef(r.oid) AS def, r.ev_enabled "
		"FROM pg_catalog.pg_rewrite r JOIN pg_catalog.pg_class c ON c.oid = r.ev_class "
		"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
		"WHERE r.rulename <> '_RETURN' AND" USER_SCHEMA("n") "AND" NOT_EXT_MEMBER(pg_class, "c.oid")
		"ORDER BY 4");
	int rc = QB_OK;

	if (!r)
		return ctx->err->code;
	for (int i = 0; i < PQntuples(r) && !rc; i++) {
		const char *def = pgc_str(r, i, "def");
		char en = pgc_str(r, i, "ev_enabled")[0];
		size_t len = strlen(def);
		struct dobj *o = on_table(ctx, CLS_PG_REWRITE, dval_oid(r, i, "oid"), P_RULE, "RULE",
					  pgc_str(r, i, "name"), pgc_str(r, i, "tq"), pgc_str(r, i, "sortname"),
					  dval_oid(r, i, "ev_class"));
		if (!o)
			return ctx->err->code;
		while (len && (def[len - 1] == ';' || def[len - 1] == '\n'))
			len--;
		rc = dobj_sql(o, ctx->err, "%.*s;\n", (int)len, def);
		if (!rc && en != 'O')
			rc = dobj_sql(o, ctx->err, "ALTER TABLE %s %s RULE %s;\n", pgc_str(r, i, "tq"),
				      en == 'D' ? "DISABLE" : en == 'R' ? "ENABLE REPLICA" : "ENABLE ALWAYS",
				      pgc_str(r, i, "name"));
	}
	PQclear(r);
	return rc;
}

int dump_policies(struct dump_ctx *ctx)
{
	PGresult *r = dq(ctx,
		"SELECT p.oid, p.polrelid, pg_catalog.quote_ident(p.polname) AS name, "
		"n.nspname || '.' || c.relname || ' ' || p.polname AS sortname, "
		"pg_catalog.format('%%I.%%I', n.nspname, c.relname) AS tq, p.polcmd, p.polpermissive, "
		"(SELECT pg_catalog.string_agg(CASE WHEN u.r = 0 THEN 'PUBLIC' ELSE "
		"  pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(u.r)) END, ', ' ORDER BY u.o) "
		"  FROM pg_catalog.unnest(p.polroles) WITH ORDINALITY u(r, o)) AS roles, "
		"pg_catalog.pg_get_expr(p.polqual, p.polrelid) AS qual, "
		"pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) AS chk "
		"FROM pg_catalog.pg_policy p JOIN pg_catalog.pg_class c ON c.oid = p.polrelid "
		"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
		"WHERE" USER_SCHEMA("n") "AND" NOT_EXT_MEMBER(pg_class, "c.oid") "ORDER BY 4");
	int rc = QB_OK;

	if (!r)
		return ctx->err->code;
	for (int i = 0; i < PQntuples(r) && !rc; i++) {
		const char *qual = pgc_val(r, i, "qual"), *chk = pgc_val(r, i, "chk");
		char cmd = pgc_str(r, i, "polcmd")[0];
		struct dobj *o = on_table(ctx, CLS_PG_POLICY, dval_oid(r, i, "oid"), P_POLICY, "POLICY",
					  pgc_str(r, i, "name"), pgc_str(r, i, "tq"), pgc_str(r, i, "sortname"),
					  dval_oid(r, i, "polrelid"));
		if (!o)
			return ctx->err->code;
		rc = dobj_sql(o, ctx->err, "CREATE POLICY %s ON %s AS %s FOR %s TO %s%s%s%s%s%s%s;\n",
			      pgc_str(r, i, "name"), pgc_str(r, i, "tq"),
			      pgc_true(r, i, "polpermissive") ? "PERMISSIVE" : "RESTRICTIVE",
			      cmd == 'r' ? "SELECT" : cmd == 'a' ? "INSERT" : cmd == 'w' ? "UPDATE" :
			      cmd == 'd' ? "DELETE" : "ALL", pgc_val(r, i, "roles") ? pgc_val(r, i, "roles") : "PUBLIC",
			      qual ? " USING (" : "", qual ? qual : "", qual ? ")" : "",
			      chk ? " WITH CHECK (" : "", chk ? chk : "", chk ? ")" : "");
	}
	PQclear(r);
	return rc;
}

int dump_statistics(struct dump_ctx *ctx)
{
	PGresult *r = dq(ctx,
		"SELECT s.oid, s.stxrelid, n.nspname || '.' || s.stxname AS sortname, "
		"pg_catalog.format('%%I.%%I', n.nspname, s.stxname) AS q, " OWNER("s.stxowner") " AS owner, "
		"pg_catalog.pg_get_statisticsobjdef(s.oid) AS def, %s AS target "
		"FROM pg_catalog.pg_statistic_ext s JOIN pg_catalog.pg_namespace n ON n.oid = s.stxnamespace "
		"WHERE" USER_SCHEMA("n") "AND" NOT_EXT_MEMBER(pg_statistic_ext, "s.oid") "ORDER BY 3",
		ctx->version >= 170000 ? "s.stxstattarget" :
		ctx->version >= 130000 ? "NULLIF(s.stxstattarget, -1)" : "NULL::int");
	int rc = QB_OK;

	if (!r)
		return ctx->err->code;
	for (int i = 0; i < PQntuples(r) && !rc; i++) {
		struct dobj *o = dnode(ctx, CLS_PG_STATS_EXT, dval_oid(r, i, "oid"), SEC_POST, P_STATS,
				       pgc_str(r, i, "sortname"), "STATISTICS", pgc_str(r, i, "q"),
				       pgc_val(r, i, "owner"), NULL);
		if (!o || dobj_want(ctx, o, CLS_PG_CLASS, dval_oid(r, i, "stxrelid")))
			return ctx->err->code;
		rc = dobj_sql(o, ctx->err, "%s;\n", pgc_str(r, i, "def"));
		if (!rc && pgc_val(r, i, "target"))
			rc = dobj_sql(o, ctx->err, "ALTER STATISTICS %s SET STATISTICS %s;\n", pgc_str(r, i, "q"),
				      pgc_val(r, i, "target"));
	}
	PQclear(r);
	return rc;
}
