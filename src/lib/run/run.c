/*
 * run.c - qb_run(): the nightly run end to end (see run.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>

#include "qb/archive.h"
#include "qb/catalog.h"
#include "qb/fsutil.h"
#include "qb/lock.h"
#include "qb/log.h"
#include "qb/manifest.h"
#include "qb/metrics.h"
#include "qb/mirror.h"
#include "qb/notify.h"
#include "qb/pgdump.h"
#include "qb/run.h"

const char *qb_backup_dir(const struct qb_config *cfg)
{
	return qb_config_get(cfg, "BACKUP_DIR", QB_DEFAULT_BACKUP_DIR);
}

static void step_fail(struct qb_step_result *s, const struct qb_err *e)
{
	s->status = QB_STEP_FAILED;
	/* The result is printed, sent as JSON (cJSON leaves DEL, the C1 controls
	 * and invalid UTF-8 as they are) and mailed: escaped once, here. */
	qb_printable(s->error, sizeof(s->error), e->msg);
	qb_log(QB_LOG_ERROR, "%s backup failed: %s", s->kind, e->msg);
}

static void step_db(const struct qb_config *cfg, const char *dir, const char *stamp,
		    const struct qb_run_opts *o, struct qb_manifest *m, struct qb_step_result *s)
{
	struct qb_db_dump_result r;
	struct qb_err e = { 0 };
	char name[64];

	snprintf(name, sizeof(name), "db_%s.sql.gz", stamp);
	snprintf(s->name, sizeof(s->name), "%s", name);
	qb_log(QB_LOG_INFO, "db: dumping %s", qb_config_get(cfg, "DATABASE_URL", NULL) ? "DATABASE_URL" : "the PG* database");
	if (qb_db_dump(cfg, dir, name, o->progress, &r, &e)) {
		step_fail(s, &e);
		qb_manifest_add_error(m, "db", e.msg);
		return;
	}
	s->bytes = r.bytes;
	s->items = r.ntables;
	s->seconds = r.seconds;
	if (qb_manifest_add_db(m, &r, &e))
		qb_log(QB_LOG_WARN, "manifest: %s", e.msg);
	qb_log(QB_LOG_INFO, "db: %s written, %zu tables, %llu bytes in %.1f s", name, r.ntables,
	       (unsigned long long)r.bytes, r.seconds);
	qb_db_dump_result_release(&r);
}

static void step_minio(const struct qb_config *cfg, const char *dir, const char *stamp,
		       const struct qb_run_opts *o, struct qb_manifest *m, struct qb_step_result *s)
{
	struct qb_minio_stats st;
	struct qb_err e = { 0 };

	memset(&st, 0, sizeof(st));
	snprintf(s->name, sizeof(s->name), "minio_%s", stamp);
	if (qb_minio_backup(cfg, dir, stamp, o->progress, &st, &e)) {
		step_fail(s, &e);
		qb_manifest_add_error(m, "minio", e.msg);
		return;
	}
	s->bytes = st.bytes;
	s->items = st.objects;
	s->seconds = st.seconds;
	if (qb_manifest_add_artifact(m, "minio", s->name, st.bytes, NULL, st.seconds, &e) ||
	    qb_manifest_set_count(m, "objects", st.objects, &e) ||
	    qb_manifest_set_count(m, "fetched", st.fetched, &e) ||
	    qb_manifest_set_count(m, "linked", st.linked, &e))
		qb_log(QB_LOG_WARN, "manifest: %s", e.msg);
	qb_log(QB_LOG_INFO, "minio: %s written, %llu objects (%llu fetched, %llu linked), %llu bytes in %.1f s",
	       s->name, (unsigned long long)st.objects, (unsigned long long)st.fetched,
	       (unsigned long long)st.linked, (unsigned long long)st.bytes, st.seconds);
}

