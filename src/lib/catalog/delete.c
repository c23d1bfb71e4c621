/*
 * delete.c - remove one backup by its bare name.
 *
 * The name comes from an admin (command line or HTTP query), so it is
 * treated as hostile: it must be a backup name and nothing else, which
 * rules out paths, "..", hidden files (the lock, temporary names) and
 * anything the old scripts would not have made.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog/catalog_int.h"
#include "qb/fsutil.h"
#include "qb/log.h"

int qb_backup_check_name(const char *name, size_t len, struct qb_err *err)
{
	if (!name || !name[0] || len == 0)
		return qb_err_set(err, QB_EREFUSED, "empty backup name");
	if (strlen(name) != len)
		return qb_err_set(err, QB_EREFUSED, "backup name contains a NUL byte");
	if (strchr(name, '/'))
		return qb_err_set(err, QB_EREFUSED, "'%s' is not a bare name (has a slash)", name);
	if (strstr(name, ".."))
		return qb_err_set(err, QB_EREFUSED, "'%s' contains '..'", name);
	if (name[0] == '.')
		return qb_err_set(err, QB_EREFUSED, "'%s' starts with a dot", name);
	if (!qb_backup_parse_name(name, NULL, NULL))
		return qb_err_set(err, QB_EREFUSED, "'%s' is not a backup name", name);
	return QB_OK;
}

/* Does any artifact of this stamp remain in dir?  An entry of the wrong type
 * (a folder called db_...sql.gz, a symlink) is not one, as for the listing:
 * a dry run, which goes by the listing, then says what a real run does. */
static bool stamp_in_use(const char *dir, const char *stamp)
{
	for (int k = 0; k < QB_KIND_COUNT; k++) {
		char name[QB_BACKUP_NAME_MAX];
		char *path;
		struct stat st;
		bool there;

		qb_backup_make_name((enum qb_kind)k, stamp, name, sizeof(name));
		path = qb_path_join(dir, name);
		/* When in doubt (no memory), say yes: keeping a manifest is harmless. */
		if (path && lstat(path, &st) == 0)
			there = cat_kind_mode((enum qb_kind)k, st.st_mode);
		else
			there = !path || errno != ENOENT;
		free(path);
		if (there)
			return true;
	}
	return false;
}

/* Remove dir's manifest of stamp when no artifact of that stamp is left. */
static int drop_orphan_manifest(const char *dir, const char *stamp, bool *removed,
				struct qb_err *err)
{
	char name[QB_BACKUP_NAME_MAX];
	char *path;
	struct stat st;
	int rc = QB_OK;

	*removed = false;
	if (stamp_in_use(dir, stamp))
		return QB_OK;
	snprintf(name, sizeof(name), QB_MANIFEST_PREFIX "%s" QB_MANIFEST_SUFFIX, stamp);
	path = qb_path_join(dir, name);
	if (!path)
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	if (lstat(path, &st) == 0 && S_ISREG(st.st_mode)) {
		if (unlink(path) == 0)
			*removed = true;
		else if (errno != ENOENT)
			rc = qb_err_sys(err, QB_EIO, errno, "unable to remove '%s'", path);
	}
	free(path);
	return rc;
}

static int remove_minio(const char *dir, const char *path, const char *name, struct qb_err *err)
{
	char *tmp = qb_tmp_name(dir, name);
	int rc;

	if (!tmp)
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	/* Out of the listing first; if removal stops half way, the next run's
	 * leftover cleaning finishes it. */
	if (rename(path, tmp) < 0) {
		rc = qb_err_sys(err, QB_EIO, errno, "unable to rename '%s'", path);
		free(tmp);
		return rc;
	}
	rc = qb_remove_tree(tmp, err);
	if (rc && rc != QB_ENOMEM)
		qb_err_prefix(err, "unable to delete '%s' in full, what is left of it is '%s'",
			      name, tmp);
	free(tmp);
	return rc;
}

int cat_delete(const char *dir, const char *name, bool *manifest_dropped, struct qb_err *err)
{
	char stamp[QB_STAMP_LEN + 1];
	enum qb_kind kind;
	struct stat st;
	char *path = NULL;
	int rc = qb_backup_check_name(name, name ? strlen(name) : 0, err);

	*manifest_dropped = false;
	if (rc)
		return rc;
	qb_backup_parse_name(name, &kind, stamp);
	path = qb_path_join(dir, name);
	if (!path)
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			rc = qb_err_set(err, QB_ENOTFOUND, "no backup named '%s' in '%s'", name,
					dir);
		else
			rc = qb_err_sys(err, QB_EIO, errno, "unable to stat '%s'", path);
		goto out;
	}
	if (!cat_kind_mode(kind, st.st_mode)) {
		rc = qb_err_set(err, QB_ENOTFOUND, "'%s' in '%s' is not a backup", name, dir);
		goto out;
	}
	if (kind == QB_KIND_MINIO)
		rc = remove_minio(dir, path, name, err);
	else if (unlink(path) < 0)
		rc = qb_err_sys(err, QB_EIO, errno, "unable to remove '%s'", path);
	if (!rc)
		rc = drop_orphan_manifest(dir, stamp, manifest_dropped, err);
	if (!rc)
		rc = qb_fsync_dir(dir, err);
	if (!rc)
		qb_log(QB_LOG_INFO, "deleted backup '%s'%s", name,
		       *manifest_dropped ? " and its manifest" : "");
out:
	free(path);
	return rc;
}

int qb_backup_delete(const char *dir, const char *name, struct qb_err *err)
{
	bool dropped;

	return cat_delete(dir, name, &dropped, err);
}
