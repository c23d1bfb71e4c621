/* check_catalog.c - listing, sizes, disk usage, delete and rotation (catalog.h). */
#include <check.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <grp.h>
#include <unistd.h>

#include "qb/buf.h"
#include "qb/catalog.h"
#include "qb/fsutil.h"
#include "testutil.h"

/* ---- helpers -------------------------------------------------------------- */

static char *join(const char *dir, const char *name)
{
	char *p = qb_path_join(dir, name);

	ck_assert_ptr_nonnull(p);
	return p;
}

/* A file of exactly size bytes (parents created). */
static void mkfile(const char *dir, const char *name, size_t size)
{
	char *path = join(dir, name);
	char *slash = strrchr(path, '/');
	char *data = malloc(size ? size : 1);
	struct qb_err err = { 0 };

	*slash = '\0';
	ck_assert_int_eq(qb_mkdir_p(path, 0700, &err), QB_OK);
	*slash = '/';
	memset(data, 'x', size);
	ck_assert_int_eq(tu_write_file(path, data, size), 0);
	free(data);
	free(path);
}

static void mkdir_in(const char *dir, const char *name)
{
	char *path = join(dir, name);
	struct qb_err err = { 0 };

	ck_assert_int_eq(qb_mkdir_p(path, 0700, &err), QB_OK);
	free(path);
}

static bool exists(const char *dir, const char *name)
{
	char *path = join(dir, name);
	struct stat st;
	bool there = lstat(path, &st) == 0;

	free(path);
	return there;
}

static void stamp_of_day(int days_ago, time_t now, char *stamp)
{
	qb_stamp(now - (time_t)days_ago * 86400, stamp, QB_STAMP_LEN + 1);
}

/* ---- listing -------------------------------------------------------------- */

/*
 * A BACKUP_DIR with ours, the old scripts' (no manifest), and everything
 * that must not be listed.
 */
static char *listing_dir(void)
{
	char *d = tu_tmpdir();
	char *p;

	mkfile(d, "db_20260207_030000.sql.gz", 15938355);        /* 15.2 MB */
	mkfile(d, "db_20260206_030000.sql.gz", 2048);             /* 2 KB */
	mkfile(d, "db_20260205_030000.sql.gz", 512);              /* old script's, 512 B */
	mkfile(d, "minio_20260206_030000/documents/client1/a.pdf", 1000);
	mkfile(d, "minio_20260206_030000/documents/client2/b.pdf", 2000);
	mkfile(d, "minio_20260206_030000/.qbackup-index.json", 48);
	mkfile(d, "minio_20260206_030000/documents/deep/.qbackup-part", 2);
	mkfile(d, "code_20260206_030000.tar.gz", 1536);           /* 1.5 KB */
	mkfile(d, "manifest_20260206_030000.json", 10);
	/* A hard link inside the snapshot: two files, one inode's bytes. */
	ck_assert_int_eq(tu_sh(NULL, "ln '%s/minio_20260206_030000/documents/client1/a.pdf' "
			       "'%s/minio_20260206_030000/documents/client1/a-copy.pdf'", d, d), 0);
	/* A symlink inside it, to a big file outside: neither followed nor counted. */
	mkfile(d, "outside.bin", 100000);
	ck_assert_int_eq(tu_sh(NULL, "ln -s ../../outside.bin "
			       "'%s/minio_20260206_030000/documents/link'", d), 0);
	/* Leftovers and strangers. */
	mkfile(d, QB_TMP_PREFIX "db_20260208_030000.sql.gz.123.1", 77);
	mkdir_in(d, QB_TMP_PREFIX "minio_20260208_030000.123.2");
	mkfile(d, "db_20260206_030000.sql.gz.partial", 5);
	mkfile(d, "db_2026_bad.sql.gz", 5);
	mkfile(d, "db_20261306_030000.sql.gz", 5);                /* month 13 */
	mkfile(d, "db_20260206_030000.sql", 5);
	mkfile(d, "xdb_20260206_030000.sql.gz", 5);
	mkdir_in(d, "db_20260209_030000.sql.gz");                 /* a folder: wrong type */
	mkfile(d, "minio_20260207_030000", 5);                    /* a file: wrong type */
	mkfile(d, ".qbackup.lock", 0);
	mkfile(d, "notes.txt", 3);
	p = join(d, "code_20260210_030000.tar.gz");
	ck_assert_int_eq(symlink("outside.bin", p), 0);           /* a symlink: not a backup */
	free(p);
	return d;
}

