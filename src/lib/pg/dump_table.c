/*
 * dump_table.c - tables (plain, unlogged, partitioned, partitions,
 * inheritance children) with their columns, defaults, identity and
 * generated columns, CHECK constraints, and a data node each.
 *
 * Three catalog queries (tables, columns, checks) each return every table's
 * rows sorted by table oid; they are merged in one pass, so the dumper asks
 * the server three times whatever the number of tables.
 */
#include <stdlib.h>
#include <string.h>

#include "dump_intern.h"

struct cursor {
	PGresult *r;
	int row;
};

#define TABLES_SQL \
	"SELECT c.oid, c.relkind, n.nspname || '.' || c.relname AS sortname, " \
	"pg_catalog.format('%%I.%%I', n.nspname, c.relname) AS q, " OWNER("c.relowner") " AS owner, " \
	"c.relpersistence, c.relispartition, pg_catalog.pg_get_expr(c.relpartbound, c.oid) AS bound, " \
	"CASE WHEN c.relkind = 'p' THEN pg_catalog.pg_get_partkeydef(c.oid) END AS partkey, " \
	RELOPTIONS("c") " AS opts, " \
	"CASE WHEN am.amname IS NOT NULL AND am.amname <> 'heap' THEN pg_catalog.quote_ident(am.amname) END AS am, " \
	"c.relrowsecurity, c.relforcerowsecurity, c.relreplident, c.reloftype, " \
	"pg_catalog.pg_relation_size(c.oid) AS size, " \
	"(SELECT pg_catalog.string_agg(pg_catalog.format('%%I.%%I', pn.nspname, p.relname) || E'\\t' || p.oid, " \
	"  E'\\n' ORDER BY i.inhseqno) FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class p ON p.oid = i.inhparent " \
	"  JOIN pg_catalog.pg_namespace pn ON pn.oid = p.relnamespace WHERE i.inhrelid = c.oid) AS parents " \
	"FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace " \
	"LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam " \
	"WHERE c.relkind IN ('r', 'p') AND" USER_SCHEMA("n") "AND" NOT_EXT_MEMBER(pg_class, "c.oid") \
	"ORDER BY c.oid"


/* What ALTER TABLE ... ALTER COLUMN sets after the relation is made, for
 * column_alters(); two %s: cat_attstattarget_sql(), cat_attcompression_sql().
 * Debian's 15.20 gives every column a pg_attver option that its pg_dump
 * leaves out; SET (pg_attver=...) fails on other servers. */
#define COLUMN_PROPS_SQL \
	"CASE WHEN a.attstorage <> t.typstorage THEN a.attstorage END AS storage, %s AS stattarget, " \
	"%s AS compression, pg_catalog.array_to_string(ARRAY(SELECT o FROM pg_catalog.unnest(a.attoptions) o " \
	"  WHERE pg_catalog.substr(o, 1, 10) <> 'pg_attver='), ', ') AS attopts"

/* SQL condition: the object calls a function that reads relation rel (a
 * SQL-standard body, BEGIN ATOMIC, records what it reads).  Inside CREATE
 * TABLE rel, such a default or CHECK would be a circle: the function needs
 * the table first. */
#define CALLS_READER_OF(cls, oidexpr, rel)                                                   \
	" EXISTS (SELECT 1 FROM pg_catalog.pg_depend xf JOIN pg_catalog.pg_depend xr "            \
	"ON xr.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND xr.objid = xf.refobjid "   \
	"AND xr.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND xr.refobjid = " rel   \
	" WHERE xf.classid = 'pg_catalog." #cls "'::pg_catalog.regclass AND xf.objid = " oidexpr  \
	" AND xf.refclassid = 'pg_catalog.pg_proc'::pg_catalog.regclass) "

/* SQL condition on an attribute alias: a direct parent of its table has a
 * default (not a generation expression) for the column of the same name.
 * CREATE TABLE ... INHERITS / PARTITION OF gives the child that default, so
 * a child column without one must say DEFAULT NULL, as pg_dump does. */
