/*
 * jobs.c - the backup job: one at a time, in a thread of its own.
 *
 * A synchronous POST runs its backup through a job too and waits for it:
 * the run goes on (and is recorded for /backup/status) when the client
 * hangs up, and a slow run never holds a connection thread's locks.  The
 * waiter's slot lives on its stack and is filled by the job's thread, so a
 * new job replacing the finished one cannot take the result away first.
 *
 * One job at a time inside the server is decided here, under the mutex;
 * against other processes, qb_run() takes the run lock itself.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "qb/fsutil.h"
#include "qb/lock.h"
#include "qb/log.h"
#include "qb/run.h"
#include "server_int.h"

int srv_jobs_init(struct srv_jobs *j, const struct qb_config *cfg, bool notify)
{
	memset(j, 0, sizeof(*j));
	j->cfg = cfg;
	j->notify = notify;
	if (pthread_mutex_init(&j->mu, NULL))
		return QB_EINTERNAL;
	if (pthread_cond_init(&j->cv, NULL)) {
		pthread_mutex_destroy(&j->mu);
		return QB_EINTERNAL;
	}
	return QB_OK;
}

/* qb_run_json(), plus "error" when the run failed. Caller frees; NULL on no memory. */
static char *result_json(const struct qb_run_result *res, int rc, const struct qb_err *err)
{
	char *text = qb_run_json(res), shown[4 * QB_ERRMSG_MAX];
	cJSON *doc;

	if (!rc || !text)
		return text;
	doc = cJSON_Parse(text);
	free(text);
	text = NULL;
	/* As the steps' errors are (run.c): cJSON would pass C1 controls through. */
	qb_printable(shown, sizeof(shown), err->msg[0] ? err->msg : qb_code_text(rc));
	if (doc && cJSON_AddStringToObject(doc, "error", shown))
		text = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	return text;
}

static void *job_main(void *arg)
{
	struct srv_jobs *j = arg;
	struct qb_run_opts o = { 0 };
	struct qb_run_result res;
	struct qb_err err = { 0 };
	struct srv_waiter *w;
	char type[sizeof(j->job.type)], id[SRV_JOB_ID_MAX];
	char *result;
	int rc;

	pthread_mutex_lock(&j->mu);
	o.types = j->job.types;
	o.explicit_type = j->job.explicit_type;
	o.lock = j->job.lock;
	o.notify = j->notify;
	memcpy(type, j->job.type, sizeof(type));
	memcpy(id, j->job.id, sizeof(id));
	pthread_mutex_unlock(&j->mu);
	o.run_type = type;

	qb_log(QB_LOG_INFO, "job %s: backup (%s) started", id, type);
	rc = qb_run(j->cfg, &o, &res, &err);
	qb_lock_free(o.lock);
	result = result_json(&res, rc, &err);
	if (rc)
		qb_log(QB_LOG_ERROR, "job %s: backup (%s) failed: %s", id, type, err.msg);
	else
		qb_log(QB_LOG_INFO, "job %s: backup (%s) done in %.1f s", id, type, res.seconds);

	pthread_mutex_lock(&j->mu);
	j->job.lock = NULL;
	j->job.rc = rc;
	j->job.refused = rc == QB_ELOCKED && res.nsteps == 0;
	j->job.state = rc ? SRV_JOB_FAILED : SRV_JOB_OK;
	j->job.finished = time(NULL);
	j->job.result = result;
	w = j->job.waiter;
	j->job.waiter = NULL;
	if (w) {
		w->rc = rc;
		w->refused = j->job.refused;
		w->result = result ? qb_strdup(result) : NULL;
		w->done = true;
	}
	pthread_cond_broadcast(&j->cv);
	pthread_mutex_unlock(&j->mu);
	return NULL;
}

