/*
 * restore.c - qb_db_restore(): never leaves the target half-restored.
 *
 * 1. The whole script is read once (qb_db_check_script): gzip CRCs,
 *    checksum, meta-commands, truncation.  Nothing is touched before.
 * 2. A new database is created beside the target, from template0, with the
 *    target's (or the dump's) encoding, locale and owner.
 * 3. The script runs there.  Any error drops it; the target is unchanged.
 * 4. One transaction renames the target to NAME_before_YYYYMMDD_HHMMSS and
 *    the new database to NAME (ALTER DATABASE RENAME is transactional).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pg_intern.h"
#include "qb/fsutil.h"
#include "qb/gz.h"
#include "qb/log.h"
#include "qb/pgdump.h"
#include "script.h"

#define PG_NAME_MAX 63

struct target {
	char *name;
	bool exists;
	char *owner, *encoding, *collate, *ctype;
	unsigned oid;
};

static void target_release(struct target *t)
{
	free(t->name);
	free(t->owner);
	free(t->encoding);
	free(t->collate);
	free(t->ctype);
	memset(t, 0, sizeof(*t));
}

static void notice_to_log(void *arg, const char *msg)
{
	(void)arg;
	qb_log(QB_LOG_DEBUG, "server: %.*s", (int)strcspn(msg, "\n"), msg);
}

static int maint_connect(const struct qb_config *cfg, PGconn **c, struct qb_err *err)
{
	int rc = pgc_connect(cfg, "postgres", c, err);

	if (rc) {
		struct qb_err e2 = { 0 };
		if (!pgc_connect(cfg, "template1", c, &e2))
			return QB_OK;
	}
	return rc;
}

static int load_target(PGconn *c, const char *name, struct target *t, struct qb_err *err)
{
	const char *params[1] = { name };
	PGresult *r = PQexecParams(c,
		"SELECT d.oid, pg_catalog.pg_get_userbyid(d.datdba), pg_catalog.pg_encoding_to_char(d.encoding), "
		"d.datcollate, d.datctype FROM pg_catalog.pg_database d WHERE d.datname = $1",
		1, NULL, params, NULL, NULL, 0);
	int rc = QB_OK;

	if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
		rc = pgc_fail(c, r, err, "unable to look up the target database");
		PQclear(r);
		return rc;
	}
	t->name = strdup(name);
	t->exists = PQntuples(r) == 1;
	if (t->exists) {
		t->oid = (unsigned)strtoul(PQgetvalue(r, 0, 0), NULL, 10);
		t->owner = strdup(PQgetvalue(r, 0, 1));
		t->encoding = strdup(PQgetvalue(r, 0, 2));
		t->collate = strdup(PQgetvalue(r, 0, 3));
		t->ctype = strdup(PQgetvalue(r, 0, 4));
	}
	PQclear(r);
	if (!t->name || (t->exists && (!t->owner || !t->encoding || !t->collate || !t->ctype)))
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	return QB_OK;
}

/* NAME + suffix, cut so that the whole fits PostgreSQL's 63 bytes. */
static char *derived_name(const char *name, const char *suffix)
{
	size_t room = PG_NAME_MAX - strlen(suffix);
	size_t n = strlen(name);

	if (n > room) {
		n = room;
		/* Do not cut a UTF-8 sequence in half. */
		while (n > 0 && ((unsigned char)name[n] & 0xC0) == 0x80)
			n--;
	}
	return qb_asprintf("%.*s%s", (int)n, name, suffix);
}

