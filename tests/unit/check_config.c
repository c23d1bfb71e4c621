/* check_config.c - configuration files, the environment's precedence, secrets. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qb/config.h"
#include "testutil.h"

static struct qb_config *parse(const char *text, int *rc, struct qb_err *err)
{
	struct qb_config *cfg = qb_config_new();

	ck_assert_ptr_nonnull(cfg);
	*rc = qb_config_parse(cfg, text, "test.conf", err);
	return cfg;
}

START_TEST(environment_file_syntax)
{
	struct qb_err err = { 0 };
	int rc;
	struct qb_config *cfg = parse(
		"# comment\n"
		"; another comment\n"
		"\n"
		"BACKUP_DIR=/opt/backups/moncabinet\n"
		"export MINIO_BUCKETS=documents,scans\n"
		"  QB_T_SPACED = \"value with spaces\"  \n"
		"QB_T_SINGLE='it''s'\n"
		"QB_T_ESCAPES=\"a\\\"b\\\\c\\nd\"\n"
		"QB_T_TRAILING=plain # a comment\n"
		"QB_T_CRLF=windows\r\n"
		"QB_T_EMPTY=\n"
		"QB_T_EQ=postgresql://u:p@h/db?sslmode=require&a=b\n", &rc, &err);

	ck_assert_msg(rc == QB_OK, "%s", err.msg);
	unsetenv("BACKUP_DIR");
	unsetenv("MINIO_BUCKETS");
	ck_assert_str_eq(qb_config_get(cfg, "BACKUP_DIR", NULL), "/opt/backups/moncabinet");
	ck_assert_str_eq(qb_config_get(cfg, "MINIO_BUCKETS", NULL), "documents,scans");
	ck_assert_str_eq(qb_config_get(cfg, "QB_T_SPACED", NULL), "value with spaces");
	ck_assert_str_eq(qb_config_get(cfg, "QB_T_SINGLE", NULL), "its");
	ck_assert_str_eq(qb_config_get(cfg, "QB_T_ESCAPES", NULL), "a\"b\\c\nd");
	ck_assert_str_eq(qb_config_get(cfg, "QB_T_TRAILING", NULL), "plain");
	ck_assert_str_eq(qb_config_get(cfg, "QB_T_CRLF", NULL), "windows");
	ck_assert_str_eq(qb_config_get(cfg, "QB_T_EMPTY", "default"), "default");
	ck_assert_str_eq(qb_config_get(cfg, "QB_T_EQ", NULL), "postgresql://u:p@h/db?sslmode=require&a=b");
	ck_assert_ptr_null(qb_config_get(cfg, "QB_T_MISSING", NULL));
	qb_config_free(cfg);
}
END_TEST

START_TEST(environment_wins)
{
	struct qb_err err = { 0 };
	int rc;
	struct qb_config *cfg = parse("QB_T_WIN=file\nQB_T_FILEONLY=file\n", &rc, &err);

	ck_assert_int_eq(rc, QB_OK);
	setenv("QB_T_WIN", "env", 1);
	ck_assert_str_eq(qb_config_get(cfg, "QB_T_WIN", NULL), "env");
	ck_assert_str_eq(qb_config_get(cfg, "QB_T_FILEONLY", NULL), "file");
	/* An empty environment variable does not hide the file's value. */
	setenv("QB_T_FILEONLY", "", 1);
	ck_assert_str_eq(qb_config_get(cfg, "QB_T_FILEONLY", NULL), "file");
	/* The command line's forced values win over both. */
	qb_config_set(cfg, "QB_T_WIN", "cli", true);
	ck_assert_str_eq(qb_config_get(cfg, "QB_T_WIN", NULL), "cli");
	unsetenv("QB_T_WIN");
	unsetenv("QB_T_FILEONLY");
	qb_config_free(cfg);
}
END_TEST

START_TEST(bad_lines_are_errors)
{
	static const char *const bad[] = { "NOEQUALS\n", "1BAD=x\n", "BAD KEY=x\n", "K=\"open quote\n", "K='open\n" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct qb_err err = { 0 };
		int rc;
		struct qb_config *cfg = parse(bad[i], &rc, &err);
		ck_assert_msg(rc == QB_ECONFIG, "'%s' should be refused", bad[i]);
		ck_assert_msg(strstr(err.msg, "test.conf:1") != NULL, "message names the line: %s", err.msg);
		qb_config_free(cfg);
	}
}
END_TEST

