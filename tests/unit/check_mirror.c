/*
 * check_mirror.c - the mirror's pure parts, without a server: which keys are
 * safe paths, escaped names, and reading snapshots (the index format, with
 * its escapes and its damage, and `mc mirror` folders).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "qb/mirror.h"
#include "testutil.h"

START_TEST(safe_keys)
{
	static const char *const safe[] = { "a", "a/b/c.pdf", "with space", "..a", "a..", ".hidden",
					    "a/.b", "x/...", "\xc3\xa9t\xc3\xa9", "+=&%?#", NULL };
	static const char *const bad[] = { "", "/a", "a//b", "a/", ".", "..", "./a", "a/./b",
					   "a/..", "../a", "a/../b", NULL };
	char seg[300];

	for (int i = 0; safe[i]; i++)
		ck_assert_msg(qb_minio_key_is_safe(safe[i]), "'%s' should be safe", safe[i]);
	for (int i = 0; bad[i]; i++)
		ck_assert_msg(!qb_minio_key_is_safe(bad[i]), "'%s' should be unsafe", bad[i]);
	memset(seg, 'x', 255);
	seg[255] = '\0';
	ck_assert(qb_minio_key_is_safe(seg));
	memset(seg, 'x', 256);
	seg[256] = '\0';
	ck_assert(!qb_minio_key_is_safe(seg));
}
END_TEST

START_TEST(escaped_names)
{
	char big1[1100], big2[1100];
	char *a, *b;

	a = qb_minio_escaped_name("../evil.txt");
	ck_assert_str_eq(a, "%2E.%2Fevil.txt");
	free(a);
	a = qb_minio_escaped_name("a//b ~x");
	ck_assert_str_eq(a, "a%2F%2Fb%20%7Ex");
	free(a);
	a = qb_minio_escaped_name(".");
	ck_assert_str_eq(a, "%2E");
	free(a);
	/* Long keys: shortened, a digest keeps them apart. */
	memset(big1, 'k', 1000);
	big1[1000] = '\0';
	memcpy(big2, big1, 1001);
	big2[999] = 'j';
	a = qb_minio_escaped_name(big1);
	b = qb_minio_escaped_name(big2);
	ck_assert_uint_le(strlen(a), 200);
	ck_assert_ptr_null(strchr(a, '/'));
	ck_assert_ptr_nonnull(strchr(a, '~'));
	ck_assert_str_ne(a, b);
	free(a);
	free(b);
	memset(big1, '/', 400);
	big1[400] = '\0';
	a = qb_minio_escaped_name(big1);
	ck_assert_uint_le(strlen(a), 200);
	ck_assert_ptr_null(strchr(a, '/'));
	free(a);
}
END_TEST

static char *write_index(const char *dir, const char *text)
{
	char *snap = NULL, *p = NULL;

	ck_assert_int_ge(asprintf(&snap, "%s/minio_20240101_000000", dir), 0);
	ck_assert_int_eq(mkdir(snap, 0700), 0);
	ck_assert_int_ge(asprintf(&p, "%s/%s", snap, QB_MINIO_INDEX), 0);
	ck_assert_int_eq(tu_write_file(p, text, strlen(text)), 0);
	free(p);
	return snap;
}