START_TEST(test_scan_lists_backups_only)
{
	char *d = listing_dir();
	struct qb_catalog *cat = NULL;
	struct qb_err err = { 0 };
	const struct qb_backup *b;

	ck_assert_int_eq(qb_catalog_scan(&cat, d, &err), QB_OK);
	ck_assert_uint_eq(cat->count[QB_KIND_DB], 3);
	ck_assert_uint_eq(cat->count[QB_KIND_MINIO], 1);
	ck_assert_uint_eq(cat->count[QB_KIND_CODE], 1);
	ck_assert_str_eq(cat->list[QB_KIND_DB][0].name, "db_20260207_030000.sql.gz");
	ck_assert_str_eq(cat->list[QB_KIND_DB][1].name, "db_20260206_030000.sql.gz");
	ck_assert_str_eq(cat->list[QB_KIND_DB][2].name, "db_20260205_030000.sql.gz");
	ck_assert_uint_eq(cat->list[QB_KIND_DB][0].size, 15938355);
	ck_assert_uint_eq(cat->list[QB_KIND_DB][2].size, 512);
	ck_assert_str_eq(cat->list[QB_KIND_DB][1].date, "2026-02-06 03:00:00");
	ck_assert_str_eq(cat->list[QB_KIND_DB][1].stamp, "20260206_030000");
	ck_assert(cat->list[QB_KIND_DB][1].has_manifest);
	ck_assert(!cat->list[QB_KIND_DB][0].has_manifest);
	ck_assert(!cat->list[QB_KIND_DB][2].has_manifest);
	b = qb_catalog_find(cat, "minio_20260206_030000");
	ck_assert_ptr_nonnull(b);
	/* a.pdf and its hard link once, b.pdf, and the two index files' bytes. */
	ck_assert_uint_eq(b->size, 1000 + 2000 + 48 + 2);
	/* a.pdf, a-copy.pdf, b.pdf: index files and the symlink are not files. */
	ck_assert_uint_eq(b->file_count, 3);
	ck_assert_ptr_null(qb_catalog_find(cat, "db_20260209_030000.sql.gz"));
	ck_assert_ptr_null(qb_catalog_find(cat, "minio_20260207_030000"));
	ck_assert_ptr_null(qb_catalog_find(cat, "code_20260210_030000.tar.gz"));
	ck_assert_str_eq(qb_catalog_latest(cat, QB_KIND_DB)->name, "db_20260207_030000.sql.gz");
	/* The one made before: the next older of its kind, none before the oldest. */
	b = qb_catalog_before(cat, qb_catalog_latest(cat, QB_KIND_DB));
	ck_assert_str_eq(b->name, "db_20260206_030000.sql.gz");
	ck_assert_str_eq(qb_catalog_before(cat, b)->name, "db_20260205_030000.sql.gz");
	ck_assert_ptr_null(qb_catalog_before(cat, qb_catalog_before(cat, b)));
	ck_assert_ptr_null(qb_catalog_before(cat, qb_catalog_latest(cat, QB_KIND_MINIO)));
	qb_catalog_free(cat);

	ck_assert_int_eq(qb_catalog_scan(&cat, "/nonexistent/qbackup", &err), QB_ENOTFOUND);
	ck_assert_ptr_null(cat);
	tu_rm_rf(d);
	free(d);
}
END_TEST

static const char *str_field(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	ck_assert_msg(cJSON_IsString(v), "field %s is not a string", key);
	return v->valuestring;
}

static void check_item(const cJSON *arr, int i, const char *name, const char *size,
		       const char *date)
{
	const cJSON *o = cJSON_GetArrayItem(arr, i);

	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(str_field(o, "name"), name);
	ck_assert_str_eq(str_field(o, "size"), size);
	ck_assert_str_eq(str_field(o, "date"), date);
}

/* What df says for dir: "45%" and "55G". */
static void df_says(const char *dir, char *pcent, char *avail)
{
	char *out = NULL;

	ck_assert_int_eq(tu_sh(&out, "df -h --output=pcent,avail '%s' | tail -n 1", dir), 0);
	ck_assert_int_eq(sscanf(out, "%15s %15s", pcent, avail), 2);
	free(out);
}

