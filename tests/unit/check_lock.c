/* check_lock.c - the run lock (lock.h). */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qb/fsutil.h"
#include "qb/lock.h"
#include "testutil.h"

/* In a child: try to take the lock; its code and message come back through a pipe. */
static int try_in_child(const char *dir, char *msg, size_t len)
{
	int fds[2], st;
	pid_t pid;
	ssize_t n;
	int code = -1;

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct qb_lock *lk = NULL;
		struct qb_err err = { 0 };
		char out[sizeof(err.msg) + 8];
		int rc = qb_lock_acquire(&lk, dir, "db", &err);
		int m = snprintf(out, sizeof(out), "%d:%s", rc, rc ? err.msg : "");
		qb_lock_free(lk);
		if (write(fds[1], out, (size_t)m) != m)
			_exit(2);
		_exit(0);
	}
	close(fds[1]);
	n = read(fds[0], msg, len - 1);
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_int_gt(n, 0);
	msg[n] = '\0';
	code = (int)strtol(msg, NULL, 10);
	memmove(msg, strchr(msg, ':') + 1, strlen(strchr(msg, ':') + 1) + 1);
	return code;
}

START_TEST(test_second_run_refused)
{
	char *d = tu_tmpdir();
	struct qb_lock *lk = NULL;
	struct qb_err err = { 0 };
	char msg[1200], want[64], *path;
	struct stat st;

	ck_assert_int_eq(qb_lock_acquire(&lk, d, "all", &err), QB_OK);
	path = qb_path_join(d, QB_LOCK_NAME);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);

	ck_assert_int_eq(try_in_child(d, msg, sizeof(msg)), QB_ELOCKED);
	snprintf(want, sizeof(want), "another run (pid %ld, type all, started ", (long)getpid());
	ck_assert_msg(strstr(msg, want), "message: %s", msg);
	ck_assert_ptr_nonnull(strstr(msg, ") holds the lock"));

	/* Released on free: the next one gets it. */
	qb_lock_free(lk);
	ck_assert_int_eq(try_in_child(d, msg, sizeof(msg)), QB_OK);
	ck_assert_int_eq(qb_lock_acquire(&lk, d, "prune", &err), QB_OK);
	qb_lock_free(lk);
	free(path);
	tu_rm_rf(d);
	free(d);
}
END_TEST

START_TEST(test_holder_peek)
{
	char *d = tu_tmpdir();
	struct qb_lock *lk = NULL;
	struct qb_lock_info info;
	struct qb_err err = { 0 };
	bool held = true;
	char msg[256];

	/* No file yet. */
	ck_assert_int_eq(qb_lock_holder(d, &held, &info, &err), QB_OK);
	ck_assert(!held);

	ck_assert_int_eq(qb_lock_acquire(&lk, d, "code", &err), QB_OK);
	ck_assert_int_eq(qb_lock_holder(d, &held, &info, &err), QB_OK);
	ck_assert(held);
	ck_assert_int_eq(info.pid, getpid());
	ck_assert_str_eq(info.type, "code");
	ck_assert_int_le(labs((long)(info.started - time(NULL))), 5);
	qb_lock_describe(&info, msg, sizeof(msg));
	ck_assert_ptr_nonnull(strstr(msg, "type code"));
	/* Peeking does not take the lock away or block its holder. */
	ck_assert_int_eq(try_in_child(d, msg, sizeof(msg)), QB_ELOCKED);
	qb_lock_free(lk);

	ck_assert_int_eq(qb_lock_holder(d, &held, &info, &err), QB_OK);
	ck_assert(!held);
	ck_assert_int_eq(info.pid, 0);
	tu_rm_rf(d);
	free(d);
}
END_TEST

