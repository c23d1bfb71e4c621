/*
 * place.c - putting object files into the snapshot tree.
 *
 * Everything goes through *at() calls relative to the bucket's folder with
 * O_NOFOLLOW and O_EXCL, and keys reach this point either proven safe
 * (qb_minio_key_is_safe) or as a single escaped name: nothing can be
 * written outside the snapshot.  The fast path is one openat() or linkat();
 * parent folders are made only when that fails, and the last one made is
 * remembered since keys arrive sorted, folder by folder.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mirror/mirror_int.h"
#include "qb/log.h"

void mx_tree_init(struct mx_tree *t, int root_fd)
{
	memset(t, 0, sizeof(*t));
	t->root_fd = root_fd;
	t->bucket_fd = -1;
	t->esc_fd = -1;
}

int mx_tree_bucket(struct mx_tree *t, const char *bucket, struct qb_err *err)
{
	mx_tree_end_bucket(t);
	t->bucket = bucket;
	if (mkdirat(t->root_fd, bucket, 0700) < 0 && errno != EEXIST)
		return qb_err_sys(err, QB_EIO, errno, "unable to create folder '%s'", bucket);
	t->bucket_fd = openat(t->root_fd, bucket, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (t->bucket_fd < 0)
		return qb_err_sys(err, QB_EIO, errno, "unable to open folder '%s'", bucket);
	return QB_OK;
}

void mx_tree_end_bucket(struct mx_tree *t)
{
	if (t->bucket_fd >= 0)
		close(t->bucket_fd);
	if (t->esc_fd >= 0)
		close(t->esc_fd);
	t->bucket_fd = t->esc_fd = -1;
	free(t->last_dir);
	t->last_dir = NULL;
}

static int open_esc(struct mx_tree *t, struct qb_err *err)
{
	char *sub;

	if (t->esc_fd >= 0)
		return QB_OK;
	if (mkdirat(t->root_fd, QB_MINIO_ESCAPED, 0700) < 0 && errno != EEXIST)
		return qb_err_sys(err, QB_EIO, errno, "unable to create folder '%s'",
				  QB_MINIO_ESCAPED);
	sub = qb_asprintf("%s/%s", QB_MINIO_ESCAPED, t->bucket);
	if (!sub)
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	if (mkdirat(t->root_fd, sub, 0700) < 0 && errno != EEXIST) {
		int e = errno;
		free(sub);
		return qb_err_sys(err, QB_EIO, e, "unable to create an escaped-keys folder");
	}
	t->esc_fd = openat(t->root_fd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	free(sub);
	if (t->esc_fd < 0)
		return qb_err_sys(err, QB_EIO, errno, "unable to open an escaped-keys folder");
	return QB_OK;
}

/* The file at <bucket>/<prefix> belongs to the key `prefix`, which another key needs as a
 * folder: move it to its escaped name. */
static int relocate(struct mx_tree *t, const char *prefix, struct qb_err *err)
{
	char *name = qb_minio_escaped_name(prefix);
	char *path = mx_escaped_path(t->bucket, prefix);
	int rc = !name || !path ? qb_err_set(err, QB_ENOMEM, "out of memory") : open_esc(t, err);

	if (!rc && renameat2(t->bucket_fd, prefix, t->esc_fd, name, RENAME_NOREPLACE) < 0)
		rc = qb_err_sys(err, QB_EIO, errno, "unable to move '%s/%s' aside", t->bucket,
				prefix);
	if (!rc && t->moved)
		rc = t->moved(t->ud, prefix, path, err);
	free(name);
	free(path);
	return rc;
}

