/*
 * dump_check.c - refuse, by name, what the dumper cannot reproduce.
 *
 * A backup that silently lacks an object is worse than a failed one: the
 * nightly run fails loudly and the admin learns about it the same morning.
 * Objects that belong to an extension are made by CREATE EXTENSION and
 * are fine.
 */
#include <stdlib.h>

#include "dump_intern.h"
#include "qb/log.h"

struct unsupported {
	const char *what;
	const char *sql;     /* one text column: the object's name */
};

static const struct unsupported checks[] = {
	{ "foreign-data wrapper", "SELECT quote_ident(fdwname) FROM pg_catalog.pg_foreign_data_wrapper w WHERE"
	  NOT_EXT_MEMBER(pg_foreign_data_wrapper, "w.oid") },
	{ "foreign server", "SELECT quote_ident(srvname) FROM pg_catalog.pg_foreign_server s WHERE"
	  NOT_EXT_MEMBER(pg_foreign_server, "s.oid") },
	{ "foreign table", "SELECT c.oid::pg_catalog.regclass::text FROM pg_catalog.pg_class c WHERE c.relkind = 'f' AND"
	  NOT_EXT_MEMBER(pg_class, "c.oid") },
	{ "event trigger", "SELECT quote_ident(evtname) FROM pg_catalog.pg_event_trigger e WHERE"
	  NOT_EXT_MEMBER(pg_event_trigger, "e.oid") },
	{ "publication", "SELECT quote_ident(pubname) FROM pg_catalog.pg_publication" },
	{ "subscription", "SELECT quote_ident(subname) FROM pg_catalog.pg_subscription "
	  "WHERE subdbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())" },
	{ "cast", "SELECT format('(%s AS %s)', format_type(castsource, NULL), format_type(casttarget, NULL)) "
	  "FROM pg_catalog.pg_cast c WHERE c.oid >= 16384 AND" NOT_EXT_MEMBER(pg_cast, "c.oid")
	  "AND" NOT_INTERNAL(pg_cast, "c.oid") },
	{ "operator", "SELECT o.oid::pg_catalog.regoperator::text FROM pg_catalog.pg_operator o "
	  "JOIN pg_catalog.pg_namespace n ON n.oid = o.oprnamespace WHERE" USER_SCHEMA("n") "AND"
	  NOT_EXT_MEMBER(pg_operator, "o.oid") },
	{ "operator class", "SELECT format('%I.%I', n.nspname, o.opcname) FROM pg_catalog.pg_opclass o "
	  "JOIN pg_catalog.pg_namespace n ON n.oid = o.opcnamespace WHERE" USER_SCHEMA("n") "AND"
	  NOT_EXT_MEMBER(pg_opclass, "o.oid") },
	{ "operator family", "SELECT format('%I.%I', n.nspname, o.opfname) FROM pg_catalog.pg_opfamily o "
	  "JOIN pg_catalog.pg_namespace n ON n.oid = o.opfnamespace WHERE" USER_SCHEMA("n") "AND"
	  NOT_EXT_MEMBER(pg_opfamily, "o.oid") },
	{ "access method", "SELECT quote_ident(amname) FROM pg_catalog.pg_am a WHERE a.oid >= 16384 AND"
	  NOT_EXT_MEMBER(pg_am, "a.oid") },
	{ "procedural language", "SELECT quote_ident(lanname) FROM pg_catalog.pg_language l WHERE l.oid >= 16384 AND"
	  NOT_EXT_MEMBER(pg_language, "l.oid") },
	{ "transform", "SELECT format('FOR %s LANGUAGE %s', format_type(trftype, NULL), trflang) "
	  "FROM pg_catalog.pg_transform t WHERE" NOT_EXT_MEMBER(pg_transform, "t.oid") },
	{ "conversion", "SELECT format('%I.%I', n.nspname, c.conname) FROM pg_catalog.pg_conversion c "
	  "JOIN pg_catalog.pg_namespace n ON n.oid = c.connamespace WHERE" USER_SCHEMA("n") "AND"
	  NOT_EXT_MEMBER(pg_conversion, "c.oid") },
	{ "text search parser", "SELECT format('%I.%I', n.nspname, p.prsname) FROM pg_catalog.pg_ts_parser p "
	  "JOIN pg_catalog.pg_namespace n ON n.oid = p.prsnamespace WHERE" USER_SCHEMA("n") "AND"
	  NOT_EXT_MEMBER(pg_ts_parser, "p.oid") },
	{ "text search template", "SELECT format('%I.%I', n.nspname, t.tmplname) FROM pg_catalog.pg_ts_template t "
	  "JOIN pg_catalog.pg_namespace n ON n.oid = t.tmplnamespace WHERE" USER_SCHEMA("n") "AND"
	  NOT_EXT_MEMBER(pg_ts_template, "t.oid") },
	{ "security label", "SELECT format('%s on object %s', provider, objoid) FROM pg_catalog.pg_seclabel" },
};

