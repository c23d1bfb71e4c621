/*
 * cli.h - what the qbackup and qrestore front ends share: the log sink,
 * exit codes, confirmation prompts and the progress line.
 */
#ifndef QB_CLI_H
#define QB_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "qb/config.h"
#include "qb/error.h"
#include "qb/progress.h"

/* Exit statuses, documented in qbackup(1) and qrestore(1). */
enum cli_exit {
	EXIT_OK = 0,
	EXIT_FAILED = 1,       /* the operation (or a step of the run) failed */
	EXIT_USAGE = 2,        /* bad command line */
	EXIT_CONFIG = 3,       /* bad or missing configuration */
	EXIT_LOCKED = 4,       /* another run holds the lock */
	EXIT_REFUSED = 5,      /* refused: unsafe input, or no confirmation */
	EXIT_CORRUPT = 6,      /* a backup is damaged or does not match its manifest */
	EXIT_NOTFOUND = 7      /* no such backup */
};

struct cli {
	const char *prog;
	int verbosity;             /* 0 quiet, 1 normal, 2 verbose */
	bool tty;                  /* stderr is a terminal: draw the progress line */
	bool line_open;            /* a progress line is on screen */
	struct qb_config *cfg;
	bool no_config_file;       /* no --config, and the default file does not exist */
	struct qb_progress_cb progress;
};

/* umask 077, log sink on stderr. */
void cli_init(struct cli *c, const char *prog);
void cli_set_verbosity(struct cli *c, int verbosity);
/* Load --config FILE (or the default file); prints the error and returns false on failure. */
bool cli_load_config(struct cli *c, const char *path);
void cli_done(struct cli *c);
/* Print one line on f: fmt's expansion through qb_printable() (log.h), then a
 * newline.  Every line that may quote outside text (an error message, a file or
 * database name, an argument) goes out through here or through qb_log(). */
void cli_line(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print "prog: message" and return the exit status for the error's code. */
int cli_fail(struct cli *c, const struct qb_err *err);
int cli_exit_for(int code);
/* Ask "question [y/N]" on the terminal; yes answers for a non-interactive caller.
 * Without a terminal and without yes: refuses, saying to use --yes. */
bool cli_confirm(struct cli *c, const char *question, bool yes, struct qb_err *err);

struct qb_lock;
/* The run lock for a command that reads backups (what: "restore", "verify"),
 * when a run has made the lock file; *lk NULL otherwise.  EXIT_LOCKED while a run
 * holds it, the message ending "wait for it to end, then <again>"; a lock file
 * it may not open is a warning.  The error, printed, is also left in *why (may be NULL). */
int cli_lock_reader(struct cli *c, const char *what, const char *again, struct qb_lock **lk,
		    struct qb_err *why);

/* Print the backups in BACKUP_DIR (a table, or the admin page's JSON): qbackup list, qrestore --list. */
int cli_list(struct cli *c, bool json);

#endif
