/*
 * dump.c - qb_db_dump(): one snapshot, every object, one gzip SQL file.
 *
 * Steps: connect; open a REPEATABLE READ READ ONLY transaction (every
 * catalog query and every COPY below sees the same snapshot); refuse
 * what cannot be dumped; collect the objects; lock the tables against
 * concurrent DDL; order the objects; write them, streaming each table's
 * rows with COPY TO STDOUT into the compressor.  The file appears under its
 * final name only once complete (qb_afile).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dump_intern.h"
#include "qb/array.h"
#include "qb/fsutil.h"
#include "qb/gz.h"
#include "qb/hash.h"
#include "qb/log.h"
#include "qb/pgdump.h"

#define STAGE_SIZE (256 * 1024)
#define LOB_CHUNK 262144

struct out {
	struct qb_afile file;
	struct qb_hash *sha;
	struct qb_gzw *gz;
	char *stage;
	size_t staged;
	uint64_t raw;
};

static int sink(void *ud, const void *p, size_t n, struct qb_err *err)
{
	struct out *o = ud;

	qb_hash_update(o->sha, p, n);
	return qb_afile_write(&o->file, p, n, err);
}

static int flush_stage(struct out *o, struct qb_err *err)
{
	int rc = o->staged ? qb_gzw_write(o->gz, o->stage, o->staged, err) : QB_OK;

	o->staged = 0;
	return rc;
}

static int out_write(struct out *o, const void *p, size_t n, struct qb_err *err)
{
	o->raw += n;
	if (n >= STAGE_SIZE) {
		int rc = flush_stage(o, err);
		return rc ? rc : qb_gzw_write(o->gz, p, n, err);
	}
	if (o->staged + n > STAGE_SIZE) {
		int rc = flush_stage(o, err);
		if (rc)
			return rc;
	}
	memcpy(o->stage + o->staged, p, n);
	o->staged += n;
	return QB_OK;
}

static int out_puts(struct out *o, const char *s, struct qb_err *err)
{
	return out_write(o, s, strlen(s), err);
}

struct run {
	struct dump_ctx ctx;
	struct out out;
	const struct qb_progress_cb *progress;
	struct qb_progress p;
	struct timespec t0;
	double last_report;
	struct qb_db_dump_result *res;
	size_t tables_cap;
};

static void report(struct run *run, bool force)
{
	run->p.bytes_done = run->out.raw;
	qb_progress_report(run->progress, &run->p, &run->t0, &run->last_report, force);
}

static int add_table_stat(struct run *run, const char *name, int64_t rows, struct qb_err *err)
{
	struct qb_db_dump_result *res = run->res;

	if (qb_array_grow(&res->tables, &run->tables_cap, res->ntables + 1, sizeof(*res->tables),
			  64))
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	res->tables[res->ntables].name = strdup(name);
	res->tables[res->ntables].rows = rows;
	if (!res->tables[res->ntables].name)
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	res->ntables++;
	return QB_OK;
}

static int copy_table(struct run *run, struct dobj *o, struct qb_err *err)
{
	PGconn *c = run->ctx.conn;
	PGresult *r = PQexec(c, o->copy_out);
	uint64_t last = run->out.raw;
	int rc = QB_OK;
	char *row;
	int n;

	if (!r || PQresultStatus(r) != PGRES_COPY_OUT) {
		rc = pgc_fail(c, r, err, o->desc);
		PQclear(r);
		return rc;
	}
	PQclear(r);
	rc = out_puts(&run->out, o->copy_in, err);
	while ((n = PQgetCopyData(c, &row, 0)) > 0) {
		if (!rc)
			rc = out_write(&run->out, row, (size_t)n, err);
		PQfreemem(row);
		if (!rc && run->out.raw - last > (4u << 20)) {
			last = run->out.raw;
			report(run, false);
		}
	}
	if (n == -2)
		return pgc_fail(c, NULL, err, o->desc);
	r = PQgetResult(c);
	if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
		if (!rc)
			rc = pgc_fail(c, r, err, o->desc);
	} else if (!rc) {
		rc = add_table_stat(run, o->qualname, strtoll(PQcmdTuples(r), NULL, 10), err);
	}
	PQclear(r);
	pgc_discard_results(c);
	return rc ? rc : out_puts(&run->out, "\\.\n", err);
}

static int copy_lob(struct run *run, struct dobj *o, struct qb_err *err)
{
	static const char hex[] = "0123456789abcdef";
	char oid[16], off[24];
	const char *params[2] = { oid, off };
	int formats[2] = { 0, 0 };
	uint64_t offset = 0;
	char *line = malloc(2 * LOB_CHUNK + 128);
	int rc = QB_OK;

	if (!line)
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	snprintf(oid, sizeof(oid), "%u", o->objid);
	for (;;) {
		PGresult *r;
		int len;
		const unsigned char *v;
		size_t k;

		snprintf(off, sizeof(off), "%llu", (unsigned long long)offset);
		r = PQexecParams(run->ctx.conn, "SELECT pg_catalog.lo_get($1::pg_catalog.oid, $2::pg_catalog.int8, 262144)",
				 2, NULL, params, NULL, formats, 1);
		if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
			rc = pgc_fail(run->ctx.conn, r, err, o->desc);
			PQclear(r);
			break;
		}
		len = PQgetlength(r, 0, 0);
		v = (const unsigned char *)PQgetvalue(r, 0, 0);
		if (len > 0) {
			k = (size_t)snprintf(line, 128, "SELECT pg_catalog.lo_put('%s', %s, '\\x", oid, off);
			for (int i = 0; i < len; i++) {
				line[k++] = hex[v[i] >> 4];
				line[k++] = hex[v[i] & 15];
			}
			memcpy(line + k, "');\n", 4);
			rc = out_write(&run->out, line, k + 4, err);
		}
		PQclear(r);
		offset += (uint64_t)len;
		if (rc || len < LOB_CHUNK)
			break;
	}
	free(line);
	return rc;
}

/* A node's description goes into a "--" comment: no line break may escape
 * it, and the comment always ends with its own line break, however long. */
