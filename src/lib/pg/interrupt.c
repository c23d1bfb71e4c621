/*
 * interrupt.c - stopping a restore from another thread.
 *
 * A restore's connections (the script's and the loader's) are watched here
 * while it runs: qb_db_interrupt() raises a flag the restore checks between
 * statements, and cancels what each connection is running on the server, so
 * that a long COPY or index build stops at once.  The restore then fails as
 * any failed restore does: its scratch database dropped, the target as it was.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "pg_intern.h"
#include "qb/pgdump.h"

#define WATCH_MAX 32

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
	PGconn *c;
	PGcancel *cancel;
} watched[WATCH_MAX];
static atomic_bool interrupted;

void pgi_watch(PGconn *c)
{
	PGcancel *cn = c ? PQgetCancel(c) : NULL;

	if (!cn)
		return;
	pthread_mutex_lock(&mu);
	for (int i = 0; i < WATCH_MAX; i++)
		if (!watched[i].c) {
			watched[i].c = c;
			watched[i].cancel = cn;
			cn = NULL;
			break;
		}
	pthread_mutex_unlock(&mu);
	/* More connections than slots: that one is not cancelled, the flag still stops it. */
	if (cn)
		PQfreeCancel(cn);
}

void pgi_unwatch(PGconn *c)
{
	pthread_mutex_lock(&mu);
	for (int i = 0; c && i < WATCH_MAX; i++)
		if (watched[i].c == c) {
			PQfreeCancel(watched[i].cancel);
			watched[i].c = NULL;
			watched[i].cancel = NULL;
		}
	pthread_mutex_unlock(&mu);
}

bool pgi_interrupted(void)
{
	return atomic_load(&interrupted);
}

void qb_db_interrupt(void)
{
	atomic_store(&interrupted, true);
	pthread_mutex_lock(&mu);
	for (int i = 0; i < WATCH_MAX; i++)
		if (watched[i].cancel) {
			char buf[256];
			PQcancel(watched[i].cancel, buf, sizeof(buf));
		}
	pthread_mutex_unlock(&mu);
}
