/*
 * dump_acl.c - owners, grants and default privileges.
 *
 * An object's ACL is rebuilt item by item in its stored order: REVOKE ALL
 * from PUBLIC and the owner first, then one GRANT per aclitem, so the
 * restored array is the source's array, entry for entry.
 */
#include <stdlib.h>
#include <string.h>

#include "dump_intern.h"

struct aclitem {
	char grantee[256];     /* "" for PUBLIC */
	char grantor[256];
	char privs[32];        /* letters, '*' after a letter means WITH GRANT OPTION */
};

/* A role name in aclitem text: bare, or "double quoted" with "" inside. */
static const char *parse_role(const char *p, char *out, size_t cap)
{
	size_t n = 0;

	if (*p == '"') {
		for (p++; *p; p++) {
			if (*p == '"') {
				if (p[1] != '"') {
					p++;
					break;
				}
				p++;
			}
			if (n + 1 < cap)
				out[n++] = *p;
		}
	} else {
		for (; *p && *p != '=' && *p != '/'; p++)
			if (n + 1 < cap)
				out[n++] = *p;
	}
	out[n] = '\0';
	return p;
}

static int parse_aclitem(const char *s, struct aclitem *a)
{
	const char *p = parse_role(s, a->grantee, sizeof(a->grantee));
	size_t n = 0;

	if (*p != '=')
		return -1;
	for (p++; *p && *p != '/'; p++)
		if (n + 1 < sizeof(a->privs))
			a->privs[n++] = *p;
	a->privs[n] = '\0';
	if (*p != '/')
		return -1;
	parse_role(p + 1, a->grantor, sizeof(a->grantor));
	return 0;
}

static const char *priv_name(char c)
{
	switch (c) {
	case 'r': return "SELECT";
	case 'w': return "UPDATE";
	case 'a': return "INSERT";
	case 'd': return "DELETE";
	case 'D': return "TRUNCATE";
	case 'x': return "REFERENCES";
	case 't': return "TRIGGER";
	case 'X': return "EXECUTE";
	case 'U': return "USAGE";
	case 'C': return "CREATE";
	case 'c': return "CONNECT";
	case 'T': return "TEMPORARY";
	case 'm': return "MAINTAIN";
	case 's': return "SET";
	case 'A': return "ALTER SYSTEM";
	default:  return NULL;
	}
}

/* "SELECT, UPDATE" (grant option or not, as asked), with column list. */
static int privs_list(const char *privs, bool with_option, const char *column, struct qb_buf *out)
{
	for (const char *p = privs; *p; p++) {
		bool opt = p[1] == '*';
		const char *name;
		if (*p == '*')
			continue;
		if (opt != with_option)
			continue;
		name = priv_name(*p);
		if (!name)
			return -1;
		qb_buf_printf(out, NULL, "%s%s%s%s%s", out->len ? ", " : "", name, column ? " (" : "",
			      column ? column : "", column ? ")" : "");
	}
	return 0;
}

static char *role_sql(PGconn *c, const char *name)
{
	return name[0] ? pgc_ident(c, name) : strdup("PUBLIC");
}

/* GRANT statements for one aclitem; prefix is e.g. "ALTER DEFAULT PRIVILEGES FOR ROLE x ". */
static int grant_item(struct dump_ctx *ctx, struct qb_buf *out, const char *prefix, const char *on,
		      const char *column, const char *owner, const char *item)
{
	struct aclitem a;
	char *grantee, *grantor;
	int rc = QB_OK;

	if (parse_aclitem(item, &a))
		return qb_err_set(ctx->err, QB_EFORMAT, "unreadable privilege '%s' on %s", item, on);
	grantee = role_sql(ctx->conn, a.grantee);
	grantor = role_sql(ctx->conn, a.grantor);
	if (!grantee || !grantor) {
		free(grantee);
		free(grantor);
		return qb_err_set(ctx->err, QB_ENOMEM, "out of memory");
	}
	/* A grant made by someone other than the owner is replayed as that role. */
	bool as_other = owner && strcmp(grantor, owner) != 0 && !prefix[0];
	if (as_other)
		rc = qb_buf_printf(out, ctx->err, "SET ROLE %s;\n", grantor);
	for (int opt = 0; opt < 2 && !rc; opt++) {
		struct qb_buf list;
		qb_buf_init(&list, 4096);
		if (privs_list(a.privs, opt, column, &list)) {
			rc = qb_err_set(ctx->err, QB_EFORMAT, "unknown privilege in '%s' on %s", item, on);
		} else if (list.len) {
			rc = qb_buf_printf(out, ctx->err, "%sGRANT %s ON %s TO %s%s;\n", prefix, list.data, on,
					   grantee, opt ? " WITH GRANT OPTION" : "");
		}
		qb_buf_release(&list);
	}
	if (!rc && as_other)
		rc = qb_buf_puts(out, "RESET ROLE;\n", ctx->err);
	free(grantee);
	free(grantor);
	return rc;
}

