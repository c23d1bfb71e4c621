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