START_TEST(index_reading)
{
	char *dir = tu_tmpdir(), *snap;
	uint64_t n = 0, bytes = 0;
	struct qb_err err = { 0 };

	snap = write_index(dir, "qbackup-minio-index 1\n"
			   "docs\ta\\tb\\nc\\\\d\\x01\t10\tetag\t2024\ttext/plain\t\t\n"
			   "docs\tz\t5\te\t\t\t\t.qbackup-escaped/docs/z\n"
			   "scans\tk\t0\td41d8cd98f00b204e9800998ecf8427e\t\t\t"
			   "d41d8cd98f00b204e9800998ecf8427e\t\n");
	ck_assert_int_eq(qb_minio_snapshot_info(snap, &n, &bytes, &err), QB_OK);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(bytes, 15);
	tu_rm_rf(snap);
	free(snap);

	/* Damage of every kind is reported, never guessed around. */
	{
		static const char *const bad[] = {
			"not an index\n",
			"qbackup-minio-index 1\ndocs\ta\t10\n",
			"qbackup-minio-index 1\ndocs\ta\tten\te\t\t\t\t\n",
			"qbackup-minio-index 1\ndocs\ta\\q\t1\te\t\t\t\t\n",
			"qbackup-minio-index 1\ndocs\ta\\x00\t1\te\t\t\t\t\n",
			"qbackup-minio-index 1\ndocs\ta\t1\te\t\t\t\t\textra\n",
			"qbackup-minio-index 1\ndocs\ta\t1\te\t\t\t\t",
			"qbackup-minio-index 1\n\ta\t1\te\t\t\t\t\n",
			NULL,
		};
		for (int i = 0; bad[i]; i++) {
			snap = write_index(dir, bad[i]);
			ck_assert_msg(qb_minio_snapshot_info(snap, &n, &bytes, &err) == QB_ECORRUPT,
				      "case %d: %s", i, err.msg);
			tu_rm_rf(snap);
			free(snap);
		}
	}
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(index_line_bound)
{
	char *dir = tu_tmpdir(), *snap, *text;
	size_t n = 200000;
	uint64_t objs, bytes;
	struct qb_err err = { 0 };

	text = malloc(n + 64);
	ck_assert_ptr_nonnull(text);
	memcpy(text, "qbackup-minio-index 1\ndocs\t", 27);
	memset(text + 27, 'k', n);
	memcpy(text + 27 + n, "\t1\te\t\t\t\t\n", 10);
	snap = write_index(dir, text);
	ck_assert_int_eq(qb_minio_snapshot_info(snap, &objs, &bytes, &err), QB_ECORRUPT);
	ck_assert_ptr_nonnull(strstr(err.msg, "longer than"));
	free(text);
	free(snap);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(mc_mirror_folder_info)
{
	char *dir = tu_tmpdir(), *old = NULL;
	uint64_t n = 0, bytes = 0;
	struct qb_err err = { 0 };

	ck_assert_int_eq(tu_sh(NULL, "cd '%s' && mkdir -p old/docs/a/b old/scans .qb-tmp.x && "
			       "printf 12345 > old/docs/a/b/c.pdf && printf 1 > old/docs/x && "
			       "printf 12 > old/scans/s.png && "
			       "printf 123 > old/docs/.qb-tmp.part && "
			       "ln -s x old/docs/link", dir), 0);
	ck_assert_int_ge(asprintf(&old, "%s/old", dir), 0);
	/* A file named like qbackup's temporary files is an object all the same (qbackup
	 * writes none inside a bucket's folder); the symlink is not. */
	ck_assert_int_eq(qb_minio_snapshot_info(old, &n, &bytes, &err), QB_OK);
	ck_assert_uint_eq(n, 4);
	ck_assert_uint_eq(bytes, 11);
	free(old);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(configured)
{
	struct qb_config *cfg = qb_config_new();

	ck_assert(!qb_minio_configured(cfg) || getenv("MINIO_ENDPOINT"));
	qb_config_set(cfg, "MINIO_ENDPOINT", "http://127.0.0.1:9000", true);
	ck_assert(qb_minio_configured(cfg));
	qb_config_free(cfg);
}
END_TEST

/* Declared with extern so that the runner's generator sees one definition. */
extern Suite *suite_mirror(void);

Suite *suite_mirror(void)
{
	Suite *s = suite_create("mirror");
	TCase *tc = tcase_create("mirror");

	tcase_add_test(tc, safe_keys);
	tcase_add_test(tc, escaped_names);
	tcase_add_test(tc, index_reading);
	tcase_add_test(tc, index_line_bound);
	tcase_add_test(tc, mc_mirror_folder_info);
	tcase_add_test(tc, configured);
	suite_add_tcase(s, tc);
	return s;
}