START_TEST(numbers_and_booleans)
{
	struct qb_err err = { 0 };
	int rc;
	long v;
	bool b;
	struct qb_config *cfg = parse("QB_T_N=14\nQB_T_BAD=14x\nQB_T_BIG=999\nQB_T_B=yes\nQB_T_BB=maybe\n", &rc, &err);

	ck_assert_int_eq(rc, QB_OK);
	ck_assert_int_eq(qb_config_get_long(cfg, "QB_T_N", 1, 1, 100, &v, &err), QB_OK);
	ck_assert_int_eq(v, 14);
	ck_assert_int_eq(qb_config_get_long(cfg, "QB_T_ABSENT", 7, 1, 100, &v, &err), QB_OK);
	ck_assert_int_eq(v, 7);
	ck_assert_int_eq(qb_config_get_long(cfg, "QB_T_BAD", 1, 1, 100, &v, &err), QB_ECONFIG);
	ck_assert_int_eq(qb_config_get_long(cfg, "QB_T_BIG", 1, 1, 100, &v, &err), QB_ECONFIG);
	ck_assert_msg(strstr(err.msg, "QB_T_BIG") != NULL, "%s", err.msg);
	ck_assert_int_eq(qb_config_get_bool(cfg, "QB_T_B", false, &b, &err), QB_OK);
	ck_assert(b);
	ck_assert_int_eq(qb_config_get_bool(cfg, "QB_T_BB", false, &b, &err), QB_ECONFIG);
	qb_config_free(cfg);
}
END_TEST

START_TEST(secret_values_stay_out_of_messages)
{
	struct qb_err err = { 0 };
	int rc;
	long v;
	struct qb_config *cfg = parse("BACKUP_SERVER_TOKEN=hunter2\n", &rc, &err);

	ck_assert(qb_config_key_is_secret("MINIO_SECRET_KEY"));
	ck_assert(qb_config_key_is_secret("BREVO_API_KEY"));
	ck_assert(qb_config_key_is_secret("DATABASE_URL"));
	ck_assert(!qb_config_key_is_secret("BACKUP_DIR"));
	ck_assert_int_eq(qb_config_get_long(cfg, "BACKUP_SERVER_TOKEN", 1, 1, 100, &v, &err), QB_ECONFIG);
	ck_assert_msg(strstr(err.msg, "hunter2") == NULL, "secret in message: %s", err.msg);
	qb_config_free(cfg);
}
END_TEST

/* Found by fuzz/fuzz_config.c: the boolean getter quoted any value. */
START_TEST(secret_values_stay_out_of_boolean_messages)
{
	struct qb_err err = { 0 };
	int rc;
	bool b;
	struct qb_config *cfg = parse("QB_T_SECRET_FLAG=hunter2\n", &rc, &err);

	ck_assert_int_eq(rc, QB_OK);
	ck_assert_int_eq(qb_config_get_bool(cfg, "QB_T_SECRET_FLAG", false, &b, &err), QB_ECONFIG);
	ck_assert_msg(strstr(err.msg, "QB_T_SECRET_FLAG") != NULL, "%s", err.msg);
	ck_assert_msg(strstr(err.msg, "hunter2") == NULL, "secret in message: %s", err.msg);
	qb_config_free(cfg);
}
END_TEST

