/*
 * dump_intern.h - the dumper's object graph.
 *
 * Collectors (dump_*.c) read the catalogs and register one node per object
 * to create, each with the SQL that creates it, a section (before data,
 * data, after data), a priority inside its section and a sort name.  The
 * dependencies come from pg_depend (dump_deps.c) plus a few the catalogs do
 * not record (a partition after its parent, everything after-data after all
 * data).  The nodes are then written in a topological order that prefers,
 * among the ready ones, the lowest (section, priority, sort name): the
 * order pg_dump uses when nothing forces another.
 */
#ifndef QB_DUMP_INTERN_H
#define QB_DUMP_INTERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pg_intern.h"

/* Catalog OIDs are fixed since PostgreSQL 7.x (pg_class.h etc.). */
#define CLS_PG_CLASS       1259u
#define CLS_PG_TYPE        1247u
#define CLS_PG_PROC        1255u
#define CLS_PG_NAMESPACE   2615u
#define CLS_PG_CONSTRAINT  2606u
#define CLS_PG_ATTRDEF     2604u
#define CLS_PG_REWRITE     2618u
#define CLS_PG_TRIGGER     2620u
#define CLS_PG_EXTENSION   3079u
#define CLS_PG_COLLATION   3456u
#define CLS_PG_TS_CONFIG   3602u
#define CLS_PG_TS_DICT     3600u
#define CLS_PG_POLICY      3256u
#define CLS_PG_STATS_EXT   3381u
#define CLS_PG_LARGEOBJECT 2613u
#define CLS_PG_DEFAULT_ACL 826u
#define CLS_SYNTHETIC      0u      /* nodes with no catalog row of their own */

enum dsection { SEC_PRE, SEC_DATA, SEC_POST };

enum dprio {
	P_SCHEMA = 10, P_EXTENSION = 20, P_COLLATION = 30, P_TYPE = 40, P_FUNC = 50,
	P_AGG = 55, P_TSDICT = 60, P_TSCONFIG = 61, P_SEQUENCE = 70, P_TABLE = 80,
	P_VIEW = 90, P_SEQ_OWNED = 95,
	P_TABLEDATA = 100, P_SEQSET = 110, P_LOB = 120, P_BARRIER = 199,
	P_CONSTRAINT = 200, P_INDEX = 210, P_INDEX_ATTACH = 215, P_CHECK_LATE = 220,
	P_FK = 230, P_TRIGGER = 240, P_RULE = 250, P_POLICY = 260, P_STATS = 270,
	P_REFRESH = 280, P_TABLE_LATE = 290, P_DEFACL = 300
};

enum dkind { DK_SQL, DK_TABLEDATA, DK_LOB };

struct dobj {
	unsigned classid, objid;
	int section;
	int prio;
	enum dkind kind;
	char *sortname;          /* schema + name, for a stable order */
	char *desc;              /* "table public.t": for errors and progress */
	struct qb_buf sql;       /* what creates it */
	/* What COMMENT ON / GRANT ON take: "TABLE public.t", "FUNCTION public.f(integer)". */
	char *comment_target;
	char *acl_kind;          /* "TABLE", "SEQUENCE", "FUNCTION", ... */
	char *acl_target;        /* the name after the kind */
	char *owner;             /* quoted role name, or NULL */
	bool owner_follows;      /* owner set by another object's: no ALTER ... OWNER */
	char *qualname;          /* relations: quoted schema.name */
	/* DK_TABLEDATA */
	char *copy_out;          /* COPY ... TO STDOUT */
	char *copy_in;           /* COPY ... FROM stdin; (the script's line) */
	uint64_t est_bytes;
	/* graph */
	size_t *deps;
	size_t ndeps, capdeps;
	size_t nin;
	size_t host;             /* 1 + index of the node whose SQL holds this one's, or 0 */
	uint64_t *wants;         /* (classid << 32 | objid) resolved by dump_deps() */
	size_t nwants;
	size_t *rdeps;           /* filled by the sort */
	size_t nrdeps;
	int done;
};

struct dmap_slot { uint64_t key; size_t val; };

struct dump_ctx {
	PGconn *conn;
	int version;             /* server_version_num */
	struct dobj **objs;
	size_t n, cap;
	struct dmap_slot *map;   /* (classid, objid) -> node or alias */
	size_t mapcap, mapn;
	size_t barrier;          /* node every after-data node follows */
	struct qb_err *err;
};

/* Register a node; NULL on allocation failure (err set).  desc is printf-like. */
struct dobj *dobj_add(struct dump_ctx *ctx, unsigned classid, unsigned objid, int section,
		      int prio, const char *sortname, const char *descfmt, ...)
	__attribute__((format(printf, 7, 8)));
/* dobj_add for a named catalog object: desc "kind name", COMMENT ON / OWNER
 * target "KIND name", acl_target name; owner and acl_kind may be NULL. */
struct dobj *dnode(struct dump_ctx *ctx, unsigned classid, unsigned objid, int section, int prio,
		   const char *sortname, const char *kind, const char *name, const char *owner,
		   const char *acl_kind);
