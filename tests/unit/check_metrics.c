/* check_metrics.c - the Prometheus textfile (metrics.h). */
#include <check.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qb/fsutil.h"
#include "qb/metrics.h"
#include "testutil.h"

/* The value of the sample `series` (name with labels), or -1 when absent. */
static double sample(const char *text, const char *series)
{
	size_t n = strlen(series);

	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (!strncmp(l, series, n) && l[n] == ' ')
			return strtod(l + n + 1, NULL);
	}
	return -1;
}

/* Every line is a HELP/TYPE comment or `name{kind="x"} number`. */
static void check_format(const char *text)
{
	regex_t re;
	const char *l = text;

	ck_assert_int_eq(regcomp(&re, "^(# (HELP|TYPE) qbackup_[a-z_]+ .+|qbackup_[a-z_]+"
				 "(\\{kind=\"[a-z0-9_]+\"\\})? [0-9]+(\\.[0-9]+)?)$",
				 REG_EXTENDED | REG_NOSUB), 0);
	while (*l) {
		const char *nl = strchr(l, '\n');
		char *line;
		ck_assert_msg(nl != NULL, "last line without a newline");
		line = strndup(l, (size_t)(nl - l));
		ck_assert_msg(regexec(&re, line, 0, NULL, 0) == 0, "bad line: '%s'", line);
		free(line);
		l = nl + 1;
	}
	regfree(&re);
}

static char *read_metrics(const char *path)
{
	char *t = tu_read_file(path, NULL);

	ck_assert_ptr_nonnull(t);
	check_format(t);
	return t;
}

START_TEST(test_write_and_keep_previous_kinds)
{
	char *d = tu_tmpdir();
	char *path = qb_path_join(d, "qbackup.prom");
	struct qb_err err = { 0 };
	struct qb_metrics_step run1[] = {
		{ .kind = "db", .ok = true, .duration = 4.2, .bytes = 15938355 },
		{ .kind = "code", .ok = false, .duration = 0.25 },
	};
	struct qb_metrics_step run2[] = {
		{ .kind = "minio", .ok = true, .duration = 61.0004, .bytes = 262144000 },
	};
	struct qb_metrics_step run3[] = {
		{ .kind = "db", .ok = false, .duration = 1 },
	};
	struct qb_metrics_run r = { .finished = 1770346800, .duration = 5.5, .ok = false,
				    .steps = run1, .nsteps = 2 };
	struct stat st;
	char *t;

	ck_assert_int_eq(qb_metrics_write(path, &r, &err), QB_OK);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0644);
	t = read_metrics(path);
	ck_assert_ptr_nonnull(strstr(t, "# TYPE qbackup_last_run_success gauge\n"));
	ck_assert_ptr_nonnull(strstr(t, "\nqbackup_last_run_duration_seconds 5.500\n"));
	ck_assert(sample(t, "qbackup_last_run_timestamp_seconds") == 1770346800);
	ck_assert(sample(t, "qbackup_last_run_success") == 0);
	ck_assert(sample(t, "qbackup_last_success_timestamp_seconds{kind=\"db\"}") == 1770346800);
	ck_assert(sample(t, "qbackup_last_success_duration_seconds{kind=\"db\"}") == 4.2);
	ck_assert(sample(t, "qbackup_last_success_size_bytes{kind=\"db\"}") == 15938355);
	ck_assert(sample(t, "qbackup_last_attempt_success{kind=\"db\"}") == 1);
	ck_assert(sample(t, "qbackup_last_attempt_success{kind=\"code\"}") == 0);
	ck_assert(sample(t, "qbackup_last_attempt_timestamp_seconds{kind=\"code\"}") == 1770346800);
	/* A kind that never succeeded has no success figures, not zeros. */
	ck_assert(sample(t, "qbackup_last_success_timestamp_seconds{kind=\"code\"}") == -1);
	ck_assert(sample(t, "qbackup_last_attempt_success{kind=\"minio\"}") == -1);
	free(t);

	/* A minio-only run keeps db and code as they were. */
	r = (struct qb_metrics_run){ .finished = 1770433200, .duration = 61, .ok = true,
				     .steps = run2, .nsteps = 1 };
	ck_assert_int_eq(qb_metrics_write(path, &r, &err), QB_OK);
	t = read_metrics(path);
	ck_assert(sample(t, "qbackup_last_run_success") == 1);
	ck_assert(sample(t, "qbackup_last_run_timestamp_seconds") == 1770433200);
	ck_assert(sample(t, "qbackup_last_success_timestamp_seconds{kind=\"minio\"}") ==
		  1770433200);
	ck_assert(sample(t, "qbackup_last_success_duration_seconds{kind=\"minio\"}") == 61.0);
	ck_assert(sample(t, "qbackup_last_success_size_bytes{kind=\"minio\"}") == 262144000);
	ck_assert(sample(t, "qbackup_last_success_timestamp_seconds{kind=\"db\"}") == 1770346800);
	ck_assert(sample(t, "qbackup_last_success_duration_seconds{kind=\"db\"}") == 4.2);
	ck_assert(sample(t, "qbackup_last_success_size_bytes{kind=\"db\"}") == 15938355);
	ck_assert(sample(t, "qbackup_last_attempt_success{kind=\"code\"}") == 0);
	free(t);

	/* A failed db run: its last success stays, its last attempt says 0. */
	r = (struct qb_metrics_run){ .finished = 1770519600, .duration = 1, .ok = false,
				     .steps = run3, .nsteps = 1 };
	ck_assert_int_eq(qb_metrics_write(path, &r, &err), QB_OK);
	t = read_metrics(path);
	ck_assert(sample(t, "qbackup_last_success_timestamp_seconds{kind=\"db\"}") == 1770346800);
	ck_assert(sample(t, "qbackup_last_success_size_bytes{kind=\"db\"}") == 15938355);
	ck_assert(sample(t, "qbackup_last_attempt_success{kind=\"db\"}") == 0);
	ck_assert(sample(t, "qbackup_last_attempt_timestamp_seconds{kind=\"db\"}") == 1770519600);
	ck_assert(sample(t, "qbackup_last_success_size_bytes{kind=\"minio\"}") == 262144000);
	free(t);

	/* No temporary file left behind. */
	ck_assert_int_eq(tu_sh(NULL, "ls -A '%s' | grep -q '^%s'", d, QB_TMP_PREFIX), 1);
	free(path);
	tu_rm_rf(d);
	free(d);
}
END_TEST