static int create_scratch(PGconn *c, const struct target *t, const struct qb_db_script_info *info,
			  const char *scratch, struct qb_err *err)
{
	const char *enc = t->exists ? t->encoding : info->encoding[0] ? info->encoding : NULL;
	const char *coll = t->exists ? t->collate : info->lc_collate[0] ? info->lc_collate : NULL;
	const char *ctype = t->exists ? t->ctype : info->lc_ctype[0] ? info->lc_ctype : NULL;
	char *qs = pgc_ident(c, scratch), *qo = t->owner ? pgc_ident(c, t->owner) : NULL;
	char *le = enc ? pgc_literal(c, enc) : NULL, *lc = coll ? pgc_literal(c, coll) : NULL;
	char *lt = ctype ? pgc_literal(c, ctype) : NULL;
	char *sql = qs ? qb_asprintf("CREATE DATABASE %s TEMPLATE template0%s%s%s%s%s%s%s%s", qs,
				     le ? " ENCODING " : "", le ? le : "", lc ? " LC_COLLATE " : "", lc ? lc : "",
				     lt ? " LC_CTYPE " : "", lt ? lt : "", qo ? " OWNER " : "", qo ? qo : "") : NULL;
	int rc = sql ? pgc_exec(c, sql, err) : qb_err_set(err, QB_ENOMEM, "out of memory");

	free(sql);
	free(qs);
	free(qo);
	free(le);
	free(lc);
	free(lt);
	if (rc)
		return qb_err_prefix(err, "unable to create the database to restore into");
	return QB_OK;
}

/* Database-level settings (ALTER DATABASE ... SET) of the old target. */
static int copy_settings(PGconn *c, const struct target *t, const char *scratch, struct qb_err *err)
{
	PGresult *r;
	char *qs;
	int rc = QB_OK;

	if (!t->exists)
		return QB_OK;
	r = pgc_queryf(c, err, "SELECT pg_catalog.unnest(setconfig) FROM pg_catalog.pg_db_role_setting "
		       "WHERE setdatabase = %u AND setrole = 0", t->oid);
	if (!r)
		return err->code;
	qs = pgc_ident(c, scratch);
	for (int i = 0; i < PQntuples(r) && !rc && qs; i++) {
		const char *kv = PQgetvalue(r, i, 0), *eq = strchr(kv, '=');
		char *key, *qk, *lit;
		if (!eq)
			continue;
		key = qb_strndup(kv, (size_t)(eq - kv));
		qk = key ? pgc_ident(c, key) : NULL;
		lit = pgc_literal(c, eq + 1);
		if (qk && lit) {
			char *sql = qb_asprintf("ALTER DATABASE %s SET %s TO %s", qs, qk, lit);
			rc = sql ? pgc_exec(c, sql, err) : QB_ENOMEM;
			free(sql);
		}
		free(key);
		free(qk);
		free(lit);
	}
	free(qs);
	PQclear(r);
	return rc;
}

static int drop_db(PGconn *c, const char *name, struct qb_err *err)
{
	char *q = pgc_ident(c, name);
	char *sql = q ? qb_asprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", q) : NULL;
	int rc = sql ? pgc_exec(c, sql, err) : qb_err_set(err, QB_ENOMEM, "out of memory");

	free(sql);
	free(q);
	return rc;
}

struct exec {
	PGconn *c;
	struct qb_db_restore_result *res;
	size_t tables_cap;
	const struct qb_progress_cb *progress;
	struct qb_progress p;
	struct timespec t0;
	double last;
};

static void exec_report(struct exec *x, struct script *s, bool force)
{
	double e;

	if (!x->progress || !x->progress->fn)
		return;
	e = qb_seconds_since(&x->t0);
	if (!force && e - x->last < 0.25)
		return;
	x->last = e;
	x->p.elapsed = e;
	x->p.bytes_done = qb_gzr_bytes_in(s->gz);
	x->progress->fn(x->progress->ud, &x->p);
}

/* "COPY public.t (a, b) FROM stdin;" -> "public.t" */
static char *copy_target(const char *stmt)
{
	const char *p = stmt + 4;
	const char *e;
	bool q = false;

	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	for (e = p; *e; e++) {
		if (*e == '"')
			q = !q;
		else if (!q && (*e == ' ' || *e == '(' || *e == '\n' || *e == '\t'))
			break;
	}
	return qb_strndup(p, (size_t)(e - p));
}

