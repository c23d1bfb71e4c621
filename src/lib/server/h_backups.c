/*
 * h_backups.c - GET /backups (the listing) and DELETE /backups?file=NAME.
 *
 * The name is checked on its decoded bytes and length, so "%2e%2e%2f" is
 * "../" and "%00" is a NUL, and refused like the plain forms.  A repeated
 * file= is refused rather than guessed at: a proxy in front might read the
 * other one.
 */
#include <stdlib.h>
#include <string.h>

#include "qb/catalog.h"
#include "qb/lock.h"
#include "qb/log.h"
#include "server_int.h"

enum MHD_Result srv_h_list(struct qb_server *s, struct MHD_Connection *c, struct srv_req *r)
{
	struct qb_catalog *cat = NULL;
	struct qb_err err = { 0 };
	char *json = NULL;
	int rc = qb_catalog_scan(&cat, s->dir, &err);

	if (!rc)
		qb_catalog_warn_unreadable(cat);
	if (!rc)
		rc = qb_catalog_json(cat, NULL, &json, &err);
	qb_catalog_free(cat);
	if (rc)
		return srv_send_error(c, r, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", err.msg);
	return srv_send(c, r, MHD_HTTP_OK, json, NULL, NULL);
}

struct file_arg {
	const char *value;
	size_t len;
	unsigned count;
};

static enum MHD_Result find_file(void *cls, enum MHD_ValueKind kind, const char *key,
				 size_t key_size, const char *value, size_t value_size)
{
	struct file_arg *a = cls;

	(void)kind;
	if (key && key_size == 4 && !memcmp(key, "file", 4) && a->count++ == 0) {
		a->value = value;
		a->len = value ? value_size : 0;
	}
	return MHD_YES;
}

enum MHD_Result srv_h_delete(struct qb_server *s, struct MHD_Connection *c, struct srv_req *r)
{
	struct file_arg a = { 0 };
	struct qb_err err = { 0 };
	struct qb_lock *lock = NULL;
	struct qb_lock_info info;
	cJSON *doc;
	int rc;

	MHD_get_connection_values_n(c, MHD_GET_ARGUMENT_KIND, find_file, &a);
	if (a.count != 1)
		return srv_send_error(c, r, MHD_HTTP_BAD_REQUEST, "%s", a.count ?
				      "file= is given more than once" : "file= is missing");
	if (qb_backup_check_name(a.value ? a.value : "", a.len, &err))
		return srv_send_error(c, r, MHD_HTTP_BAD_REQUEST, "%s", err.msg);
	rc = qb_lock_acquire(&lock, s->dir, "delete", &err);
	if (rc == QB_ELOCKED) {
		if (!srv_busy(s, &info))
			memset(&info, 0, sizeof(info));
		return srv_send_busy(c, r, &info);
	}
	if (!rc)
		rc = qb_backup_delete(s->dir, a.value, &err);
	qb_lock_free(lock);
	if (rc)
		return srv_send_error(c, r, rc == QB_ENOTFOUND ? MHD_HTTP_NOT_FOUND :
				      MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", err.msg);
	qb_log(QB_LOG_INFO, "deleted %s", a.value);
	doc = cJSON_CreateObject();
	if (doc && !cJSON_AddStringToObject(doc, "deleted", a.value)) {
		cJSON_Delete(doc);
		doc = NULL;
	}
	return srv_send_doc(c, r, MHD_HTTP_OK, doc);
}
