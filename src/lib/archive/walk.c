/*
 * walk.c - CODE_DIR into tar entries.
 *
 * Our own walk (openat/fstatat, never following a symlink) rather than
 * archive_read_disk: the excludes must prune whole subtrees before they are
 * read (node_modules can hold a million files), entries are sorted so two
 * archives of the same tree are identical, and each file's header is made
 * from fstat of the descriptor we read, so header and data agree.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "archive/archive_int.h"
#include "qb/array.h"
#include "qb/buf.h"
#include "qb/log.h"

#define BUF_SIZE (256u << 10)
#define MAX_DEPTH 512
#define TICK_NS 250000000LL

struct walker {
	struct arc_walk *w;
	struct archive_entry_linkresolver *lr;
	char *buf;
	struct timespec t0, last;
};

static long long ns_between(const struct timespec *a, const struct timespec *b)
{
	return (long long)(b->tv_sec - a->tv_sec) * 1000000000LL + (b->tv_nsec - a->tv_nsec);
}

static void tick(struct walker *k, const char *current)
{
	const struct qb_progress_cb *cb = k->w->progress;
	struct qb_progress p = { .step = "code" };
	struct timespec now;

	if (!cb || !cb->fn)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (ns_between(&k->last, &now) < TICK_NS)
		return;
	k->last = now;
	p.items_done = k->w->st->files;
	p.bytes_done = k->w->st->bytes_in;
	p.elapsed = (double)ns_between(&k->t0, &now) / 1e9;
	p.current = current;
	cb->fn(cb->ud, &p);
}

/* A libarchive failure, or the output chain's error when that is the cause. */
static int lib_error(struct walker *k, const char *path, struct qb_err *err)
{
	const struct qb_err *sink = k->w->sink_err;

	if (sink && sink->code) {
		if (err)
			*err = *sink;
		return sink->code;
	}
	return qb_err_set(err, QB_EIO, "unable to archive '%s': %s", path,
			  archive_error_string(k->w->a));
}

static int put_header(struct walker *k, struct archive_entry *e, const char *path,
		      struct qb_err *err)
{
	int r = archive_write_header(k->w->a, e);

	if (r < ARCHIVE_WARN)
		return lib_error(k, path, err);
	if (r == ARCHIVE_WARN)   /* e.g. a name not in the locale's charset: stored as bytes */
		qb_log(QB_LOG_DEBUG, "code archive: '%s': %s", path, archive_error_string(k->w->a));
	k->w->st->entries++;
	return QB_OK;
}

static struct archive_entry *make_entry(struct walker *k, const char *path, const struct stat *st)
{
	struct archive_entry *e = archive_entry_new2(k->w->a);

	if (!e)
		return NULL;
	archive_entry_copy_pathname(e, path);
	archive_entry_copy_stat(e, st);
	/* Not restorable and they change on every read: keep archives reproducible. */
	archive_entry_unset_atime(e);
	archive_entry_unset_ctime(e);
	archive_entry_unset_birthtime(e);
	if (!S_ISREG(st->st_mode))
		archive_entry_set_size(e, 0);
	return e;
}

static int copy_data(struct walker *k, int fd, const char *path, int64_t size,
		     struct qb_err *err)
{
	int64_t left = size;

	while (left > 0) {
		size_t want = left < (int64_t)BUF_SIZE ? (size_t)left : BUF_SIZE;
		ssize_t n = read(fd, k->buf, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return qb_err_sys(err, QB_EIO, errno, "unable to read '%s'", path);
		if (n == 0) {
			/* libarchive pads the member with zeros to its declared size. */
			qb_log(QB_LOG_WARN, "code archive: '%s' shrank while being read", path);
			break;
		}
		if (archive_write_data(k->w->a, k->buf, (size_t)n) != n)
			return lib_error(k, path, err);
		left -= n;
		k->w->st->bytes_in += (uint64_t)n;
		tick(k, path);
	}
	return QB_OK;
}

static int add_file(struct walker *k, int dfd, const char *name, const char *path,
		    struct qb_err *err)
{
	struct archive_entry *e = NULL, *spare = NULL;
	struct stat st;
	int rc = QB_OK;
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		if (errno == ENOENT) {
			qb_log(QB_LOG_WARN, "code archive: '%s' vanished while being read", path);
			return QB_OK;
		}
		return qb_err_sys(err, QB_EIO, errno, "unable to open '%s'", path);
	}
	if (fstat(fd, &st) < 0) {
		rc = qb_err_sys(err, QB_EIO, errno, "unable to stat '%s'", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode))   /* replaced between fstatat and open */
		goto out;
	e = make_entry(k, path, &st);
	if (!e) {
		rc = qb_err_set(err, QB_ENOMEM, "out of memory");
		goto out;
	}
	/* A second name of a hard-linked file becomes a link member of size 0. */
	archive_entry_linkify(k->lr, &e, &spare);
	rc = put_header(k, e, path, err);
	k->w->st->files += rc == QB_OK && !archive_entry_hardlink(e);
	if (!rc && archive_entry_size(e) > 0)
		rc = copy_data(k, fd, path, archive_entry_size(e), err);
	if (!rc && archive_write_finish_entry(k->w->a) < ARCHIVE_WARN)
		rc = lib_error(k, path, err);
out:
	archive_entry_free(e);
	archive_entry_free(spare);
	close(fd);
	return rc;
}

