/*
 * signals.c - Ctrl-C, SIGTERM and SIGHUP while qrestore runs.
 *
 * The signals are taken by one thread (sigwait), never by a handler.  While
 * a database is being restored, the first one stops it cleanly through the
 * library (statements cancelled, the new database dropped, the target as it
 * was) and the second quits at once.  Anywhere else qrestore quits at once,
 * saying what that leaves: nothing changed before a question is answered,
 * documents sent so far in place.  The exit status is 130 when something was
 * stopped.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "qb/pgdump.h"
#include "signals.h"

static sigset_t stop_set;
static const char *prog_name = "qrestore";
static _Atomic(const char *) quit_note;   /* NULL: a database restore is under way */
static atomic_bool requested;

static void say(int sig, const char *what)
{
	char line[512];
	int n = snprintf(line, sizeof(line), "\n%s: %s: %s\n", prog_name, strsignal(sig), what);

	if (n > 0) {
		ssize_t w = write(STDERR_FILENO, line, strnlen(line, sizeof(line)));
		(void)w;  /* nothing else to tell it to */
	}
}

static void *watch(void *arg)
{
	int sig;
	const char *note;

	(void)arg;
	while (sigwait(&stop_set, &sig) != 0)
		;
	atomic_store(&requested, true);
	note = atomic_load(&quit_note);
	if (note) {
		say(sig, note);
		_exit(130);
	}
	say(sig, "stopping the database restore: unless it is already putting the new database "
	    "in place, that one is dropped and the target left as it was (a second signal quits "
	    "at once)");
	qb_db_interrupt();
	while (sigwait(&stop_set, &sig) != 0)
		;
	say(sig, "quitting now: a restore that had not finished leaves its new database, which "
	    "the next restore names");
	_exit(130);
}

int stop_start(const char *prog)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	pthread_t t;

	prog_name = prog;
	atomic_store(&quit_note, "stopped");
	sigemptyset(&stop_set);
	/* A signal ignored from the start stays so (nohup's SIGHUP, SIGINT in a
	 * background job of a script). */
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction old;
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
			sigaddset(&stop_set, sigs[i]);
	}
	/* Before any other thread starts: every thread inherits the mask. */
	if (pthread_sigmask(SIG_BLOCK, &stop_set, NULL) != 0)
		return -1;
	if (pthread_create(&t, NULL, watch, NULL) != 0) {
		pthread_sigmask(SIG_UNBLOCK, &stop_set, NULL);  /* the signals act as by default */
		return -1;
	}
	pthread_detach(t);
	return 0;
}

void stop_quit_note(const char *note)
{
	atomic_store(&quit_note, note);
}

void stop_during_db(void)
{
	atomic_store(&quit_note, NULL);
}

bool stop_requested(void)
{
	return atomic_load(&requested);
}
