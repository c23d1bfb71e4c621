/*
 * load.h - COPY data loaded on several connections at once (see load.c).
 *
 * The restore pass reads the script on one thread and runs its statements
 * on the main connection.  The data of COPY ... FROM stdin blocks goes to a
 * pool of worker connections instead, in pieces of whole lines: small tables
 * load side by side, a large table on every worker at once.  Rows inside a
 * table split that way land in a different physical order (SQL promises
 * none without ORDER BY); with one job the order is the file's.
 *
 *	loader_new(&l, cfg, db, jobs, &err);        workers connect meanwhile
 *	loader_session(l, "SET client_encoding ..."); replayed on every worker
 *	b = loader_block(l, "COPY t (a) FROM stdin;", line);
 *	loader_data(l, b, lines, n, &err); ...
 *	loader_drain(l, &err);                       before any other statement
 *	loader_statement(l, "CREATE INDEX ...", line, &err);  index builds side by side
 *	loader_free(l);
 */
#ifndef QB_PG_LOAD_H
#define QB_PG_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "qb/config.h"
#include "qb/error.h"

struct loader;

/* One COPY block of the script. */
struct load_block {
	char *stmt;                /* the COPY statement */
	unsigned long line;        /* where it starts in the script */
	int64_t rows;              /* rows loaded, summed over the workers */
};

#define LOADER_JOBS_MAX 16

/* Start jobs (1..LOADER_JOBS_MAX) worker threads, each connecting to db. */
int loader_new(struct loader **out, const struct qb_config *cfg, const char *db, int jobs,
	       struct qb_err *err);
/* Remember a statement that sets session state (SET, RESET, set_config):
 * workers run it before their next COPY.  Only between drains. */
int loader_session(struct loader *l, const char *stmt, struct qb_err *err);
/* A new COPY block; NULL when out of memory.  Owned by the loader. */
struct load_block *loader_block(struct loader *l, const char *stmt, unsigned long line);
/* Queue whole lines of b's data (copied).  Returns the first worker's error, if any. */
int loader_data(struct loader *l, struct load_block *b, const char *p, size_t n, struct qb_err *err);
/* Queue a statement for the next free worker, which ends its COPY first.
 * For statements that may run beside each other and beside nothing else
 * (index builds), between drains.  Workers run with PostgreSQL's parallel
 * maintenance workers off: their own number is the parallelism. */
int loader_statement(struct loader *l, const char *stmt, unsigned long line, struct qb_err *err);
/* Wait until every queued line is loaded and every COPY committed. */
int loader_drain(struct loader *l, struct qb_err *err);
/* Workers that are connected (or still connecting). */
int loader_jobs(struct loader *l);
/* The blocks, in the order they were made. */
size_t loader_blocks(const struct loader *l, struct load_block *const **out);
/* Stop the workers (cancelling what they run unless drained) and close. */
void loader_free(struct loader *l);

#endif