static int add_rows(struct exec *x, const char *stmt, const char *tuples, struct qb_err *err)
{
	struct qb_db_restore_result *res = x->res;
	int64_t rows = strtoll(tuples, NULL, 10);

	res->copy_rows += (uint64_t)rows;
	if (res->ntables == x->tables_cap) {
		size_t cap = x->tables_cap ? x->tables_cap * 2 : 64;
		struct qb_db_table_stat *v = realloc(res->tables, cap * sizeof(*v));
		if (!v)
			return qb_err_set(err, QB_ENOMEM, "out of memory");
		res->tables = v;
		x->tables_cap = cap;
	}
	res->tables[res->ntables].name = copy_target(stmt);
	res->tables[res->ntables].rows = rows;
	if (!res->tables[res->ntables].name)
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	res->ntables++;
	return QB_OK;
}

static int run_copy(struct exec *x, struct script *s, const struct qb_sql_item *head, struct qb_err *err)
{
	struct qb_sql_item it;
	char *stmt = qb_strndup(head->text, head->len);
	unsigned long line = head->line;
	int rc;
	PGresult *r;

	if (!stmt)
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	while (!(rc = qb_sqlscan_next(s->scan, &it, err)) && it.kind == QB_SQL_COPY_DATA) {
		if (PQputCopyData(x->c, it.text, (int)it.len) != 1) {
			rc = pgc_fail(x->c, NULL, err, "COPY data could not be sent");
			break;
		}
		exec_report(x, s, false);
	}
	if (!rc && it.kind != QB_SQL_COPY_END)
		rc = qb_err_set(err, QB_EINTERNAL, "COPY data ended unexpectedly");
	PQputCopyEnd(x->c, rc ? "qrestore stopped" : NULL);
	r = PQgetResult(x->c);
	if (!rc && (!r || PQresultStatus(r) != PGRES_COMMAND_OK)) {
		char where[64];
		snprintf(where, sizeof(where), "line %lu", line);
		rc = pgc_fail(x->c, r, err, where);
	} else if (!rc) {
		rc = add_rows(x, stmt, PQcmdTuples(r), err);
	}
	PQclear(r);
	while ((r = PQgetResult(x->c)))
		PQclear(r);
	free(stmt);
	return rc;
}

static int run_script(struct exec *x, const char *path, struct qb_err *err)
{
	struct script s;
	struct qb_sql_item it;
	int rc = script_open(&s, path, err);

	if (rc)
		return rc;
	x->p.bytes_total = 0;
	while (!rc && !(rc = qb_sqlscan_next(s.scan, &it, err)) && it.kind != QB_SQL_EOF) {
		enum script_meta meta;
		PGresult *r;
		rc = script_policy(&it, &meta, err);
		if (rc || it.kind == QB_SQL_META)
			continue;  /* \connect: we restore into one database; \restrict: psql's own */
		x->res->statements++;
		x->p.items_done++;
		r = PQexec(x->c, it.text);
		if (r && PQresultStatus(r) == PGRES_COPY_IN) {
			PQclear(r);
			rc = run_copy(x, &s, &it, err);
		} else if (!r || (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)) {
			char where[64];
			snprintf(where, sizeof(where), "line %lu", it.line);
			rc = pgc_fail(x->c, r, err, where);
			PQclear(r);
		} else {
			PQclear(r);
		}
		exec_report(x, &s, false);
	}
	if (!rc && !script_complete(&s))
		rc = qb_err_set(err, QB_ECORRUPT, "'%s' is truncated: the dump's end marker is missing", path);
	x->p.final = true;
	if (!rc)
		exec_report(x, &s, true);
	script_close(&s);
	return rc;
}

static int open_connections(PGconn *c, const char *name, bool terminate, struct qb_err *err)
{
	const char *params[1] = { name };
	const char *sql = terminate ?
		"SELECT count(pg_catalog.pg_terminate_backend(pid)) FROM pg_catalog.pg_stat_activity "
		"WHERE datname = $1 AND pid <> pg_catalog.pg_backend_pid()" :
		"SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE datname = $1 AND pid <> pg_catalog.pg_backend_pid()";
	PGresult *r = PQexecParams(c, sql, 1, NULL, params, NULL, NULL, 0);
	int rc = QB_OK;

	if (!r || PQresultStatus(r) != PGRES_TUPLES_OK)
		rc = pgc_fail(c, r, err, "unable to check the target's connections");
	else if (!terminate && strcmp(PQgetvalue(r, 0, 0), "0") != 0)
		rc = qb_err_set(err, QB_EREFUSED, "database \"%s\" has %s open connection(s): stop the application "
				"first, or use --terminate-connections", name, PQgetvalue(r, 0, 0));
	PQclear(r);
	return rc;
}