START_TEST(test_json_shape)
{
	char *d = listing_dir();
	struct qb_catalog *cat = NULL;
	struct qb_err err = { 0 };
	struct qb_disk disk = { .avail = 59055800320ull, .used_percent = 45 };   /* 55G */
	char *json = NULL;
	cJSON *root, *backups, *arr, *usage;
	const cJSON *fc;

	ck_assert_int_eq(qb_catalog_scan(&cat, d, &err), QB_OK);
	ck_assert_int_eq(qb_catalog_json(cat, &disk, &json, &err), QB_OK);
	/* Key order is part of the contract with the admin page. */
	{
		static const char head[] = "{\"backups\":{\"database\":[{\"name\":";
		ck_assert_msg(!strncmp(json, head, strlen(head)), "%s", json);
	}
	ck_assert_ptr_nonnull(strstr(json, "],\"minio\":[{\"name\":"));
	ck_assert_ptr_nonnull(strstr(json, "],\"code\":[{\"name\":"));
	ck_assert_ptr_nonnull(strstr(json, "}]},\"diskUsage\":{\"used\":\"45%\","
				   "\"available\":\"55G\"},\"backupDir\":"));
	ck_assert_ptr_nonnull(strstr(json, "\"date\":\"2026-02-06 03:00:00\",\"fileCount\":3}"));
	ck_assert_ptr_null(strchr(json, '\n'));

	root = cJSON_Parse(json);
	ck_assert_ptr_nonnull(root);
	backups = cJSON_GetObjectItemCaseSensitive(root, "backups");
	ck_assert(cJSON_IsObject(backups));
	arr = cJSON_GetObjectItemCaseSensitive(backups, "database");
	ck_assert_int_eq(cJSON_GetArraySize(arr), 3);
	check_item(arr, 0, "db_20260207_030000.sql.gz", "15.2 MB", "2026-02-07 03:00:00");
	check_item(arr, 1, "db_20260206_030000.sql.gz", "2 KB", "2026-02-06 03:00:00");
	check_item(arr, 2, "db_20260205_030000.sql.gz", "512 B", "2026-02-05 03:00:00");
	fc = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(arr, 0), "fileCount");
	ck_assert_ptr_null(fc);
	arr = cJSON_GetObjectItemCaseSensitive(backups, "minio");
	ck_assert_int_eq(cJSON_GetArraySize(arr), 1);
	check_item(arr, 0, "minio_20260206_030000", "3 KB", "2026-02-06 03:00:00");
	fc = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(arr, 0), "fileCount");
	ck_assert(cJSON_IsNumber(fc));
	ck_assert_int_eq(fc->valueint, 3);
	arr = cJSON_GetObjectItemCaseSensitive(backups, "code");
	ck_assert_int_eq(cJSON_GetArraySize(arr), 1);
	check_item(arr, 0, "code_20260206_030000.tar.gz", "1.5 KB", "2026-02-06 03:00:00");
	usage = cJSON_GetObjectItemCaseSensitive(root, "diskUsage");
	ck_assert_str_eq(str_field(usage, "used"), "45%");
	ck_assert_str_eq(str_field(usage, "available"), "55G");
	ck_assert_str_eq(str_field(root, "backupDir"), d);
	ck_assert_int_eq(cJSON_GetArraySize(root), 3);
	cJSON_Delete(root);
	free(json);

	/* Without a disk given, the figures are df's for the folder. */
	for (int tries = 0;; tries++) {
		char pcent[16], avail[16];
		ck_assert_int_eq(qb_catalog_json(cat, NULL, &json, &err), QB_OK);
		root = cJSON_Parse(json);
		ck_assert_ptr_nonnull(root);
		usage = cJSON_GetObjectItemCaseSensitive(root, "diskUsage");
		df_says(d, pcent, avail);
		if ((strcmp(str_field(usage, "used"), pcent) ||
		     strcmp(str_field(usage, "available"), avail)) && tries < 5) {
			/* Other processes write to the disk between the two readings. */
			cJSON_Delete(root);
			free(json);
			continue;
		}
		ck_assert_str_eq(str_field(usage, "used"), pcent);
		ck_assert_str_eq(str_field(usage, "available"), avail);
		cJSON_Delete(root);
		free(json);
		break;
	}
	qb_catalog_free(cat);
	tu_rm_rf(d);
	free(d);
}
END_TEST

START_TEST(test_json_empty_and_escaped)
{
	char *base = tu_tmpdir();
	char *d = join(base, "odd \"dir\"\\");
	struct qb_catalog *cat = NULL;
	struct qb_err err = { 0 };
	struct qb_disk disk = { .avail = 512, .used_percent = 100 };
	char *json = NULL;
	cJSON *root;

	ck_assert_int_eq(mkdir(d, 0700), 0);
	ck_assert_int_eq(qb_catalog_scan(&cat, d, &err), QB_OK);
	ck_assert_int_eq(qb_catalog_json(cat, &disk, &json, &err), QB_OK);
	ck_assert_ptr_nonnull(strstr(json, "{\"backups\":{\"database\":[],\"minio\":[],"
				   "\"code\":[]},\"diskUsage\":{\"used\":\"100%\","
				   "\"available\":\"512\"}"));
	root = cJSON_Parse(json);
	ck_assert_ptr_nonnull(root);
	ck_assert_str_eq(str_field(root, "backupDir"), d);
	cJSON_Delete(root);
	free(json);
	qb_catalog_free(cat);
	tu_rm_rf(base);
	free(base);
	free(d);
}
END_TEST

START_TEST(test_table)
{
	char *d = listing_dir();
	struct qb_catalog *cat = NULL;
	struct qb_err err = { 0 };
	struct qb_disk disk = { .avail = 59055800320ull, .used_percent = 45 };
	char *t = NULL;

	ck_assert_int_eq(qb_catalog_scan(&cat, d, &err), QB_OK);
	ck_assert_int_eq(qb_catalog_table(cat, &disk, &t, &err), QB_OK);
	ck_assert_ptr_nonnull(strstr(t, "db_20260207_030000.sql.gz"));
	ck_assert_ptr_nonnull(strstr(t, "15.2 MB"));
	ck_assert_ptr_nonnull(strstr(t, "3 files"));
	ck_assert_ptr_nonnull(strstr(t, "45% used, 55G available"));
	/* newest first */
	ck_assert(strstr(t, "db_20260207") < strstr(t, "db_20260205"));
	ck_assert_ptr_null(strstr(t, "notes.txt"));
	ck_assert_ptr_null(strstr(t, QB_TMP_PREFIX));
	ck_assert_int_eq(t[strlen(t) - 1], '\n');
	free(t);
	qb_catalog_free(cat);
	tu_rm_rf(d);
	free(d);
}
END_TEST

/* ---- sizes ---------------------------------------------------------------- */

START_TEST(test_format_size)
{
	static const struct {
		uint64_t n;
		const char *s;
	} cases[] = {
		{ 0, "0 B" }, { 1, "1 B" }, { 512, "512 B" }, { 1023, "1023 B" },
		{ 1024, "1 KB" }, { 1075, "1 KB" }, { 1126, "1.1 KB" }, { 1536, "1.5 KB" },
		{ 2048, "2 KB" }, { 1048575, "1 MB" }, { 1048576, "1 MB" },
		{ 15938355, "15.2 MB" }, { 262144000, "250 MB" },
		{ 9126805504ull, "8.5 GB" }, { 3298534883328ull, "3 TB" },
		{ 1125899906842624ull, "1024 TB" }, { UINT64_MAX, "16777216 TB" },
	};
	char buf[QB_SIZE_STR_MAX];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		qb_format_size(cases[i].n, buf, sizeof(buf));
		ck_assert_msg(!strcmp(buf, cases[i].s), "%llu: got '%s', want '%s'",
			      (unsigned long long)cases[i].n, buf, cases[i].s);
	}
}
END_TEST