int dump_owners(struct dump_ctx *ctx)
{
	for (size_t i = 0; i < ctx->n; i++) {
		struct dobj *o = ctx->objs[i];
		if (o->owner && o->comment_target && !o->owner_follows &&
		    dobj_sql(o, ctx->err, "ALTER %s OWNER TO %s;\n", o->comment_target, o->owner))
			return ctx->err->code;
	}
	return QB_OK;
}

int dump_acls(struct dump_ctx *ctx)
{
	PGresult *r = dq(ctx,
		"SELECT x.cls, x.oid, x.sub, pg_catalog.quote_ident(x.attname) AS col, a.item::text AS item "
		"FROM (SELECT 'pg_class'::pg_catalog.regclass::oid, c.oid, 0, NULL::name, c.relacl "
		"        FROM pg_catalog.pg_class c WHERE c.relacl IS NOT NULL "
		"      UNION ALL SELECT 'pg_class'::pg_catalog.regclass::oid, t.attrelid, t.attnum, t.attname, t.attacl "
		"        FROM pg_catalog.pg_attribute t WHERE t.attacl IS NOT NULL AND NOT t.attisdropped "
		"      UNION ALL SELECT 'pg_proc'::pg_catalog.regclass::oid, p.oid, 0, NULL, p.proacl "
		"        FROM pg_catalog.pg_proc p WHERE p.proacl IS NOT NULL "
		"      UNION ALL SELECT 'pg_namespace'::pg_catalog.regclass::oid, n.oid, 0, NULL, n.nspacl "
		"        FROM pg_catalog.pg_namespace n WHERE n.nspacl IS NOT NULL "
		"      UNION ALL SELECT 'pg_type'::pg_catalog.regclass::oid, y.oid, 0, NULL, y.typacl "
		"        FROM pg_catalog.pg_type y WHERE y.typacl IS NOT NULL "
		"      UNION ALL SELECT 'pg_largeobject'::pg_catalog.regclass::oid, l.oid, 0, NULL, l.lomacl "
		"        FROM pg_catalog.pg_largeobject_metadata l WHERE l.lomacl IS NOT NULL"
		"     ) x(cls, oid, sub, attname, acl) "
		"LEFT JOIN LATERAL pg_catalog.unnest(x.acl) WITH ORDINALITY a(item, ord) ON true "
		"ORDER BY x.cls, x.oid, x.sub, a.ord");
	int rc = QB_OK;
	int prev = -1;

	if (!r)
		return ctx->err->code;
	for (int i = 0; i < PQntuples(r) && !rc; i++) {
		unsigned cls = dval_oid(r, i, "cls"), oid = dval_oid(r, i, "oid");
		const char *sub = pgc_str(r, i, "sub"), *col = pgc_val(r, i, "col"), *item = pgc_val(r, i, "item");
		size_t idx = dobj_find(ctx, cls, oid);
		struct dobj *o = idx == SIZE_MAX ? NULL : ctx->objs[idx];
		char *on;

		if (!o || o->classid != cls || o->objid != oid || !o->acl_kind)
			continue;  /* not ours: built in, or part of an extension */
		on = qb_asprintf("%s %s", o->acl_kind, o->acl_target);
		if (!on)
			return qb_err_set(ctx->err, QB_ENOMEM, "out of memory");
		bool first = prev < 0 || dval_oid(r, prev, "oid") != oid || dval_oid(r, prev, "cls") != cls ||
			     strcmp(pgc_str(r, prev, "sub"), sub);
		if (first && !strcmp(sub, "0") && o->owner)
			rc = dobj_sql(o, ctx->err, "REVOKE ALL ON %s FROM PUBLIC;\nREVOKE ALL ON %s FROM %s;\n",
				      on, on, o->owner);
		if (!rc && item)
			rc = grant_item(ctx, &o->sql, "", on, strcmp(sub, "0") ? col : NULL, o->owner, item);
		free(on);
		prev = i;
	}
	PQclear(r);
	return rc;
}

