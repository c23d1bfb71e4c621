/*
 * exec.c - running a checked script in the new database: statements on the
 * main connection, in order; COPY data and runs of index builds on the
 * loader's connections (load.c), with a drain before anything else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "exec.h"
#include "qb/array.h"
#include "qb/gz.h"
#include "qb/log.h"
#include "script.h"

static void exec_report(struct exec *x, struct script *s, bool force)
{
	x->p.bytes_done = qb_gzr_bytes_in(s->gz);
	qb_progress_report(x->progress, &x->p, &x->t0, &x->last, force);
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

/* Rows per COPY block, for the manifest of what was restored. */
static int collect_tables(struct exec *x, struct qb_err *err)
{
	struct qb_db_restore_result *res = x->res;
	struct load_block *const *b;
	size_t n = loader_blocks(x->load, &b);

	if (!n)
		return QB_OK;
	res->tables = calloc(n, sizeof(*res->tables));
	if (!res->tables)
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		res->tables[i].name = copy_target(b[i]->stmt);
		res->tables[i].rows = b[i]->rows;
		res->ntables = i + 1;
		res->copy_rows += (uint64_t)b[i]->rows;
		if (!res->tables[i].name)
			return qb_err_set(err, QB_ENOMEM, "out of memory");
	}
	return QB_OK;
}

/*
 * Does a statement give something to a role: ownership, privileges, a policy?
 * A dump names roles but does not create them (they are the server's, as with
 * pg_dump), so on a new server the first of these fails.
 */
static bool names_roles(const char *t)
{
	static const char *const lead[] = {
		"GRANT ", "REVOKE ", "SET ROLE ", "SET SESSION AUTHORIZATION ", "CREATE POLICY ",
		"ALTER DEFAULT PRIVILEGES ",
	};

	for (size_t i = 0; i < sizeof(lead) / sizeof(lead[0]); i++)
		if (!strncasecmp(t, lead[i], strlen(lead[i])))
			return true;
	return !strncasecmp(t, "ALTER ", 6) && strcasestr(t, " OWNER TO ");
}

/*
 * Say what to do about a missing role.  The server's message names what is
 * missing, in its own language; the SQLSTATE is undefined_object (42704), or
 * invalid_parameter_value (22023) for SET ROLE.  Either may also be something
 * else than a role (GRANT USAGE ON TYPE t with no t), hence the "if".
 */
static void hint_missing_role(const PGresult *r, const char *stmt, struct qb_err *err)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	bool set_role = !strncasecmp(stmt, "SET ROLE ", 9) ||
			!strncasecmp(stmt, "SET SESSION AUTHORIZATION ", 26);
	size_t n = strlen(err->msg);

	if (!state || !names_roles(stmt) ||
	    (strcmp(state, "42704") && !(set_role && !strcmp(state, "22023"))))
		return;
	snprintf(err->msg + n, sizeof(err->msg) - n, " (if it is a role: a dump does not create "
		 "roles; create it on this server, e.g. CREATE ROLE name LOGIN, then restore again)");
}

/* Statements that change the session: the workers replay them. */
static bool session_statement(const char *t)
{
	if (!strncasecmp(t, "SET ", 4))
		return strncasecmp(t + 4, "LOCAL ", 6) && strncasecmp(t + 4, "TRANSACTION ", 12);
	return !strncasecmp(t, "RESET ", 6) || !strncasecmp(t, "SELECT pg_catalog.set_config(", 29) ||
	       !strncasecmp(t, "SELECT set_config(", 18);
}

/*
 * May this COPY load beside other COPYs, on the workers?  Not inside a
 * transaction the script opened (the workers would not see its tables), and
 * not once a trigger exists (foreign keys are triggers): rows would then be
 * checked against tables still loading.  pg_dump and qbackup both create
 * triggers and foreign keys after the data, so this is the usual case.
 */
static int copy_parallel(struct exec *x, bool *yes, struct qb_err *err)
{
	if (PQtransactionStatus(x->c) != PQTRANS_IDLE) {
		*yes = false;
		return QB_OK;
	}
	if (!x->data_checked) {
		PGresult *r = pgc_query(x->c, "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger)", err);
		if (!r)
			return err->code;
		x->data_parallel = PQgetvalue(r, 0, 0)[0] == 'f';
		x->data_checked = true;
		PQclear(r);
		if (!x->data_parallel)
			qb_log(QB_LOG_DEBUG, "triggers exist before the data: COPY blocks load one at a time");
	}
	*yes = x->data_parallel;
	return QB_OK;
}

/*
 * "CREATE [UNIQUE] INDEX name ON ...": builds of indexes that follow each
 * other in the script are independent, and each only takes a SHARE lock on
 * its table, so a run of them can go side by side on the workers.
 * CONCURRENTLY waits for every other transaction, so it keeps to the main
 * connection.
 */
static bool index_build(const char *t)
{
	if (strncasecmp(t, "CREATE ", 7))
		return false;
	t += 7;
	if (!strncasecmp(t, "UNIQUE ", 7))
		t += 7;
	return !strncasecmp(t, "INDEX ", 6) && strncasecmp(t + 6, "CONCURRENTLY ", 13);
}

static int hold_index(struct exec *x, const struct qb_sql_item *it, struct qb_err *err)
{
	if (qb_array_grow(&x->idx, &x->idx_cap, x->nidx + 1, sizeof(*x->idx), 16))
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	if (!(x->idx[x->nidx].text = strdup(it->text)))
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	x->idx[x->nidx++].line = it->line;
	return QB_OK;
}

