/*
 * conn.c - connecting and querying.
 *
 * The connection string is passed to libpq through PQconnectdbParams with
 * expand_dbname, so a URI or a conninfo string both work and a later
 * "dbname" entry can point the same settings at another database (the
 * maintenance database for CREATE/ALTER DATABASE).  Nothing here logs the
 * string itself: qb_db_redact() is the only way it reaches a log, and a
 * failure to connect never quotes it (see url_password()).  Every connection
 * sends the server's notices to the log, never to stderr.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pg_intern.h"
#include "qb/log.h"
#include "qb/pgdump.h"

static void notice_to_log(void *arg, const char *msg)
{
	(void)arg;
	qb_log(QB_LOG_DEBUG, "server: %.*s", (int)strcspn(msg, "\n"), msg);
}

/* The password in a connection's options (parsed from DATABASE_URL, or a
 * connection's PQconninfo: DATABASE_URL or PGPASSWORD), borrowed; NULL if none. */
static const char *conn_password(const PQconninfoOption *opts)
{
	for (const PQconninfoOption *o = opts; o && o->keyword; o++)
		if (!strcmp(o->keyword, "password") && o->val && o->val[0])
			return o->val;
	return NULL;
}

/*
 * The password DATABASE_URL carries (malloc'd, NULL if none).  A string
 * libpq cannot parse is refused with a fixed message: libpq's own quotes the
 * token it stopped at, or the whole string, password included.
 */
static int url_password(const char *url, char **password, struct qb_err *err)
{
	char *perr = NULL;
	PQconninfoOption *opts;
	const char *pw;
	int rc = QB_OK;

	*password = NULL;
	if (!url)
		return QB_OK;
	opts = PQconninfoParse(url, &perr);
	if (!opts) {
		if (perr)
			rc = qb_err_set(err, QB_ECONFIG,
					"DATABASE_URL is not a valid PostgreSQL connection string");
		else
			rc = qb_err_set(err, QB_ENOMEM, "out of memory");
		PQfreemem(perr);
		return rc;
	}
	pw = conn_password(opts);
	if (pw && !(*password = strdup(pw)))
		rc = qb_err_set(err, QB_ENOMEM, "out of memory");
	PQconninfoFree(opts);
	return rc;
}

/* The first line of src into dst (size bytes), each occurrence of a
 * non-empty secret replaced with "***".  Masked before it is cut, so that
 * a password at the cut cannot leave a prefix of itself. */
static void copy_masked(char *dst, size_t size, const char *src, const char *const secrets[2])
{
	size_t o = 0;

	while (*src && *src != '\n' && o + 1 < size) {
		size_t n = 0;
		for (int i = 0; i < 2 && !n; i++) {
			size_t len = secrets[i] ? strlen(secrets[i]) : 0;
			if (len && !strncmp(src, secrets[i], len))
				n = len;
		}
		if (!n) {
			dst[o++] = *src++;
			continue;
		}
		for (const char *m = "***"; *m && o + 1 < size; m++)
			dst[o++] = *m;
		src += n;
	}
	dst[o] = '\0';
}

static int connect_failed(PGconn *c, const char *dbname, const char *url_pw,
			  struct qb_err *err)
{
	PQconninfoOption *opts = PQconninfo(c);
	const char *secrets[2] = { url_pw, conn_password(opts) };
	char msg[QB_ERRMSG_MAX];

	/* libpq does not mean to name the password; if it ever does, it is masked. */
	copy_masked(msg, sizeof(msg), PQerrorMessage(c), secrets);
	PQconninfoFree(opts);
	return qb_err_set(err, QB_EDB, "unable to connect to PostgreSQL%s%s: %s",
			  dbname ? " database " : "", dbname ? dbname : "", msg);
}

int pgc_connect(const struct qb_config *cfg, const char *dbname, PGconn **out,
		struct qb_err *err)
{
	const char *url = qb_config_get(cfg, "DATABASE_URL", NULL);
	const char *keys[4], *vals[4];
	char *pw;
	int n = 0, rc;
	PGconn *c;

