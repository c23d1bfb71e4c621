/*
 * pg_intern.h - what the files of src/lib/pg share.  libpq stays here.
 */
#ifndef QB_PG_INTERN_H
#define QB_PG_INTERN_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "qb/buf.h"
#include "qb/config.h"
#include "qb/error.h"

/* Connect with DATABASE_URL (or PG* variables); dbname overrides the
 * database when not NULL.  Errors never contain the password (nor the URL,
 * which is refused with a fixed message when it does not parse).  The
 * server's notices and warnings go to the log (debug level), not stderr. */
int pgc_connect(const struct qb_config *cfg, const char *dbname, PGconn **out,
		struct qb_err *err);
/* Run SQL expecting tuples or a command; NULL + err on failure. */
PGresult *pgc_query(PGconn *c, const char *sql, struct qb_err *err);
PGresult *pgc_queryf(PGconn *c, struct qb_err *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int pgc_exec(PGconn *c, const char *sql, struct qb_err *err);
/* Set err from the connection's last error, prefixed with what. */
int pgc_fail(PGconn *c, const PGresult *r, struct qb_err *err, const char *what);
/* The same, what being "line N" of a script. */
int pgc_fail_line(PGconn *c, const PGresult *r, struct qb_err *err, unsigned long line);
/* QB_OK while c's server reads SQL text the way the script scanner split it:
 * standard_conforming_strings on, and a client encoding in which no character
 * ends with an ASCII byte.  Otherwise QB_EREFUSED naming the script's line
 * (0: before the script) that changed it: with backslashes special in '...'
 * strings, or a quote or backslash as a character's last byte (SJIS, BIG5,
 * GBK, UHC, GB18030, JOHAB), the server would cut later statements elsewhere
 * and run text the script check never saw as a statement. */
int pgc_check_lexing(PGconn *c, unsigned long line, struct qb_err *err);
/* Read and drop the results still pending on c. */
void pgc_discard_results(PGconn *c);
/* End a COPY FROM STDIN on c: sent (abort false) or abandoned (abort true,
 * QB_OK).  *rows: the rows the server took.  A failure names the script's
 * line of the COPY statement and carries the server's message, and check_hint
 * (or nothing: NULL) when a CHECK constraint refused a row. */
int pgc_copy_end(PGconn *c, bool abort, unsigned long line, const char *check_hint, int64_t *rows,
		 struct qb_err *err);
/* Quote an identifier / a literal; caller frees with PQfreemem... we return malloc'd. */
char *pgc_ident(PGconn *c, const char *s);
char *pgc_literal(PGconn *c, const char *s);
/* The database name the configuration connects to, malloc'd.  *named is false
 * when nothing names one and libpq takes the user name instead. */
char *pgc_default_dbname(const struct qb_config *cfg, bool *named);

/* A restore's connections, cancelled by qb_db_interrupt() (interrupt.c): watched
 * from connecting until just before PQfinish. */
void pgi_watch(PGconn *c);
void pgi_unwatch(PGconn *c);
bool pgi_interrupted(void);

/* A value of the dump's header line (hdrval.c): encoded, malloc'd; decoded in
 * place, false when it is not a valid encoding (a bad %XX, or %00). */
char *pgh_encode(const char *s);
bool pgh_decode(char *s);

/* pg_database's locale provider ('c' libc, 'i' ICU, 'b' builtin) and its locale
 * (the ICU or builtin one), as two columns of a query on "pg_database d" of a
 * server of that version (libc only before 15; datlocale from 17). */
static inline const char *pgc_locale_columns(int version)
{
	return version >= 170000 ? "d.datlocprovider, d.datlocale"
	       : version >= 150000 ? "d.datlocprovider, d.daticulocale"
				   : "'c'::\"char\", NULL::text";
}

static inline const char *pgc_val(const PGresult *r, int row, const char *col)
{
	int f = PQfnumber(r, col);
	return f < 0 || PQgetisnull(r, row, f) ? NULL : PQgetvalue(r, row, f);
}

/* The same, "" for NULL: for flags and kinds that are never NULL. */
static inline const char *pgc_str(const PGresult *r, int row, const char *col)
{
	const char *v = pgc_val(r, row, col);
	return v ? v : "";
}

/* A boolean column is true. */
static inline bool pgc_true(const PGresult *r, int row, const char *col)
{
	const char *v = pgc_val(r, row, col);
	return v && v[0] == 't';
}

#endif
