/*
 * restore.c - qb_db_restore(): never leaves the target half-restored.
 *
 * 1. The whole script is read once (qb_db_check_script): gzip CRCs,
 *    checksum, meta-commands, truncation.  It runs on a second thread while
 *    the target is looked up (one that other sessions use is refused as
 *    soon as the check ends, unless they are to be terminated at the swap:
 *    finding that out after loading for minutes helps no one), and
 *    an empty database is created beside the target, from template0, with
 *    the target's (or the dump's) encoding, locale and owner, and the
 *    connections to it open.  Nothing of the script runs before it passed.
 * 2. The script runs in the new database (exec.c): statements on one
 *    connection, COPY data and index builds on RESTORE_JOBS more
 *    (load.c).  Then the target's settings and privileges are copied onto
 *    it (dbcopy.c; not before, or they would bind the restore's own
 *    sessions).  Any error drops the new database; the target is unchanged.
 * 3. One transaction renames the target to NAME_before_YYYYMMDD_HHMMSS and
 *    the new database to NAME (ALTER DATABASE RENAME is transactional).
 *    Sessions may have come during the load: they are looked for again.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pg_intern.h"
#include "qb/fsutil.h"
#include "qb/log.h"
#include "qb/pgdump.h"
#include "dbcopy.h"
#include "exec.h"
#include "script.h"

#define PG_NAME_MAX 63

struct target {
	char *name;
	bool exists;
	char *owner, *encoding, *collate, *ctype;
	char *provider, *locale;   /* pg_database's locale provider and ICU/builtin locale */
	unsigned oid;
};

static void target_release(struct target *t)
{
	free(t->name);
	free(t->owner);
	free(t->encoding);
	free(t->collate);
	free(t->ctype);
	free(t->provider);
	free(t->locale);
	memset(t, 0, sizeof(*t));
}

/* The maintenance connection, for CREATE/ALTER/DROP DATABASE: not to the
 * database the restore renames (a session cannot rename its own). */
static int maint_connect(const struct qb_config *cfg, const char *target, PGconn **c,
			 struct qb_err *err)
{
	bool postgres = target && !strcmp(target, "postgres");
	int rc = pgc_connect(cfg, postgres ? "template1" : "postgres", c, err);

	if (rc) {
		struct qb_err e2 = { 0 };
		if (!pgc_connect(cfg, postgres ? "postgres" : "template1", c, &e2))
			return QB_OK;
	}
	return rc;
}

/* The database a restore replaces: --target-db, or the one the configuration
 * connects to.  A template is refused, and so is "postgres" when nothing
 * names it (a DATABASE_URL without /NAME, where libpq takes the user's). */
static int target_name(const struct qb_config *cfg, const char *target_db, char **out,
		       struct qb_err *err)
{
	bool named = true;
	char *n = target_db ? strdup(target_db) : pgc_default_dbname(cfg, &named);

	*out = NULL;
	if (!n)
		return qb_err_set(err, QB_ECONFIG, "no target database: set DATABASE_URL or use --target-db");
	if (!strcmp(n, "template0") || !strcmp(n, "template1")) {
		qb_err_set(err, QB_EREFUSED, "refusing to restore into the template database \"%s\"", n);
		free(n);
		return QB_EREFUSED;
	}
	if (!named && !strcmp(n, "postgres")) {
		free(n);
		return qb_err_set(err, QB_ECONFIG, "DATABASE_URL names no database, and PostgreSQL "
				  "would take the user's name, \"postgres\": name the database to "
				  "restore (postgresql://USER@HOST:PORT/NAME) or use --target-db NAME");
	}
	*out = n;
	return QB_OK;
}