START_TEST(test_foreign_lines_ignored)
{
	char *d = tu_tmpdir();
	char *path = qb_path_join(d, "qbackup.prom");
	static const char old[] =
		"# a comment\n"
		"qbackup_last_success_size_bytes{kind=\"code\"} 1234\n"
		"qbackup_last_success_size_bytes{kind=\"../x\"} 5\n"
		"qbackup_last_success_size_bytes{kind=\"db\"} -5\n"
		"qbackup_last_success_size_bytes{kind=\"minio\"} 1e9\n"
		"something_else{kind=\"db\"} 7\n"
		"qbackup_last_success_size_bytes{kind=\"code\"\n"
		"garbage without newline";
	struct qb_metrics_step s = { .kind = "db", .ok = true, .duration = 0.001, .bytes = 1 };
	struct qb_metrics_run r = { .finished = 100, .ok = true, .steps = &s, .nsteps = 1 };
	struct qb_err err = { 0 };
	char *t;

	ck_assert_int_eq(tu_write_file(path, old, strlen(old)), 0);
	ck_assert_int_eq(qb_metrics_write(path, &r, &err), QB_OK);
	t = read_metrics(path);
	ck_assert(sample(t, "qbackup_last_success_size_bytes{kind=\"code\"}") == 1234);
	ck_assert(sample(t, "qbackup_last_success_size_bytes{kind=\"db\"}") == 1);
	ck_assert(sample(t, "qbackup_last_success_duration_seconds{kind=\"db\"}") == 0.001);
	ck_assert(sample(t, "qbackup_last_success_size_bytes{kind=\"minio\"}") == -1);
	ck_assert_ptr_null(strstr(t, "something_else"));
	ck_assert_ptr_null(strstr(t, "../x"));
	free(t);
	free(path);
	tu_rm_rf(d);
	free(d);
}
END_TEST

START_TEST(test_errors)
{
	char *d = tu_tmpdir();
	char *path = qb_path_join(d, "qbackup.prom");
	struct qb_metrics_step bad = { .kind = "db\"} 1\nevil{kind=\"x", .ok = true };
	struct qb_metrics_run r = { .finished = 100, .ok = true, .steps = &bad, .nsteps = 1 };
	struct qb_err err = { 0 };

	ck_assert_int_eq(qb_metrics_write(path, &r, &err), QB_EARG);
	ck_assert_int_ne(access(path, F_OK), 0);
	r.nsteps = 0;
	ck_assert_int_eq(qb_metrics_write("/nonexistent/qbackup/m.prom", &r, &err), QB_EIO);
	ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent/qbackup/m.prom"));
	ck_assert_int_eq(qb_metrics_write(d, &r, &err) == QB_OK, 0);   /* a folder */
	ck_assert_int_eq(qb_metrics_write("", &r, &err), QB_EARG);
	free(path);
	tu_rm_rf(d);
	free(d);
}
END_TEST

extern Suite *suite_metrics(void);

Suite *suite_metrics(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("metrics");

	tcase_add_test(tc, test_write_and_keep_previous_kinds);
	tcase_add_test(tc, test_foreign_lines_ignored);
	tcase_add_test(tc, test_errors);
	suite_add_tcase(s, tc);
	return s;
}
