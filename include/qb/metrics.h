/*
 * metrics.h - the run's figures for Prometheus (node_exporter's textfile
 * collector), in BACKUP_METRICS_FILE.
 *
 * Each run rewrites the whole file atomically.  Per kind it holds the last
 * success (time, duration, size) and the last attempt's result; kinds that
 * did not run this time (--type db) keep the values read back from the
 * previous file, so a db-only run does not erase the code backup's figures.
 *
 *	struct qb_metrics_step steps[] = {
 *		{ .kind = "db", .ok = true, .duration = 4.2, .bytes = 15938355 },
 *		{ .kind = "code", .ok = false, .duration = 0.3 },
 *	};
 *	struct qb_metrics_run run = { .finished = time(NULL), .duration = 5.1,
 *				      .ok = false, .steps = steps, .nsteps = 2 };
 *	qb_metrics_write(getenv-or-config("BACKUP_METRICS_FILE"), &run, &err);
 *
 * Metrics (gauges; kind is "db", "minio", "code"):
 *	qbackup_last_run_timestamp_seconds, qbackup_last_run_duration_seconds,
 *	qbackup_last_run_success (1/0)
 *	qbackup_last_success_timestamp_seconds{kind}, qbackup_last_success_duration_seconds{kind},
 *	qbackup_last_success_size_bytes{kind}
 *	qbackup_last_attempt_timestamp_seconds{kind}, qbackup_last_attempt_success{kind} (1/0)
 *
 * The file's folder must exist.  node_exporter reads only names ending in
 * ".prom"; the temporary name used while writing does not.
 */
#ifndef QB_METRICS_H
#define QB_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "qb/error.h"

#define QB_METRICS_MAX_KINDS 16

struct qb_metrics_step {
	const char *kind;      /* [a-z0-9_]+, at most 31 characters */
	bool ok;
	double duration;       /* seconds */
	uint64_t bytes;        /* the artifact's size (used when ok) */
};

struct qb_metrics_run {
	time_t finished;       /* 0: now */
	double duration;       /* seconds */
	bool ok;
	const struct qb_metrics_step *steps;   /* the steps that ran this time */
	size_t nsteps;
};

int qb_metrics_write(const char *path, const struct qb_metrics_run *run, struct qb_err *err);

#endif
