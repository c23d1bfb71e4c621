/*
 * dbcopy.c - what CREATE DATABASE does not bring over from the old target:
 * its settings (ALTER DATABASE ... SET, ALTER ROLE ... IN DATABASE ... SET)
 * and its own privileges (GRANT ... ON DATABASE).  The restore copies them
 * onto the new database after the script and before the swap, so that a
 * failure drops the new database and leaves the target as it was.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dbcopy.h"
#include "qb/buf.h"
#include "qb/log.h"

#define SQLSTATE_NO_PRIVILEGE "42501"

/*
 * Settings stored as a list of elements each quoted like an identifier
 * (GUC_LIST_QUOTE): the ones pg_dump's variable_is_guc_list_quote() knows.
 * Their stored value cannot go back as one literal: SET search_path TO
 * 'app, public' names a single schema "app, public".
 */
static bool is_list_quote(const char *name)
{
	static const char *const names[] = {
		"local_preload_libraries", "search_path", "session_preload_libraries",
		"shared_preload_libraries", "temp_tablespaces", "unix_socket_directories", NULL
	};

	for (int i = 0; names[i]; i++)
		if (!strcasecmp(name, names[i]))
			return true;
	return false;
}

static const char *skip_space(const char *p)
{
	while (isspace((unsigned char)*p))
		p++;
	return p;
}

/* One element of a stored list at *p into e (room for strlen(*p) + 1),
 * *p moved past it and its trailing space; false if malformed. */
static bool list_element(const char **p, char *e)
{
	const char *s = *p;

	if (*s == '"') {
		for (s++;; s++) {
			if (!*s)
				return false;  /* no closing quote */
			if (*s == '"' && s[1] != '"')
				break;
			if (*s == '"')
				s++;  /* "" is one quote */
			*e++ = *s;
		}
		s++;
	} else {
		const char *start = s;
		while (*s && *s != ',' && !isspace((unsigned char)*s))
			*e++ = *s++;
		if (s == start)
			return false;  /* an empty element is quoted: "" */
	}
	*e = '\0';
	*p = skip_space(s);
	return true;
}

/*
 * A stored list value (SplitGUCList's rules: comma-separated, an element
 * double-quoted with "" for a quote, space around elements ignored) as one
 * SQL literal per element: 'app', 'My Schema' (malloc'd).  An empty list
 * is ''.  NULL with *bad true when v is not such a list, *bad false when
 * out of memory.
 */
static char *list_sql(PGconn *c, const char *v, bool *bad)
{
	size_t n = strlen(v);
	char *e = malloc(n + 1);
	struct qb_buf b;
	const char *p = skip_space(v);
	int rc = e ? QB_OK : QB_ENOMEM;

	*bad = false;
	qb_buf_init(&b, 8 * n + 16);
	if (!rc && !*p)
		rc = qb_buf_puts(&b, "''", NULL);
	while (!rc && *p) {
		char *lit;
		/* After an element: the end, or a comma and another element. */
		if (!list_element(&p, e) || (*p && *p != ',') ||
		    (*p == ',' && !*skip_space(p + 1))) {
			*bad = true;
			break;
		}
		if (*p == ',')
			p = skip_space(p + 1);
		lit = pgc_literal(c, e);
		rc = lit ? qb_buf_printf(&b, NULL, "%s%s", b.len ? ", " : "", lit) : QB_ENOMEM;
		free(lit);
	}
	free(e);
	if (rc || *bad) {
		qb_buf_release(&b);
		return NULL;
	}
	return qb_buf_detach(&b);
}

/* The SQL for the value of setting key (after TO), malloc'd; NULL if out of memory. */
static char *value_sql(PGconn *c, const char *key, const char *val)
{
	bool bad;
	char *sql;

	if (!is_list_quote(key))
		return pgc_literal(c, val);
	sql = list_sql(c, val, &bad);
	if (!bad)
		return sql;
	qb_log(QB_LOG_WARN, "the stored value of %s is not a list as PostgreSQL writes one; "
	       "copied as one string", key);
	return pgc_literal(c, val);
}

static const char *error_field(const PGresult *r, int code)
{
	const char *v = r ? PQresultErrorField(r, code) : NULL;

	return v ? v : "";
}

/* Run the ALTER of one setting of role (NULL: the database itself) on the
 * new database qdb.  A role's setting the restoring user may not make is a
 * warning, not a failure. */
static int run_setting(PGconn *c, const char *sql, const char *key, const char *role,
		       struct qb_err *err)
{
	PGresult *r = PQexec(c, sql);
	bool ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
	char what[256];
	int rc = QB_OK;

	if (!ok && role && !strcmp(error_field(r, PG_DIAG_SQLSTATE), SQLSTATE_NO_PRIVILEGE)) {
		qb_log(QB_LOG_WARN, "setting %s of role \"%s\" not copied to the restored "
		       "database: %s", key, role, error_field(r, PG_DIAG_MESSAGE_PRIMARY));
	} else if (!ok) {
		if (role)
			snprintf(what, sizeof(what), "unable to copy setting %s of role \"%s\"",
				 key, role);
		else
			snprintf(what, sizeof(what), "unable to copy database setting %s", key);
		rc = pgc_fail(c, r, err, what);
	}
	PQclear(r);
	return rc;
}

/* One stored setting (kv: "name=value") of role (NULL: the database) onto qdb. */
static int copy_setting(PGconn *c, const char *qdb, const char *role, const char *kv,
			struct qb_err *err)
{
	const char *eq = strchr(kv, '=');
	char *key, *qk, *qr, *val, *sql = NULL;
	int rc;