#define PARENT_HAS_DEFAULT(att)                                                              \
	" EXISTS (SELECT 1 FROM pg_catalog.pg_inherits xh JOIN pg_catalog.pg_attribute xa "     \
	"ON xa.attrelid = xh.inhparent AND xa.attname = " att ".attname AND NOT xa.attisdropped " \
	"AND xa.attgenerated = '' JOIN pg_catalog.pg_attrdef xd ON xd.adrelid = xa.attrelid "     \
	"AND xd.adnum = xa.attnum WHERE xh.inhrelid = " att ".attrelid) "

#define COLUMNS_SQL \
	"SELECT a.attrelid, a.attnum, pg_catalog.quote_ident(a.attname) AS name, " \
	"pg_catalog.format_type(a.atttypid, a.atttypmod) AS typ, a.attnotnull, a.attidentity, a.attgenerated, " \
	"a.attislocal, a.attinhcount, pg_catalog.pg_get_expr(d.adbin, d.adrelid) AS def, d.oid AS defoid, " \
	"d.oid IS NOT NULL AND" CALLS_READER_OF(pg_attrdef, "d.oid", "a.attrelid") "AS circle, " \
	"d.oid IS NULL AND a.attinhcount > 0 AND" PARENT_HAS_DEFAULT("a") "AS nulldef, " \
	"CASE WHEN a.attcollation <> t.typcollation AND a.attcollation <> 0 THEN " \
	"  (SELECT pg_catalog.format('%%I.%%I', cn.nspname, co.collname) FROM pg_catalog.pg_collation co " \
	"   JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = a.attcollation) END AS coll, " \
	COLUMN_PROPS_SQL ", " \
	"CASE WHEN sc.oid IS NOT NULL THEN pg_catalog.format('%%I.%%I', sn.nspname, sc.relname) END AS idseq, s.seqstart, s.seqincrement, s.seqmin, " \
	"s.seqmax, s.seqcache, s.seqcycle " \
	"FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid " \
	"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace " \
	"JOIN pg_catalog.pg_type t ON t.oid = a.atttypid " \
	"LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum " \
	"LEFT JOIN pg_catalog.pg_depend sd ON a.attidentity <> '' AND sd.refclassid = 'pg_class'::pg_catalog.regclass " \
	"  AND sd.refobjid = a.attrelid AND sd.refobjsubid = a.attnum AND sd.classid = 'pg_class'::pg_catalog.regclass " \
	"  AND sd.deptype = 'i' " \
	"LEFT JOIN pg_catalog.pg_class sc ON sc.oid = sd.objid AND sc.relkind = 'S' " \
	"LEFT JOIN pg_catalog.pg_namespace sn ON sn.oid = sc.relnamespace " \
	"LEFT JOIN pg_catalog.pg_sequence s ON s.seqrelid = sc.oid " \
	"WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p') AND" USER_SCHEMA("n") \
	"ORDER BY a.attrelid, a.attnum"


#define CHECKS_SQL \
	"SELECT co.conrelid, co.oid, pg_catalog.quote_ident(co.conname) AS name, " \
	"pg_catalog.pg_get_constraintdef(co.oid) AS def, co.conislocal, co.convalidated, " \
	CALLS_READER_OF(pg_constraint, "co.oid", "co.conrelid") " AS circle " \
	"FROM pg_catalog.pg_constraint co JOIN pg_catalog.pg_class c ON c.oid = co.conrelid " \
	"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace " \
	"WHERE co.contype = 'c' AND c.relkind IN ('r', 'p') AND" USER_SCHEMA("n") \
	"ORDER BY co.conrelid, co.conname"


static bool at(struct cursor *c, unsigned oid, const char *col)
{
	return c->row < PQntuples(c->r) && dval_oid(c->r, c->row, col) == oid;
}