/* Make the parent folders of key (a safe key), moving aside files in the way. */
static int make_parents(struct mx_tree *t, const char *key, struct qb_err *err)
{
	const char *slash = strrchr(key, '/');
	size_t plen = slash ? (size_t)(slash - key) : 0;
	char *dir;
	int rc = QB_OK;

	if (!plen)
		return QB_OK;
	if (t->last_dir && strlen(t->last_dir) == plen && !memcmp(t->last_dir, key, plen))
		return QB_OK;
	dir = qb_strndup(key, plen);
	if (!dir)
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	for (size_t i = 1; i <= plen && !rc; i++) {
		struct stat st;

		if (i < plen && dir[i] != '/')
			continue;
		dir[i] = '\0';
		if (mkdirat(t->bucket_fd, dir, 0700) == 0) {
			/* made */
		} else if (errno != EEXIST) {
			rc = qb_err_sys(err, QB_EIO, errno, "unable to create folder '%s/%s'",
					t->bucket, dir);
		} else if (fstatat(t->bucket_fd, dir, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			rc = qb_err_sys(err, QB_EIO, errno, "unable to stat '%s/%s'", t->bucket,
					dir);
		} else if (S_ISREG(st.st_mode)) {
			rc = relocate(t, dir, err);
			if (!rc && mkdirat(t->bucket_fd, dir, 0700) < 0)
				rc = qb_err_sys(err, QB_EIO, errno,
						"unable to create folder '%s/%s'", t->bucket, dir);
		} else if (!S_ISDIR(st.st_mode)) {
			rc = qb_err_set(err, QB_EIO, "'%s/%s' is in the way", t->bucket, dir);
		}
		if (i < plen)
			dir[i] = '/';
	}
	if (rc) {
		free(dir);
		return rc;
	}
	free(t->last_dir);
	t->last_dir = dir;
	return QB_OK;
}

static int set_escaped(struct mx_tree *t, const char *key, char **path, char **name,
		       struct qb_err *err)
{
	int rc = open_esc(t, err);

	if (rc)
		return rc;
	if (!*path)
		*path = mx_escaped_path(t->bucket, key);
	*name = qb_minio_escaped_name(key);
	if (!*path || !*name)
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	return QB_OK;
}

int mx_tree_create(struct mx_tree *t, const char *key, char **path, bool *clashed, int *fd,
		   struct qb_err *err)
{
	const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
	char *name = NULL;
	int rc;

	*clashed = false;
	*fd = -1;
	if (!*path) {
		*fd = openat(t->bucket_fd, key, flags, 0600);
		if (*fd < 0 && (errno == ENOENT || errno == ENOTDIR)) {
			if ((rc = make_parents(t, key, err)))
				return rc;
			*fd = openat(t->bucket_fd, key, flags, 0600);
		}
		if (*fd >= 0)
			return QB_OK;
		if (errno != EEXIST && errno != EISDIR)
			return qb_err_sys(err, QB_EIO, errno, "unable to create '%s/%s'", t->bucket,
					  key);
		/* A folder of later keys (an unsorted listing) is already there. */
		*clashed = true;
	}
	if ((rc = set_escaped(t, key, path, &name, err))) {
		free(name);
		return rc;
	}
	*fd = openat(t->esc_fd, name, flags, 0600);
	free(name);
	if (*fd < 0)
		return qb_err_sys(err, QB_EIO, errno, "unable to create '%s'", *path);
	return QB_OK;
}

/* ELOOP and ENOTDIR: a symlink on the way in the previous snapshot; download instead. */
static bool link_failed_softly(int e)
{
	return e == ENOENT || e == EMLINK || e == EXDEV || e == EPERM || e == ENOTDIR ||
	       e == ELOOP || e == ENAMETOOLONG;
}

/* Link src's file (no symlink followed on its way), then check its size and, when
 * known, its mtime (the object's Last-Modified, set when it was fetched): a
 * previous snapshot is trusted only that far.  A file edited in place since
 * (a same-size edit, or a save that kept the size) is fetched again, rather
 * than carried into every later snapshot. */
static int link_check(int src_fd, const char *src, int dst_fd, const char *dst, uint64_t size,
		      const time_t *mtime, bool *linked, const char *shown, struct qb_err *err)
{
	struct stat st;
	const char *leaf;
	int parent, r;

	*linked = false;
	parent = qb_open_parent_nofollow(src_fd, src, &leaf);
	r = parent < 0 ? -1 : linkat(parent, leaf, dst_fd, dst, 0);
	if (parent >= 0) {
		int e = errno;
		close(parent);
		errno = e;
	}
	if (r < 0) {
		if (link_failed_softly(errno))
			return QB_OK;
		if (errno == EEXIST)
			return -EEXIST;
		return qb_err_sys(err, QB_EIO, errno, "unable to link '%s'", shown);
	}
	if (fstatat(dst_fd, dst, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size != size ||
	    (mtime && (st.st_mtim.tv_sec != *mtime || st.st_mtim.tv_nsec))) {
		unlinkat(dst_fd, dst, 0);
		return QB_OK;
	}
	*linked = true;
	return QB_OK;
}

int mx_tree_link(struct mx_tree *t, const char *key, char **path, bool *clashed, int src_fd,
		 const char *src, uint64_t size, const time_t *mtime, bool *linked,
		 struct qb_err *err)
{
	char *name = NULL;
	int rc;

	*clashed = false;
	*linked = false;
	if (!*path) {
		if ((rc = make_parents(t, key, err)))
			return rc;
		rc = link_check(src_fd, src, t->bucket_fd, key, size, mtime, linked, key, err);
		if (rc != -EEXIST)
			return rc;
		*clashed = true;
	}
	if ((rc = set_escaped(t, key, path, &name, err))) {
		free(name);
		return rc;
	}
	rc = link_check(src_fd, src, t->esc_fd, name, size, mtime, linked, *path, err);
	free(name);
	if (rc == -EEXIST)
		rc = qb_err_set(err, QB_EIO, "'%s' already exists", *path);
	return rc;
}

void mx_tree_unlink(struct mx_tree *t, const char *key, const char *path)
{
	if (!path) {
		unlinkat(t->bucket_fd, key, 0);
	} else if (t->esc_fd >= 0) {
		char *name = qb_minio_escaped_name(key);
		if (name)
			unlinkat(t->esc_fd, name, 0);
		free(name);
	}
}

bool mx_escaped_path_ok(const char *bucket, const char *path)
{
	size_t el = strlen(QB_MINIO_ESCAPED), bl = strlen(bucket);
	const char *name;

	if (strncmp(path, QB_MINIO_ESCAPED, el) || path[el] != '/' ||
	    strncmp(path + el + 1, bucket, bl) || path[el + 1 + bl] != '/')
		return false;
	name = path + el + bl + 2;
	return name[0] && !strchr(name, '/') && strcmp(name, ".") && strcmp(name, "..");
}