/* The data of a COPY on the workers: queued, loaded in the background. */
static int queue_copy(struct exec *x, struct script *s, const struct qb_sql_item *head, struct qb_err *err)
{
	struct qb_sql_item it;
	struct load_block *b = loader_block(x->load, head->text, head->line);
	int rc;

	if (!b)
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	while (!(rc = qb_sqlscan_next(s->scan, &it, err)) && it.kind == QB_SQL_COPY_DATA) {
		if ((rc = loader_data(x->load, b, it.text, it.len, err)))
			break;
		exec_report(x, s, false);
	}
	if (!rc && it.kind != QB_SQL_COPY_END)
		rc = qb_err_set(err, QB_EINTERNAL, "COPY data ended unexpectedly");
	return rc;
}

/* The data of a COPY on the main connection (after a drain). */
static int run_copy(struct exec *x, struct script *s, const struct qb_sql_item *head, struct qb_err *err)
{
	struct qb_sql_item it;
	struct load_block *b = loader_block(x->load, head->text, head->line);
	int rc = b ? QB_OK : qb_err_set(err, QB_ENOMEM, "out of memory");

	while (!rc && !(rc = qb_sqlscan_next(s->scan, &it, err)) && it.kind == QB_SQL_COPY_DATA) {
		if (PQputCopyData(x->c, it.text, (int)it.len) != 1) {
			rc = pgc_fail(x->c, NULL, err, "COPY data could not be sent");
			break;
		}
		exec_report(x, s, false);
	}
	if (!rc && it.kind != QB_SQL_COPY_END)
		rc = qb_err_set(err, QB_EINTERNAL, "COPY data ended unexpectedly");
	if (rc) {
		int64_t ignored;
		pgc_copy_end(x->c, true, head->line, NULL, &ignored, err);
		return rc;
	}
	return pgc_copy_end(x->c, false, head->line, NULL, &b->rows, err);
}

/* One statement on the main connection, once the workers are idle. */
static int run_statement(struct exec *x, struct script *s, const struct qb_sql_item *it, struct qb_err *err)
{
	int rc = loader_drain(x->load, err);
	PGresult *r;

	if (rc)
		return rc;
	x->data_checked = false;
	r = PQexec(x->c, it->text);
	if (r && PQresultStatus(r) == PGRES_COPY_IN) {
		PQclear(r);
		return run_copy(x, s, it, err);
	}
	if (!r || (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)) {
		rc = pgc_fail_line(x->c, r, err, it->line);
		hint_missing_role(r, it->text, err);
	} else {
		rc = pgc_check_lexing(x->c, it->line, err);
	}
	if (!rc && session_statement(it->text))
		rc = loader_session(x->load, it->text, err);
	PQclear(r);
	return rc;
}

/*
 * A run of index builds, complete (the next statement is something else):
 * one alone builds on the main connection with PostgreSQL's own parallel
 * workers; two or more go side by side on the data connections, one core
 * each, and what follows waits for them.
 */
static int run_indexes(struct exec *x, struct script *s, struct qb_err *err)
{
	bool side_by_side = x->nidx > 1 && loader_jobs(x->load) > 1;
	int rc = QB_OK;

	for (size_t i = 0; i < x->nidx && !rc; i++) {
		struct qb_sql_item it = { .kind = QB_SQL_STMT, .text = x->idx[i].text,
					  .len = strlen(x->idx[i].text), .line = x->idx[i].line };
		rc = side_by_side ? loader_statement(x->load, it.text, it.line, err) :
				    run_statement(x, s, &it, err);
	}
	if (!rc && side_by_side)
		rc = loader_drain(x->load, err);
	exec_release(x);
	return rc;
}

void exec_release(struct exec *x)
{
	for (size_t i = 0; i < x->nidx; i++)
		free(x->idx[i].text);
	free(x->idx);
	x->idx = NULL;
	x->nidx = x->idx_cap = 0;
}

int exec_script(struct exec *x, const char *path, struct qb_err *err)
{
	struct script s;
	struct qb_sql_item it;
	int rc = script_open(&s, path, err);

	if (rc)
		return rc;
	x->p.bytes_total = 0;
	while (!rc && !(rc = qb_sqlscan_next(s.scan, &it, err)) && it.kind != QB_SQL_EOF) {
		enum script_meta meta;
		bool parallel = false;
		if (pgi_interrupted()) {
			rc = qb_err_set(err, QB_ECANCELLED, "interrupted");
			break;
		}
		rc = script_policy(&it, &meta, err);
		if (rc || it.kind == QB_SQL_META)
			continue;  /* \connect: we restore into one database; \restrict: psql's own */
		x->res->statements++;
		x->p.items_done++;
		if (index_build(it.text) && PQtransactionStatus(x->c) == PQTRANS_IDLE) {
			rc = hold_index(x, &it, err);  /* run when the run of them ends */
			continue;
		}
		if (x->nidx && (rc = run_indexes(x, &s, err)))
			break;
		if (it.copy_from_stdin)
			rc = copy_parallel(x, &parallel, err);
		if (rc)
			break;
		rc = parallel ? queue_copy(x, &s, &it, err) : run_statement(x, &s, &it, err);
		exec_report(x, &s, false);
	}
	if (!rc && x->nidx)
		rc = run_indexes(x, &s, err);
	if (!rc)
		rc = loader_drain(x->load, err);
	if (!rc)
		rc = script_finish(&s, x->res->statements, path, err);
	if (!rc)
		rc = collect_tables(x, err);
	x->p.final = true;
	if (!rc)
		exec_report(x, &s, true);
	script_close(&s);
	return rc;
}