/* Built-in and extension objects are made by the new database and by CREATE
 * EXTENSION, with the privileges recorded in pg_init_privs; a GRANT or
 * REVOKE on one since is not dumped (it would need the objects' owner, a
 * superuser, to restore).  One text column: what, for the warning. */
static const char changed_privs_sql[] =
	"SELECT x.what FROM ("
	" SELECT 'function ' || p.oid::pg_catalog.regprocedure::text, 'pg_proc'::pg_catalog.regclass, p.oid, p.proacl,"
	"   p.pronamespace FROM pg_catalog.pg_proc p"
	" UNION ALL SELECT 'relation ' || c.oid::pg_catalog.regclass::text, 'pg_class'::pg_catalog.regclass, c.oid,"
	"   c.relacl, c.relnamespace FROM pg_catalog.pg_class c"
	" UNION ALL SELECT 'type ' || t.oid::pg_catalog.regtype::text, 'pg_type'::pg_catalog.regclass, t.oid, t.typacl,"
	"   t.typnamespace FROM pg_catalog.pg_type t"
	/* public is dumped, ACL included. */
	" UNION ALL SELECT 'schema ' || pg_catalog.quote_ident(n.nspname), 'pg_namespace'::pg_catalog.regclass, n.oid,"
	"   n.nspacl, n.oid FROM pg_catalog.pg_namespace n WHERE n.nspname <> 'public'"
	" UNION ALL SELECT 'language ' || pg_catalog.quote_ident(l.lanname), 'pg_language'::pg_catalog.regclass, l.oid,"
	"   l.lanacl, 0 FROM pg_catalog.pg_language l"
	") x(what, cls, oid, acl, nsp) "
	/* initdb grants on information_schema after recording pg_init_privs; pg_dump skips it too. */
	"WHERE x.nsp <> 'information_schema'::pg_catalog.regnamespace AND (x.oid < 16384 OR EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = x.cls "
	"  AND d.objid = x.oid AND d.deptype = 'e')) "
	"AND x.acl IS DISTINCT FROM (SELECT i.initprivs FROM pg_catalog.pg_init_privs i WHERE i.objoid = x.oid "
	"  AND i.classoid = x.cls AND i.objsubid = 0) "
	"ORDER BY 1 LIMIT 6";

static int warn_changed_privileges(struct dump_ctx *ctx)
{
	PGresult *r = dq(ctx, "%s", changed_privs_sql);
	struct qb_buf names;
	int n;

	if (!r)
		return ctx->err->code;
	n = PQntuples(r);
	qb_buf_init(&names, 4096);
	for (int j = 0; j < n && j < 5; j++)
		qb_buf_printf(&names, NULL, "%s%s", j ? ", " : "", PQgetvalue(r, j, 0));
	if (n)
		qb_log(QB_LOG_WARN, "the privileges of %s%s were changed from their built-in or extension "
		       "defaults and are not dumped; a restore leaves the defaults", names.data ? names.data : "",
		       n > 5 ? " and more" : "");
	qb_buf_release(&names);
	PQclear(r);
	return QB_OK;
}

int dump_unsupported(struct dump_ctx *ctx)
{
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		PGresult *r = dq(ctx, "%s LIMIT 6", checks[i].sql);
		struct qb_buf names;
		int n;

		if (!r)
			return ctx->err->code;
		n = PQntuples(r);
		if (!n) {
			PQclear(r);
			continue;
		}
		qb_buf_init(&names, 2048);
		for (int j = 0; j < n && j < 5; j++)
			qb_buf_printf(&names, NULL, "%s%s", j ? ", " : "", PQgetvalue(r, j, 0));
		qb_err_set(ctx->err, QB_EUNSUPPORTED,
			   "the database contains %s %s%s%s that qbackup cannot dump; refusing to write an incomplete backup",
			   checks[i].what, names.data ? names.data : "", n > 5 ? " and more" : "",
			   "");
		qb_buf_release(&names);
		PQclear(r);
		return QB_EUNSUPPORTED;
	}
	{
		/* Tablespaces are the cluster's, not the database's: the data is complete
		 * without them, and restores into the default tablespace. Say so. */
		PGresult *r = dq(ctx, "SELECT count(*) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
				 "ON n.oid = c.relnamespace WHERE c.reltablespace <> 0 AND" USER_SCHEMA("n"));
		if (!r)
			return ctx->err->code;
		if (PQgetvalue(r, 0, 0)[0] != '0')
			qb_log(QB_LOG_WARN, "%s relations use a non-default tablespace; a restore puts them in the "
			       "default tablespace", PQgetvalue(r, 0, 0));
		PQclear(r);
	}
	return warn_changed_privileges(ctx);
}
