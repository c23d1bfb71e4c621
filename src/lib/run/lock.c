/*
 * lock.c - the run lock (see lock.h).
 *
 * flock rather than a pid file: the kernel releases it when the holder
 * dies, however it dies, so there is no stale-lock logic to get wrong.  The
 * pid and start time in the file are only there to say who holds it.
 *
 * Peeking (qb_lock_holder) must not get in a run's way: /health has no
 * token, and 32 clients peeking in a loop with a shared lock each made one
 * nightly run in ten find the lock busy for all of its retries.  So a peek
 * reads /proc/locks, which lists every flock with its file's device and
 * inode, and takes no lock.  Only where that cannot tell (no /proc, or a
 * filesystem such as btrfs whose stat() device is not the one /proc/locks
 * shows) does it fall back to a shared lock for an instant, and then only
 * when the file names a live process (a free lock's file is empty).  A run
 * that finds the lock busy while the file names no live holder retries
 * briefly rather than report such a peek (or a holder still writing its
 * details) as a concurrent run.  /proc/locks shows only the locks of the
 * processes in the reader's pid namespace: qbackup serve and the cron run
 * share the host's.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "qb/buf.h"
#include "qb/fsutil.h"
#include "qb/lock.h"
#include "qb/log.h"

#define RETRIES 50              /* x 10 ms: how long a peek or a half-written file may last */
#define INFO_MAX 512

struct qb_lock {
	int fd;
	char *path;
};

static void nap(void)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

static void parse_info(const char *text, struct qb_lock_info *info)
{
	const char *line = text;

	memset(info, 0, sizeof(*info));
	while (line && *line) {
		const char *end = strchr(line, '\n');
		size_t n = end ? (size_t)(end - line) : strlen(line);
		char *stop;

		if (n > 4 && !strncmp(line, "pid=", 4)) {
			long v = strtol(line + 4, &stop, 10);
			info->pid = v > 0 && v <= INT32_MAX ? (pid_t)v : 0;
		} else if (n > 8 && !strncmp(line, "started=", 8)) {
			info->started = (time_t)strtoll(line + 8, &stop, 10);
		} else if (n > 5 && !strncmp(line, "type=", 5)) {
			size_t t = n - 5 < sizeof(info->type) - 1 ? n - 5 : sizeof(info->type) - 1;
			memcpy(info->type, line + 5, t);
			info->type[t] = '\0';
		}
		line = end ? end + 1 : NULL;
	}
}

static void read_info(int fd, struct qb_lock_info *info)
{
	char text[INFO_MAX + 1];
	ssize_t n = pread(fd, text, INFO_MAX, 0);

	text[n > 0 ? n : 0] = '\0';
	parse_info(text, info);
}

/* A holder we can name: its details are written and its process exists. */
static bool live(const struct qb_lock_info *info)
{
	return info->pid > 0 && (kill(info->pid, 0) == 0 || errno == EPERM);
}