static void skip_to(struct cursor *c, unsigned oid, const char *col)
{
	while (c->row < PQntuples(c->r) && dval_oid(c->r, c->row, col) < oid)
		c->row++;
}

static const char *storage_name(char s)
{
	switch (s) {
	case 'p': return "PLAIN";
	case 'e': return "EXTERNAL";
	case 'm': return "MAIN";
	default:  return "EXTENDED";
	}
}

/* A column's COLUMN_PROPS_SQL, as ALTERs of relation q into out. */
static int column_alters(struct qb_buf *out, const char *q, PGresult *r, int i, struct qb_err *err)
{
	const char *name = pgc_str(r, i, "name");
	int rc = QB_OK;

	if (pgc_val(r, i, "storage"))
		rc = qb_buf_printf(out, err, "ALTER TABLE ONLY %s ALTER COLUMN %s SET STORAGE %s;\n",
				   q, name, storage_name(pgc_str(r, i, "storage")[0]));
	if (!rc && pgc_val(r, i, "stattarget"))
		rc = qb_buf_printf(out, err, "ALTER TABLE ONLY %s ALTER COLUMN %s SET STATISTICS %s;\n",
				   q, name, pgc_val(r, i, "stattarget"));
	if (!rc && pgc_val(r, i, "compression") && pgc_str(r, i, "compression")[0])
		rc = qb_buf_printf(out, err, "ALTER TABLE ONLY %s ALTER COLUMN %s SET COMPRESSION %s;\n",
				   q, name, pgc_str(r, i, "compression")[0] == 'l' ? "lz4" : "pglz");
	if (!rc && pgc_val(r, i, "attopts") && pgc_str(r, i, "attopts")[0])
		rc = qb_buf_printf(out, err, "ALTER TABLE ONLY %s ALTER COLUMN %s SET (%s);\n",
				   q, name, pgc_val(r, i, "attopts"));
	return rc;
}

/* A default that calls a reader of its own table (CALLS_READER_OF): set once
 * both exist, as pg_dump does. */
static int default_node(struct dump_ctx *ctx, struct dobj *t, PGresult *r, int i)
{
	const char *name = pgc_str(r, i, "name");
	struct dobj *o = dobj_add(ctx, CLS_PG_ATTRDEF, dval_oid(r, i, "defoid"), SEC_PRE, P_TABLE_LATE,
				  t->sortname, "default of %s.%s", t->qualname, name);
	int rc;

	if (!o)
		return ctx->err->code;
	rc = dobj_sql(o, ctx->err, "ALTER TABLE ONLY %s ALTER COLUMN %s SET DEFAULT %s;\n", t->qualname, name,
		      pgc_str(r, i, "def"));
	return rc ? rc : dobj_dep(ctx, dobj_index(ctx, o), dobj_index(ctx, t));
}

