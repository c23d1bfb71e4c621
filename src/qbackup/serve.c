/*
 * serve.c - qbackup serve [--listen ADDR:PORT]: the HTTP server for the admin page.
 *
 * The stop signals are blocked before the server starts, so every thread
 * it creates inherits the mask and only sigwait() here sees them: no
 * handler runs in the middle of a request.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "qb/log.h"
#include "qb/server.h"

static sigset_t stop_signals;

/* Wait for one of the stop signals; its name without "SIG". */
static const char *wait_stop_signal(void)
{
	const char *name;
	int sig = 0;

	while (sigwait(&stop_signals, &sig) != 0)
		;
	name = sigabbrev_np(sig);
	return name ? name : "?";
}

/* The first signal stops the server once a running backup has finished; a second
 * one (Ctrl-C again) stops it at once, as a crash would: the backup's files keep
 * their temporary names, and the next run removes them. */
static void *second_signal(void *arg)
{
	const char *name = wait_stop_signal();

	(void)arg;
	qb_log(QB_LOG_WARN, "received SIG%s again: stopping now, without waiting for the "
	       "running backup (the next run removes what it left)", name);
	_exit(EXIT_FAILED);
	return NULL;
}

int cmd_serve(struct cli *c, struct args *a, int argc, char **argv)
{
	struct qb_server *srv = NULL;
	struct qb_err err = { 0 };
	sigset_t *set = &stop_signals;
	pthread_t watcher;

	(void)argv;
	if (argc > a->first + 1) {
		fputs("usage: qbackup serve [--listen ADDR:PORT] [--config FILE] [-q|-v]\n",
		      stderr);
		return EXIT_USAGE;
	}
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	if (pthread_sigmask(SIG_BLOCK, set, NULL)) {
		fprintf(stderr, "%s: unable to block signals\n", c->prog);
		return EXIT_FAILED;
	}
	signal(SIGPIPE, SIG_IGN);
	if (qb_server_start(&srv, c->cfg, a->listen, &err))
		return cli_fail(c, &err);
	qb_log(QB_LOG_INFO, "received SIG%s, stopping", wait_stop_signal());
	if (pthread_create(&watcher, NULL, second_signal, NULL) == 0)
		pthread_detach(watcher);
	qb_server_stop(srv);
	return EXIT_OK;
}