	*out = NULL;
	if ((rc = url_password(url, &pw, err)))
		return rc;
	if (url) {
		keys[n] = "dbname";
		vals[n++] = url;
	}
	if (dbname) {
		keys[n] = "dbname";
		vals[n++] = dbname;
	}
	keys[n] = "application_name";
	vals[n++] = "qbackup";
	keys[n] = NULL;
	vals[n] = NULL;
	c = PQconnectdbParams(keys, vals, 1);
	if (!c)
		rc = qb_err_set(err, QB_ENOMEM, "out of memory connecting to PostgreSQL");
	else if (PQstatus(c) != CONNECTION_OK)
		rc = connect_failed(c, dbname, pw, err);
	else if (PQclientEncoding(c) < 0)
		rc = qb_err_set(err, QB_EDB, "bad client encoding");
	free(pw);
	if (rc) {
		PQfinish(c);
		return rc;
	}
	/* Every connection: a server NOTICE must not reach stderr through libpq. */
	PQsetNoticeProcessor(c, notice_to_log, NULL);
	*out = c;
	return QB_OK;
}

int pgc_fail(PGconn *c, const PGresult *r, struct qb_err *err, const char *what)
{
	char msg[QB_ERRMSG_MAX];
	const char *m = r ? PQresultErrorMessage(r) : PQerrorMessage(c);

	if (!m || !m[0])
		m = PQerrorMessage(c);
	snprintf(msg, sizeof(msg), "%s", m);
	/* Keep the first line and the DETAIL/HINT lines short: one-line errors. */
	for (char *p = msg; *p; p++)
		if (*p == '\n')
			*p = p[1] ? ' ' : '\0';
	return qb_err_set(err, QB_EDB, "%s: %s", what, msg);
}

int pgc_fail_line(PGconn *c, const PGresult *r, struct qb_err *err, unsigned long line)
{
	char where[32];

	snprintf(where, sizeof(where), "line %lu", line);
	return pgc_fail(c, r, err, where);
}

void pgc_discard_results(PGconn *c)
{
	PGresult *r;

	while ((r = PQgetResult(c)))
		PQclear(r);
}

int pgc_copy_end(PGconn *c, bool abort, unsigned long line, const char *check_hint, int64_t *rows,
		 struct qb_err *err)
{
	int sent = PQputCopyEnd(c, abort ? "qrestore stopped" : NULL);
	PGresult *r = PQgetResult(c);
	int rc = QB_OK;

	*rows = 0;
	if (abort) {
		rc = QB_OK;  /* abandoned on purpose: the caller has its error */
	} else if (sent != 1 || !r || PQresultStatus(r) != PGRES_COMMAND_OK) {
		const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
		rc = pgc_fail_line(c, r, err, line);
		if (check_hint && state && !strcmp(state, "23514")) {  /* check_violation */
			size_t n = strlen(err->msg);
			snprintf(err->msg + n, sizeof(err->msg) - n, " %s", check_hint);
		}
	} else
		*rows = strtoll(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	pgc_discard_results(c);
	return rc;
}

PGresult *pgc_query(PGconn *c, const char *sql, struct qb_err *err)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;

	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
		return r;
	{
		char what[160];
		snprintf(what, sizeof(what), "query failed (%.100s%s)", sql, strlen(sql) > 100 ? "..." : "");
		for (char *p = what; *p; p++)
			if (*p == '\n' || *p == '\t')
				*p = ' ';
		pgc_fail(c, r, err, what);
	}
	PQclear(r);
	return NULL;
}

PGresult *pgc_queryf(PGconn *c, struct qb_err *err, const char *fmt, ...)
{
	va_list ap;
	char *sql;
	PGresult *r;

	va_start(ap, fmt);
	if (vasprintf(&sql, fmt, ap) < 0)
		sql = NULL;
	va_end(ap);
	if (!sql) {
		qb_err_set(err, QB_ENOMEM, "out of memory");
		return NULL;
	}
	r = pgc_query(c, sql, err);
	free(sql);
	return r;
}