static int load_target(PGconn *c, const char *name, struct target *t, struct qb_err *err)
{
	const char *params[1] = { name };
	char *sql = qb_asprintf("SELECT d.oid, pg_catalog.pg_get_userbyid(d.datdba), "
				"pg_catalog.pg_encoding_to_char(d.encoding), d.datcollate, d.datctype, %s, "
				"d.datistemplate FROM pg_catalog.pg_database d WHERE d.datname = $1",
				pgc_locale_columns(PQserverVersion(c)));
	PGresult *r = sql ? PQexecParams(c, sql, 1, NULL, params, NULL, NULL, 0) : NULL;
	int rc = QB_OK;

	free(sql);
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
		t->provider = strdup(PQgetvalue(r, 0, 5));
		t->locale = strdup(PQgetvalue(r, 0, 6));
		if (!strcmp(PQgetvalue(r, 0, 7), "t"))
			rc = qb_err_set(err, QB_EREFUSED, "refusing to restore into \"%s\": it is a "
					"template database", name);
	}
	PQclear(r);
	if (rc)
		return rc;
	if (!t->name || (t->exists && (!t->owner || !t->encoding || !t->collate || !t->ctype ||
				       !t->provider || !t->locale)))
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

/* NAME_<what>_<stamp>, else NAME_<what>_<stamp>_2, _3...: the first that no
 * database has.  A second restore within the same second would otherwise find
 * the first one's name taken, and fail at the swap after the whole load. */
static int free_name(PGconn *c, const char *name, const char *what, const char *stamp,
		     char **out, struct qb_err *err)
{
	for (int n = 1; n <= 100; n++) {
		char suffix[64];
		const char *params[1];
		PGresult *r;
		bool taken;

		if (n == 1)
			snprintf(suffix, sizeof(suffix), "_%s_%s", what, stamp);
		else
			snprintf(suffix, sizeof(suffix), "_%s_%s_%d", what, stamp, n);
		if (!(*out = derived_name(name, suffix)))
			return qb_err_set(err, QB_ENOMEM, "out of memory");
		params[0] = *out;
		r = PQexecParams(c, "SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1", 1,
				 NULL, params, NULL, NULL, 0);
		if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
			int rc = pgc_fail(c, r, err, "unable to look up database names");
			PQclear(r);
			free(*out);
			*out = NULL;
			return rc;
		}
		taken = PQntuples(r) > 0;
		PQclear(r);
		if (!taken)
			return QB_OK;
		free(*out);
		*out = NULL;
	}
	return qb_err_set(err, QB_EREFUSED, "100 databases are already named like \"%s_%s_%s\": "
			  "drop the ones no longer needed", name, what, stamp);
}

/* The owner of a database the restore makes anew: the one the dump names,
 * so that on a new server the application's role owns its database (and the
 * public schema, which belongs to the database's owner) as it did, and its
 * migrations can create tables.  NULL (the restoring user) when the dump names
 * none or that role cannot be given it, said in a warning with the remedy. */
static const char *new_owner(PGconn *c, const struct target *t, const struct qb_db_script_info *info)
{
	const char *params[1] = { info->owner };
	const char *why = NULL;
	PGresult *r;

	if (!info->owner[0]) {
		qb_log(QB_LOG_WARN, "the dump does not name its database's owner: the new database "
		       "\"%s\" belongs to the restoring user; if the application's role must own it: "
		       "ALTER DATABASE ... OWNER TO ROLE", t->name);
		return NULL;
	}
	/* CREATE DATABASE ... OWNER needs membership, and from 16 the right to SET ROLE
	 * to it (an admin that made the role may have neither). */
	r = PQexecParams(c, PQserverVersion(c) >= 160000 ?
			 "SELECT pg_catalog.pg_has_role(r.oid, 'SET') FROM pg_catalog.pg_roles r WHERE r.rolname = $1" :
			 "SELECT pg_catalog.pg_has_role(r.oid, 'MEMBER') FROM pg_catalog.pg_roles r WHERE r.rolname = $1",
			 1, NULL, params, NULL, NULL, 0);
	if (!r || PQresultStatus(r) != PGRES_TUPLES_OK)
		why = "it could not be looked up";
	else if (PQntuples(r) == 0)
		why = "that role does not exist on this server (create it first)";
	else if (strcmp(PQgetvalue(r, 0, 0), "t"))
		why = "the restoring user may not act as that role";
	PQclear(r);
	if (!why)
		return info->owner;
	qb_log(QB_LOG_WARN, "the new database \"%s\" cannot be given to its owner in the dump, \"%s\": "
	       "%s; it belongs to the restoring user", t->name, info->owner, why);
	return NULL;
}

