/*
 * progress.h - how long-running library calls report progress.
 *
 * The library fills a struct qb_progress and calls the front end's function,
 * at most a few times a second and once at the end (final = true).  The
 * front end draws a live line on a terminal or ignores it.
 */
#ifndef QB_PROGRESS_H
#define QB_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct qb_progress {
	const char *step;        /* "db", "minio", "code", "restore" */
	uint64_t items_done;     /* tables, objects, files */
	uint64_t items_total;    /* 0 when unknown */
	uint64_t bytes_done;
	uint64_t bytes_total;    /* estimate; 0 when unknown */
	double elapsed;          /* seconds since the step started */
	const char *current;     /* what is being worked on, or NULL */
	bool final;
};

typedef void (*qb_progress_fn)(void *ud, const struct qb_progress *p);

struct qb_progress_cb {
	qb_progress_fn fn;       /* NULL: no progress */
	void *ud;
};

/* *t0 = now (CLOCK_MONOTONIC); then the seconds since t0. */
void qb_clock_start(struct timespec *t0);
double qb_seconds_since(const struct timespec *t0);

/* Hand *p to cb (if any) with p->elapsed since t0, at most four times a
 * second unless force; *last is when it last did. */
void qb_progress_report(const struct qb_progress_cb *cb, struct qb_progress *p,
			const struct timespec *t0, double *last, bool force);

#endif