	if (!eq)
		return QB_OK;  /* not a setting: nothing PostgreSQL would store */
	key = qb_strndup(kv, (size_t)(eq - kv));
	qk = key ? pgc_ident(c, key) : NULL;
	qr = role ? pgc_ident(c, role) : NULL;
	val = qk ? value_sql(c, key, eq + 1) : NULL;
	if (val && (!role || qr))
		sql = role ? qb_asprintf("ALTER ROLE %s IN DATABASE %s SET %s TO %s", qr, qdb, qk,
					 val)
			   : qb_asprintf("ALTER DATABASE %s SET %s TO %s", qdb, qk, val);
	if (sql)
		rc = run_setting(c, sql, key, role, err);
	else
		rc = qb_err_set(err, QB_ENOMEM, "out of memory");
	free(sql);
	free(val);
	free(qr);
	free(qk);
	free(key);
	return rc;
}

/* The old database's settings, its own first, then its roles'. */
static int copy_settings(PGconn *c, unsigned oid, const char *qdb, struct qb_err *err)
{
	PGresult *r = pgc_queryf(c, err,
		"SELECT r.rolname, s.kv FROM pg_catalog.pg_db_role_setting d "
		"LEFT JOIN pg_catalog.pg_roles r ON r.oid = d.setrole "
		"CROSS JOIN LATERAL pg_catalog.unnest(d.setconfig) WITH ORDINALITY s(kv, n) "
		"WHERE d.setdatabase = %u AND (d.setrole = 0 OR r.rolname IS NOT NULL) "
		"ORDER BY d.setrole = 0 DESC, r.rolname, s.n", oid);
	int rc = r ? QB_OK : err->code;

	for (int i = 0; r && i < PQntuples(r) && !rc; i++)
		rc = copy_setting(c, qdb, pgc_val(r, i, "rolname"), pgc_str(r, i, "kv"), err);
	PQclear(r);
	return rc;
}

/*
 * The old database's privileges, when it has its own (datacl not NULL).
 * After REVOKE ALL ... FROM PUBLIC the new database's ACL is the owner's
 * implicit privileges alone; each entry of the old one is granted again,
 * but for the owner's plain ones (held already); what the owner had taken
 * away from itself is revoked.  The grantor of every entry becomes the
 * owner (as pg_dump without --use-set-session-authorization would make it).
 */
#define ACL_SQL \
	"SELECT 'GRANT' AS verb, " \
	"CASE WHEN a.grantee = 0 THEN NULL " \
	"ELSE pg_catalog.pg_get_userbyid(a.grantee) END AS grantee, " \
	"a.privilege_type AS priv, a.is_grantable AS grantable " \
	"FROM pg_catalog.pg_database d CROSS JOIN LATERAL pg_catalog.aclexplode(d.datacl) a " \
	"WHERE d.oid = %u AND (a.grantee <> d.datdba OR a.is_grantable) " \
	"UNION ALL " \
	"SELECT 'REVOKE', pg_catalog.pg_get_userbyid(d.datdba), p, false " \
	"FROM pg_catalog.pg_database d " \
	"CROSS JOIN pg_catalog.unnest(ARRAY['CREATE', 'TEMPORARY', 'CONNECT']) p " \
	"WHERE d.oid = %u AND d.datacl IS NOT NULL AND NOT EXISTS (" \
	"SELECT 1 FROM pg_catalog.aclexplode(d.datacl) a " \
	"WHERE a.grantee = d.datdba AND a.privilege_type = p)"

static int copy_acl_entry(PGconn *c, const char *qdb, const PGresult *r, int i,
			  struct qb_err *err)
{
	const char *who = pgc_val(r, i, "grantee");
	bool grant = !strcmp(pgc_str(r, i, "verb"), "GRANT");
	char *qw = who ? pgc_ident(c, who) : strdup("PUBLIC"), *sql = NULL;
	int rc;

	if (qw)
		sql = qb_asprintf("%s %s ON DATABASE %s %s %s%s", grant ? "GRANT" : "REVOKE",
				  pgc_str(r, i, "priv"), qdb, grant ? "TO" : "FROM", qw,
				  pgc_true(r, i, "grantable") ? " WITH GRANT OPTION" : "");
	rc = sql ? pgc_exec(c, sql, err) : qb_err_set(err, QB_ENOMEM, "out of memory");
	free(sql);
	free(qw);
	return rc;
}

static int copy_acl(PGconn *c, unsigned oid, const char *qdb, struct qb_err *err)
{
	PGresult *own = pgc_queryf(c, err, "SELECT datacl IS NOT NULL AS own "
				   "FROM pg_catalog.pg_database WHERE oid = %u", oid);
	PGresult *r = NULL;
	char *sql = NULL;
	int rc = own ? QB_OK : err->code;

	if (rc || PQntuples(own) != 1 || !pgc_true(own, 0, "own"))
		goto out;
	sql = qb_asprintf("REVOKE ALL ON DATABASE %s FROM PUBLIC", qdb);
	rc = sql ? pgc_exec(c, sql, err) : qb_err_set(err, QB_ENOMEM, "out of memory");
	if (!rc && !(r = pgc_queryf(c, err, ACL_SQL, oid, oid)))
		rc = err->code;
	for (int i = 0; !rc && i < PQntuples(r); i++)
		rc = copy_acl_entry(c, qdb, r, i, err);
out:
	free(sql);
	PQclear(r);
	PQclear(own);
	return rc ? qb_err_prefix(err, "unable to copy the privileges of the database") : QB_OK;
}

int dbcopy_properties(PGconn *c, unsigned oid, const char *scratch, struct qb_err *err)
{
	char *qdb = pgc_ident(c, scratch);
	int rc;

	if (!qdb)
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	rc = copy_settings(c, oid, qdb, err);
	if (!rc)
		rc = copy_acl(c, oid, qdb, err);
	free(qdb);
	return rc;
}
