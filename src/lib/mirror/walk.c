/*
 * walk.c - the files of a folder tree in S3 key order.
 *
 * A restore merges the local files with the server's listing, which is
 * sorted by key bytes.  A plain depth-first walk is not in that order
 * ("a/b" would come before "a-b", since '-' sorts before '/'), so each
 * folder's names are sorted as if folders ended with '/'.  Only the names
 * of the folders on the current path are held.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mirror/mirror_int.h"
#include "qb/array.h"

struct name {
	char *s;
	size_t len;
	bool dir;
};

struct level {
	int fd;
	struct name *v;
	size_t n, i;
	size_t plen;             /* length of the path prefix for this level */
};

struct mx_walk {
	struct level *lv;
	size_t depth, cap;
	struct qb_buf path;
	char *top;               /* for messages */
};

/* Byte i of the name as a key part (a folder name followed by '/'), or -1 past its end. */
static int key_byte(const struct name *x, size_t i)
{
	if (i < x->len)
		return (unsigned char)x->s[i];
	return i == x->len && x->dir ? '/' : -1;
}

static int cmp_name(const void *a, const void *b)
{
	const struct name *x = a, *y = b;

	for (size_t i = 0;; i++) {
		int p = key_byte(x, i), q = key_byte(y, i);

		if (p != q)
			return p < q ? -1 : 1;
		if (p < 0)
			return 0;
	}
}

static void free_level(struct level *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].s);
	free(l->v);
	if (l->fd >= 0)
		close(l->fd);
	memset(l, 0, sizeof(*l));
	l->fd = -1;
}

/* Read and sort the names of the folder fd (taken over). */
static int load_level(struct mx_walk *w, int fd, size_t plen, struct qb_err *err)
{
	struct level l = { .fd = fd, .plen = plen };
	size_t cap = 0;
	int dfd = dup(fd);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	struct dirent *de;
	int rc = QB_OK;

	if (!d) {
		rc = qb_err_sys(err, QB_EIO, errno, "unable to read folder '%s/%s'", w->top,
				w->path.data ? w->path.data : "");
		if (dfd >= 0)
			close(dfd);
		free_level(&l);
		return rc;
	}
	while (!rc && (errno = 0, de = readdir(d))) {
		struct stat st;
		bool dir;

		/* Every other name is a key: qbackup writes no temporary file inside a
		 * bucket's folder.  A symlink or special file is a key too, so that
		 * --delete does not delete the server's object of that name: the
		 * restore finds it is no regular file and leaves that object out. */
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (de->d_type == DT_DIR || de->d_type == DT_REG) {
			dir = de->d_type == DT_DIR;
		} else {
			if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
				rc = qb_err_sys(err, QB_EIO, errno, "unable to stat '%s'",
						de->d_name);
				break;
			}
			dir = S_ISDIR(st.st_mode);
		}
		if (qb_array_grow(&l.v, &cap, l.n + 1, sizeof(*l.v), 64)) {
			rc = qb_err_set(err, QB_ENOMEM, "out of memory");
			break;
		}
		l.v[l.n].s = strdup(de->d_name);
		l.v[l.n].dir = dir;
		l.v[l.n].len = strlen(de->d_name);
		if (!l.v[l.n].s)
			rc = qb_err_set(err, QB_ENOMEM, "out of memory");
		else
			l.n++;
	}
	if (!rc && errno)
		rc = qb_err_sys(err, QB_EIO, errno, "unable to read a folder of '%s'", w->top);
	closedir(d);
	if (!rc && qb_array_grow(&w->lv, &w->cap, w->depth + 1, sizeof(*w->lv), 16))
		rc = qb_err_set(err, QB_ENOMEM, "out of memory");
	if (rc) {
		free_level(&l);
		return rc;
	}
	if (l.n > 1)
		qsort(l.v, l.n, sizeof(*l.v), cmp_name);
	w->lv[w->depth++] = l;
	return QB_OK;
}

int mx_walk_open(struct mx_walk **out, int dirfd, const char *sub, struct qb_err *err)
{
	struct mx_walk *w = calloc(1, sizeof(*w));
	int fd, rc;

	*out = NULL;
	if (!w)
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	qb_buf_init(&w->path, 64 * 1024);
	w->top = qb_strdup(sub);
	fd = openat(dirfd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		rc = qb_err_sys(err, QB_EIO, errno, "unable to open folder '%s'", sub);
		mx_walk_free(w);
		return rc;
	}
	if ((rc = load_level(w, fd, 0, err))) {
		mx_walk_free(w);
		return rc;
	}
	*out = w;
	return QB_OK;
}

int mx_walk_next(struct mx_walk *w, const char **rel, uint64_t *size, bool *regular,
		 bool *got, struct qb_err *err)
{
	int rc;

	*got = false;
	while (w->depth) {
		struct level *l = &w->lv[w->depth - 1];
		struct name *nm;
		struct stat st;

		if (l->i == l->n) {
			free_level(l);
			w->depth--;
			continue;
		}
		nm = &l->v[l->i++];
		w->path.len = l->plen;
		if ((rc = qb_buf_puts(&w->path, nm->s, err)))
			return rc;
		if (nm->dir) {
			int fd = openat(l->fd, nm->s,
					O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0)
				return qb_err_sys(err, QB_EIO, errno,
						  "unable to open folder '%s/%s'", w->top,
						  w->path.data);
			if ((rc = qb_buf_append(&w->path, "/", 1, err)) ||
			    (rc = load_level(w, fd, w->path.len, err)))
				return rc;
			continue;
		}
		if (fstatat(l->fd, nm->s, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return qb_err_sys(err, QB_EIO, errno, "unable to stat '%s/%s'", w->top,
					  w->path.data);
		*rel = w->path.data;
		*size = (uint64_t)st.st_size;
		if (regular)
			*regular = S_ISREG(st.st_mode);
		*got = true;
		return QB_OK;
	}
	return QB_OK;
}

void mx_walk_free(struct mx_walk *w)
{
	if (!w)
		return;
	while (w->depth)
		free_level(&w->lv[--w->depth]);
	free(w->lv);
	free(w->top);
	qb_buf_release(&w->path);
	free(w);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int mx_list_bucket_dirs(int rootfd, char ***names, unsigned *n, struct qb_err *err)
{
	int dfd = dup(rootfd);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	struct dirent *de;
	char **v = NULL;
	unsigned cnt = 0;
	size_t cap = 0;
	int rc = QB_OK;

	*names = NULL;
	*n = 0;
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return qb_err_sys(err, QB_EIO, errno, "unable to read a snapshot folder");
	}
	rewinddir(d);
	while (!rc && (de = readdir(d))) {
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		if (fstatat(rootfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(st.st_mode))
			continue;
		if (qb_array_grow(&v, &cap, (size_t)cnt + 1, sizeof(*v), 16)) {
			rc = qb_err_set(err, QB_ENOMEM, "out of memory");
			break;
		}
		if (!(v[cnt] = strdup(de->d_name)))
			rc = qb_err_set(err, QB_ENOMEM, "out of memory");
		else
			cnt++;
	}
	closedir(d);
	if (rc) {
		mx_free_names(v, cnt);
		return rc;
	}
	if (cnt > 1)
		qsort(v, cnt, sizeof(*v), cmp_str);
	*names = v;
	*n = cnt;
	return QB_OK;
}

void mx_free_names(char **names, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		free(names[i]);
	free(names);
}