/* What a restore needs of its PostgreSQL user, checked before the load rather
 * than found at the swap: to create a database and, to rename the target, to
 * have its owner's privileges (its owner, a member that inherits them, or a
 * superuser). */
static int may_restore(PGconn *c, const struct target *t, struct qb_err *err)
{
	const char *params[1] = { t->exists && t->owner ? t->owner : "" };
	PGresult *r = PQexecParams(c, "SELECT rolcreatedb OR rolsuper, current_user, "
				   "$1 = '' OR pg_catalog.pg_has_role($1, 'USAGE') "
				   "FROM pg_catalog.pg_roles WHERE rolname = current_user",
				   1, NULL, params, NULL, NULL, 0);
	int rc = QB_OK;

	if (r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
		const char *user = PQgetvalue(r, 0, 1);
		if (strcmp(PQgetvalue(r, 0, 0), "t"))
			rc = qb_err_set(err, QB_ECONFIG, "the PostgreSQL user \"%s\" may not create "
					"databases, and a restore makes one: use a superuser (or a user with "
					"CREATEDB) in DATABASE_URL, given in the environment with its password "
					"in PGPASSWORD", user);
		else if (strcmp(PQgetvalue(r, 0, 2), "t"))
			rc = qb_err_set(err, QB_ECONFIG, "the PostgreSQL user \"%s\" may not rename "
					"database \"%s\" (it belongs to \"%s\"), as a restore does to keep it: "
					"use a superuser or its owner in DATABASE_URL, given in the environment "
					"with its password in PGPASSWORD", user, t->name, t->owner);
	}
	PQclear(r);
	return rc;
}

/* " LOCALE_PROVIDER icu ICU_LOCALE 'fr-FR'" for a database that is not libc's, as
 * the target (or, made anew, the dumped one) was; "" for libc.  NULL: no memory. */
static char *provider_clause(PGconn *c, const struct target *t, const struct qb_db_script_info *info)
{
	const char *prov = t->exists ? t->provider : info->locale_provider;
	const char *loc = t->exists ? t->locale : info->locale;
	int version = PQserverVersion(c);
	char *lit, *out;

	if (!prov || !prov[0])
		return strdup("");  /* a pg_dump file: the server's default, as psql would */
	if (!strcmp(prov, "c"))  /* not template0's, which may be ICU's */
		return strdup(version >= 150000 ? " LOCALE_PROVIDER libc" : "");
	if ((!strcmp(prov, "i") && version < 150000) || (!strcmp(prov, "b") && version < 170000) ||
	    (strcmp(prov, "i") && strcmp(prov, "b"))) {
		qb_log(QB_LOG_WARN, "database \"%s\" used locale provider '%s', which this server "
		       "(version %d) does not have: it is restored with the C library's locales, "
		       "and text may sort differently", t->name, prov, version / 10000);
		return strdup("");
	}
	if (!(lit = pgc_literal(c, loc ? loc : "")))
		return NULL;
	out = qb_asprintf(" LOCALE_PROVIDER %s %s %s", prov[0] == 'i' ? "icu" : "builtin",
			  prov[0] == 'i' ? "ICU_LOCALE" : "BUILTIN_LOCALE", lit);
	free(lit);
	return out;
}