START_TEST(test_format_df_size)
{
	static const struct {
		uint64_t n;
		const char *s;
	} cases[] = {
		{ 0, "0" }, { 1023, "1023" }, { 1024, "1.0K" }, { 1025, "1.1K" },
		{ 10239, "10K" }, { 10240, "10K" }, { 10241, "11K" }, { 1048575, "1.0M" },
		{ 524288000, "500M" }, { 59055800320ull, "55G" }, { 59055800321ull, "56G" },
		{ 10200547328ull, "9.5G" }, { 10200547329ull, "9.6G" },
	};
	char buf[QB_SIZE_STR_MAX];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		qb_format_df_size(cases[i].n, buf, sizeof(buf));
		ck_assert_msg(!strcmp(buf, cases[i].s), "%llu: got '%s', want '%s'",
			      (unsigned long long)cases[i].n, buf, cases[i].s);
	}
}
END_TEST

START_TEST(test_disk_check)
{
	char *d = tu_tmpdir();
	struct qb_disk disk;
	struct qb_err err = { 0 };
	bool over = false;

	ck_assert_int_eq(qb_disk_check(d, 100, &disk, &over, &err), QB_OK);
	ck_assert(!over);
	ck_assert_int_ge(disk.used_percent, 0);
	ck_assert_uint_gt(disk.total, 0);
	ck_assert_uint_le(disk.avail, disk.total);
	if (disk.used_percent > 0) {
		long below = disk.used_percent - 1;
		ck_assert_int_eq(qb_disk_check(d, below, &disk, &over, &err), QB_OK);
		ck_assert(over);
	}
	ck_assert_int_eq(qb_disk_usage("/nonexistent/qbackup", &disk, &err), QB_EIO);
	ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent/qbackup"));
	tu_rm_rf(d);
	free(d);
}
END_TEST

/* ---- delete --------------------------------------------------------------- */

START_TEST(test_delete_refusals)
{
	static const struct {
		const char *name;
		int code;
	} cases[] = {
		{ "", QB_EREFUSED },
		{ "a/../b", QB_EREFUSED },
		{ "db_20260206_030000.sql.gz/", QB_EREFUSED },
		{ "../db_20260206_030000.sql.gz", QB_EREFUSED },
		{ "/etc/passwd", QB_EREFUSED },
		{ "..", QB_EREFUSED },
		{ ".qbackup.lock", QB_EREFUSED },
		{ QB_TMP_PREFIX "db_20260208_030000.sql.gz.123.1", QB_EREFUSED },
		{ "notes.txt", QB_EREFUSED },
		{ "db_x.sql.gz", QB_EREFUSED },
		{ "manifest_20260206_030000.json", QB_EREFUSED },
		{ "db_20260206_030000.sql.gz.partial", QB_EREFUSED },
		{ "db_20260101_000000.sql.gz", QB_ENOTFOUND },            /* well formed, absent */
		{ "db_20260209_030000.sql.gz", QB_ENOTFOUND },            /* a folder */
		{ "minio_20260207_030000", QB_ENOTFOUND },                /* a file */
		{ "code_20260210_030000.tar.gz", QB_ENOTFOUND },          /* a symlink */
	};
	char *d = listing_dir();
	int before = tu_count_entries(d);
	struct qb_err err = { 0 };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = qb_backup_delete(d, cases[i].name, &err);
		ck_assert_msg(rc == cases[i].code, "'%s': got %s (%s)", cases[i].name,
			      qb_code_name(rc), err.msg);
	}
	ck_assert_int_eq(qb_backup_check_name("db_20260206_030000.sql.gz\0x", 27, &err),
			 QB_EREFUSED);
	ck_assert_ptr_nonnull(strstr(err.msg, "NUL"));
	ck_assert_int_eq(qb_backup_check_name("db_20260206_030000.sql.gz", 25, &err), QB_OK);
	ck_assert_int_eq(tu_count_entries(d), before);
	ck_assert(exists(d, "outside.bin"));
	tu_rm_rf(d);
	free(d);
}
END_TEST

START_TEST(test_delete_and_manifest)
{
	char *d = listing_dir();
	struct qb_err err = { 0 };
	char *out = NULL;

	ck_assert_int_eq(qb_backup_delete(d, "db_20260206_030000.sql.gz", &err), QB_OK);
	ck_assert(!exists(d, "db_20260206_030000.sql.gz"));
	ck_assert(exists(d, "manifest_20260206_030000.json"));    /* minio and code remain */
	ck_assert_int_eq(qb_backup_delete(d, "minio_20260206_030000", &err), QB_OK);
	ck_assert(!exists(d, "minio_20260206_030000"));
	ck_assert(exists(d, "outside.bin"));                      /* the link was not followed */
	/* no temporary leftover of the removal */
	ck_assert_int_eq(tu_sh(&out, "ls -A '%s' | grep -c '^%sminio'", d, QB_TMP_PREFIX), 0);
	ck_assert_str_eq(out, "1\n");                             /* the one listing_dir made */
	free(out);
	ck_assert(exists(d, "manifest_20260206_030000.json"));
	ck_assert_int_eq(qb_backup_delete(d, "code_20260206_030000.tar.gz", &err), QB_OK);
	ck_assert(!exists(d, "manifest_20260206_030000.json"));   /* last artifact gone */
	ck_assert_int_eq(qb_backup_delete(d, "code_20260206_030000.tar.gz", &err), QB_ENOTFOUND);
	ck_assert(exists(d, "db_20260207_030000.sql.gz"));
	tu_rm_rf(d);
	free(d);
}
END_TEST

