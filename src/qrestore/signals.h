/*
 * signals.h - Ctrl-C, SIGTERM and SIGHUP while qrestore runs (signals.c).
 */
#ifndef QRESTORE_SIGNALS_H
#define QRESTORE_SIGNALS_H

#include <stdbool.h>

/* Take the signals on a thread of their own; call before any other thread
 * starts.  -1 when that cannot be done (the signals then act as by default). */
int stop_start(const char *prog);
/* A signal now quits at once, saying note (a string that outlives the run). */
void stop_quit_note(const char *note);
/* A signal now stops the database restore under way (qb_db_interrupt()). */
void stop_during_db(void);
/* A signal came: the exit status is then 130. */
bool stop_requested(void);

#endif