static void step_code(const struct qb_config *cfg, const char *dir, const char *stamp,
		      const struct qb_run_opts *o, struct qb_manifest *m, struct qb_step_result *s)
{
	struct qb_code_stats st;
	struct qb_err e = { 0 };
	struct timespec t0;

	qb_clock_start(&t0);
	memset(&st, 0, sizeof(st));
	snprintf(s->name, sizeof(s->name), "code_%s.tar.gz", stamp);
	if (qb_code_archive(qb_config_get(cfg, "CODE_DIR", NULL), dir, s->name,
			    qb_config_get(cfg, "CODE_EXCLUDE", NULL), o->progress, &st, &e)) {
		step_fail(s, &e);
		qb_manifest_add_error(m, "code", e.msg);
		return;
	}
	s->bytes = st.bytes_out;
	s->items = st.files;
	s->seconds = qb_seconds_since(&t0);
	if (qb_manifest_add_artifact(m, "code", s->name, st.bytes_out, st.sha256, s->seconds, &e) ||
	    qb_manifest_set_count(m, "files", st.files, &e))
		qb_log(QB_LOG_WARN, "manifest: %s", e.msg);
	qb_log(QB_LOG_INFO, "code: %s written, %llu files, %llu bytes in %.1f s", s->name,
	       (unsigned long long)st.files, (unsigned long long)st.bytes_out, s->seconds);
}

/* Is a step configured?  When not: skipped under "all", an error when asked for. */
static bool configured(const struct qb_config *cfg, unsigned type, const char **why)
{
	if (type == QB_RUN_MINIO && !qb_minio_configured(cfg)) {
		*why = "MINIO_ENDPOINT is not set";
		return false;
	}
	if (type == QB_RUN_CODE && !qb_config_get(cfg, "CODE_DIR", NULL)) {
		*why = "CODE_DIR is not set";
		return false;
	}
	return true;
}

/* Fail early rather than fill the disk: the run needs about what the last one took. */
static int disk_precheck(const char *dir, unsigned types, struct qb_err *err)
{
	struct qb_catalog *cat = NULL;
	struct qb_disk d;
	uint64_t need = 0;
	static const unsigned bits[] = { QB_RUN_DB, QB_RUN_MINIO, QB_RUN_CODE };

	if (qb_disk_usage(dir, &d, err))
		return err->code;
	if (qb_catalog_scan_newest(&cat, dir, err))
		return err->code;
	if (types & QB_RUN_MINIO)
		qb_catalog_warn_unreadable(cat);
	for (int k = 0; k < QB_KIND_COUNT; k++) {
		const struct qb_backup *b = qb_catalog_latest(cat, (enum qb_kind)k);
		/* An unreadable newest snapshot: the newest one that was read. */
		for (size_t i = 1; b && b->unreadable[0]; i++)
			b = i < cat->count[k] ? &cat->list[k][i] : NULL;
		/* A minio snapshot mostly hard-links the previous one: count a tenth. */
		if (b && (types & bits[k]))
			need += k == QB_KIND_MINIO ? b->size / 10 : b->size + b->size / 10;
	}
	qb_catalog_free(cat);
	if (need > d.avail) {
		char a[QB_SIZE_STR_MAX], n[QB_SIZE_STR_MAX];
		qb_format_size(d.avail, a, sizeof(a));
		qb_format_size(need, n, sizeof(n));
		return qb_err_set(err, QB_EIO, "not enough disk space in %s: the run needs about %s, %s available",
				  dir, n, a);
	}
	return QB_OK;
}

void qb_run_alert_as(const struct qb_config *cfg, const char *what, const char *label,
		     const char *failed, const char *error)
{
	struct qb_notify_cfg nc;
	struct qb_err e = { 0 };
	char *tail = qb_log_tail();
	struct qb_alert a = { .what = what, .step = failed, .step_label = label, .error = error,
			      .log_tail = tail };

	if (qb_notify_cfg_load(&nc, cfg, &e) || qb_notify_alert(&nc, &a, &e))
		qb_log(QB_LOG_ERROR, "alert email not sent: %s", e.msg);
	else
		qb_log(QB_LOG_INFO, "alert email sent: %s", what);
	free(tail);
}

void qb_run_alert(const struct qb_config *cfg, const char *what, const char *steps, const char *error)
{
	qb_run_alert_as(cfg, what, "Step", steps, error);
}