/* ---- rotation ------------------------------------------------------------- */

/* n complete sets (db, minio, code, manifest), one a day, the newest today. */
static char *sets_dir(int n, time_t now)
{
	char *d = tu_tmpdir();

	for (int i = 0; i < n; i++) {
		char stamp[QB_STAMP_LEN + 1], name[QB_BACKUP_NAME_MAX + 32];
		stamp_of_day(i, now, stamp);
		for (int k = 0; k < QB_KIND_COUNT; k++) {
			qb_backup_make_name((enum qb_kind)k, stamp, name, sizeof(name));
			if (k == QB_KIND_MINIO) {
				char *f = qb_asprintf("%s/documents/f.pdf", name);
				mkfile(d, f, 100);
				free(f);
			} else {
				mkfile(d, name, 100 + (size_t)i);
			}
		}
		snprintf(name, sizeof(name), "manifest_%s.json", stamp);
		mkfile(d, name, 10);
	}
	return d;
}

static bool result_has(const struct qb_prune_result *r, const char *name)
{
	for (size_t i = 0; i < r->count; i++)
		if (!strcmp(r->items[i].name, name))
			return true;
	return false;
}

START_TEST(test_prune_16_to_14)
{
	time_t now = time(NULL);
	char *d = sets_dir(16, now);
	struct qb_prune_opts po = { .keep = 14, .dry_run = true, .now = now };
	struct qb_prune_result r;
	struct qb_catalog *cat = NULL;
	struct qb_err err = { 0 };
	char stamp[QB_STAMP_LEN + 1], name[QB_BACKUP_NAME_MAX];
	int before = tu_count_entries(d);

	ck_assert_int_eq(before, 16 * 4);
	ck_assert_int_eq(qb_catalog_prune(d, &po, &r, &err), QB_OK);
	ck_assert_uint_eq(r.count, 6);
	ck_assert_uint_eq(r.nmanifests, 2);
	ck_assert_int_eq(tu_count_entries(d), before);               /* dry run: nothing touched */
	for (int day = 14; day < 16; day++) {
		stamp_of_day(day, now, stamp);
		for (int k = 0; k < QB_KIND_COUNT; k++) {
			qb_backup_make_name((enum qb_kind)k, stamp, name, sizeof(name));
			ck_assert_msg(result_has(&r, name), "%s not in the dry run", name);
		}
	}
	qb_prune_result_release(&r);

	po.dry_run = false;
	ck_assert_int_eq(qb_catalog_prune(d, &po, &r, &err), QB_OK);
	ck_assert_uint_eq(r.count, 6);
	ck_assert_uint_eq(r.nmanifests, 2);
	ck_assert_int_eq(tu_count_entries(d), 14 * 4);
	for (int day = 0; day < 16; day++) {
		stamp_of_day(day, now, stamp);
		qb_backup_make_name(QB_KIND_MINIO, stamp, name, sizeof(name));
		ck_assert_int_eq(exists(d, name), day < 14);
		snprintf(name, sizeof(name), "manifest_%s.json", stamp);
		ck_assert_int_eq(exists(d, name), day < 14);
	}
	qb_prune_result_release(&r);
	ck_assert_int_eq(qb_catalog_scan(&cat, d, &err), QB_OK);
	for (int k = 0; k < QB_KIND_COUNT; k++)
		ck_assert_uint_eq(cat->count[k], 14);
	qb_catalog_free(cat);

	/* Nothing more to do. */
	ck_assert_int_eq(qb_catalog_prune(d, &po, &r, &err), QB_OK);
	ck_assert_uint_eq(r.count, 0);
	qb_prune_result_release(&r);
	po.keep = 0;
	ck_assert_int_eq(qb_catalog_prune(d, &po, &r, &err), QB_EARG);
	qb_prune_result_release(&r);
	tu_rm_rf(d);
	free(d);
}
END_TEST

/* Only the newest snapshot walked: names and the newest size, quickly. */
START_TEST(test_scan_newest_sizes)
{
	time_t now = time(NULL);
	char *d = sets_dir(3, now);
	struct qb_catalog *all = NULL, *newest = NULL;
	struct qb_err err = { 0 };

	ck_assert_int_eq(qb_catalog_scan(&all, d, &err), QB_OK);
	ck_assert_int_eq(qb_catalog_scan_newest(&newest, d, &err), QB_OK);
	for (int k = 0; k < QB_KIND_COUNT; k++) {
		ck_assert_uint_eq(all->count[k], 3);
		ck_assert_uint_eq(newest->count[k], 3);
		for (size_t i = 0; i < 3; i++) {
			const struct qb_backup *a = &all->list[k][i], *b = &newest->list[k][i];
			ck_assert_str_eq(a->name, b->name);
			ck_assert_uint_gt(a->size, 0);
			if (k != QB_KIND_MINIO || i == 0) {
				ck_assert_uint_eq(b->size, a->size);
				ck_assert_uint_eq(b->file_count, a->file_count);
			} else {
				ck_assert_uint_eq(b->size, 0);
			}
		}
	}
	qb_catalog_free(all);
	qb_catalog_free(newest);
	tu_rm_rf(d);
	free(d);
}
END_TEST