static int add_symlink(struct walker *k, int dfd, const char *name, const char *path,
		       const struct stat *st, struct qb_err *err)
{
	size_t cap = st->st_size > 0 ? (size_t)st->st_size + 1 : 256;
	struct archive_entry *e = NULL;
	char *target = NULL;
	ssize_t n;
	int rc;

	for (;;) {
		char *grown = realloc(target, cap);
		if (!grown) {
			free(target);
			return qb_err_set(err, QB_ENOMEM, "out of memory");
		}
		target = grown;
		n = readlinkat(dfd, name, target, cap);
		if (n < 0 || (size_t)n < cap)
			break;
		cap *= 2;   /* the link changed since fstatat */
	}
	if (n < 0) {
		rc = QB_OK;   /* vanished since fstatat: nothing to archive */
		if (errno != ENOENT)
			rc = qb_err_sys(err, QB_EIO, errno, "unable to read link '%s'", path);
		free(target);
		return rc;
	}
	target[n] = '\0';
	e = make_entry(k, path, st);
	if (!e) {
		free(target);
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	}
	archive_entry_copy_symlink(e, target);
	rc = put_header(k, e, path, err);
	archive_entry_free(e);
	free(target);
	return rc;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in d, sorted; caller frees each and the array. */
static int list_names(DIR *d, const char *path, char ***out, size_t *count, struct qb_err *err)
{
	char **v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;

	while ((errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (qb_array_grow(&v, &cap, n + 1, sizeof(*v), 32))
			goto nomem;
		if (!(v[n] = strdup(de->d_name)))
			goto nomem;
		n++;
	}
	if (errno) {
		int e = errno;
		while (n)
			free(v[--n]);
		free(v);
		return qb_err_sys(err, QB_EIO, e, "unable to read folder '%s'", path);
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_names);
	*out = v;
	*count = n;
	return QB_OK;
nomem:
	while (n)
		free(v[--n]);
	free(v);
	return qb_err_set(err, QB_ENOMEM, "out of memory");
}

static int walk_dir(struct walker *k, int fd, const char *rel, unsigned depth, struct qb_err *err);

static int add_dir(struct walker *k, int dfd, const char *name, const char *path,
		   const struct stat *st, unsigned depth, struct qb_err *err)
{
	struct archive_entry *e;
	int fd, rc;

	if (k->w->skip_set && st->st_dev == k->w->skip_dev && st->st_ino == k->w->skip_ino) {
		qb_log(QB_LOG_WARN, "code archive: leaving out '%s', the backup folder", path);
		return QB_OK;
	}
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return qb_err_sys(err, QB_EIO, errno, "unable to open folder '%s'", path);
	e = make_entry(k, path, st);
	if (!e) {
		close(fd);
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	}
	rc = put_header(k, e, path, err);
	archive_entry_free(e);
	if (rc) {
		close(fd);
		return rc;
	}
	return walk_dir(k, fd, path, depth + 1, err);
}

static int add_one(struct walker *k, int dfd, const char *name, const char *path,
		   unsigned depth, struct qb_err *err)
{
	struct stat st;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return QB_OK;
		return qb_err_sys(err, QB_EIO, errno, "unable to stat '%s'", path);
	}
	if (S_ISDIR(st.st_mode))
		return add_dir(k, dfd, name, path, &st, depth, err);
	if (S_ISLNK(st.st_mode))
		return add_symlink(k, dfd, name, path, &st, err);
	if (S_ISREG(st.st_mode))
		return add_file(k, dfd, name, path, err);
	qb_log(QB_LOG_WARN, "code archive: leaving out '%s' (not a file, folder or symlink)", path);
	return QB_OK;
}

/* Takes ownership of fd. rel: the folder's member name, "" for the root. */
static int walk_dir(struct walker *k, int fd, const char *rel, unsigned depth, struct qb_err *err)
{
	char **names = NULL;
	size_t n = 0;
	DIR *d;
	int rc;

	if (depth > MAX_DEPTH) {
		close(fd);
		return qb_err_set(err, QB_EUNSUPPORTED, "folders nested too deep at '%s'", rel);
	}
	d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		return qb_err_sys(err, QB_EIO, e, "unable to read folder '%s'", rel[0] ? rel : ".");
	}
	rc = list_names(d, rel[0] ? rel : ".", &names, &n, err);
	for (size_t i = 0; !rc && i < n; i++) {
		char *path;
		if (arc_excluded(k->w->ex, names[i]))
			continue;
		path = rel[0] ? qb_asprintf("%s/%s", rel, names[i]) : qb_strdup(names[i]);
		if (!path) {
			rc = qb_err_set(err, QB_ENOMEM, "out of memory");
			break;
		}
		rc = add_one(k, dirfd(d), names[i], path, depth, err);
		free(path);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return rc;
}

int arc_walk_tree(struct arc_walk *w, const char *code_dir, struct qb_err *err)
{
	struct walker k = { .w = w };
	int fd, rc;

	fd = open(code_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return qb_err_sys(err, errno == ENOENT ? QB_ENOTFOUND : QB_EIO, errno,
				  "unable to open the code folder '%s'", code_dir);
	k.buf = malloc(BUF_SIZE);
	k.lr = archive_entry_linkresolver_new();
	if (!k.buf || !k.lr) {
		close(fd);
		rc = qb_err_set(err, QB_ENOMEM, "out of memory");
		goto out;
	}
	archive_entry_linkresolver_set_strategy(k.lr, archive_format(w->a));
	clock_gettime(CLOCK_MONOTONIC, &k.t0);
	k.last = k.t0;
	rc = walk_dir(&k, fd, "", 0, err);
	if (rc)
		qb_err_prefix(err, "archiving '%s'", code_dir);
out:
	archive_entry_linkresolver_free(k.lr);
	free(k.buf);
	return rc;
}
