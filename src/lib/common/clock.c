/* clock.c - elapsed time for durations and progress (see progress.h). */
#include "qb/progress.h"

void qb_clock_start(struct timespec *t0)
{
	clock_gettime(CLOCK_MONOTONIC, t0);
}

double qb_seconds_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

void qb_progress_report(const struct qb_progress_cb *cb, struct qb_progress *p,
			const struct timespec *t0, double *last, bool force)
{
	double t;

	if (!cb || !cb->fn)
		return;
	t = qb_seconds_since(t0);
	if (!force && t - *last < 0.25)
		return;
	*last = t;
	p->elapsed = t;
	cb->fn(cb->ud, p);
}