/*
 * A snapshot that cannot be read in full, such as a folder left by one `sudo
 * qbackup` in a backup user's BACKUP_DIR, is listed with its size unknown, and
 * neither the listing nor rotation stops at it: rotation deletes the others and
 * reports it.  Root's reading rights make no such folder, so as root the checks
 * run in a child that becomes nobody.
 */
#define NEED(c) do { if (!(c)) { fprintf(stderr, "line %d: %s\n", __LINE__, #c); _exit(1); } } while (0)

static void unreadable_checks(const char *d, const char *newest, const char *oldest)
{
	struct qb_prune_opts po = { .keep = 14, .now = time(NULL) };
	struct qb_prune_result r;
	struct qb_catalog *cat = NULL;
	struct qb_err err = { 0 };
	const struct qb_backup *b;
	char *json = NULL, want[128];

	NEED(qb_catalog_scan(&cat, d, &err) == QB_OK);
	NEED(cat->count[QB_KIND_MINIO] == 16);
	NEED(qb_catalog_warn_unreadable(cat) == 2);
	b = qb_catalog_latest(cat, QB_KIND_MINIO);
	NEED(!strcmp(b->name, newest) && b->unreadable[0] && b->size == 0 && b->file_count == 0);
	NEED(strstr(b->unreadable, "Permission denied"));
	b = &cat->list[QB_KIND_MINIO][1];
	NEED(!b->unreadable[0] && b->size == 100 && b->file_count == 1);
	NEED(qb_catalog_json(cat, NULL, &json, &err) == QB_OK);
	snprintf(want, sizeof(want), "{\"name\":\"%s\",\"size\":\"unknown\",", oldest);
	NEED(strstr(json, want));
	free(json);
	NEED(qb_catalog_table(cat, NULL, &json, &err) == QB_OK);
	NEED(strstr(json, "unknown") && strstr(json, "(unreadable: "));
	free(json);
	qb_catalog_free(cat);

	/* Only the newest is walked; unreadable, the next one is, for the run's disk check. */
	NEED(qb_catalog_scan_newest(&cat, d, &err) == QB_OK);
	b = qb_catalog_latest(cat, QB_KIND_MINIO);
	NEED(!strcmp(b->name, newest) && b->unreadable[0]);
	NEED(cat->list[QB_KIND_MINIO][1].size == 100 && !cat->list[QB_KIND_MINIO][1].unreadable[0]);
	NEED(cat->list[QB_KIND_MINIO][2].size == 0);
	qb_catalog_free(cat);

	/* Days 14 and 15 of each kind are due; the oldest snapshot cannot go. */
	err = (struct qb_err){ 0 };
	NEED(qb_catalog_prune(d, &po, &r, &err) == QB_EIO);
	NEED(strstr(err.msg, oldest) && strstr(err.msg, "Permission denied"));
	NEED(r.count == 5);
	for (size_t i = 0; i < r.count; i++)
		NEED(strcmp(r.items[i].name, oldest) != 0);
	qb_prune_result_release(&r);
	NEED(qb_catalog_scan(&cat, d, &err) == QB_OK);
	for (int k = 0; k < QB_KIND_COUNT; k++)
		NEED(cat->count[k] == 14);
	qb_catalog_free(cat);
	_exit(0);
}

START_TEST(test_unreadable_snapshot)
{
	time_t now = time(NULL);
	char *d = sets_dir(16, now);
	char stamp[QB_STAMP_LEN + 1], newest[QB_BACKUP_NAME_MAX], oldest[QB_BACKUP_NAME_MAX];
	bool root = geteuid() == 0;
	pid_t pid;
	int st;

	stamp_of_day(0, now, stamp);
	qb_backup_make_name(QB_KIND_MINIO, stamp, newest, sizeof(newest));
	stamp_of_day(15, now, stamp);
	qb_backup_make_name(QB_KIND_MINIO, stamp, oldest, sizeof(oldest));
	if (root)
		ck_assert_int_eq(tu_sh(NULL, "chown -R 65534:65534 '%s'", d), 0);
	for (int i = 0; i < 2; i++) {
		const char *name = i ? oldest : newest;
		char *f = qb_asprintf("%s/documents/locked/g.pdf", name);
		mkfile(d, f, 100);
		free(f);
		ck_assert_int_eq(tu_sh(NULL, root ? "chown -R 0:0 '%s/%s/documents/locked'"
					       : "chmod 000 '%s/%s/documents/locked'", d, name), 0);
	}
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (root && (setgroups(0, NULL) || setgid(65534) || setuid(65534)))
			_exit(3);
		unreadable_checks(d, newest, oldest);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the checks failed (see above)");
	if (!root)
		tu_sh(NULL, "chmod -R u+rwx '%s'", d);
	tu_rm_rf(d);
	free(d);
}
END_TEST
#undef NEED