/* One column definition inside CREATE TABLE; ALTERs that follow go to late. */
static int column_def(struct dump_ctx *ctx, struct dobj *o, struct qb_buf *late, PGresult *r, int i,
		      bool partition, bool *first, struct qb_buf *cols)
{
	const char *name = pgc_str(r, i, "name"), *def = pgc_val(r, i, "def");
	const char *gen = pgc_val(r, i, "attgenerated"), *ident = pgc_val(r, i, "attidentity");
	struct qb_err *err = ctx->err;
	int rc = QB_OK;

	if (!gen || !gen[0]) {
		if (cols->len)
			rc = qb_buf_puts(cols, ", ", err);
		if (!rc)
			rc = qb_buf_puts(cols, name, err);
		if (rc)
			return rc;
	}
	if (def && pgc_true(r, i, "circle") && !(gen && gen[0])) {
		if ((rc = default_node(ctx, o, r, i)))
			return rc;
		def = NULL;  /* set by its own node */
	} else if (pgc_val(r, i, "defoid") &&
		   dobj_alias(ctx, CLS_PG_ATTRDEF, dval_oid(r, i, "defoid"), dobj_index(ctx, o))) {
		return ctx->err->code;
	} else if (pgc_true(r, i, "nulldef")) {
		def = "NULL";  /* not the parent's default, which the child would take */
	}
	if (partition || !pgc_true(r, i, "attislocal")) {
		/* Inherited: the parent makes the column; keep what is the child's own.
		 * An identity column has no default but may need DEFAULT NULL (nulldef),
		 * before ADD GENERATED below, which wants a column without one. */
		if (def && !(gen && gen[0]))
			rc = qb_buf_printf(late, err, "ALTER TABLE ONLY %s ALTER COLUMN %s SET DEFAULT %s;\n",
					   o->qualname, name, def);
		if (!rc && pgc_true(r, i, "attnotnull"))
			rc = qb_buf_printf(late, err, "ALTER TABLE ONLY %s ALTER COLUMN %s SET NOT NULL;\n",
					   o->qualname, name);
	} else {
		const char *coll = pgc_val(r, i, "coll");
		rc = dobj_sql(o, err, "%s\n    %s %s%s%s", *first ? "" : ",", name, pgc_val(r, i, "typ"),
			      coll ? " COLLATE " : "", coll ? coll : "");
		*first = false;
		if (!rc && gen && gen[0] == 's')
			rc = dobj_sql(o, err, " GENERATED ALWAYS AS (%s) STORED", def ? def : "NULL");
		else if (!rc && def)
			rc = dobj_sql(o, err, " DEFAULT %s", def);
		if (!rc && pgc_true(r, i, "attnotnull"))
			rc = dobj_sql(o, err, " NOT NULL");
	}
	if (!rc && ident && ident[0] && !partition)
		rc = qb_buf_printf(late, err,
				   "ALTER TABLE %s ALTER COLUMN %s ADD GENERATED %s AS IDENTITY (\n"
				   "    SEQUENCE NAME %s\n    START WITH %s\n    INCREMENT BY %s\n"
				   "    MINVALUE %s\n    MAXVALUE %s\n    CACHE %s%s\n);\n",
				   o->qualname, name, ident[0] == 'a' ? "ALWAYS" : "BY DEFAULT",
				   pgc_val(r, i, "idseq"), pgc_val(r, i, "seqstart"), pgc_val(r, i, "seqincrement"),
				   pgc_val(r, i, "seqmin"), pgc_val(r, i, "seqmax"), pgc_val(r, i, "seqcache"),
				   pgc_true(r, i, "seqcycle") ? "\n    CYCLE" : "");
	return rc ? rc : column_alters(late, o->qualname, r, i, err);
}

static int check_defs(struct dump_ctx *ctx, struct dobj *o, struct cursor *ck, unsigned oid, bool *first)
{
	int rc = QB_OK;

	for (; !rc && at(ck, oid, "conrelid"); ck->row++) {
		PGresult *r = ck->r;
		int i = ck->row;
		unsigned coid = dval_oid(r, i, "oid");
		if (!pgc_true(r, i, "conislocal"))
			continue;  /* inherited from a parent, which makes it */
		if (!pgc_true(r, i, "convalidated") || pgc_true(r, i, "circle")) {
			/* NOT VALID: added after the data, as pg_dump does; so is a CHECK
			 * that calls a reader of its own table (CALLS_READER_OF). */
			struct dobj *c = dobj_add(ctx, CLS_PG_CONSTRAINT, coid, SEC_POST, P_CHECK_LATE,
						  o->sortname, "constraint %s on %s", pgc_str(r, i, "name"), o->qualname);
			char *t = c ? qb_asprintf("CONSTRAINT %s ON %s", pgc_str(r, i, "name"), o->qualname) : NULL;
			if (!c || !t || dobj_meta(c, t, NULL, NULL, NULL, ctx->err)) {
				free(t);
				return ctx->err->code ? ctx->err->code : QB_ENOMEM;
			}
			free(t);
			rc = dobj_sql(c, ctx->err, "ALTER TABLE %s ADD CONSTRAINT %s %s;\n", o->qualname,
				      pgc_str(r, i, "name"), pgc_str(r, i, "def"));
			if (!rc)
				rc = dobj_dep(ctx, dobj_index(ctx, c), dobj_index(ctx, o));
			continue;
		}
		{
			/* Written inside CREATE TABLE, but a node of its own for its
			 * comment; its dependencies are its table's (host). */
			char *name = qb_asprintf("%s ON %s", pgc_str(r, i, "name"), o->qualname);
			struct dobj *c = name ? dnode(ctx, CLS_PG_CONSTRAINT, coid, SEC_PRE, P_TABLE, o->sortname,
						      "CONSTRAINT", name, NULL, NULL) : NULL;
			free(name);
			if (!c)
				return ctx->err->code ? ctx->err->code : QB_ENOMEM;
			c->host = dobj_index(ctx, o) + 1;
			rc = dobj_dep(ctx, dobj_index(ctx, c), dobj_index(ctx, o));
		}
		if (!rc)
			rc = dobj_sql(o, ctx->err, "%s\n    CONSTRAINT %s %s", *first ? "" : ",",
				      pgc_str(r, i, "name"), pgc_str(r, i, "def"));
		*first = false;
	}
	return rc;
}