int dump_default_acls(struct dump_ctx *ctx)
{
	PGresult *r = dq(ctx,
		"SELECT d.oid, pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(d.defaclrole)) AS role, "
		"pg_catalog.quote_ident(n.nspname) AS nsp, d.defaclobjtype, a.item::text AS item "
		"FROM pg_catalog.pg_default_acl d LEFT JOIN pg_catalog.pg_namespace n ON n.oid = d.defaclnamespace "
		"LEFT JOIN LATERAL pg_catalog.unnest(d.defaclacl) WITH ORDINALITY a(item, ord) ON true "
		"ORDER BY 2, 3 NULLS FIRST, 4, a.ord");
	int rc = QB_OK;
	struct dobj *o = NULL;
	unsigned cur = 0;

	if (!r)
		return ctx->err->code;
	for (int i = 0; i < PQntuples(r) && !rc; i++) {
		unsigned oid = dval_oid(r, i, "oid");
		const char *nsp = pgc_val(r, i, "nsp"), *role = pgc_str(r, i, "role"), *item = pgc_val(r, i, "item");
		char t = pgc_str(r, i, "defaclobjtype")[0];
		const char *what = t == 'r' ? "TABLES" : t == 'S' ? "SEQUENCES" : t == 'f' ? "FUNCTIONS" :
				   t == 'T' ? "TYPES" : t == 'n' ? "SCHEMAS" : NULL;
		char *prefix;

		if (!what)
			return qb_err_set(ctx->err, QB_EUNSUPPORTED, "default privileges of unknown kind '%c'", t);
		prefix = qb_asprintf("ALTER DEFAULT PRIVILEGES FOR ROLE %s%s%s ", role, nsp ? " IN SCHEMA " : "",
				     nsp ? nsp : "");
		if (!prefix)
			return qb_err_set(ctx->err, QB_ENOMEM, "out of memory");
		if (oid != cur) {
			cur = oid;
			o = dobj_add(ctx, CLS_PG_DEFAULT_ACL, oid, SEC_POST, P_DEFACL, role,
				     "default privileges for role %s", role);
			if (!o) {
				free(prefix);
				return ctx->err->code;
			}
			/* Global entries replace the built-in defaults; per-schema ones add to them. */
			if (!nsp)
				rc = dobj_sql(o, ctx->err, "%sREVOKE ALL ON %s FROM PUBLIC;\n%sREVOKE ALL ON %s FROM %s;\n",
					      prefix, what, prefix, what, role);
		}
		if (!rc && item)
			rc = grant_item(ctx, &o->sql, prefix, what, NULL, NULL, item);
		free(prefix);
	}
	PQclear(r);
	return rc;
}

int dump_comments(struct dump_ctx *ctx)
{
	PGresult *r = dq(ctx,
		"SELECT d.classoid, d.objoid, d.objsubid, pg_catalog.quote_ident(a.attname) AS col, "
		"pg_catalog.quote_literal(d.description) AS text, "
		"CASE WHEN x.oid IS NOT NULL THEN pg_catalog.format('%%I.%%I', xn.nspname, x.relname) END AS idx "
		"FROM pg_catalog.pg_description d LEFT JOIN pg_catalog.pg_attribute a "
		"ON d.classoid = 'pg_class'::pg_catalog.regclass AND a.attrelid = d.objoid AND a.attnum = d.objsubid "
		"LEFT JOIN pg_catalog.pg_class x ON d.classoid = 'pg_class'::pg_catalog.regclass "
		"  AND x.oid = d.objoid AND x.relkind IN ('i', 'I') "
		"LEFT JOIN pg_catalog.pg_namespace xn ON xn.oid = x.relnamespace "
		"ORDER BY 1, 2, 3");
	int rc = QB_OK;

	if (!r)
		return ctx->err->code;
	for (int i = 0; i < PQntuples(r) && !rc; i++) {
		unsigned cls = dval_oid(r, i, "classoid"), oid = dval_oid(r, i, "objoid");
		size_t idx = dobj_find(ctx, cls, oid);
		struct dobj *o = idx == SIZE_MAX ? NULL : ctx->objs[idx];
		const char *col = pgc_val(r, i, "col"), *idx_name = pgc_val(r, i, "idx");

		if (o && cls == CLS_PG_CLASS && idx_name && o->classid == CLS_PG_CONSTRAINT) {
			/* The index of a primary key, unique or exclusion constraint: made by it. */
			rc = dobj_sql(o, ctx->err, "COMMENT ON INDEX %s IS %s;\n", idx_name, pgc_val(r, i, "text"));
			continue;
		}
		/* A composite type's columns are those of its pg_class row, which resolves to the type. */
		if (o && cls == CLS_PG_CLASS && o->classid == CLS_PG_TYPE && col) {
			rc = dobj_sql(o, ctx->err, "COMMENT ON COLUMN %s.%s IS %s;\n", o->acl_target, col,
				      pgc_val(r, i, "text"));
			continue;
		}
		if (!o || o->classid != cls || o->objid != oid || !o->comment_target)
			continue;
		if (strcmp(pgc_str(r, i, "objsubid"), "0"))
			rc = col && o->qualname ? dobj_sql(o, ctx->err, "COMMENT ON COLUMN %s.%s IS %s;\n", o->qualname,
							   col, pgc_val(r, i, "text")) : QB_OK;
		else
			rc = dobj_sql(o, ctx->err, "COMMENT ON %s IS %s;\n", o->comment_target, pgc_val(r, i, "text"));
	}
	PQclear(r);
	return rc;
}
