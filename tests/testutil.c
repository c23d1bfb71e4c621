/* testutil.c - see testutil.h. */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

const char *tu_env(const char *name)
{
	const char *v = getenv(name);

	ck_assert_msg(v && v[0], "%s is not set: run the tests through `make check`", name);
	return v;
}

char *tu_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *p;

	if (asprintf(&p, "%s/qbtest.XXXXXX", base && base[0] ? base : "/tmp") < 0)
		return NULL;
	ck_assert_ptr_nonnull(mkdtemp(p));
	return p;
}

void tu_rm_rf(const char *path)
{
	if (path && path[0] && strcmp(path, "/"))
		tu_sh(NULL, "rm -rf '%s'", path);
}

int tu_sh(char **out, const char *fmt, ...)
{
	char *cmd, *full;
	va_list ap;
	FILE *p;
	size_t cap = 4096, len = 0;
	char *buf;
	int st;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0)
		cmd = NULL;
	va_end(ap);
	ck_assert_ptr_nonnull(cmd);
	ck_assert_int_ge(asprintf(&full, "{ %s ; } 2>&1", cmd), 0);
	free(cmd);
	p = popen(full, "r");
	free(full);
	ck_assert_ptr_nonnull(p);
	buf = malloc(cap);
	ck_assert_ptr_nonnull(buf);
	for (;;) {
		size_t n;
		if (len + 4096 > cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			ck_assert_ptr_nonnull(buf);
		}
		n = fread(buf + len, 1, cap - len - 1, p);
		if (n == 0)
			break;
		len += n;
	}
	buf[len] = '\0';
	st = pclose(p);
	if (out)
		*out = buf;
	else
		free(buf);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

char *tu_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf) {
		buf[n] = '\0';
		if (len)
			*len = (size_t)n;
	}
	return buf;
}

int tu_write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	int ok;

	if (!f)
		return -1;
	ok = fwrite(p, 1, n, f) == n;
	return fclose(f) == 0 && ok ? 0 : -1;
}

char *tu_pg_url(const char *db)
{
	char *url;

	ck_assert_int_ge(asprintf(&url, "postgresql://%s:%s@%s:%s/%s", tu_env("QB_TEST_PGUSER"),
				  tu_env("QB_TEST_PGPASSWORD"), tu_env("QB_TEST_PGHOST"),
				  tu_env("QB_TEST_PGPORT"), db), 0);
	return url;
}

int tu_psql(const char *db, const char *sql, char **out)
{
	char *path;
	int rc;
	FILE *f;
	char *dir = tu_tmpdir();

	ck_assert_int_ge(asprintf(&path, "%s/q.sql", dir), 0);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(sql, f);
	fclose(f);
	rc = tu_sh(out, "PGPASSWORD='%s' '%s/psql' -X -q -At -v ON_ERROR_STOP=1 -h %s -p %s -U %s -d '%s' -f '%s'",
		   tu_env("QB_TEST_PGPASSWORD"), tu_env("QB_TEST_PGBIN"), tu_env("QB_TEST_PGHOST"),
		   tu_env("QB_TEST_PGPORT"), tu_env("QB_TEST_PGUSER"), db, path);
	free(path);
	tu_rm_rf(dir);
	free(dir);
	return rc;
}

void tu_pg_drop_db(const char *db)
{
	char *sql;

	ck_assert_int_ge(asprintf(&sql, "DROP DATABASE IF EXISTS \"%s\" WITH (FORCE);", db), 0);
	ck_assert_int_eq(tu_psql("postgres", sql, NULL), 0);
	free(sql);
}

void tu_pg_create_db(const char *db)
{
	char *sql;

	tu_pg_drop_db(db);
	ck_assert_int_ge(asprintf(&sql, "CREATE DATABASE \"%s\" TEMPLATE template0;", db), 0);
	ck_assert_int_eq(tu_psql("postgres", sql, NULL), 0);
	free(sql);
}

int tu_count_entries(const char *dir)
{
	char *out = NULL;
	int n;

	ck_assert_int_eq(tu_sh(&out, "ls -A '%s' | wc -l", dir), 0);
	n = (int)strtol(out, NULL, 10);
	free(out);
	return n;
}