struct dobj *dump_data_node(struct dump_ctx *ctx, const char *qualname, const char *sortname,
			    const char *cols, const char *filter, uint64_t size)
{
	struct dobj *d = dobj_add(ctx, CLS_SYNTHETIC, 0, SEC_DATA, P_TABLEDATA, sortname,
				  "data of table %s", qualname);
	const char *open = cols[0] ? " (" : "", *close = cols[0] ? ")" : "";

	if (!d)
		return NULL;
	d->kind = DK_TABLEDATA;
	d->qualname = strdup(qualname);
	/* A table without columns (all dropped, or CREATE TABLE t ()) still has
	 * rows, and COPY takes no empty list: its rows are empty lines. */
	if (filter && filter[0])
		d->copy_out = qb_asprintf("COPY (SELECT %s FROM %s %s) TO STDOUT", cols, qualname, filter);
	else
		d->copy_out = qb_asprintf("COPY %s%s%s%s TO STDOUT", qualname, open, cols, close);
	d->copy_in = qb_asprintf("COPY %s%s%s%s FROM stdin;\n", qualname, open, cols, close);
	d->est_bytes = size;
	if (!d->qualname || !d->copy_out || !d->copy_in) {
		qb_err_set(ctx->err, QB_ENOMEM, "out of memory");
		return NULL;
	}
	return d;
}

static int data_node(struct dump_ctx *ctx, struct dobj *t, const char *cols, uint64_t size)
{
	struct dobj *d = dump_data_node(ctx, t->qualname, t->sortname, cols, NULL, size);

	return d ? dobj_dep(ctx, dobj_index(ctx, d), dobj_index(ctx, t)) : ctx->err->code;
}

/* ENABLE / FORCE ROW LEVEL SECURITY after the data, with the policies: a
 * table's owner that is not a superuser could not load its rows otherwise
 * (COPY under row_security = off fails where a policy would apply). */
static int row_security_node(struct dump_ctx *ctx, struct dobj *t, bool enable, bool force)
{
	struct dobj *o;
	int rc = QB_OK;

	if (!enable && !force)
		return QB_OK;
	o = dobj_add(ctx, CLS_SYNTHETIC, 0, SEC_POST, P_POLICY, t->sortname, "row security of table %s",
		     t->qualname);
	if (!o)
		return ctx->err->code;
	if (enable)
		rc = dobj_sql(o, ctx->err, "ALTER TABLE %s ENABLE ROW LEVEL SECURITY;\n", t->qualname);
	if (!rc && force)
		rc = dobj_sql(o, ctx->err, "ALTER TABLE %s FORCE ROW LEVEL SECURITY;\n", t->qualname);
	return rc ? rc : dobj_dep(ctx, dobj_index(ctx, o), dobj_index(ctx, t));
}

