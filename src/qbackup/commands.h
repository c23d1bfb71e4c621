/*
 * commands.h - qbackup's command-line options and the commands that live
 * in files of their own (serve.c).
 */
#ifndef QB_COMMANDS_H
#define QB_COMMANDS_H

#include <stdbool.h>

#include "cli.h"

struct args {
	const char *config;
	const char *type;
	const char *listen;     /* serve: --listen ADDR:PORT */
	bool notify, json, dry_run, latest, restore_test;
	int verbosity;
	int first;              /* argv index of the first operand (the command) */
};

/* qbackup serve [--listen ADDR:PORT]: the HTTP server for the admin page (serve.c). */
int cmd_serve(struct cli *c, struct args *a, int argc, char **argv);

#endif