/* A run refused by the lock stays quiet: the holder is backing up too.  Unless it has
 * held the lock for hours: a stuck run would otherwise cost every night's backup
 * without a word.  A nightly run takes minutes. */
#define STUCK_LOCK_SECONDS (3 * 3600)

static void alert_if_stuck(const struct qb_config *cfg, const char *dir, const struct qb_err *err)
{
	struct qb_lock_info info;
	struct qb_err e = { 0 };
	bool held;

	if (qb_lock_holder(dir, &held, &info, &e) || !held || !info.started ||
	    time(NULL) - info.started < STUCK_LOCK_SECONDS)
		return;
	qb_run_alert(cfg, "backup skipped: a run has held the lock for hours", "start", err->msg);
}

static void write_metrics(const struct qb_config *cfg, const struct qb_run_result *res)
{
	const char *path = qb_config_get(cfg, "BACKUP_METRICS_FILE", NULL);
	struct qb_metrics_step steps[3];
	struct qb_metrics_run run = { .finished = time(NULL), .duration = res->seconds, .ok = res->ok,
				      .steps = steps };
	struct qb_err e = { 0 };

	if (!path)
		return;
	for (size_t i = 0; i < res->nsteps; i++) {
		if (res->steps[i].status == QB_STEP_SKIPPED)
			continue;
		steps[run.nsteps].kind = res->steps[i].kind;
		steps[run.nsteps].ok = res->steps[i].status == QB_STEP_OK;
		steps[run.nsteps].duration = res->steps[i].seconds;
		steps[run.nsteps].bytes = res->steps[i].bytes;
		run.nsteps++;
	}
	if (qb_metrics_write(path, &run, &e))
		qb_log(QB_LOG_WARN, "metrics not written: %s", e.msg);
}

/* A rotation that cannot run or stops half way fails the run: the admin must hear of it. */
static int rotate(const struct qb_config *cfg, const char *dir, struct qb_run_result *res,
		  struct qb_err *err)
{
	struct qb_prune_opts po = { .keep = 14 };
	struct qb_prune_result pr;
	int rc;

	memset(&pr, 0, sizeof(pr));
	if (qb_config_get_long(cfg, "BACKUP_KEEP", 14, 1, 100000, &po.keep, err) ||
	    qb_config_get_long(cfg, "BACKUP_MAX_AGE_DAYS", 0, 0, 100000, &po.max_age_days, err)) {
		qb_log(QB_LOG_ERROR, "rotation skipped: %s", err->msg);
		return err->code;
	}
	rc = qb_catalog_prune(dir, &po, &pr, err);
	if (rc)
		qb_log(QB_LOG_ERROR, "rotation: %s", err->msg);
	for (size_t i = 0; i < pr.count; i++)
		qb_log(QB_LOG_INFO, "rotation: removed %s", pr.items[i].name);
	res->pruned = (unsigned)pr.count;
	qb_prune_result_release(&pr);
	return rc;
}

/* Leftovers have temporary names and are never taken for backups: one that
 * cannot go (a root-owned file in a non-root run) is worth a warning, not a
 * night without backup. */
static void clean_leftovers(const char *dir)
{
	struct qb_err e = { 0 };
	unsigned cleaned = 0;

	if (qb_clean_leftovers(dir, &cleaned, &e))
		qb_log(QB_LOG_WARN, "leftovers of an earlier run not removed, the run goes on: %s", e.msg);
	if (cleaned)
		qb_log(QB_LOG_INFO, "removed %u leftover(s) of an interrupted run", cleaned);
}

static void disk_after(const struct qb_config *cfg, const char *dir, const struct qb_run_opts *o,
		       struct qb_run_result *res)
{
	long limit;
	bool over = false;
	struct qb_disk d;
	struct qb_err e = { 0 };