static int one_table(struct dump_ctx *ctx, PGresult *r, int i, struct cursor *cols, struct cursor *ck)
{
	unsigned oid = dval_oid(r, i, "oid");
	const char *q = pgc_str(r, i, "q"), *parents = pgc_val(r, i, "parents");
	bool partition = pgc_true(r, i, "relispartition"), first = true;
	struct qb_buf late, collist;
	struct dobj *o;
	int rc;

	if (dval_oid(r, i, "reloftype"))
		return qb_err_set(ctx->err, QB_EUNSUPPORTED, "table %s is a typed table (OF type); "
				  "qbackup cannot dump it", q);
	o = dnode(ctx, CLS_PG_CLASS, oid, SEC_PRE, P_TABLE, pgc_str(r, i, "sortname"), "TABLE", q,
		  pgc_val(r, i, "owner"), "TABLE");
	if (!o || !(o->qualname = strdup(q)))
		return ctx->err->code ? ctx->err->code : QB_ENOMEM;
	qb_buf_init(&late, (size_t)1 << 28);
	qb_buf_init(&collist, (size_t)1 << 24);
	rc = dobj_sql(o, ctx->err, "CREATE %sTABLE %s", pgc_str(r, i, "relpersistence")[0] == 'u' ? "UNLOGGED " : "", q);
	if (!rc && partition) {
		const char *tab = parents ? strchr(parents, '\t') : NULL;
		if (!tab)
			rc = qb_err_set(ctx->err, QB_EINTERNAL, "partition %s has no parent", q);
		else
			rc = dobj_sql(o, ctx->err, " PARTITION OF %.*s", (int)(tab - parents), parents);
	}
	if (!rc)
		rc = dobj_sql(o, ctx->err, " (");
	skip_to(cols, oid, "attrelid");
	for (; !rc && at(cols, oid, "attrelid"); cols->row++)
		rc = column_def(ctx, o, &late, cols->r, cols->row, partition, &first, &collist);
	skip_to(ck, oid, "conrelid");
	if (!rc)
		rc = check_defs(ctx, o, ck, oid, &first);
	if (!rc && partition && first) {
		/* PARTITION OF takes no empty parentheses. */
		o->sql.len -= 2;
		o->sql.data[o->sql.len] = '\0';
	} else if (!rc) {
		rc = dobj_sql(o, ctx->err, "\n)");
	}
	if (!rc && partition)
		rc = dobj_sql(o, ctx->err, "\n%s", pgc_val(r, i, "bound"));
	if (!rc && parents && !partition) {
		rc = dobj_sql(o, ctx->err, "\nINHERITS (");
		for (const char *p = parents; !rc && p && *p;) {
			const char *tab = strchr(p, '\t'), *nl = strchr(p, '\n');
			if (!tab)
				break;
			rc = dobj_sql(o, ctx->err, "%s%.*s", p == parents ? "" : ", ", (int)(tab - p), p);
			p = nl ? nl + 1 : NULL;
		}
		if (!rc)
			rc = dobj_sql(o, ctx->err, ")");
	}
	for (const char *p = parents; !rc && p && *p;) {
		const char *tab = strchr(p, '\t'), *nl = strchr(p, '\n');
		if (!tab)
			break;
		rc = dobj_want(ctx, o, CLS_PG_CLASS, (unsigned)strtoul(tab + 1, NULL, 10));
		p = nl ? nl + 1 : NULL;
	}
	if (!rc && pgc_val(r, i, "partkey"))
		rc = dobj_sql(o, ctx->err, "\nPARTITION BY %s", pgc_val(r, i, "partkey"));
	if (!rc && pgc_val(r, i, "am"))
		rc = dobj_sql(o, ctx->err, "\nUSING %s", pgc_val(r, i, "am"));
	if (!rc && pgc_val(r, i, "opts") && pgc_str(r, i, "opts")[0])
		rc = dobj_sql(o, ctx->err, "\nWITH (%s)", pgc_val(r, i, "opts"));
	if (!rc)
		rc = dobj_sql(o, ctx->err, ";\n%s", late.data ? late.data : "");
	if (!rc)
		rc = row_security_node(ctx, o, pgc_true(r, i, "relrowsecurity"),
				       pgc_true(r, i, "relforcerowsecurity"));
	if (!rc) {
		char ri = pgc_str(r, i, "relreplident")[0];
		if (ri == 'f' || ri == 'n')
			rc = dobj_sql(o, ctx->err, "ALTER TABLE ONLY %s REPLICA IDENTITY %s;\n", q,
				      ri == 'f' ? "FULL" : "NOTHING");
	}
	if (!rc && pgc_str(r, i, "relkind")[0] == 'r')
		rc = data_node(ctx, o, collist.data ? collist.data : "",
			       strtoull(pgc_str(r, i, "size"), NULL, 10));
	qb_buf_release(&late);
	qb_buf_release(&collist);
	return rc;
}