static int write_heading(struct out *o, const struct dobj *d, struct qb_err *err)
{
	char buf[600];
	size_t n = (size_t)snprintf(buf, sizeof(buf) - 8, "\n--\n-- %s", d->desc);

	if (n > sizeof(buf) - 9)
		n = sizeof(buf) - 9;
	for (size_t i = 4; i < n; i++)
		if (buf[i] == '\n' || buf[i] == '\r')
			buf[i] = ' ';
	memcpy(buf + n, "\n--\n\n", 5);
	return out_write(o, buf, n + 5, err);
}

static int collect(struct dump_ctx *ctx)
{
	static int (*const steps[])(struct dump_ctx *) = {
		dump_unsupported, dump_schemas, dump_extensions, dump_collations, dump_types,
		dump_functions, dump_aggregates, dump_textsearch, dump_sequences, dump_tables,
		dump_extension_data, dump_identity_values, dump_views, dump_constraints, dump_indexes, dump_triggers,
		dump_rules, dump_policies, dump_statistics, dump_large_objects, dump_default_acls,
		dump_deps, dump_owners, dump_comments, dump_acls,
	};
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		int rc = steps[i](ctx);
		if (rc)
			return rc;
	}
	return QB_OK;
}

static int lock_tables(struct dump_ctx *ctx)
{
	struct qb_buf sql;
	int rc = QB_OK, count = 0;

	qb_buf_init(&sql, (size_t)1 << 26);
	for (size_t i = 0; i <= ctx->n && !rc; i++) {
		struct dobj *o = i < ctx->n ? ctx->objs[i] : NULL;
		if (o && o->kind == DK_TABLEDATA) {
			rc = qb_buf_printf(&sql, ctx->err, "%s%s", count ? ", " : "LOCK TABLE ", o->qualname);
			count++;
		}
		if (!rc && count && (!o || count == 500)) {
			rc = qb_buf_puts(&sql, " IN ACCESS SHARE MODE", ctx->err);
			if (!rc)
				rc = pgc_exec(ctx->conn, sql.data, ctx->err);
			qb_buf_reset(&sql);
			count = 0;
		}
	}
	qb_buf_release(&sql);
	return rc;
}

/* What the header says of the source database. */
struct dbinfo {
	char *enc, *collate, *ctype, *owner, *provider, *locale;
};