START_TEST(test_killed_holder_does_not_block)
{
	char *d = tu_tmpdir();
	struct qb_lock *lk = NULL;
	struct qb_lock_info info;
	struct qb_err err = { 0 };
	bool held = true;
	int st, fds[2];
	char c;
	pid_t pid;

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* Take it and die without releasing (a killed run). */
		if (qb_lock_acquire(&lk, d, "all", &err) != QB_OK)
			_exit(1);
		if (write(fds[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(fds[1]);
	ck_assert_int_eq(read(fds[0], &c, 1), 1);
	close(fds[0]);
	ck_assert_int_eq(qb_lock_holder(d, &held, &info, &err), QB_OK);
	ck_assert(held);
	ck_assert_int_eq(info.pid, pid);
	ck_assert_int_eq(qb_lock_acquire(&lk, d, "all", &err), QB_ELOCKED);
	ck_assert_ptr_null(lk);
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);

	/* The stale details left in the file do not matter. */
	ck_assert_int_eq(qb_lock_holder(d, &held, &info, &err), QB_OK);
	ck_assert(!held);
	ck_assert_int_eq(qb_lock_acquire(&lk, d, "all", &err), QB_OK);
	qb_lock_free(lk);
	tu_rm_rf(d);
	free(d);
}
END_TEST

struct peeker {
	const char *dir;
	useconds_t pause;   /* between two peeks of a thread */
	atomic_bool stop;
	atomic_int errors;
};

static void *peek_loop(void *arg)
{
	struct peeker *p = arg;

	while (!atomic_load(&p->stop)) {
		struct qb_lock_info info;
		struct qb_err err = { 0 };
		bool held;

		if (qb_lock_holder(p->dir, &held, &info, &err))
			atomic_fetch_add(&p->errors, 1);
		if (p->pause)
			usleep(p->pause);
	}
	return NULL;
}

/* RUNS acquisitions in dir while PEEKERS threads peek in a loop, pausing
 * `pause` microseconds between peeks; each run first writes `stale` into the
 * lock file when given.  Returns how many found the lock busy (err: the last
 * message). */
static int runs_under_peeks(const char *dir, int runs, const char *stale, useconds_t pause,
			    struct qb_err *err)
{
	enum { PEEKERS = 32 };
	char *path = qb_path_join(dir, QB_LOCK_NAME);
	struct peeker p = { .dir = dir, .pause = pause };
	pthread_t t[PEEKERS];
	struct qb_lock *lk = NULL;
	int failed = 0;

	for (int i = 0; i < PEEKERS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, peek_loop, &p), 0);
	for (int i = 0; i < runs; i++) {
		/* Same file (fopen "w"), as a killed run left it. */
		if (stale)
			ck_assert_int_eq(tu_write_file(path, stale, strlen(stale)), 0);
		if (qb_lock_acquire(&lk, dir, "all", err) != QB_OK) {
			failed++;
			continue;
		}
		qb_lock_free(lk);
	}
	atomic_store(&p.stop, true);
	for (int i = 0; i < PEEKERS; i++)
		pthread_join(t[i], NULL);
	ck_assert_int_eq(atomic_load(&p.errors), 0);
	free(path);
	return failed;
}

/* /health has no token: a crowd of peeks must not make a run find the lock
 * busy.  With a shared lock taken on every peek, 32 peekers failed about one
 * acquisition in ten. */
START_TEST(test_peeks_do_not_block_a_run)
{
	char *d = tu_tmpdir();
	struct qb_lock *lk = NULL;
	struct qb_err err = { 0 };
	int failed;

	ck_assert_int_eq(qb_lock_acquire(&lk, d, "all", &err), QB_OK);   /* makes the file */
	qb_lock_free(lk);
	failed = runs_under_peeks(d, 40, NULL, 0, &err);
	ck_assert_msg(failed == 0, "%d of 40 runs found the lock busy: %s", failed, err.msg);
	tu_rm_rf(d);
	free(d);
}
END_TEST

/* A run killed without releasing leaves its pid in the file, and the pid can
 * come back as another live process (here: this one, holding no lock).  The
 * lock is free: a peek reports nobody, takes no lock (it used to, seeing a live
 * pid), and a run gets it even with a crowd of peeks. */
START_TEST(test_stale_pid_reused)
{
	char *d = tu_tmpdir(), *path = qb_path_join(d, QB_LOCK_NAME), text[128];
	struct qb_lock_info info;
	struct qb_err err = { 0 };
	bool held = true;
	int failed;

	snprintf(text, sizeof(text), "pid=%ld\ntype=all\nstarted=1000000000\n", (long)getpid());
	ck_assert_int_eq(tu_write_file(path, text, strlen(text)), 0);
	ck_assert_int_eq(qb_lock_holder(d, &held, &info, &err), QB_OK);
	ck_assert(!held);
	ck_assert_int_eq(info.pid, 0);
	failed = runs_under_peeks(d, 100, text, 0, &err);
	ck_assert_msg(failed == 0, "%d of 100 runs found the lock busy: %s", failed, err.msg);
	free(path);
	tu_rm_rf(d);
	free(d);
}
END_TEST

/* The same where /proc/locks cannot tell (another pid namespace, btrfs): a peek
 * that sees the reused pid takes a shared lock for an instant, and a run that
 * tries at that instant must wait it out, not report the dead run as holding
 * the lock.  The peeks pause a millisecond (32 threads: still thousands a
 * second, where the admin page polls every few seconds); without any pause,
 * overlapping shared locks could hold a run off for good.  In a child with an
 * empty /proc (root only; skipped otherwise). */
START_TEST(test_stale_pid_reused_without_proc_locks)
{
	char *d = tu_tmpdir(), *path = qb_path_join(d, QB_LOCK_NAME), text[128];
	pid_t pid;
	int st;

	snprintf(text, sizeof(text), "pid=%ld\ntype=all\nstarted=1000000000\n", (long)getpid());
	ck_assert_int_eq(tu_write_file(path, text, strlen(text)), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct qb_err err = { 0 };
		int failed;
		if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount("none", "/proc", "tmpfs", 0, NULL) < 0)
			_exit(77);
		failed = runs_under_peeks(d, 400, text, 1000, &err);
		if (failed)
			fprintf(stderr, "%d of 400 runs found the lock busy: %s\n", failed, err.msg);
		_exit(failed ? 1 : 0);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st));
	if (WEXITSTATUS(st) == 77)
		fprintf(stderr, "test_stale_pid_reused_without_proc_locks: skipped (no mount namespace)\n");
	else
		ck_assert_msg(WEXITSTATUS(st) == 0, "runs found the lock busy without /proc/locks");
	free(path);
	tu_rm_rf(d);
	free(d);
}
END_TEST

