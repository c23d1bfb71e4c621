/*
 * run.h - one backup run: what cron, the shell and the HTTP server start.
 *
 *	struct qb_run_opts o = { .types = QB_RUN_ALL, .notify = true };
 *	struct qb_run_result r;
 *	rc = qb_run(cfg, &o, &r, &err);    // rc != QB_OK: the run failed (r.steps, err.msg)
 *	char *json = qb_run_json(&r);      // for --json and the server
 *
 * Under the run lock: leftovers of a crashed run are removed (one that
 * cannot be is a warning, the run goes on), the disk is checked against an
 * estimate of what the run needs, then the steps run in the order db,
 * minio, code under one time stamp.  A failing step does not stop the
 * others.  The manifest is written; the rotation runs only when every step
 * succeeded and the manifest was written; a manifest or rotation failure
 * fails the run like a step (the backups made are kept); the disk is
 * checked again (DISK_ALERT_PERCENT);
 * with notify, a failure or a disk alert sends an email (Brevo); the
 * metrics file is rewritten when BACKUP_METRICS_FILE is set.
 */
#ifndef QB_RUN_H
#define QB_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "qb/config.h"
#include "qb/error.h"
#include "qb/progress.h"

enum { QB_RUN_DB = 1, QB_RUN_MINIO = 2, QB_RUN_CODE = 4, QB_RUN_ALL = 7 };

struct qb_run_opts {
	unsigned types;            /* QB_RUN_* bits */
	bool explicit_type;        /* --type given: an unconfigured step is an error, not a skip */
	bool notify;               /* send alerts */
	const char *run_type;      /* recorded in the lock: "all", "db", ... */
	const struct qb_progress_cb *progress;
	/* A run lock the caller already holds on BACKUP_DIR (the HTTP server takes
	 * it before answering 202): used as is, and left to the caller to free.
	 * NULL: qb_run takes the lock itself. */
	struct qb_lock *lock;
};

enum qb_step_status { QB_STEP_OK, QB_STEP_FAILED, QB_STEP_SKIPPED };

struct qb_step_result {
	const char *kind;          /* "db", "minio", "code" */
	enum qb_step_status status;
	char name[64];             /* the artifact's name */
	uint64_t bytes;
	uint64_t items;            /* tables, objects, files */
	double seconds;
	char error[QB_ERRMSG_MAX];  /* why it failed or was skipped; printable (qb_printable) */
};

struct qb_run_result {
	char stamp[16];
	struct qb_step_result steps[3];
	size_t nsteps;
	bool ok;
	unsigned pruned;           /* backups removed by the rotation */
	bool disk_alert;
	int disk_percent;
	double seconds;
};

int qb_run(const struct qb_config *cfg, const struct qb_run_opts *opts, struct qb_run_result *res,
	   struct qb_err *err);
/* {"stamp":..,"ok":..,"seconds":..,"steps":[{"kind","status","name","size","bytes","seconds","error"}],...}
 * Caller frees; NULL on no memory. */
char *qb_run_json(const struct qb_run_result *res);

/* Email the admin (ADMIN_EMAIL, through Brevo) that what went wrong in steps,
 * with error and the log's last lines.  A failure to send is logged, not returned:
 * the caller's own failure is the one to report. */
void qb_run_alert(const struct qb_config *cfg, const char *what, const char *steps, const char *error);
/* The same, with the line that names what failed labelled label ("Step" above). */
void qb_run_alert_as(const struct qb_config *cfg, const char *what, const char *label,
		     const char *failed, const char *error);

/* BACKUP_DIR from the configuration (default /opt/backups/moncabinet). */
const char *qb_backup_dir(const struct qb_config *cfg);

#endif