int dump_tables(struct dump_ctx *ctx)
{
	struct cursor cols = { 0 }, ck = { 0 };
	PGresult *r = dq(ctx, TABLES_SQL);
	int rc = QB_OK;

	if (!r)
		return ctx->err->code;
	cols.r = dq(ctx, COLUMNS_SQL, cat_attstattarget_sql(ctx->version),
		    cat_attcompression_sql(ctx->version));
	ck.r = cols.r ? dq(ctx, CHECKS_SQL) : NULL;
	if (!cols.r || !ck.r)
		rc = ctx->err->code;
	for (int i = 0; i < PQntuples(r) && !rc; i++)
		rc = one_table(ctx, r, i, &cols, &ck);
	PQclear(ck.r);
	PQclear(cols.r);
	PQclear(r);
	return rc;
}

/* The dump's own node for relation oid (its index in *idx), NULL for one it does
 * not dump (an extension's). */
static struct dobj *own_relation(struct dump_ctx *ctx, unsigned oid, size_t *idx)
{
	struct dobj *o;

	*idx = dobj_find(ctx, CLS_PG_CLASS, oid);
	o = *idx == SIZE_MAX ? NULL : ctx->objs[*idx];
	return o && o->classid == CLS_PG_CLASS && o->qualname ? o : NULL;
}

/* A materialized view's columns keep their statistics targets, storage and options. */
static int matview_columns(struct dump_ctx *ctx)
{
	PGresult *r = dq(ctx,
		"SELECT a.attrelid, pg_catalog.quote_ident(a.attname) AS name, " COLUMN_PROPS_SQL " "
		"FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
		"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
		"JOIN pg_catalog.pg_type t ON t.oid = a.atttypid "
		"WHERE c.relkind = 'm' AND a.attnum > 0 AND NOT a.attisdropped AND" USER_SCHEMA("n")
		"ORDER BY a.attrelid, a.attnum",
		cat_attstattarget_sql(ctx->version), cat_attcompression_sql(ctx->version));
	int rc = QB_OK;

	if (!r)
		return ctx->err->code;
	for (int i = 0; i < PQntuples(r) && !rc; i++) {
		size_t idx;
		struct dobj *o = own_relation(ctx, dval_oid(r, i, "attrelid"), &idx);
		if (!o)
			continue;
		rc = column_alters(&o->sql, o->qualname, r, i, ctx->err);
	}
	PQclear(r);
	return rc;
}