static void make_id(struct srv_jobs *j, char *id)
{
	unsigned char r[8];
	static const char hex[] = "0123456789abcdef";

	if (getrandom(r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
		unsigned long long v = ((unsigned long long)time(NULL) << 20) ^ ++j->seq;
		memcpy(r, &v, sizeof(r));
	}
	for (size_t i = 0; i < sizeof(r); i++) {
		id[2 * i] = hex[r[i] >> 4];
		id[2 * i + 1] = hex[r[i] & 15];
	}
	id[2 * sizeof(r)] = '\0';
}

static void running_info(const struct srv_jobs *j, struct qb_lock_info *info)
{
	if (!info)
		return;
	memset(info, 0, sizeof(*info));
	info->pid = getpid();
	info->started = j->job.started;
	snprintf(info->type, sizeof(info->type), "%s", j->job.type);
}

int srv_job_start(struct srv_jobs *j, unsigned types, const char *type, bool explicit_type,
		  struct srv_waiter *w, char id[SRV_JOB_ID_MAX], struct qb_lock_info *running,
		  struct qb_err *err)
{
	struct qb_lock *lock = NULL;
	int e;

	pthread_mutex_lock(&j->mu);
	if (j->closing) {
		pthread_mutex_unlock(&j->mu);
		return qb_err_set(err, QB_ECANCELLED, SRV_STOPPING);
	}
	if (j->job.state == SRV_JOB_RUNNING) {
		running_info(j, running);
		pthread_mutex_unlock(&j->mu);
		return qb_err_set(err, QB_ELOCKED, "a backup is already running");
	}
	/* Take the run lock now, in the request's thread: a run started from the
	 * command line in the meantime gets a 409 here, never a 202 and then a
	 * failed job. */
	{
		const char *dir = qb_backup_dir(j->cfg);
		int rc = qb_mkdir_p(dir, 0700, err);
		if (!rc)
			rc = qb_lock_acquire(&lock, dir, type, err);
		if (rc) {
			bool held = false;
			struct qb_err e2 = { 0 };
			if (running && (qb_lock_holder(dir, &held, running, &e2) || !held))
				memset(running, 0, sizeof(*running));
			pthread_mutex_unlock(&j->mu);
			return rc;
		}
	}
	/* The last job's thread has set its state, so it is past the mutex: no deadlock. */
	if (j->thread_live) {
		pthread_join(j->thread, NULL);
		j->thread_live = false;
	}
	free(j->job.result);
	memset(&j->job, 0, sizeof(j->job));
	make_id(j, j->job.id);
	snprintf(j->job.type, sizeof(j->job.type), "%s", type);
	j->job.types = types;
	j->job.explicit_type = explicit_type;
	j->job.state = SRV_JOB_RUNNING;
	j->job.started = time(NULL);
	j->job.waiter = w;
	j->job.lock = lock;
	if (w)
		memset(w, 0, sizeof(*w));
	e = pthread_create(&j->thread, NULL, job_main, j);
	if (e) {
		qb_lock_free(lock);
		memset(&j->job, 0, sizeof(j->job));
		pthread_mutex_unlock(&j->mu);
		return qb_err_sys(err, QB_EINTERNAL, e, "unable to start the backup thread");
	}
	j->thread_live = true;
	memcpy(id, j->job.id, SRV_JOB_ID_MAX);
	pthread_mutex_unlock(&j->mu);
	return QB_OK;
}

void srv_job_wait(struct srv_jobs *j, struct srv_waiter *w)
{
	pthread_mutex_lock(&j->mu);
	while (!w->done)
		pthread_cond_wait(&j->cv, &j->mu);
	pthread_mutex_unlock(&j->mu);
}

bool srv_job_running(struct srv_jobs *j, struct qb_lock_info *info)
{
	bool running;

	pthread_mutex_lock(&j->mu);
	running = j->job.state == SRV_JOB_RUNNING;
	if (running)
		running_info(j, info);
	pthread_mutex_unlock(&j->mu);
	return running;
}

void srv_jobs_close(struct srv_jobs *j)
{
	pthread_mutex_lock(&j->mu);
	j->closing = true;
	while (j->job.state == SRV_JOB_RUNNING)
		pthread_cond_wait(&j->cv, &j->mu);
	pthread_mutex_unlock(&j->mu);
}

bool srv_jobs_closing(struct srv_jobs *j)
{
	bool closing;

	pthread_mutex_lock(&j->mu);
	closing = j->closing;
	pthread_mutex_unlock(&j->mu);
	return closing;
}

cJSON *srv_job_status(struct srv_jobs *j, bool *oom)
{
	static const char *const states[] = { "none", "running", "ok", "failed" };
	cJSON *doc = NULL, *result = NULL;
	bool ok;

	*oom = false;
	pthread_mutex_lock(&j->mu);
	if (j->job.state == SRV_JOB_NONE)
		goto out;
	doc = cJSON_CreateObject();
	if (j->job.result && !(result = cJSON_Parse(j->job.result)))
		goto fail;
	if (!result && !(result = cJSON_CreateNull()))
		goto fail;
	ok = doc && cJSON_AddStringToObject(doc, "job", j->job.id) &&
	     cJSON_AddStringToObject(doc, "type", j->job.type) &&
	     cJSON_AddStringToObject(doc, "status", states[j->job.state]) &&
	     cJSON_AddItemToObject(doc, "started", srv_date(j->job.started)) &&
	     cJSON_AddItemToObject(doc, "finished", srv_date(j->job.finished));
	if (ok && cJSON_AddItemToObject(doc, "result", result))
		goto out;
fail:
	cJSON_Delete(result);
	cJSON_Delete(doc);
	doc = NULL;
	*oom = true;
out:
	pthread_mutex_unlock(&j->mu);
	return doc;
}

void srv_jobs_release(struct srv_jobs *j)
{
	srv_jobs_close(j);
	pthread_mutex_lock(&j->mu);
	if (j->thread_live)
		pthread_join(j->thread, NULL);
	j->thread_live = false;
	free(j->job.result);
	j->job.result = NULL;
	pthread_mutex_unlock(&j->mu);
	pthread_cond_destroy(&j->cv);
	pthread_mutex_destroy(&j->mu);
}