	if (qb_config_get_long(cfg, "DISK_ALERT_PERCENT", 80, 0, 100, &limit, &e) ||
	    qb_disk_check(dir, limit, &d, &over, &e)) {
		qb_log(QB_LOG_WARN, "disk check: %s", e.msg);
		return;
	}
	res->disk_percent = d.used_percent;
	if (!over)
		return;
	res->disk_alert = true;
	qb_log(QB_LOG_WARN, "disk usage of %s is %d%% (alert threshold %ld%%)", dir, d.used_percent, limit);
	if (o->notify) {
		char msg[512];
		snprintf(msg, sizeof(msg), "disk usage of %s is %d%%, above the %ld%% threshold", dir,
			 d.used_percent, limit);
		qb_run_alert(cfg, "disk usage alert", NULL, msg);
	}
}

/* The failed steps, then what failed after them (late_what, its error in late), make
 * the alert and the run's error. */
static int run_failed(const struct qb_config *cfg, const struct qb_run_opts *o,
		      const struct qb_run_result *res, const char *late_what, const struct qb_err *late,
		      struct qb_err *err)
{
	char failed[64] = "", what[96];
	const char *first = NULL;

	for (size_t i = 0; i < res->nsteps; i++)
		if (res->steps[i].status == QB_STEP_FAILED) {
			snprintf(failed + strlen(failed), sizeof(failed) - strlen(failed), "%s%s",
				 failed[0] ? ", " : "", res->steps[i].kind);
			if (!first)
				first = res->steps[i].error;
		}
	if (late_what) {
		snprintf(failed + strlen(failed), sizeof(failed) - strlen(failed), "%s%s",
			 failed[0] ? ", " : "", late_what);
		if (!first)
			first = late->msg;
	}
	snprintf(what, sizeof(what), "backup failed (%s)", failed);
	if (o->notify)
		qb_run_alert(cfg, what, failed, first);
	return qb_err_set(err, QB_EIO, "%s: %s", what, first ? first : "");
}

int qb_run(const struct qb_config *cfg, const struct qb_run_opts *o, struct qb_run_result *res,
	   struct qb_err *err)
{
	static const struct { unsigned bit; const char *kind;
		void (*fn)(const struct qb_config *, const char *, const char *, const struct qb_run_opts *,
			   struct qb_manifest *, struct qb_step_result *); } steps[] = {
		{ QB_RUN_DB, "db", step_db }, { QB_RUN_MINIO, "minio", step_minio }, { QB_RUN_CODE, "code", step_code },
	};
	const char *dir = qb_backup_dir(cfg);
	struct qb_lock *lock = NULL;
	struct qb_manifest *m = NULL;
	struct timespec t0;
	time_t started;
	struct qb_err late = { 0 };   /* the first failure after the steps */
	const char *late_what = NULL; /* "manifest", "rotation" */
	int rc;