static int begin_snapshot(struct run *run, struct dbinfo *db, struct qb_err *err)
{
	PGconn *c = run->ctx.conn;
	PGresult *r;
	char *sql;
	int rc;

	run->ctx.version = PQserverVersion(c);
	if (run->ctx.version < 120000)
		return qb_err_set(err, QB_EUNSUPPORTED, "PostgreSQL server version %d is too old: 12 or later is needed",
				  run->ctx.version / 10000);
	sql = qb_asprintf("SELECT pg_catalog.pg_encoding_to_char(d.encoding), d.datcollate, d.datctype, "
			  "pg_catalog.current_database(), pg_catalog.current_setting('server_version'), "
			  "pg_catalog.pg_get_userbyid(d.datdba), %s FROM pg_catalog.pg_database d "
			  "WHERE d.datname = pg_catalog.current_database()",
			  pgc_locale_columns(run->ctx.version));
	r = sql ? pgc_query(c, sql, err) : NULL;
	free(sql);
	if (!r)
		return err->code ? err->code : qb_err_set(err, QB_ENOMEM, "out of memory");
	db->provider = pgh_encode(PQgetvalue(r, 0, 6));
	db->locale = pgh_encode(PQgetvalue(r, 0, 7));
	db->enc = strdup(PQgetvalue(r, 0, 0));
	db->collate = strdup(PQgetvalue(r, 0, 1));
	db->ctype = strdup(PQgetvalue(r, 0, 2));
	run->res->database = strdup(PQgetvalue(r, 0, 3));
	run->res->server_version = strdup(PQgetvalue(r, 0, 4));
	db->owner = pgh_encode(PQgetvalue(r, 0, 5));
	PQclear(r);
	if (!db->enc || !db->collate || !db->ctype || !db->owner || !db->provider || !db->locale ||
	    !run->res->database || !run->res->server_version)
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	if (PQsetClientEncoding(c, db->enc) != 0)
		return pgc_fail(c, NULL, err, "unable to set the client encoding");
	sql = qb_asprintf("SET DateStyle = ISO; SET IntervalStyle = postgres; SET extra_float_digits = 3; "
			  "SET statement_timeout = 0; SET lock_timeout = '60s'; "
			  "SET idle_in_transaction_session_timeout = 0; SET row_security = off; "
			  "SELECT pg_catalog.set_config('search_path', '', false)");
	if (!sql)
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	rc = pgc_exec(c, sql, err);
	free(sql);
	/* On its own: in a multi-statement string it would not be the first. */
	return rc ? rc : pgc_exec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", err);
}

