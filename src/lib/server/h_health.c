/*
 * h_health.c - GET /health, for systemd and monitoring: no token.
 *
 * Probed every few seconds, so it reads names only: the catalog would
 * measure every document folder to find the newest date.  The names and
 * types checked are the catalog's (catalog.h), so the date is the one the
 * listing would show first.
 */
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "qb/catalog.h"
#include "server_int.h"

/* Newest backup's stamp into stamp (QB_STAMP_LEN + 1); false when there is none. */
static bool newest_stamp(const char *dir, char *stamp)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	bool found = false;

	if (!d)
		return false;
	while ((de = readdir(d))) {
		enum qb_kind kind;
		char s[QB_STAMP_LEN + 1];
		struct stat st;

		if (!qb_backup_parse_name(de->d_name, &kind, s) || (found && strcmp(s, stamp) <= 0))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    (kind == QB_KIND_MINIO ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)))
			continue;
		memcpy(stamp, s, sizeof(s));
		found = true;
	}
	closedir(d);
	return found;
}

/* "YYYYMMDD_HHMMSS" -> "YYYY-MM-DD HH:MM:SS", as the listing writes dates. */
static cJSON *stamp_date(const char *s)
{
	char d[SRV_DATE_MAX];

	memcpy(d, s, 4);
	d[4] = '-';
	memcpy(d + 5, s + 4, 2);
	d[7] = '-';
	memcpy(d + 8, s + 6, 2);
	d[10] = ' ';
	memcpy(d + 11, s + 9, 2);
	d[13] = ':';
	memcpy(d + 14, s + 11, 2);
	d[16] = ':';
	memcpy(d + 17, s + 13, 2);
	d[19] = '\0';
	return cJSON_CreateString(d);
}

enum MHD_Result srv_h_health(struct qb_server *s, struct MHD_Connection *c, struct srv_req *r)
{
	struct qb_lock_info info;
	char stamp[QB_STAMP_LEN + 1];
	cJSON *doc = cJSON_CreateObject();

	if (doc && (!cJSON_AddStringToObject(doc, "status", "ok") ||
		    !cJSON_AddStringToObject(doc, "version", QB_VERSION) ||
		    !cJSON_AddItemToObject(doc, "lastBackup", newest_stamp(s->dir, stamp) ?
				    stamp_date(stamp) : cJSON_CreateNull()) ||
		    !cJSON_AddBoolToObject(doc, "running", srv_busy(s, &info)))) {
		cJSON_Delete(doc);
		doc = NULL;
	}
	return srv_send_doc(c, r, MHD_HTTP_OK, doc);
}