/* Runs that left nothing but their manifest: kept while inside the window. */
START_TEST(test_prune_orphan_manifests)
{
	time_t now = time(NULL);
	char *d = sets_dir(16, now);
	struct qb_prune_opts po = { .keep = 14, .dry_run = true, .now = now };
	struct qb_prune_result r;
	struct qb_err err = { 0 };
	char old[QB_STAMP_LEN + 1], recent[QB_STAMP_LEN + 1], name[64];

	qb_stamp(now - 20 * 86400 - 3600, old, sizeof(old));    /* before every set */
	qb_stamp(now - 2 * 86400 - 3600, recent, sizeof(recent)); /* between two kept sets */
	snprintf(name, sizeof(name), "manifest_%s.json", old);
	mkfile(d, name, 10);
	snprintf(name, sizeof(name), "manifest_%s.json", recent);
	mkfile(d, name, 10);
	ck_assert_int_eq(qb_catalog_prune(d, &po, &r, &err), QB_OK);
	ck_assert_uint_eq(r.count, 6);
	ck_assert_uint_eq(r.nmanifests, 3);                      /* two sets' and the old orphan */
	ck_assert_int_eq(tu_count_entries(d), 16 * 4 + 2);       /* dry run */
	qb_prune_result_release(&r);
	po.dry_run = false;
	ck_assert_int_eq(qb_catalog_prune(d, &po, &r, &err), QB_OK);
	ck_assert_uint_eq(r.nmanifests, 3);
	snprintf(name, sizeof(name), "manifest_%s.json", old);
	ck_assert(!exists(d, name));
	snprintf(name, sizeof(name), "manifest_%s.json", recent);
	ck_assert(exists(d, name));
	ck_assert_int_eq(tu_count_entries(d), 14 * 4 + 1);
	qb_prune_result_release(&r);
	tu_rm_rf(d);
	free(d);
}
END_TEST

START_TEST(test_prune_max_age_keeps_newest)
{
	time_t now = time(NULL);
	char *d = tu_tmpdir();
	struct qb_prune_opts po = { .keep = 14, .max_age_days = 7, .now = now };
	struct qb_prune_result r;
	struct qb_err err = { 0 };
	char s[4][QB_STAMP_LEN + 1], name[QB_BACKUP_NAME_MAX];

	/* db: 3 backups, all a month old or more (a month of failed runs). */
	for (int i = 0; i < 3; i++) {
		stamp_of_day(30 + i, now, s[i]);
		qb_backup_make_name(QB_KIND_DB, s[i], name, sizeof(name));
		mkfile(d, name, 10);
	}
	/* code: one fresh, one old. */
	stamp_of_day(1, now, s[3]);
	qb_backup_make_name(QB_KIND_CODE, s[3], name, sizeof(name));
	mkfile(d, name, 10);
	qb_backup_make_name(QB_KIND_CODE, s[0], name, sizeof(name));
	mkfile(d, name, 10);
	/* minio: a single, very old snapshot. */
	qb_backup_make_name(QB_KIND_MINIO, s[2], name, sizeof(name));
	mkdir_in(d, name);

	ck_assert_int_eq(qb_catalog_prune(d, &po, &r, &err), QB_OK);
	ck_assert_uint_eq(r.count, 3);
	qb_backup_make_name(QB_KIND_DB, s[0], name, sizeof(name));
	ck_assert(exists(d, name));                               /* newest db, 30 days old */
	qb_backup_make_name(QB_KIND_DB, s[1], name, sizeof(name));
	ck_assert(!exists(d, name));
	qb_backup_make_name(QB_KIND_DB, s[2], name, sizeof(name));
	ck_assert(!exists(d, name));
	qb_backup_make_name(QB_KIND_CODE, s[3], name, sizeof(name));
	ck_assert(exists(d, name));
	qb_backup_make_name(QB_KIND_CODE, s[0], name, sizeof(name));
	ck_assert(!exists(d, name));
	qb_backup_make_name(QB_KIND_MINIO, s[2], name, sizeof(name));
	ck_assert(exists(d, name));                               /* the only one of its kind */
	qb_prune_result_release(&r);

	/* Without an age limit, keep=14 deletes none of what is left. */
	po.max_age_days = 0;
	ck_assert_int_eq(qb_catalog_prune(d, &po, &r, &err), QB_OK);
	ck_assert_uint_eq(r.count, 0);
	qb_prune_result_release(&r);
	/* keep=1 with nothing older: still keeps the newest of each kind. */
	po.keep = 1;
	ck_assert_int_eq(qb_catalog_prune(d, &po, &r, &err), QB_OK);
	ck_assert_uint_eq(r.count, 0);
	qb_prune_result_release(&r);
	tu_rm_rf(d);
	free(d);
}
END_TEST