static int write_header(struct run *run, const struct dbinfo *db, struct qb_err *err)
{
	char when[64];
	struct tm tm;
	char *h;
	int rc;

	localtime_r(&run->res->started, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %z", &tm);
	h = qb_asprintf("--\n-- PostgreSQL database dump made by qbackup " QB_VERSION "\n"
			"-- server version %s, started %s\n"
			"-- Restore with: qrestore --db FILE, or gunzip -c FILE | psql -v ON_ERROR_STOP=1 -d NEWDB\n"
			"--\n-- qbackup-database: encoding=%s\tlc_collate=%s\tlc_ctype=%s\t"
			"locale_provider=%s\tlocale=%s\towner=%s\n--\n\n"
			"SET statement_timeout = 0;\nSET lock_timeout = 0;\n"
			"SET idle_in_transaction_session_timeout = 0;\nSET client_encoding = '%s';\n"
			"SET standard_conforming_strings = on;\n"
			"SELECT pg_catalog.set_config('search_path', '', false);\n"
			"SET check_function_bodies = false;\nSET xmloption = content;\n"
			"SET client_min_messages = warning;\nSET row_security = off;\n",
			run->res->server_version, when, db->enc, db->collate, db->ctype, db->provider,
			db->locale, db->owner, db->enc);
	if (!h)
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	for (char *p = h; *p; p++)
		if (*p == '\r')
			*p = ' ';
	rc = out_puts(&run->out, h, err);
	free(h);
	return rc;
}

static int write_all(struct run *run, const size_t *order, struct qb_err *err)
{
	struct dump_ctx *ctx = &run->ctx;
	int rc = QB_OK;

	for (size_t i = 0; i < ctx->n && !rc; i++) {
		struct dobj *o = ctx->objs[order[i]];
		if (o->kind == DK_SQL && !o->sql.len)
			continue;
		rc = write_heading(&run->out, o, err);
		if (!rc && o->sql.len)
			rc = out_write(&run->out, o->sql.data, o->sql.len, err);
		if (!rc && o->kind == DK_TABLEDATA) {
			run->p.current = o->qualname;
			rc = copy_table(run, o, err);
			run->p.items_done++;
			qb_log(QB_LOG_DEBUG, "dumped %s: %" PRId64 " rows", o->qualname,
			       run->res->ntables ? run->res->tables[run->res->ntables - 1].rows : 0);
			report(run, false);
		} else if (!rc && o->kind == DK_LOB) {
			rc = copy_lob(run, o, err);
		}
	}
	return rc ? rc : out_puts(&run->out, "\n--\n-- qbackup dump complete\n--\n", err);
}

int qb_db_dump(const struct qb_config *cfg, const char *backup_dir, const char *name,
	       const struct qb_progress_cb *progress, struct qb_db_dump_result *res,
	       struct qb_err *err)
{
	struct run run;
	struct dbinfo db = { 0 };
	size_t *order = NULL;
	long level, threads;
	int rc;

	memset(&run, 0, sizeof(run));
	memset(res, 0, sizeof(*res));
	run.res = res;
	run.progress = progress;
	run.ctx.err = err;
	run.out.file.fd = -1;
	run.p.step = "db";
	res->started = time(NULL);
	qb_clock_start(&run.t0);

	/* libdeflate's 7 writes smaller files than gzip -6 and, on every core, still
	 * several times faster; its 6 is faster still but a little larger. */
	rc = qb_config_get_long(cfg, "DB_COMPRESS_LEVEL", 7, 1, 12, &level, err);
	if (!rc)
		rc = qb_config_get_long(cfg, "COMPRESS_THREADS", 0, 0, 256, &threads, err);
	if (!rc)
		rc = pgc_connect(cfg, NULL, &run.ctx.conn, err);
	if (!rc)
		rc = begin_snapshot(&run, &db, err);
	if (!rc)
		rc = collect(&run.ctx);
	if (!rc)
		rc = lock_tables(&run.ctx);
	if (!rc)
		rc = dobj_sort(&run.ctx, &order, err);
	if (rc)
		goto out;
	res->nobjects = run.ctx.n;
	for (size_t i = 0; i < run.ctx.n; i++)
		if (run.ctx.objs[i]->kind == DK_TABLEDATA) {
			run.p.items_total++;
			run.p.bytes_total += run.ctx.objs[i]->est_bytes;
		}

	run.out.sha = qb_hash_new(QB_SHA256);
	run.out.stage = malloc(STAGE_SIZE);
	if (!run.out.sha || !run.out.stage) {
		rc = qb_err_set(err, QB_ENOMEM, "out of memory");
		goto out;
	}
	rc = qb_afile_open(&run.out.file, backup_dir, name, err);
	if (!rc)
		rc = qb_gzw_new(&run.out.gz, sink, &run.out, (int)level, (int)threads, err);
	if (!rc)
		rc = write_header(&run, &db, err);
	if (!rc)
		rc = write_all(&run, order, err);
	if (!rc)
		rc = flush_stage(&run.out, err);
	if (!rc)
		rc = qb_gzw_finish(run.out.gz, err);
	if (!rc) {
		res->bytes = run.out.file.written;
		res->path = strdup(run.out.file.final);
		rc = qb_afile_commit(&run.out.file, err);
	}
	if (!rc) {
		qb_hash_final_hex(run.out.sha, res->sha256);
		res->raw_bytes = run.out.raw;
		res->finished = time(NULL);
		res->seconds = qb_seconds_since(&run.t0);
		run.p.final = true;
		report(&run, true);
	}
out:
	qb_gzw_free(run.out.gz);
	qb_afile_abort(&run.out.file);
	qb_hash_free(run.out.sha);
	free(run.out.stage);
	free(order);
	free(db.enc);
	free(db.collate);
	free(db.ctype);
	free(db.owner);
	free(db.provider);
	free(db.locale);
	dobj_free_all(&run.ctx);
	if (run.ctx.conn)
		PQfinish(run.ctx.conn);
	if (rc)
		qb_db_dump_result_release(res);
	return rc;
}

void qb_db_dump_result_release(struct qb_db_dump_result *res)
{
	if (!res)
		return;
	for (size_t i = 0; i < res->ntables; i++)
		free(res->tables[i].name);
	free(res->tables);
	free(res->path);
	free(res->database);
	free(res->server_version);
	memset(res, 0, sizeof(*res));
}
