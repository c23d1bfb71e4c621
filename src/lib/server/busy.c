/*
 * busy.c - is a run going on, and the 409 that says whose.
 *
 * Our own job is known without touching the lock file; any other holder
 * (a run from the command line, cron, a delete, a prune) is read from the
 * run lock.  The answer is advice for the client: the lock itself, taken
 * by qb_run() or by the delete, is what keeps two runs apart.
 *
 * The 409's "error" says what the holder does, from the type it wrote in
 * the lock (the command line names it the same way): "a backup is already
 * running" for a backup only, so that an admin waiting on a prune, a
 * verify or a restore is not told to look for a backup.
 */
#include <string.h>

#include "qb/log.h"
#include "server_int.h"

#define A_BACKUP "a backup is already running"

static const char *holder_text(const char *type)
{
	static const struct { const char *type, *text; } holders[] = {
		{ "all", A_BACKUP }, { "db", A_BACKUP }, { "minio", A_BACKUP }, { "code", A_BACKUP },
		{ "delete", "a delete is running" }, { "prune", "a prune is running" },
		{ "verify", "a verify is running" }, { "restore", "a restore (qrestore) is running" },
	};

	for (size_t i = 0; i < sizeof(holders) / sizeof(holders[0]); i++)
		if (!strcmp(type, holders[i].type))
			return holders[i].text;
	/* Not yet written (the holder has just taken it), or a type we do not know. */
	return "another run holds the lock";
}

bool srv_busy(struct qb_server *s, struct qb_lock_info *info)
{
	struct qb_err err = { 0 };
	bool held = false;

	if (srv_job_running(&s->jobs, info))
		return true;
	if (qb_lock_holder(s->dir, &held, info, &err)) {
		qb_log(QB_LOG_DEBUG, "lock check: %s", err.msg);
		return false;
	}
	return held;
}

enum MHD_Result srv_send_busy(struct MHD_Connection *c, struct srv_req *r,
			      const struct qb_lock_info *info)
{
	cJSON *doc = cJSON_CreateObject();

	if (doc && (!cJSON_AddStringToObject(doc, "error", holder_text(info->type)) ||
		    !(info->type[0] ? cJSON_AddStringToObject(doc, "type", info->type) :
				      cJSON_AddNullToObject(doc, "type")) ||
		    !cJSON_AddItemToObject(doc, "started", srv_date(info->started)) ||
		    !(info->pid > 0 ? cJSON_AddNumberToObject(doc, "pid", info->pid) :
				      cJSON_AddNullToObject(doc, "pid")))) {
		cJSON_Delete(doc);
		doc = NULL;
	}
	return srv_send_doc(c, r, MHD_HTTP_CONFLICT, doc);
}