/* Make (classid, objid) resolve to node idx: parts of another object. */
int dobj_alias(struct dump_ctx *ctx, unsigned classid, unsigned objid, size_t idx);
/* Node index for a catalog object (aliases followed), or SIZE_MAX. */
size_t dobj_find(const struct dump_ctx *ctx, unsigned classid, unsigned objid);
size_t dobj_index(const struct dump_ctx *ctx, const struct dobj *o);
int dobj_dep(struct dump_ctx *ctx, size_t from, size_t to);
/* o depends on a catalog object that may be registered later (or never:
 * then the dependency is on something outside the dump and is dropped). */
int dobj_want(struct dump_ctx *ctx, struct dobj *o, unsigned classid, unsigned objid);
int dobj_resolve_wants(struct dump_ctx *ctx);
int dobj_sql(struct dobj *o, struct qb_err *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Order the nodes; *order (caller frees) holds ctx->n indexes. */
int dobj_sort(struct dump_ctx *ctx, size_t **order, struct qb_err *err);
void dobj_free_all(struct dump_ctx *ctx);

/* Run a catalog query; NULL on failure with ctx->err set. */
PGresult *dq(struct dump_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
unsigned dval_oid(const PGresult *r, int row, const char *col);
/* Set the metadata fields from strings (copied). */
int dobj_meta(struct dobj *o, const char *comment_target, const char *acl_kind,
	      const char *acl_target, const char *owner, struct qb_err *err);

/* A node that writes the rows of relation qualname (quoted) with COPY: of
 * columns cols (quoted, ", "-separated; "" for a table without columns),
 * only those that filter selects ("WHERE ..."; NULL or "" for all).  NULL on
 * failure (err set); the caller adds its dependencies. */
struct dobj *dump_data_node(struct dump_ctx *ctx, const char *qualname, const char *sortname,
			    const char *cols, const char *filter, uint64_t size);
/* A node that sets sequence q (quoted) to its current value, after node after. */
int dump_seq_value(struct dump_ctx *ctx, const char *q, size_t after, const char *sortname);

/* Collectors, in the order they run. */
int dump_unsupported(struct dump_ctx *ctx);
int dump_schemas(struct dump_ctx *ctx);
int dump_extensions(struct dump_ctx *ctx);
int dump_collations(struct dump_ctx *ctx);
int dump_types(struct dump_ctx *ctx);
int dump_functions(struct dump_ctx *ctx);
int dump_aggregates(struct dump_ctx *ctx);
int dump_textsearch(struct dump_ctx *ctx);
int dump_sequences(struct dump_ctx *ctx);
int dump_tables(struct dump_ctx *ctx);
int dump_extension_data(struct dump_ctx *ctx);
int dump_identity_values(struct dump_ctx *ctx);
int dump_views(struct dump_ctx *ctx);
int dump_constraints(struct dump_ctx *ctx);
int dump_indexes(struct dump_ctx *ctx);
int dump_triggers(struct dump_ctx *ctx);
int dump_rules(struct dump_ctx *ctx);
int dump_policies(struct dump_ctx *ctx);
int dump_statistics(struct dump_ctx *ctx);
int dump_large_objects(struct dump_ctx *ctx);
int dump_default_acls(struct dump_ctx *ctx);
/* Passes over the registered nodes. */
int dump_deps(struct dump_ctx *ctx);
int dump_comments(struct dump_ctx *ctx);
int dump_acls(struct dump_ctx *ctx);
int dump_owners(struct dump_ctx *ctx);

/* Version-dependent catalog SQL, all in catalog.c. */
/* SQL condition: the object is not part of an extension (CREATE EXTENSION makes those). */
#define NOT_EXT_MEMBER(cls, oidexpr)                                                   \
	" NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend xd WHERE xd.classid = 'pg_catalog." #cls \
	"'::pg_catalog.regclass AND xd.objid = " oidexpr " AND xd.deptype = 'e') "
/* SQL expression: a role oid column as a quoted role name. */
#define OWNER(col) "pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(" col "))"
/* SQL condition: the object is not an internal part of another (a range
 * type's constructors and casts are made by CREATE TYPE). */
#define NOT_INTERNAL(cls, oidexpr)                                                     \
	" NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend xi WHERE xi.classid = 'pg_catalog." #cls \
	"'::pg_catalog.regclass AND xi.objid = " oidexpr " AND xi.deptype = 'i') "
/* SQL expression on a pg_class alias: its storage parameters and its TOAST
 * table's (as toast.NAME), as WITH (...) takes them; NULL when none. */
#define RELOPTIONS(c)                                                                    \
	"pg_catalog.array_to_string(" c ".reloptions || ARRAY(SELECT 'toast.' || xo "        \
	"FROM pg_catalog.pg_class xt, pg_catalog.unnest(xt.reloptions) xo WHERE xt.oid = " c \
	".reltoastrelid), ', ')"
/* SQL condition on a namespace alias: not a system schema. */
#define USER_SCHEMA(nsp)                                                             \
	" " nsp ".nspname <> 'information_schema' AND " nsp ".nspname !~ '^pg_' "
const char *cat_collation_locale_sql(int version);
const char *cat_attstattarget_sql(int version);
const char *cat_attcompression_sql(int version);
const char *cat_trigger_parent_sql(int version);
const char *cat_sequence_unlogged_sql(int version);

#endif