	memset(res, 0, sizeof(*res));
	qb_clock_start(&t0);
	qb_log_tail_clear();
	rc = qb_mkdir_p(dir, 0700, err);
	if (!rc && !o->lock)
		rc = qb_lock_acquire(&lock, dir, o->run_type ? o->run_type : "all", err);
	if (!rc)
		clean_leftovers(dir);
	for (size_t i = 0; !rc && i < 3; i++) {
		const char *why;
		if ((o->types & steps[i].bit) && !configured(cfg, steps[i].bit, &why) && o->explicit_type)
			rc = qb_err_set(err, QB_ECONFIG, "cannot back up %s: %s", steps[i].kind, why);
	}
	if (!rc)
		rc = disk_precheck(dir, o->types, err);
	if (rc) {
		if (o->notify && rc != QB_ELOCKED)
			qb_run_alert(cfg, "backup failed", "start", err->msg);
		else if (o->notify)
			alert_if_stuck(cfg, dir, err);
		qb_lock_free(lock);
		return rc;
	}
	/* From here on, lock is ours to free (NULL when the caller holds it). */
	/* One stamp per run, never one a previous run used (two runs in a second). */
	for (;;) {
		char probe[64], *path;
		struct stat st;
		started = time(NULL);
		qb_stamp(started, res->stamp, sizeof(res->stamp));
		snprintf(probe, sizeof(probe), QB_MANIFEST_PREFIX "%s" QB_MANIFEST_SUFFIX, res->stamp);
		path = qb_path_join(dir, probe);
		if (!path || stat(path, &st) != 0) {
			free(path);
			break;
		}
		free(path);
		sleep(1);
	}
	m = qb_manifest_new(res->stamp, started);
	if (!m) {
		qb_lock_free(lock);
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	}
	res->ok = true;
	for (size_t i = 0; i < 3; i++) {
		struct qb_step_result *s = &res->steps[res->nsteps];
		const char *why;
		if (!(o->types & steps[i].bit))
			continue;
		res->nsteps++;
		s->kind = steps[i].kind;
		if (!configured(cfg, steps[i].bit, &why)) {
			s->status = QB_STEP_SKIPPED;
			snprintf(s->error, sizeof(s->error), "%s", why);
			qb_log(QB_LOG_WARN, "%s: skipped, %s", s->kind, why);
			continue;
		}
		steps[i].fn(cfg, dir, res->stamp, o, m, s);
		if (s->status == QB_STEP_FAILED)
			res->ok = false;
	}
	if (qb_manifest_write(m, dir, time(NULL), &late)) {
		qb_log(QB_LOG_ERROR, "manifest not written: %s", late.msg);
		late_what = "manifest";
		res->ok = false;
	}
	qb_manifest_free(m);
	/* Only after a run that went right in full: never rotate good backups away for a failed one. */
	if (res->ok) {
		if (rotate(cfg, dir, res, &late)) {
			late_what = "rotation";
			res->ok = false;
		}
	} else {
		qb_log(QB_LOG_WARN, "not rotating: the run failed, older backups are kept");
	}
	res->seconds = qb_seconds_since(&t0);
	disk_after(cfg, dir, o, res);
	if (!res->ok)
		rc = run_failed(cfg, o, res, late_what, &late, err);
	write_metrics(cfg, res);
	qb_lock_free(lock);
	return rc;
}

char *qb_run_json(const struct qb_run_result *res)
{
	static const char *const status[] = { "ok", "failed", "skipped" };
	cJSON *root = cJSON_CreateObject(), *steps;
	char *text = NULL;

	if (!root || !cJSON_AddStringToObject(root, "stamp", res->stamp) ||
	    !cJSON_AddBoolToObject(root, "ok", res->ok) ||
	    !cJSON_AddNumberToObject(root, "seconds", res->seconds) ||
	    !cJSON_AddNumberToObject(root, "pruned", res->pruned) ||
	    !cJSON_AddBoolToObject(root, "diskAlert", res->disk_alert) ||
	    !cJSON_AddNumberToObject(root, "diskUsedPercent", res->disk_percent) ||
	    !(steps = cJSON_AddArrayToObject(root, "steps")))
		goto out;
	for (size_t i = 0; i < res->nsteps; i++) {
		const struct qb_step_result *s = &res->steps[i];
		char size[QB_SIZE_STR_MAX];
		cJSON *o = cJSON_CreateObject();
		qb_format_size(s->bytes, size, sizeof(size));
		if (!o)
			goto out;
		cJSON_AddItemToArray(steps, o);
		if (!cJSON_AddStringToObject(o, "kind", s->kind) ||
		    !cJSON_AddStringToObject(o, "status", status[s->status]) ||
		    !(s->status == QB_STEP_OK ? cJSON_AddStringToObject(o, "name", s->name) :
						cJSON_AddNullToObject(o, "name")) ||
		    !cJSON_AddStringToObject(o, "size", size) ||
		    !cJSON_AddNumberToObject(o, "bytes", (double)s->bytes) ||
		    !cJSON_AddNumberToObject(o, "items", (double)s->items) ||
		    !cJSON_AddNumberToObject(o, "seconds", s->seconds) ||
		    !(s->status == QB_STEP_OK ? cJSON_AddNullToObject(o, "error") :
						cJSON_AddStringToObject(o, "error", s->error)))
			goto out;
	}
	text = cJSON_PrintUnformatted(root);
out:
	cJSON_Delete(root);
	return text;
}