static int swap(PGconn *c, const struct target *t, const char *scratch, const char *previous,
		bool terminate, struct qb_err *err)
{
	char *qt = pgc_ident(c, t->name), *qs = pgc_ident(c, scratch);
	char *qp = previous ? pgc_ident(c, previous) : NULL;
	char *sql = NULL;
	int rc;

	if (!qt || !qs || (previous && !qp)) {
		rc = qb_err_set(err, QB_ENOMEM, "out of memory");
		goto out;
	}
	rc = t->exists ? open_connections(c, t->name, terminate, err) : QB_OK;
	if (rc)
		goto out;
	if (t->exists)
		sql = qb_asprintf("BEGIN; ALTER DATABASE %s RENAME TO %s; ALTER DATABASE %s RENAME TO %s; COMMIT",
				  qt, qp, qs, qt);
	else
		sql = qb_asprintf("ALTER DATABASE %s RENAME TO %s", qs, qt);
	rc = sql ? pgc_exec(c, sql, err) : qb_err_set(err, QB_ENOMEM, "out of memory");
	if (rc) {
		PGresult *r = PQexec(c, "ROLLBACK");
		PQclear(r);
		qb_err_prefix(err, "unable to put the restored database in place");
	}
out:
	free(sql);
	free(qt);
	free(qs);
	free(qp);
	return rc;
}

int qb_db_restore(const struct qb_config *cfg, const struct qb_db_restore_opts *opts,
		  struct qb_db_restore_result *res, struct qb_err *err)
{
	struct qb_db_script_info info;
	struct target t = { 0 };
	struct exec x;
	PGconn *maint = NULL;
	char *scratch = NULL, *previous = NULL, *name = NULL;
	char stamp[32], suffix[48];
	bool created = false;
	int rc;

