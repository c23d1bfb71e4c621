/*
 * exec.h - running a checked script in the new database (see exec.c).
 */
#ifndef QB_PG_EXEC_H
#define QB_PG_EXEC_H

#include <stdbool.h>
#include <time.h>

#include "load.h"
#include "pg_intern.h"
#include "qb/pgdump.h"
#include "qb/progress.h"

struct exec_index {
	char *text;
	unsigned long line;
};

struct exec {
	PGconn *c;
	struct loader *load;
	bool data_checked, data_parallel;  /* may COPY data go to the workers now */
	struct exec_index *idx;            /* index builds waiting for the end of their run */
	size_t nidx, idx_cap;
	struct qb_db_restore_result *res;
	const struct qb_progress_cb *progress;
	struct qb_progress p;
	struct timespec t0;
	double last;
};

/* Run the script at path on x->c and x->load; fills x->res (statements,
 * rows per COPY block).  Returns at the first error; the caller then frees
 * the loader, which stops its workers, and drops the database. */
int exec_script(struct exec *x, const char *path, struct qb_err *err);
/* Free what exec_script may leave behind after an error. */
void exec_release(struct exec *x);

#endif
