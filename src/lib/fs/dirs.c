/* dirs.c - folder creation, removal, leftovers and backup time stamps. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qb/buf.h"
#include "qb/fsutil.h"

int qb_mkdir_p(const char *path, unsigned mode, struct qb_err *err)
{
	char *p = strdup(path);
	int rc = QB_OK;

	if (!p)
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	for (char *s = p + 1; ; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;
			*s = '\0';
			if (mkdir(p, (mode_t)mode) < 0 && errno != EEXIST) {
				rc = qb_err_sys(err, QB_EIO, errno, "unable to create folder '%s'", p);
				break;
			}
			*s = c;
			if (!c)
				break;
		}
	}
	if (!rc) {
		struct stat st;
		if (stat(path, &st) < 0)
			rc = qb_err_sys(err, QB_EIO, errno, "unable to create folder '%s'", path);
		else if (!S_ISDIR(st.st_mode))
			rc = qb_err_set(err, QB_EIO, "'%s' is not a folder", path);
	}
	free(p);
	return rc;
}

static int remove_at(int at, const char *name, struct qb_err *err)
{
	struct stat st;

	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? QB_OK : qb_err_sys(err, QB_EIO, errno, "unable to stat '%s'", name);
	if (S_ISDIR(st.st_mode)) {
		int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		DIR *d;
		struct dirent *de;
		int rc = QB_OK;

		if (fd < 0)
			return qb_err_sys(err, QB_EIO, errno, "unable to open folder '%s'", name);
		d = fdopendir(fd);
		if (!d) {
			close(fd);
			return qb_err_sys(err, QB_EIO, errno, "unable to read folder '%s'", name);
		}
		while (!rc && (de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			rc = remove_at(dirfd(d), de->d_name, err);
		}
		closedir(d);
		if (rc)
			return rc;
		if (unlinkat(at, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
			return qb_err_sys(err, QB_EIO, errno, "unable to remove folder '%s'", name);
		return QB_OK;
	}
	if (unlinkat(at, name, 0) < 0 && errno != ENOENT)
		return qb_err_sys(err, QB_EIO, errno, "unable to remove '%s'", name);
	return QB_OK;
}

int qb_remove_tree(const char *path, struct qb_err *err)
{
	return remove_at(AT_FDCWD, path, err);
}

int qb_clean_leftovers(const char *dir, unsigned *removed, struct qb_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int rc = QB_OK;

	if (removed)
		*removed = 0;
	if (!d)
		return errno == ENOENT ? QB_OK : qb_err_sys(err, QB_EIO, errno, "unable to read folder '%s'", dir);
	/* One leftover that cannot go (a root-owned file) must not keep the others. */
	while ((de = readdir(d))) {
		struct qb_err e = { 0 };
		if (strncmp(de->d_name, QB_TMP_PREFIX, strlen(QB_TMP_PREFIX)) != 0)
			continue;
		if (remove_at(dirfd(d), de->d_name, &e) == QB_OK) {
			if (removed)
				(*removed)++;
		} else if (!rc) {
			rc = qb_err_prefix(&e, "unable to remove leftover '%s/%s'", dir, de->d_name);
			if (err)
				*err = e;
		}
	}
	closedir(d);
	return rc;
}

void qb_stamp(time_t t, char *buf, size_t len)
{
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(buf, len, "%Y%m%d_%H%M%S", &tm);
}

bool qb_stamp_parse(const char *s, struct tm *tm)
{
	int v[6];
	static const int widths[6] = { 4, 2, 2, 2, 2, 2 };
	const char *p = s;
	struct tm check;

	for (int i = 0; i < 6; i++) {
		if (i == 3) {
			if (*p != '_')
				return false;
			p++;
		}
		v[i] = 0;
		for (int j = 0; j < widths[i]; j++, p++) {
			if (*p < '0' || *p > '9')
				return false;
			v[i] = v[i] * 10 + (*p - '0');
		}
	}
	if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 59)
		return false;
	memset(tm, 0, sizeof(*tm));
	tm->tm_year = v[0] - 1900;
	tm->tm_mon = v[1] - 1;
	tm->tm_mday = v[2];
	tm->tm_hour = v[3];
	tm->tm_min = v[4];
	tm->tm_sec = v[5];
	/* A clock (ours, or the old scripts' `date`) never shows February 30:
	 * timegm() carries an impossible day over into the next month. */
	check = *tm;
	timegm(&check);
	if (check.tm_mon != tm->tm_mon || check.tm_mday != tm->tm_mday)
		return false;
	tm->tm_isdst = -1;
	return true;
}