	memset(res, 0, sizeof(*res));
	memset(&x, 0, sizeof(x));
	qb_clock_start(&x.t0);
	if (opts->checked)
		info = *opts->checked;
	else if ((rc = qb_db_check_script(opts->path, opts->expected_sha256, &info, err)))
		return rc;
	name = opts->target_db ? strdup(opts->target_db) : pgc_default_dbname(cfg);
	if (!name)
		return qb_err_set(err, QB_ECONFIG, "no target database: set DATABASE_URL or use --target-db");
	rc = maint_connect(cfg, &maint, err);
	if (!rc)
		rc = load_target(maint, name, &t, err);
	if (rc)
		goto out;
	qb_stamp(time(NULL), stamp, sizeof(stamp));
	snprintf(suffix, sizeof(suffix), "_qbrestore_%s", stamp);
	scratch = derived_name(name, suffix);
	snprintf(suffix, sizeof(suffix), "_before_%s", stamp);
	previous = t.exists && !opts->drop_after ? derived_name(name, suffix) : NULL;
	if (!scratch || (t.exists && !opts->drop_after && !previous)) {
		rc = qb_err_set(err, QB_ENOMEM, "out of memory");
		goto out;
	}
	if (opts->drop_after) {
		/* A restore test never touches NAME: it restores into the scratch copy only. */
		t.exists = false;
	}
	qb_log(QB_LOG_DEBUG, "checked after %.2f s", qb_seconds_since(&x.t0));
	rc = create_scratch(maint, &t, &info, scratch, err);
	if (rc)
		goto out;
	qb_log(QB_LOG_DEBUG, "database \"%s\" created after %.2f s", scratch, qb_seconds_since(&x.t0));
	created = true;
	rc = copy_settings(maint, &t, scratch, err);
	if (!rc)
		rc = pgc_connect(cfg, scratch, &x.c, err);
	if (rc)
		goto out;
	PQsetNoticeProcessor(x.c, notice_to_log, NULL);
	/* The scratch database is dropped if anything fails, so its statements need
	 * not wait for the disk one by one: the swap's commit makes it all durable
	 * (WAL is flushed in order).  Index builds get room to sort in memory. */
	if (!rc) {
		const char *mem = qb_config_get(cfg, "RESTORE_MAINTENANCE_WORK_MEM", "256MB");
		char *lit = pgc_literal(x.c, mem);
		char *sql = lit ? qb_asprintf("SET synchronous_commit = off; SET maintenance_work_mem = %s", lit) : NULL;
		rc = sql ? pgc_exec(x.c, sql, err) : qb_err_set(err, QB_ENOMEM, "out of memory");
		free(sql);
		free(lit);
		if (rc)
			goto out;
	}
	qb_log(QB_LOG_INFO, "restoring %s into a new database \"%s\"", opts->path, scratch);
	x.res = res;
	x.progress = opts->progress;
	x.p.step = "restore";
	x.p.items_total = info.statements;
	rc = run_script(&x, opts->path, err);
	PQfinish(x.c);
	x.c = NULL;
	qb_log(QB_LOG_DEBUG, "script done after %.2f s", qb_seconds_since(&x.t0));
	if (rc) {
		qb_err_prefix(err, "restore of '%s' failed%s%s%s", opts->path, t.exists ? "; database \"" : "",
			      t.exists ? t.name : "", t.exists ? "\" is unchanged" : "");
		goto out;
	}
	if (opts->drop_after) {
		res->target = strdup(scratch);
		goto out;  /* dropped below */
	}
	rc = swap(maint, &t, scratch, previous, opts->terminate_connections, err);
	if (rc)
		goto out;
	qb_log(QB_LOG_DEBUG, "swapped in after %.2f s", qb_seconds_since(&x.t0));
	created = false;
	res->target = strdup(t.name);
	if (previous) {
		res->previous = previous;
		previous = NULL;
	}
out:
	if (created) {
		struct qb_err e2 = { 0 };
		if (drop_db(maint, scratch, &e2))
			qb_log(QB_LOG_WARN, "unable to drop the scratch database \"%s\": %s", scratch, e2.msg);
	}
	if (x.c)
		PQfinish(x.c);
	if (maint)
		PQfinish(maint);
	res->seconds = qb_seconds_since(&x.t0);
	target_release(&t);
	free(scratch);
	free(previous);
	free(name);
	if (rc)
		qb_db_restore_result_release(res);
	return rc;
}

void qb_db_restore_result_release(struct qb_db_restore_result *res)
{
	if (!res)
		return;
	for (size_t i = 0; i < res->ntables; i++)
		free(res->tables[i].name);
	free(res->tables);
	free(res->target);
	free(res->previous);
	memset(res, 0, sizeof(*res));
}

int qb_db_target(const struct qb_config *cfg, const char *target_db, char **name,
		 bool *exists, struct qb_err *err)
{
	struct target t = { 0 };
	PGconn *c = NULL;
	char *n = target_db ? strdup(target_db) : pgc_default_dbname(cfg);
	int rc;

	*name = NULL;
	if (!n)
		return qb_err_set(err, QB_ECONFIG, "no target database: set DATABASE_URL or use --target-db");
	rc = maint_connect(cfg, &c, err);
	if (!rc)
		rc = load_target(c, n, &t, err);
	if (!rc) {
		*exists = t.exists;
		*name = n;
		n = NULL;
	}
	target_release(&t);
	free(n);
	if (c)
		PQfinish(c);
	return rc;
}

int qb_db_drop(const struct qb_config *cfg, const char *name, struct qb_err *err)
{
	PGconn *c = NULL;
	char *own = pgc_default_dbname(cfg);
	int rc;

	if (own && !strcmp(own, name)) {
		free(own);
		return qb_err_set(err, QB_EREFUSED, "refusing to drop \"%s\": it is the configured database", name);
	}
	free(own);
	rc = maint_connect(cfg, &c, err);
	if (!rc)
		rc = drop_db(c, name, err);
	if (c)
		PQfinish(c);
	return rc;
}