START_TEST(test_names)
{
	enum qb_kind k;
	char stamp[QB_STAMP_LEN + 1], name[QB_BACKUP_NAME_MAX];

	ck_assert(qb_backup_parse_name("code_20260206_030000.tar.gz", &k, stamp));
	ck_assert_int_eq(k, QB_KIND_CODE);
	ck_assert_str_eq(stamp, "20260206_030000");
	ck_assert(!qb_backup_parse_name("code_20260206_030000.tar", &k, stamp));
	ck_assert(!qb_backup_parse_name("minio_20260206_030000/", &k, stamp));
	ck_assert(!qb_backup_parse_name("minio_20260206_246000", &k, stamp));
	ck_assert(qb_manifest_parse_name("manifest_20260206_030000.json", stamp));
	ck_assert(!qb_manifest_parse_name("manifest_20260206_030000.json.bak", stamp));
	qb_backup_make_name(QB_KIND_MINIO, "20260206_030000", name, sizeof(name));
	ck_assert_str_eq(name, "minio_20260206_030000");
	ck_assert_str_eq(qb_kind_name(QB_KIND_DB), "db");
	ck_assert(qb_kind_parse("minio", &k));
	ck_assert_int_eq(k, QB_KIND_MINIO);
	ck_assert(!qb_kind_parse("all", &k));
}
END_TEST

/* Found by fuzz/fuzz_catalog_names.c: a date no clock shows was a backup's,
 * listed with that date and rotated.  Leap days stay valid. */
START_TEST(test_names_impossible_dates)
{
	static const char *const bad[] = {
		"db_20260231_030000.sql.gz", "minio_20260229_030000", "code_20260431_030000.tar.gz",
		"db_20260206_030060.sql.gz", "manifest_20260230_030000.json",
	};
	char *d = tu_tmpdir();
	struct qb_catalog *cat = NULL;
	struct qb_prune_result r;
	struct qb_prune_opts po = { .keep = 1, .now = 1770350400 };
	struct qb_err err = { 0 };
	char stamp[QB_STAMP_LEN + 1];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(!qb_backup_parse_name(bad[i], NULL, stamp), "%s parsed", bad[i]);
		ck_assert_msg(!qb_manifest_parse_name(bad[i], stamp), "%s parsed", bad[i]);
	}
	ck_assert(qb_backup_parse_name("minio_20240229_030000", NULL, stamp));
	ck_assert(qb_backup_parse_name("db_20261231_235959.sql.gz", NULL, stamp));
	/* A stranger so named is neither listed nor rotated. */
	mkfile(d, "db_20260206_030000.sql.gz", 10);
	mkfile(d, "db_20260231_030000.sql.gz", 10);
	ck_assert_int_eq(qb_catalog_scan(&cat, d, &err), QB_OK);
	ck_assert_uint_eq(cat->count[QB_KIND_DB], 1);
	qb_catalog_free(cat);
	ck_assert_int_eq(qb_catalog_prune(d, &po, &r, &err), QB_OK);
	ck_assert_uint_eq(r.count, 0);
	ck_assert(exists(d, "db_20260231_030000.sql.gz"));
	qb_prune_result_release(&r);
	tu_rm_rf(d);
	free(d);
}
END_TEST

/* Found by fuzz/fuzz_catalog_prune.c: a folder called db_STAMP.sql.gz (not a
 * backup) kept its stamp's manifest in a real rotation, while the dry run said
 * the manifest would go. */
START_TEST(test_prune_dry_run_matches_real)
{
	char *d = tu_tmpdir(), path[512];
	struct qb_prune_opts po = { .keep = 1, .now = 1770350400, .dry_run = true };
	struct qb_prune_result dry, real;
	struct qb_err err = { 0 };

	mkfile(d, "code_20260206_030000.tar.gz", 10);
	mkfile(d, "code_20260205_030000.tar.gz", 10);
	mkfile(d, "manifest_20260205_030000.json", 10);
	snprintf(path, sizeof(path), "%s/db_20260205_030000.sql.gz", d);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	ck_assert_int_eq(qb_catalog_prune(d, &po, &dry, &err), QB_OK);
	po.dry_run = false;
	ck_assert_int_eq(qb_catalog_prune(d, &po, &real, &err), QB_OK);
	ck_assert_uint_eq(dry.count, 1);
	ck_assert_uint_eq(real.count, 1);
	ck_assert_uint_eq(dry.nmanifests, 1);
	ck_assert_uint_eq(real.nmanifests, 1);
	ck_assert(!exists(d, "manifest_20260205_030000.json"));
	ck_assert(exists(d, "db_20260205_030000.sql.gz"));     /* not ours: left alone */
	qb_prune_result_release(&dry);
	qb_prune_result_release(&real);
	tu_rm_rf(d);
	free(d);
}
END_TEST

extern Suite *suite_catalog(void);

Suite *suite_catalog(void)
{
	Suite *s = suite_create("catalog");
	TCase *tc = tcase_create("catalog");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_names_impossible_dates);
	tcase_add_test(tc, test_prune_dry_run_matches_real);
	tcase_add_test(tc, test_scan_lists_backups_only);
	tcase_add_test(tc, test_json_shape);
	tcase_add_test(tc, test_json_empty_and_escaped);
	tcase_add_test(tc, test_table);
	tcase_add_test(tc, test_format_size);
	tcase_add_test(tc, test_format_df_size);
	tcase_add_test(tc, test_disk_check);
	tcase_add_test(tc, test_delete_refusals);
	tcase_add_test(tc, test_delete_and_manifest);
	tcase_add_test(tc, test_prune_16_to_14);
	tcase_add_test(tc, test_prune_orphan_manifests);
	tcase_add_test(tc, test_scan_newest_sizes);
	tcase_add_test(tc, test_unreadable_snapshot);
	tcase_add_test(tc, test_prune_max_age_keeps_newest);
	suite_add_tcase(s, tc);
	return s;
}