void qb_lock_describe(const struct qb_lock_info *info, char *buf, size_t len)
{
	char when[32] = "unknown time";
	struct tm tm;

	if (!info->pid) {
		snprintf(buf, len, "another run (pid unknown) holds the lock");
		return;
	}
	if (info->started && localtime_r(&info->started, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(buf, len, "another run (pid %ld, type %s, started %s) holds the lock",
		 (long)info->pid, info->type[0] ? info->type : "unknown", when);
}

static int write_info(int fd, const char *run_type, struct qb_err *err)
{
	char type[32], text[INFO_MAX];
	size_t i;
	int n;

	for (i = 0; run_type && run_type[i] && i < sizeof(type) - 1; i++) {
		char c = run_type[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
		type[i] = ok ? c : '_';
	}
	type[i] = '\0';
	n = snprintf(text, sizeof(text), "pid=%ld\ntype=%s\nstarted=%lld\n", (long)getpid(),
		     type, (long long)time(NULL));
	if (ftruncate(fd, 0) < 0 || pwrite(fd, text, (size_t)n, 0) != n)
		return qb_err_sys(err, QB_EIO, errno, "unable to write the lock file");
	return QB_OK;
}

static int busy(const char *dir, struct qb_lock_info *info, struct qb_err *err)
{
	char msg[256];

	qb_lock_describe(info, msg, sizeof(msg));
	return qb_err_set(err, QB_ELOCKED, "%s in '%s'", msg, dir);
}

/*
 * Take the flock; QB_ELOCKED when a run holds it.  A live pid in the file does
 * not settle it at once: where /proc/locks cannot tell, a peek (qb_lock_holder)
 * takes a shared lock for an instant when a dead run's pid has come back as
 * another process.  A run holds the lock for minutes; a peek, microseconds.
 */
static int take(int fd, const char *dir, struct qb_err *err)
{
	struct qb_lock_info info = { 0 };

	for (int i = 0; i < RETRIES; i++) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return QB_OK;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK)
			return qb_err_sys(err, QB_EIO, errno, "unable to lock '%s'", dir);
		read_info(fd, &info);
		nap();
	}
	return busy(dir, &info, err);
}

int qb_lock_acquire(struct qb_lock **out, const char *backup_dir, const char *run_type,
		    struct qb_err *err)
{
	struct qb_lock *lk = calloc(1, sizeof(*lk));
	struct stat st;
	int rc;

	*out = NULL;
	if (!lk || !(lk->path = qb_path_join(backup_dir, QB_LOCK_NAME))) {
		free(lk);
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	}
	lk->fd = open(lk->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (lk->fd < 0) {
		rc = qb_err_sys(err, QB_EIO, errno, "unable to open the lock file '%s'", lk->path);
		goto fail;
	}
	if (fstat(lk->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		rc = qb_err_set(err, QB_EIO, "'%s' is not a regular file", lk->path);
		goto fail;
	}
	rc = take(lk->fd, backup_dir, err);
	if (!rc)
		rc = write_info(lk->fd, run_type, err);
	if (rc)
		goto fail;
	qb_log(QB_LOG_DEBUG, "took the run lock '%s'", lk->path);
	*out = lk;
	return QB_OK;
fail:
	qb_lock_free(lk);
	return rc;
}

void qb_lock_free(struct qb_lock *lock)
{
	if (!lock)
		return;
	if (lock->fd >= 0) {
		/* Only the holder empties the file: a failed attempt must not erase
		 * the details of the run that does hold it. */
		if (flock(lock->fd, LOCK_EX | LOCK_NB) == 0 && ftruncate(lock->fd, 0) < 0)
			qb_log(QB_LOG_DEBUG, "unable to empty the lock file '%s'", lock->path);
		close(lock->fd);   /* releases the flock */
	}
	free(lock->path);
	free(lock);
}

/*
 * Whether /proc/locks shows an exclusive flock on the file behind fd: 1 yes,
 * 0 no, -1 cannot tell (unreadable, or the inode is listed under another
 * device).  Lines read "1: FLOCK  ADVISORY  WRITE 1234 fe:00:10977402 0 EOF";
 * a waiting request has "->" after the number and holds nothing.
 */
static int proc_locks_held(int fd)
{
	char line[256], kind[16], mode[16], rw[16], id[64];
	unsigned long long ino;
	unsigned maj, min;
	int found = 0;
	struct stat st;
	FILE *f;

	if (fstat(fd, &st) < 0 || !(f = fopen("/proc/locks", "re")))
		return -1;
	while (fgets(line, sizeof(line), f)) {
		long pid;
		if (strstr(line, "->") ||
		    sscanf(line, "%*d: %15s %15s %15s %ld %63s", kind, mode, rw, &pid, id) != 5 ||
		    strcmp(kind, "FLOCK") || strcmp(rw, "WRITE") ||
		    sscanf(id, "%x:%x:%llu", &maj, &min, &ino) != 3 || ino != (unsigned long long)st.st_ino)
			continue;
		if (maj == major(st.st_dev) && min == minor(st.st_dev)) {
			found = 1;
			break;
		}
		found = -1;
	}
	if (ferror(f))
		found = -1;
	fclose(f);
	return found;
}

/* The holder's details, which it may still be writing. */
static void wait_info(int fd, struct qb_lock_info *info)
{
	for (int i = 0; i < RETRIES; i++) {
		read_info(fd, info);
		if (live(info))
			return;
		nap();
	}
	memset(info, 0, sizeof(*info));
}

int qb_lock_holder(const char *backup_dir, bool *held, struct qb_lock_info *info,
		   struct qb_err *err)
{
	char *path = qb_path_join(backup_dir, QB_LOCK_NAME);
	int fd, rc = QB_OK;

	*held = false;
	memset(info, 0, sizeof(*info));
	if (!path)
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno != ENOENT)
			rc = qb_err_sys(err, QB_EIO, errno, "unable to open the lock file '%s'",
					path);
		goto out;
	}
	switch (proc_locks_held(fd)) {
	case 1:
		*held = true;
		wait_info(fd, info);
		close(fd);
		goto out;
	case 0:
		close(fd);
		goto out;
	default:
		break;
	}
	/* Empty, or left by a run that died: nobody holds it, and a shared lock
	 * taken to make sure could fail a run starting at that instant. */
	read_info(fd, info);
	if (!live(info)) {
		memset(info, 0, sizeof(*info));
	} else if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		flock(fd, LOCK_UN);   /* stale text naming a live (reused) pid */
		memset(info, 0, sizeof(*info));
	} else if (errno == EWOULDBLOCK) {
		*held = true;
	} else {
		rc = qb_err_sys(err, QB_EIO, errno, "unable to test the lock file '%s'", path);
		memset(info, 0, sizeof(*info));
	}
	close(fd);
out:
	free(path);
	return rc;
}
