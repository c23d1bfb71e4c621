/*
 * serve.c - qbackup serve [--listen ADDR:PORT]: the HTTP server for the admin page.
 *
 * The stop signals are blocked before the server starts, so every thread
 * it creates inherits the mask and only sigwait() here sees them: no
 * handler runs in the middle of a request.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "qb/log.h"
#include "qb/server.h"

int cmd_serve(struct cli *c, struct args *a, int argc, char **argv)
{
	struct qb_server *srv = NULL;
	struct qb_err err = { 0 };
	sigset_t set;
	const char *name;
	int sig = 0;

	(void)argv;
	if (argc > a->first + 1) {
		fputs("usage: qbackup serve [--listen ADDR:PORT] [--config FILE] [-q|-v]\n",
		      stderr);
		return EXIT_USAGE;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL)) {
		fprintf(stderr, "%s: unable to block signals\n", c->prog);
		return EXIT_FAILED;
	}
	signal(SIGPIPE, SIG_IGN);
	if (qb_server_start(&srv, c->cfg, a->listen, &err))
		return cli_fail(c, &err);
	while (sigwait(&set, &sig) != 0)
		;
	name = sigabbrev_np(sig);
	qb_log(QB_LOG_INFO, "received SIG%s, stopping", name ? name : "?");
	qb_server_stop(srv);
	return EXIT_OK;
}
