/* check_fs.c - atomic files, leftovers, stamps, the error helpers. */
#include <check.h>
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "qb/error.h"
#include "qb/fsutil.h"
#include "testutil.h"

START_TEST(atomic_file_appears_whole)
{
	char *dir = tu_tmpdir(), *final;
	struct qb_afile f;
	struct qb_err err = { 0 };
	struct stat st;

	ck_assert_int_ge(asprintf(&final, "%s/db_20260206_030000.sql.gz", dir), 0);
	umask(022);
	ck_assert_int_eq(qb_afile_open(&f, dir, "db_20260206_030000.sql.gz", &err), QB_OK);
	ck_assert_int_eq(qb_afile_write(&f, "hello", 5, &err), QB_OK);
	/* While writing: only a temporary name exists. */
	ck_assert_int_ne(stat(final, &st), 0);
	ck_assert_int_eq(tu_count_entries(dir), 1);
	ck_assert_int_eq(qb_afile_commit(&f, &err), QB_OK);
	qb_afile_abort(&f);
	ck_assert_int_eq(stat(final, &st), 0);
	ck_assert_int_eq(st.st_size, 5);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(tu_count_entries(dir), 1);
	/* Never over an existing backup. */
	ck_assert_int_eq(qb_afile_open(&f, dir, "db_20260206_030000.sql.gz", &err), QB_OK);
	ck_assert_int_eq(qb_afile_write(&f, "other", 5, &err), QB_OK);
	ck_assert_int_eq(qb_afile_commit(&f, &err), QB_EIO);
	ck_assert_msg(strstr(err.msg, "already exists") != NULL, "%s", err.msg);
	qb_afile_abort(&f);
	ck_assert_int_eq(tu_count_entries(dir), 1);
	free(final);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(abort_and_crash_leave_no_backup_name)
{
	char *dir = tu_tmpdir();
	struct qb_afile f;
	struct qb_err err = { 0 };
	unsigned removed = 0;
	pid_t pid;
	int status;

	ck_assert_int_eq(qb_afile_open(&f, dir, "code_20260206_030000.tar.gz", &err), QB_OK);
	qb_afile_write(&f, "x", 1, &err);
	qb_afile_abort(&f);
	ck_assert_int_eq(tu_count_entries(dir), 0);
	/* A process killed mid-write leaves a temporary file, never the final name. */
	pid = fork();
	if (pid == 0) {
		struct qb_afile g;
		qb_afile_open(&g, dir, "code_20260206_030001.tar.gz", NULL);
		qb_afile_write(&g, "partial", 7, NULL);
		kill(getpid(), SIGKILL);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	ck_assert(WIFSIGNALED(status));
	ck_assert_int_eq(tu_count_entries(dir), 1);
	ck_assert_int_eq(tu_sh(NULL, "ls -A '%s' | grep -q '^\\.qb-tmp\\.code_20260206_030001'", dir), 0);
	ck_assert_int_eq(qb_clean_leftovers(dir, &removed, &err), QB_OK);
	ck_assert_int_eq(removed, 1);
	ck_assert_int_eq(tu_count_entries(dir), 0);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(bad_names_refused)
{
	char *dir = tu_tmpdir();
	struct qb_afile f;
	struct qb_err err = { 0 };

	ck_assert_int_eq(qb_afile_open(&f, dir, "../escape", &err), QB_EARG);
	ck_assert_int_eq(qb_afile_open(&f, dir, "", &err), QB_EARG);
	ck_assert_int_eq(qb_afile_open(&f, dir, "..", &err), QB_EARG);
	ck_assert_int_eq(tu_count_entries(dir), 0);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(mkdir_and_remove_tree)
{
	char *dir = tu_tmpdir(), *deep, *link;
	struct qb_err err = { 0 };
	struct stat st;

	ck_assert_int_ge(asprintf(&deep, "%s/a/b/c", dir), 0);
	ck_assert_int_eq(qb_mkdir_p(deep, 0700, &err), QB_OK);
	ck_assert_int_eq(stat(deep, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0700);
	ck_assert_int_eq(qb_mkdir_p(deep, 0700, &err), QB_OK);
	/* Removing never follows a symlink out of the tree. */
	ck_assert_int_ge(asprintf(&link, "%s/a/b/outside", dir), 0);
	ck_assert_int_eq(symlink("/etc", link), 0);
	ck_assert_int_eq(qb_remove_tree(deep, &err), QB_OK);
	{
		char *top;
		ck_assert_int_ge(asprintf(&top, "%s/a", dir), 0);
		ck_assert_int_eq(qb_remove_tree(top, &err), QB_OK);
		ck_assert_int_ne(stat(top, &st), 0);
		free(top);
	}
	ck_assert_int_eq(stat("/etc/passwd", &st), 0);
	free(link);
	free(deep);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(stamps)
{
	char buf[32];
	struct tm tm;
	time_t t;

	setenv("TZ", "UTC", 1);
	tzset();
	t = 1770346800;  /* 2026-02-06 03:00:00 UTC */
	qb_stamp(t, buf, sizeof(buf));
	ck_assert_str_eq(buf, "20260206_030000");
	ck_assert(qb_stamp_parse(buf, &tm));
	ck_assert_int_eq(tm.tm_year, 126);
	ck_assert_int_eq(tm.tm_hour, 3);
	ck_assert(!qb_stamp_parse("20261306_030000", &tm));
	/* Impossible dates and times, which no clock shows. */
	ck_assert(!qb_stamp_parse("20260231_030000", &tm));
	ck_assert(!qb_stamp_parse("20250229_030000", &tm));
	ck_assert(qb_stamp_parse("20240229_030000", &tm));
	ck_assert(qb_stamp_parse("20260430_030000", &tm));
	ck_assert(!qb_stamp_parse("20260431_030000", &tm));
	ck_assert(!qb_stamp_parse("20260206_125960", &tm));
	ck_assert(qb_stamp_parse("20261231_235959", &tm));
	ck_assert(!qb_stamp_parse("20260206-030000", &tm));
	ck_assert(!qb_stamp_parse("2026020", &tm));
}
END_TEST

START_TEST(error_messages)
{
	struct qb_err err = { 0 };

	ck_assert_int_eq(qb_err_sys(&err, QB_EIO, ENOENT, "unable to open '%s'", "x"), QB_EIO);
	ck_assert_str_eq(err.msg, "unable to open 'x': No such file or directory");
	ck_assert_int_eq(err.sys_errno, ENOENT);
	qb_err_prefix(&err, "reading %s", "config");
	ck_assert_str_eq(err.msg, "reading config: unable to open 'x': No such file or directory");
	ck_assert_str_eq(qb_code_name(QB_ECORRUPT), "QB_ECORRUPT");
	ck_assert_str_eq(qb_code_name(999), "QB_EUNKNOWN");
	/* A long prefix is cut, never overflows. */
	{
		char big[3000];
		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		qb_err_prefix(&err, "%s", big);
		ck_assert_uint_lt(strlen(err.msg), QB_ERRMSG_MAX);
	}
}
END_TEST

START_TEST(open_without_symlinks)
{
	char *dir = tu_tmpdir();
	const char *leaf = NULL;
	char buf[8] = { 0 };
	int root, fd;

	ck_assert_int_eq(tu_sh(NULL, "mkdir -p '%s/a/b' '%s/outside' && echo in > '%s/a/b/f' && "
			       "echo out > '%s/outside/f' && ln -s '%s/outside' '%s/a/l' && "
			       "ln -s '%s/outside/f' '%s/a/lf'", dir, dir, dir, dir, dir, dir,
			       dir, dir), 0);
	root = open(dir, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(root, 0);
	fd = qb_open_nofollow(root, "a/b/f", O_RDONLY, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(read(fd, buf, sizeof(buf) - 1), 3);
	ck_assert_str_eq(buf, "in\n");
	close(fd);
	fd = qb_open_parent_nofollow(root, "a/b/f", &leaf);
	ck_assert_int_ge(fd, 0);
	ck_assert_str_eq(leaf, "f");
	ck_assert_int_eq(faccessat(fd, leaf, R_OK, 0), 0);
	close(fd);
	fd = qb_open_parent_nofollow(root, "top", &leaf);
	ck_assert_int_ge(fd, 0);
	ck_assert_str_eq(leaf, "top");
	close(fd);
	/* A symlinked folder on the way, or as the last name: refused. */
	errno = 0;
	ck_assert_int_eq(qb_open_nofollow(root, "a/l/f", O_RDONLY, 0), -1);
	ck_assert(errno == ELOOP || errno == ENOTDIR);
	ck_assert_int_eq(qb_open_parent_nofollow(root, "a/l/f", &leaf), -1);
	ck_assert_int_eq(qb_open_nofollow(root, "a/lf", O_RDONLY, 0), -1);
	ck_assert_int_eq(errno, ELOOP);
	ck_assert_int_eq(qb_open_nofollow(root, "a//b/f", O_RDONLY, 0), -1);
	ck_assert_int_eq(qb_open_nofollow(root, "a/missing/f", O_RDONLY, 0), -1);
	ck_assert_int_eq(errno, ENOENT);
	close(root);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

Suite *suite_fs(void)
{
	Suite *s = suite_create("fs");
	TCase *tc = tcase_create("fs");

	tcase_add_test(tc, atomic_file_appears_whole);
	tcase_add_test(tc, abort_and_crash_leave_no_backup_name);
	tcase_add_test(tc, bad_names_refused);
	tcase_add_test(tc, mkdir_and_remove_tree);
	tcase_add_test(tc, stamps);
	tcase_add_test(tc, error_messages);
	tcase_add_test(tc, open_without_symlinks);
	suite_add_tcase(s, tc);
	return s;
}