START_TEST(load_file)
{
	char *dir = tu_tmpdir(), *path;
	struct qb_config *cfg = NULL;
	struct qb_err err = { 0 };

	ck_assert_int_ge(asprintf(&path, "%s/q.conf", dir), 0);
	ck_assert_int_eq(qb_config_load(&cfg, path, &err), QB_ENOTFOUND);
	ck_assert_msg(strstr(err.msg, path) != NULL, "%s", err.msg);
	tu_write_file(path, "QB_T_LOADED=1\n", 14);
	ck_assert_int_eq(qb_config_load(&cfg, path, &err), QB_OK);
	ck_assert_str_eq(qb_config_get(cfg, "QB_T_LOADED", NULL), "1");
	ck_assert_str_eq(qb_config_path(cfg), path);
	qb_config_free(cfg);
	free(path);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

struct seen {
	char keys[8][64];
	int lines[8];
	int n;
};

static void note_unknown(void *ud, const char *key, int line)
{
	struct seen *s = ud;

	ck_assert_int_lt(s->n, 8);
	snprintf(s->keys[s->n], sizeof(s->keys[s->n]), "%s", key);
	s->lines[s->n++] = line;
}

/* A key of the file that nothing reads is named with its line (a typo would
 * otherwise leave its setting at the default in silence). */
START_TEST(unknown_keys_named)
{
	struct qb_config *cfg = qb_config_new();
	struct qb_err err = { 0 };
	struct seen seen = { .n = 0 };

	ck_assert_int_eq(qb_config_parse(cfg, "BACKUP_DIR=/b\nBACKUP_KEPP=7\n# MINIO_BUKETS=x\n"
					 "\nMINIO_BUKETS=docs\nBACKUP_KEEP=7\n", "t.conf", &err), QB_OK);
	ck_assert_int_eq(qb_config_set(cfg, "QB_T_FRONT_END", "1", false), QB_OK);
	qb_config_each_unknown(cfg, note_unknown, &seen);
	ck_assert_int_eq(seen.n, 2);
	ck_assert_str_eq(seen.keys[0], "BACKUP_KEPP");
	ck_assert_int_eq(seen.lines[0], 2);
	ck_assert_str_eq(seen.keys[1], "MINIO_BUKETS");
	ck_assert_int_eq(seen.lines[1], 5);
	ck_assert_str_eq(qb_config_key_suggest("BACKUP_KEPP"), "BACKUP_KEEP");
	ck_assert_str_eq(qb_config_key_suggest("MINIO_BUKETS"), "MINIO_BUCKETS");
	ck_assert_str_eq(qb_config_key_suggest("MINO_SECRET_KEY"), "MINIO_SECRET_KEY");
	ck_assert_str_eq(qb_config_key_suggest("backup_keep"), "BACKUP_KEEP");
	ck_assert_str_eq(qb_config_key_suggest("Backup_Kepe"), "BACKUP_KEEP");
	ck_assert_ptr_null(qb_config_key_suggest("FOO_BAR"));
	ck_assert_ptr_null(qb_config_key_suggest("PGPASSWORD"));
	qb_config_free(cfg);
}
END_TEST

/* The list of known keys is the sample's, key for key, and holds every key
 * the sources read (as qb_config_get*(cfg, "KEY" on one line). */
START_TEST(known_keys_are_the_sample_and_the_sources)
{
	char *out = NULL, *line, *save = NULL;
	int rc, n = 0;

	rc = tu_sh(&out, "sed -n 's/^#\\{0,1\\}\\([A-Z][A-Z0-9_]*\\)=.*/\\1/p' '%s/etc/qbackup.conf.sample' | sort -u",
		   tu_env("QB_SRCDIR"));
	ck_assert_int_eq(rc, 0);
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save), n++)
		ck_assert_msg(qb_config_key_known(line), "the sample's %s is not a known key", line);
	for (size_t i = 0; qb_config_known_key(i); i++) {
		char *again = NULL;
		tu_sh(&again, "grep -c '^#\\{0,1\\}%s=' '%s/etc/qbackup.conf.sample'", qb_config_known_key(i),
		      tu_env("QB_SRCDIR"));
		ck_assert_msg(strtol(again, NULL, 10) >= 1, "%s is not in the sample", qb_config_known_key(i));
		free(again);
	}
	ck_assert_int_gt(n, 20);
	free(out);
	rc = tu_sh(&out, "grep -rhoE '(qb_config_get(_long|_bool)?|get_uint)\\([a-z_>-]+, \"[A-Z0-9_]+\"' '%s/src' "
		   "| grep -oE '\"[A-Z0-9_]+\"' | tr -d '\"' | sort -u", tu_env("QB_SRCDIR"));
	ck_assert_int_eq(rc, 0);
	n = 0;
	save = NULL;
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save), n++)
		ck_assert_msg(qb_config_key_known(line), "the sources read %s, not a known key", line);
	ck_assert_int_gt(n, 20);
	free(out);
}
END_TEST

Suite *suite_config(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");

	tcase_add_test(tc, environment_file_syntax);
	tcase_add_test(tc, environment_wins);
	tcase_add_test(tc, bad_lines_are_errors);
	tcase_add_test(tc, numbers_and_booleans);
	tcase_add_test(tc, secret_values_stay_out_of_messages);
	tcase_add_test(tc, secret_values_stay_out_of_boolean_messages);
	tcase_add_test(tc, load_file);
	tcase_add_test(tc, unknown_keys_named);
	tcase_add_test(tc, known_keys_are_the_sample_and_the_sources);
	suite_add_tcase(s, tc);
	return s;
}