/* A view's column defaults (ALTER VIEW ... SET DEFAULT: what an INSERT through it gets). */
static int view_defaults(struct dump_ctx *ctx)
{
	PGresult *r = dq(ctx,
		"SELECT d.oid, d.adrelid, pg_catalog.quote_ident(a.attname) AS name, "
		"pg_catalog.pg_get_expr(d.adbin, d.adrelid) AS def "
		"FROM pg_catalog.pg_attrdef d JOIN pg_catalog.pg_class c ON c.oid = d.adrelid "
		"JOIN pg_catalog.pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum "
		"WHERE c.relkind = 'v' ORDER BY d.adrelid, d.adnum");
	int rc = QB_OK;

	if (!r)
		return ctx->err->code;
	for (int i = 0; i < PQntuples(r) && !rc; i++) {
		size_t idx;
		struct dobj *o = own_relation(ctx, dval_oid(r, i, "adrelid"), &idx);
		if (!o)
			continue;
		rc = dobj_sql(o, ctx->err, "ALTER VIEW %s ALTER COLUMN %s SET DEFAULT %s;\n", o->qualname,
			      pgc_str(r, i, "name"), pgc_str(r, i, "def"));
		if (!rc)
			rc = dobj_alias(ctx, CLS_PG_ATTRDEF, dval_oid(r, i, "oid"), idx);
	}
	PQclear(r);
	return rc;
}

int dump_views(struct dump_ctx *ctx)
{
	PGresult *r = dq(ctx,
		"SELECT c.oid, c.relkind, n.nspname || '.' || c.relname AS sortname, "
		"pg_catalog.format('%%I.%%I', n.nspname, c.relname) AS q, " OWNER("c.relowner") " AS owner, "
		"pg_catalog.pg_get_viewdef(c.oid) AS def, " RELOPTIONS("c") " AS opts, "
		"c.relispopulated, "
		"CASE WHEN am.amname IS NOT NULL AND am.amname <> 'heap' THEN pg_catalog.quote_ident(am.amname) END AS am "
		"FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
		"LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam "
		"WHERE c.relkind IN ('v', 'm') AND" USER_SCHEMA("n") "AND" NOT_EXT_MEMBER(pg_class, "c.oid")
		"ORDER BY 3");
	int rc = QB_OK;

	if (!r)
		return ctx->err->code;
	for (int i = 0; i < PQntuples(r) && !rc; i++) {
		bool mat = pgc_str(r, i, "relkind")[0] == 'm';
		const char *q = pgc_str(r, i, "q"), *def = pgc_str(r, i, "def"), *opts = pgc_val(r, i, "opts");
		size_t len = strlen(def);
		struct dobj *o = dnode(ctx, CLS_PG_CLASS, dval_oid(r, i, "oid"), SEC_PRE, P_VIEW,
				       pgc_str(r, i, "sortname"), mat ? "MATERIALIZED VIEW" : "VIEW", q,
				       pgc_val(r, i, "owner"), "TABLE");
		if (!o || !(o->qualname = strdup(q)))
			return ctx->err->code ? ctx->err->code : QB_ENOMEM;
		while (len && (def[len - 1] == ';' || def[len - 1] == '\n' || def[len - 1] == ' '))
			len--;
		rc = dobj_sql(o, ctx->err, "CREATE %s %s%s%s%s%s%s AS\n%.*s%s;\n", mat ? "MATERIALIZED VIEW" : "VIEW",
			      q, mat && pgc_val(r, i, "am") ? " USING " : "",
			      mat && pgc_val(r, i, "am") ? pgc_val(r, i, "am") : "",
			      opts && opts[0] ? " WITH (" : "", opts && opts[0] ? opts : "", opts && opts[0] ? ")" : "",
			      (int)len, def, mat ? "\n  WITH NO DATA" : "");
		if (!rc && mat && pgc_true(r, i, "relispopulated")) {
			struct dobj *f = dobj_add(ctx, CLS_SYNTHETIC, 0, SEC_POST, P_REFRESH, o->sortname,
						  "data of materialized view %s", q);
			if (!f)
				return ctx->err->code;
			rc = dobj_sql(f, ctx->err, "REFRESH MATERIALIZED VIEW %s;\n", q);
			if (!rc)
				rc = dobj_dep(ctx, dobj_index(ctx, f), dobj_index(ctx, o));
		}
	}
	PQclear(r);
	if (!rc)
		rc = view_defaults(ctx);
	return rc ? rc : matview_columns(ctx);
}