START_TEST(test_errors)
{
	struct qb_lock *lk = NULL;
	struct qb_err err = { 0 };
	char *d = tu_tmpdir();
	char *path = qb_path_join(d, QB_LOCK_NAME);

	ck_assert_int_eq(qb_lock_acquire(&lk, "/nonexistent/qbackup", "all", &err), QB_EIO);
	ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent/qbackup/" QB_LOCK_NAME));
	ck_assert_ptr_null(lk);
	/* A symlink planted as the lock file is not followed. */
	ck_assert_int_eq(symlink("/etc/passwd", path), 0);
	ck_assert_int_eq(qb_lock_acquire(&lk, d, "all", &err), QB_EIO);
	ck_assert_ptr_null(lk);
	free(path);
	tu_rm_rf(d);
	free(d);
}
END_TEST

extern Suite *suite_lock(void);

Suite *suite_lock(void)
{
	Suite *s = suite_create("lock");
	TCase *tc = tcase_create("lock");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_second_run_refused);
	tcase_add_test(tc, test_holder_peek);
	tcase_add_test(tc, test_killed_holder_does_not_block);
	tcase_add_test(tc, test_peeks_do_not_block_a_run);
	tcase_add_test(tc, test_stale_pid_reused);
	tcase_add_test(tc, test_stale_pid_reused_without_proc_locks);
	tcase_add_test(tc, test_errors);
	suite_add_tcase(s, tc);
	return s;
}