int pgc_exec(PGconn *c, const char *sql, struct qb_err *err)
{
	PGresult *r = pgc_query(c, sql, err);

	if (!r)
		return err ? err->code : QB_EDB;
	PQclear(r);
	return QB_OK;
}

int pgc_check_lexing(PGconn *c, unsigned long line, struct qb_err *err)
{
	static const char *const unsafe[] = { "SJIS", "SHIFT_JIS_2004", "BIG5", "GBK", "UHC",
					      "GB18030", "JOHAB" };
	const char *scs = PQparameterStatus(c, "standard_conforming_strings");
	const char *enc = PQparameterStatus(c, "client_encoding");
	char where[32] = "the session";

	if (line)
		snprintf(where, sizeof(where), "line %lu", line);
	if (scs && strcmp(scs, "on"))
		return qb_err_set(err, QB_EREFUSED, "%s: standard_conforming_strings is %s; qrestore "
				  "reads the script's strings by the standard rules only, nothing was "
				  "restored", where, scs);
	for (size_t i = 0; enc && i < sizeof(unsafe) / sizeof(unsafe[0]); i++)
		if (!strcasecmp(enc, unsafe[i]))
			return qb_err_set(err, QB_EREFUSED, "%s: client_encoding is %s, in which a "
					  "character can end with a quote or backslash byte; nothing "
					  "was restored", where, enc);
	return QB_OK;
}

static char *dup_free(char *p)
{
	char *s = p ? strdup(p) : NULL;

	PQfreemem(p);
	return s;
}

char *pgc_ident(PGconn *c, const char *s)
{
	return dup_free(PQescapeIdentifier(c, s, strlen(s)));
}

char *pgc_literal(PGconn *c, const char *s)
{
	return dup_free(PQescapeLiteral(c, s, strlen(s)));
}

char *pgc_default_dbname(const struct qb_config *cfg, bool *named)
{
	const char *url = qb_config_get(cfg, "DATABASE_URL", NULL);
	char *name = NULL, *user = NULL;

	/* libpq's order: the string's dbname, PGDATABASE, then the user name
	 * (the string's, PGUSER, the operating system's). */
	*named = true;
	if (url) {
		PQconninfoOption *opts = PQconninfoParse(url, NULL);
		for (PQconninfoOption *o = opts; o && o->keyword; o++) {
			if (!strcmp(o->keyword, "dbname") && o->val && o->val[0])
				name = strdup(o->val);
			if (!strcmp(o->keyword, "user") && o->val && o->val[0])
				user = strdup(o->val);
		}
		PQconninfoFree(opts);
	}
	if (!name && getenv("PGDATABASE") && getenv("PGDATABASE")[0])
		name = strdup(getenv("PGDATABASE"));
	if (name) {
		free(user);
		return name;
	}
	*named = false;
	if (user)
		return user;
	if (getenv("PGUSER") && getenv("PGUSER")[0])
		return strdup(getenv("PGUSER"));
	{
		PQconninfoOption *d = PQconndefaults();
		for (PQconninfoOption *o = d; o && o->keyword; o++)
			if (!strcmp(o->keyword, "user") && o->val)
				name = strdup(o->val);
		PQconninfoFree(d);
	}
	return name;
}

char *qb_db_redact(const char *conninfo)
{
	PQconninfoOption *opts;
	struct qb_buf b;

	if (!conninfo)
		return strdup("(PG* environment)");
	opts = PQconninfoParse(conninfo, NULL);
	if (!opts)
		return strdup("(unparsable connection string)");
	qb_buf_init(&b, 4096);
	for (PQconninfoOption *o = opts; o->keyword; o++) {
		if (!o->val || !o->val[0])
			continue;
		if (!strcmp(o->keyword, "host") || !strcmp(o->keyword, "hostaddr") ||
		    !strcmp(o->keyword, "port") || !strcmp(o->keyword, "dbname") ||
		    !strcmp(o->keyword, "user") || !strcmp(o->keyword, "sslmode"))
			qb_buf_printf(&b, NULL, "%s%s=%s", b.len ? " " : "", o->keyword, o->val);
	}
	PQconninfoFree(opts);
	return qb_buf_detach(&b);
}

