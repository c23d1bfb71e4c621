/* check_manifest.c - run manifests written and read back; damaged ones refused. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qb/manifest.h"
#include "testutil.h"

#define SHA "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
#define DB "db_20260206_030000.sql.gz"

static int lookup_in(const char *dir, const char *json, const char *name,
		     struct qb_manifest_entry *e, struct qb_err *err)
{
	char *path;

	ck_assert_int_ge(asprintf(&path, "%s/manifest_20260206_030000.json", dir), 0);
	ck_assert_int_eq(tu_write_file(path, json, strlen(json)), 0);
	free(path);
	return qb_manifest_lookup(dir, name, e, err);
}

START_TEST(write_and_read_back)
{
	char *dir = tu_tmpdir();
	struct qb_manifest *m = qb_manifest_new("20260206_030000", 1770350400);
	struct qb_manifest_entry e;
	struct qb_err err = { 0 };

	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(qb_manifest_add_artifact(m, "db", DB, 1048576, SHA, 2.5, &err), QB_OK);
	ck_assert_int_eq(qb_manifest_add_artifact(m, "code", "code_20260206_030000.tar.gz", 10, NULL,
						  0.5, &err), QB_OK);
	ck_assert_int_eq(qb_manifest_write(m, dir, 1770350410, &err), QB_OK);
	qb_manifest_free(m);
	ck_assert_int_eq(qb_manifest_lookup(dir, DB, &e, &err), QB_OK);
	ck_assert_str_eq(e.kind, "db");
	ck_assert_str_eq(e.sha256, SHA);
	ck_assert_uint_eq(e.size, 1048576);
	qb_manifest_entry_release(&e);
	ck_assert_int_eq(qb_manifest_lookup(dir, "code_20260206_030000.tar.gz", &e, &err), QB_OK);
	ck_assert_str_eq(e.sha256, "");
	qb_manifest_entry_release(&e);
	ck_assert_int_eq(qb_manifest_lookup(dir, "minio_20260206_030000", &e, &err), QB_ENOTFOUND);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

/*
 * Found by fuzz/fuzz_manifest.c: a SHA-256 of the wrong length was cut to 64
 * characters (one with junk after it then matched), a size of -1 or 1e300 was
 * cast to uint64_t (undefined), the kind was never checked.  Each is refused.
 */
START_TEST(damaged_entries_are_refused)
{
	static const char *const bad[] = {
		"{\"artifacts\":[{\"kind\":\"db\",\"name\":\"" DB "\",\"size\":1,\"sha256\":\"" SHA "00\"}]}",
		"{\"artifacts\":[{\"kind\":\"db\",\"name\":\"" DB "\",\"size\":1,\"sha256\":\"9f86d0\"}]}",
		"{\"artifacts\":[{\"kind\":\"db\",\"name\":\"" DB "\",\"size\":1,\"sha256\":7}]}",
		"{\"artifacts\":[{\"kind\":\"db\",\"name\":\"" DB "\",\"size\":-1}]}",
		"{\"artifacts\":[{\"kind\":\"db\",\"name\":\"" DB "\",\"size\":1e300}]}",
		"{\"artifacts\":[{\"kind\":\"db\",\"name\":\"" DB "\"}]}",
		"{\"artifacts\":[{\"kind\":\"code\",\"name\":\"" DB "\",\"size\":1}]}",
		"{\"artifacts\":[{\"kind\":\"db\",\"name\":\"" DB "\",\"size\":1,"
		"\"tables\":[{\"name\":\"t\",\"rows\":-5}]}]}",
		"{\"artifacts\":[{\"kind\":\"db\",\"name\":\"" DB "\",\"size\":1},"
		"{\"kind\":\"db\",\"name\":\"" DB "\",\"size\":2}]}",
	};
	char *dir = tu_tmpdir();

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct qb_manifest_entry e;
		struct qb_err err = { 0 };
		int rc = lookup_in(dir, bad[i], DB, &e, &err);
		ck_assert_msg(rc == QB_ECORRUPT, "%s: rc %d, sha '%s', size %llu", bad[i], rc,
			      e.sha256, (unsigned long long)e.size);
		ck_assert_ptr_null(e.tables);
		ck_assert_str_eq(e.sha256, "");
	}
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(tables_read_back)
{
	char *dir = tu_tmpdir();
	struct qb_manifest_entry e;
	struct qb_err err = { 0 };

	ck_assert_int_eq(lookup_in(dir, "{\"artifacts\":[{\"kind\":\"db\",\"name\":\"" DB "\","
				   "\"size\":3,\"sha256\":\"" SHA "\",\"tables\":[{\"name\":\"public.a\","
				   "\"rows\":12},{\"name\":\"public.b\",\"rows\":0}]}]}", DB, &e, &err),
			 QB_OK);
	ck_assert_uint_eq(e.ntables, 2);
	ck_assert_str_eq(e.tables[0].name, "public.a");
	ck_assert_int_eq(e.tables[0].rows, 12);
	qb_manifest_entry_release(&e);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

Suite *suite_manifest(void)
{
	Suite *s = suite_create("manifest");
	TCase *tc = tcase_create("manifest");

	tcase_add_test(tc, write_and_read_back);
	tcase_add_test(tc, damaged_entries_are_refused);
	tcase_add_test(tc, tables_read_back);
	suite_add_tcase(s, tc);
	return s;
}