static int create_scratch(PGconn *c, const struct target *t, const struct qb_db_script_info *info,
			  const char *scratch, struct qb_err *err)
{
	const char *enc = t->exists ? t->encoding : info->encoding[0] ? info->encoding : NULL;
	const char *coll = t->exists ? t->collate : info->lc_collate[0] ? info->lc_collate : NULL;
	const char *ctype = t->exists ? t->ctype : info->lc_ctype[0] ? info->lc_ctype : NULL;
	const char *owner;
	char *qs, *qo, *le, *lc, *lt, *lp, *sql;
	int rc = may_restore(c, t, err);

	if (rc)
		return rc;
	owner = t->owner ? t->owner : new_owner(c, t, info);
	qs = pgc_ident(c, scratch);
	qo = owner ? pgc_ident(c, owner) : NULL;
	le = enc ? pgc_literal(c, enc) : NULL;
	lc = coll ? pgc_literal(c, coll) : NULL;
	lt = ctype ? pgc_literal(c, ctype) : NULL;
	lp = provider_clause(c, t, info);
	sql = qs && lp ? qb_asprintf("CREATE DATABASE %s TEMPLATE template0%s%s%s%s%s%s%s%s%s", qs,
				     le ? " ENCODING " : "", le ? le : "", lc ? " LC_COLLATE " : "", lc ? lc : "",
				     lt ? " LC_CTYPE " : "", lt ? lt : "", lp, qo ? " OWNER " : "",
				     qo ? qo : "") : NULL;
	rc = sql ? pgc_exec(c, sql, err) : qb_err_set(err, QB_ENOMEM, "out of memory");

	free(sql);
	free(qs);
	free(qo);
	free(le);
	free(lc);
	free(lt);
	free(lp);
	if (rc)
		return qb_err_prefix(err, "unable to create the database to restore into");
	return QB_OK;
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

/* Autovacuum workers are not sessions: ALTER DATABASE RENAME stops them itself,
 * and only a superuser may terminate them.  Other background workers are
 * counted (the rename would refuse them too). */
#define NOT_AUTOVACUUM " AND backend_type <> 'autovacuum worker'"

static int open_connections(PGconn *c, const char *name, bool terminate, struct qb_err *err)
{
	const char *params[1] = { name };
	const char *sql = terminate ?
		"SELECT count(pg_catalog.pg_terminate_backend(pid)) FROM pg_catalog.pg_stat_activity "
		"WHERE datname = $1 AND pid <> pg_catalog.pg_backend_pid()" NOT_AUTOVACUUM :
		"SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE datname = $1 AND pid <> pg_catalog.pg_backend_pid()"
		NOT_AUTOVACUUM;
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

/*
 * The restore's own connections to the scratch database are closed, but
 * their server processes take a moment to exit, and ALTER DATABASE RENAME
 * would then sleep a tenth of a second before looking again: wait for them
 * here, briefly, in smaller steps.
 */
static void wait_disconnected(PGconn *c, const char *name)
{
	const char *params[1] = { name };

	for (int i = 0; i < 500; i++) {
		PGresult *r = PQexecParams(c, "SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE datname = $1"
					   NOT_AUTOVACUUM, 1, NULL, params, NULL, NULL, 0);
		bool gone = r && PQresultStatus(r) == PGRES_TUPLES_OK && !strcmp(PQgetvalue(r, 0, 0), "0");
		PQclear(r);
		if (gone)
			return;
		nanosleep(&(struct timespec){ .tv_nsec = 2 * 1000 * 1000 }, NULL);
	}
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
	if (rc) {
		/* Sessions that came back during the load: the loaded copy is dropped. */
		if (rc == QB_EREFUSED)
			qb_err_prefix(err, "at the swap, after the whole load (dropped: run again with "
				      "--terminate-connections to load it again and disconnect them then)");
		goto out;
	}
	wait_disconnected(c, scratch);
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

/* The whole-file check, on its own thread while the scratch database is made. */
struct check_job {
	const char *path, *sha256;
	pthread_t thread;
	bool threaded;
	struct qb_db_script_info info;
	struct qb_err err;
	int rc;
};

static void *check_main(void *arg)
{
	struct check_job *j = arg;

	j->rc = qb_db_check_script(j->path, j->sha256, &j->info, &j->err);
	return NULL;
}

static void check_start(struct check_job *j, const struct qb_db_restore_opts *opts)
{
	memset(j, 0, sizeof(*j));
	j->path = opts->path;
	j->sha256 = opts->expected_sha256;
	if (opts->checked)
		j->info = *opts->checked;
	else if (!(j->threaded = pthread_create(&j->thread, NULL, check_main, j) == 0))
		check_main(j);
}

static void check_wait(struct check_job *j)
{
	if (j->threaded)
		pthread_join(j->thread, NULL);
	j->threaded = false;
}

/* Scratch databases of earlier restores of NAME that were never dropped
 * (qrestore killed, or PostgreSQL stopped, mid-load): each may hold a part of
 * a copy, and takes room; say so before this restore makes another, with a
 * dropdb that reaches this server. */
static void warn_leftovers(PGconn *c, const char *name)
{
	static const char stamp_suffix[] = "_qbrestore_00000000_000000";
	char *probe = derived_name(name, stamp_suffix);
	const char *params[2];
	char len[16];
	PGresult *r;

	if (!probe)
		return;
	probe[strlen(probe) - strlen(stamp_suffix)] = '\0';  /* NAME as cut for the suffix */
	snprintf(len, sizeof(len), "%zu", strlen(probe) + strlen(stamp_suffix));
	params[0] = probe;
	params[1] = len;
	r = PQexecParams(c, "SELECT datname FROM pg_catalog.pg_database WHERE "
			 "pg_catalog.starts_with(datname, $1) AND "
			 "pg_catalog.octet_length(datname) = $2::int AND "
			 "datname ~ '_qbrestore_[0-9]{8}_[0-9]{6}$' ORDER BY datname",
			 2, NULL, params, NULL, NULL, 0);
	for (int i = 0; r && PQresultStatus(r) == PGRES_TUPLES_OK && i < PQntuples(r); i++) {
		/* Names of at most 63 bytes and a host: each fits, quoted. */
		char db[300], host[1100], user[300];
		qb_shell_word(PQgetvalue(r, i, 0), db, sizeof(db));
		qb_shell_word(PQhost(c), host, sizeof(host));
		qb_shell_word(PQuser(c), user, sizeof(user));
		qb_log(QB_LOG_WARN, "database \"%s\" is left by a restore that did not finish and may "
		       "hold only part of a copy (never rename it into place); once no restore is "
		       "running, drop it: dropdb -h %s -p %s -U %s %s", PQgetvalue(r, i, 0), host,
		       PQport(c), user, db);
	}
	PQclear(r);
	free(probe);
}

/* The target looked up and its names derived; one in use refused before
 * anything is made (the whole-file check goes on meanwhile). */
static int lookup(const struct qb_config *cfg, const struct qb_db_restore_opts *opts, struct target *t,
		  char **scratch, char **previous, PGconn **maint, struct qb_err *err)
{
	char *name = NULL;
	char stamp[32];
	int rc = target_name(cfg, opts->target_db, &name, err);

	if (rc)
		return rc;
	rc = maint_connect(cfg, name, maint, err);
	if (!rc)
		rc = load_target(*maint, name, t, err);
	if (!rc)
		warn_leftovers(*maint, name);
	free(name);
	if (rc)
		return rc;
	/* Terminating is for the swap: the application keeps its sessions during the load. */
	if (t->exists && !opts->drop_after && !opts->terminate_connections &&
	    (rc = open_connections(*maint, t->name, false, err)))
		return rc;
	qb_stamp(time(NULL), stamp, sizeof(stamp));
	*previous = NULL;
	rc = free_name(*maint, t->name, "qbrestore", stamp, scratch, err);
	if (!rc && t->exists && !opts->drop_after)
		rc = free_name(*maint, t->name, "before", stamp, previous, err);
	if (rc)
		return rc;
	if (opts->drop_after) {
		/* A restore test never touches NAME: it restores into the scratch copy only. */
		t->exists = false;
	}
	return QB_OK;
}

/* Everything else before the script runs: the scratch database made, the
 * connections opened. */
static int prepare(const struct qb_config *cfg, long jobs, const struct qb_db_script_info *head,
		   struct exec *x, const struct target *t, const char *scratch, bool *created,
		   PGconn *maint, struct qb_err *err)
{
	int rc = create_scratch(maint, t, head, scratch, err);
	if (rc)
		return rc;
	qb_log(QB_LOG_DEBUG, "database \"%s\" created after %.2f s", scratch, qb_seconds_since(&x->t0));
	*created = true;
	rc = pgc_connect(cfg, scratch, &x->c, err);
	if (rc)
		return rc;
	pgi_watch(x->c);
	/* The data connections open while the schema is made. */
	rc = loader_new(&x->load, cfg, scratch, (int)jobs, err);
	if (rc)
		return rc;
	/* The scratch database is dropped if anything fails, so its statements need
	 * not wait for the disk one by one: the swap's commit makes it all durable
	 * (WAL is flushed in order).  Index builds (on every connection) get room
	 * to sort in memory. */
	rc = pgc_exec(x->c, "SET synchronous_commit = off", err);
	/* Statements are split by the standard rules for strings: every session
	 * reads them so, whatever the role's or the database's default (what the
	 * script itself sets is checked statement by statement). */
	if (!rc)
		rc = pgc_exec(x->c, "SET standard_conforming_strings = on", err);
	if (!rc)
		rc = loader_session(x->load, "SET standard_conforming_strings = on", err);
	if (!rc)
		rc = pgc_check_lexing(x->c, 0, err);
	if (!rc) {
		const char *mem = qb_config_get(cfg, "RESTORE_MAINTENANCE_WORK_MEM", "256MB");
		char *lit = pgc_literal(x->c, mem);
		char *sql = lit ? qb_asprintf("SET maintenance_work_mem = %s", lit) : NULL;
		rc = sql ? pgc_exec(x->c, sql, err) : qb_err_set(err, QB_ENOMEM, "out of memory");
		if (!rc)
			rc = loader_session(x->load, sql, err);
		free(sql);
		free(lit);
	}
	return rc;
}

int qb_db_restore(const struct qb_config *cfg, const struct qb_db_restore_opts *opts,
		  struct qb_db_restore_result *res, struct qb_err *err)
{
	struct qb_db_script_info head;
	struct check_job check;
	struct target t = { 0 };
	struct exec x;
	PGconn *maint = NULL;
	char *scratch = NULL, *previous = NULL;
	bool created = false;
	long jobs;
	int rc;

	memset(res, 0, sizeof(*res));
	memset(&x, 0, sizeof(x));
	if (pgi_interrupted())
		return qb_err_set(err, QB_ECANCELLED, "interrupted");
	qb_clock_start(&x.t0);
	if ((rc = qb_config_get_long(cfg, "RESTORE_JOBS", 2, 1, LOADER_JOBS_MAX, &jobs, err)))
		return rc;
	if (opts->checked)
		head = *opts->checked;
	else if ((rc = script_head(opts->path, &head, err)))
		return rc;
	/* Nothing of the script runs before the whole file is checked; looking the
	 * target up and making the empty database it will run in go on meanwhile.
	 * A target in use is refused once the check ends: seconds, not a load. */
	check_start(&check, opts);
	rc = lookup(cfg, opts, &t, &scratch, &previous, &maint, err);
	if (!rc)
		rc = prepare(cfg, jobs, &head, &x, &t, scratch, &created, maint, err);
	check_wait(&check);
	if (check.rc) {
		rc = check.rc;
		*err = check.err;
		goto out;
	}
	if (rc)
		goto out;
	if (!opts->checked)
		qb_log(QB_LOG_INFO, "%s: intact (%llu statements%s)", opts->path,
		       (unsigned long long)check.info.statements,
		       opts->expected_sha256 ? ", SHA-256 matches the manifest" : "");
	qb_log(QB_LOG_DEBUG, "checked and ready after %.2f s", qb_seconds_since(&x.t0));
	qb_log(QB_LOG_INFO, "restoring %s into a new database \"%s\"", opts->path, scratch);
	x.res = res;
	x.progress = opts->progress;
	x.p.step = "restore";
	x.p.items_total = check.info.statements;
	rc = exec_script(&x, opts->path, err);
	exec_release(&x);
	loader_free(x.load);
	x.load = NULL;
	pgi_unwatch(x.c);
	PQfinish(x.c);
	x.c = NULL;
	/* Stopped by qb_db_interrupt(): whatever the cancelled statement said, or
	 * after the last statement but before the swap. */
	if (pgi_interrupted())
		rc = qb_err_set(err, QB_ECANCELLED, "interrupted");
	qb_log(QB_LOG_DEBUG, "script done after %.2f s", qb_seconds_since(&x.t0));
	if (rc) {
		qb_err_prefix(err, "restore of '%s' failed%s%s%s", opts->path, t.exists ? "; database \"" : "",
			      t.exists ? t.name : "", t.exists ? "\" is unchanged" : "");
		goto out;
	}
	/* The old database's settings and privileges come after the script: applied
	 * before it, a copied "SET default_transaction_read_only = on" or a revoked
	 * CONNECT would act on the restore's own sessions. */
	if (t.exists && (rc = dbcopy_properties(maint, t.oid, scratch, err))) {
		qb_err_prefix(err, "restore of '%s' failed; database \"%s\" is unchanged",
			      opts->path, t.name);
		goto out;
	}
	if (opts->drop_after) {
		res->target = strdup(scratch);
		goto out;  /* dropped below */
	}
	if (pgi_interrupted()) {
		rc = qb_err_set(err, QB_ECANCELLED, "interrupted");
		qb_err_prefix(err, "restore of '%s' stopped before the swap%s%s%s", opts->path,
			      t.exists ? "; database \"" : "", t.exists ? t.name : "",
			      t.exists ? "\" is unchanged" : "");
		goto out;
	}
	rc = swap(maint, &t, scratch, previous, opts->terminate_connections, err);
	if (rc) {
		if (t.exists)  /* the renames are one transaction */
			qb_err_prefix(err, "restore of '%s' failed; database \"%s\" is unchanged",
				      opts->path, t.name);
		goto out;
	}
	qb_log(QB_LOG_DEBUG, "swapped in after %.2f s", qb_seconds_since(&x.t0));
	created = false;
	res->target = strdup(t.name);
	if (previous) {
		res->previous = previous;
		previous = NULL;
	}
out:
	loader_free(x.load);
	pgi_unwatch(x.c);
	if (x.c)
		PQfinish(x.c);
	if (created) {
		struct qb_err e2 = { 0 };
		if (drop_db(maint, scratch, &e2))
			qb_log(QB_LOG_WARN, "unable to drop the scratch database \"%s\": %s", scratch, e2.msg);
	}
	if (maint)
		PQfinish(maint);
	res->seconds = qb_seconds_since(&x.t0);
	target_release(&t);
	free(scratch);
	free(previous);
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

int qb_db_target(const struct qb_config *cfg, const char *target_db, struct qb_db_target *out,
		 struct qb_err *err)
{
	struct target t = { 0 };
	PGconn *c = NULL;
	char *n = NULL;
	int rc = target_name(cfg, target_db, &n, err);

	memset(out, 0, sizeof(*out));
	if (!rc)
		rc = maint_connect(cfg, n, &c, err);
	if (!rc)
		rc = load_target(c, n, &t, err);
	if (!rc) {
		const char *host = PQhost(c), *port = PQport(c);
		out->server = qb_asprintf("%s:%s", host && host[0] ? host : "localhost",
					  port && port[0] ? port : "5432");
		out->exists = t.exists;
		out->name = n;
		n = NULL;
		if (!out->server)
			rc = qb_err_set(err, QB_ENOMEM, "out of memory");
	}
	target_release(&t);
	free(n);
	if (c)
		PQfinish(c);
	if (rc)
		qb_db_target_release(out);
	return rc;
}

void qb_db_target_release(struct qb_db_target *t)
{
	if (!t)
		return;
	free(t->name);
	free(t->server);
	memset(t, 0, sizeof(*t));
}

int qb_db_drop(const struct qb_config *cfg, const char *name, struct qb_err *err)
{
	PGconn *c = NULL;
	bool named;
	char *own = pgc_default_dbname(cfg, &named);
	int rc;

	if (own && !strcmp(own, name)) {
		free(own);
		return qb_err_set(err, QB_EREFUSED, "refusing to drop \"%s\": it is the configured database", name);
	}
	free(own);
	rc = maint_connect(cfg, name, &c, err);
	if (!rc)
		rc = drop_db(c, name, err);
	if (c)
		PQfinish(c);
	return rc;
}
