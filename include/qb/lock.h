/*
 * lock.h - one run at a time in a BACKUP_DIR.
 *
 * A run (and the HTTP server before it starts one) takes an exclusive
 * flock on BACKUP_DIR/.qbackup.lock and writes who it is into the file.  A
 * second run fails at once with QB_ELOCKED and a message naming the holder:
 * "another run (pid 1234, type all, started 2026-02-06 03:00:00) holds the lock".
 * The kernel drops the lock when the holder dies, so a killed run never
 * blocks the next one; its stale text in the file is ignored.
 *
 *	struct qb_lock *lk;
 *	if (qb_lock_acquire(&lk, backup_dir, "all", &err)) ...   // QB_ELOCKED: print err.msg
 *	... the run ...
 *	qb_lock_free(lk);                                         // releases
 *
 * The descriptor is close-on-exec, so programs the run executes (pg_dump)
 * do not hold the lock; a child that forks without exec does, until it exits.
 */
#ifndef QB_LOCK_H
#define QB_LOCK_H

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "qb/error.h"

#define QB_LOCK_NAME ".qbackup.lock"

struct qb_lock_info {
	pid_t pid;            /* 0 when the holder has not written its details yet */
	time_t started;
	char type[32];        /* "all", "db", "prune", ...; "" when unknown */
};

struct qb_lock;

/* BACKUP_DIR must exist.  The lock file is created 0600.  run_type is
 * recorded for the message others get (characters outside [A-Za-z0-9._-]
 * become '_'). */
int qb_lock_acquire(struct qb_lock **out, const char *backup_dir, const char *run_type,
		    struct qb_err *err);
/* Release (the file stays, emptied: removing it would race with a newcomer). */
void qb_lock_free(struct qb_lock *lock);

/*
 * Who holds the lock (for /health and the HTTP server's 409 answer), from
 * /proc/locks, without taking it: peeks, however many, never make a run find
 * the lock busy.  (Where /proc/locks cannot tell, a shared lock is taken for
 * an instant, and only when the file names a live process.)  *held false
 * (and info zeroed) when nobody holds it or the file does not exist.
 */
int qb_lock_holder(const char *backup_dir, bool *held, struct qb_lock_info *info,
		   struct qb_err *err);
/* "another run (pid 1234, type all, started 2026-02-06 03:00:00) holds the lock" */
void qb_lock_describe(const struct qb_lock_info *info, char *buf, size_t len);

#endif
