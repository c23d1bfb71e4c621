/*
 * atomic.c - write-to-temporary, fsync, rename.
 *
 * The rename uses RENAME_NOREPLACE so a run can never overwrite an existing
 * backup of the same name (two runs in the same second); the caller gets a
 * clear error instead.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qb/buf.h"
#include "qb/fsutil.h"

#define WRITEBACK_STEP ((uint64_t)8 << 20)

int qb_write_all(int fd, const void *p, size_t n, struct qb_err *err)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return qb_err_sys(err, QB_EIO, errno, "write failed");
		}
		c += w;
		n -= (size_t)w;
	}
	return QB_OK;
}

int qb_fsync_dir(const char *dir, struct qb_err *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return qb_err_sys(err, QB_EIO, errno, "unable to open folder '%s'", dir);
	if (fsync(fd) < 0 && errno != EINVAL) {
		int e = errno;
		close(fd);
		return qb_err_sys(err, QB_EIO, e, "unable to fsync folder '%s'", dir);
	}
	close(fd);
	return QB_OK;
}

char *qb_path_join(const char *a, const char *b)
{
	size_t la = strlen(a);

	while (la > 1 && a[la - 1] == '/')
		la--;
	return qb_asprintf("%.*s/%s", (int)la, a, b);
}

char *qb_tmp_name(const char *dir, const char *name)
{
	static unsigned counter;
	char *leaf = qb_asprintf(QB_TMP_PREFIX "%s.%ld.%u", name, (long)getpid(),
				 __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
	char *path = leaf ? qb_path_join(dir, leaf) : NULL;

	free(leaf);
	return path;
}

int qb_afile_open(struct qb_afile *f, const char *dir, const char *name, struct qb_err *err)
{
	memset(f, 0, sizeof(*f));
	f->fd = -1;
	if (!name[0] || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return qb_err_set(err, QB_EARG, "invalid file name '%s'", name);
	f->dir = strdup(dir);
	f->final = qb_path_join(dir, name);
	f->tmp = qb_tmp_name(dir, name);
	if (!f->dir || !f->final || !f->tmp) {
		qb_afile_abort(f);
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	}
	f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (f->fd < 0) {
		int e = errno;
		qb_err_sys(err, QB_EIO, e, "unable to create '%s'", f->tmp);
		free(f->tmp);
		f->tmp = NULL;
		qb_afile_abort(f);
		return QB_EIO;
	}
	return QB_OK;
}

int qb_afile_write(struct qb_afile *f, const void *p, size_t n, struct qb_err *err)
{
	int rc = qb_write_all(f->fd, p, n, err);

	if (rc)
		return qb_err_prefix(err, "writing '%s'", f->final);
	f->written += n;
	/* Start writing what is there to disk, without waiting, every few MiB. */
	if (f->written - f->flushing >= WRITEBACK_STEP) {
		sync_file_range(f->fd, (off_t)f->flushing, (off_t)(f->written - f->flushing), SYNC_FILE_RANGE_WRITE);
		f->flushing = f->written;
	}
	return QB_OK;
}

int qb_afile_commit(struct qb_afile *f, struct qb_err *err)
{
	if (fsync(f->fd) < 0)
		return qb_err_sys(err, QB_EIO, errno, "unable to fsync '%s'", f->tmp);
	if (close(f->fd) < 0) {
		f->fd = -1;
		return qb_err_sys(err, QB_EIO, errno, "unable to close '%s'", f->tmp);
	}
	f->fd = -1;
	if (renameat2(AT_FDCWD, f->tmp, AT_FDCWD, f->final, RENAME_NOREPLACE) < 0) {
		if (errno == EEXIST)
			return qb_err_set(err, QB_EIO, "'%s' already exists", f->final);
		if (errno != EINVAL && errno != ENOSYS)
			return qb_err_sys(err, QB_EIO, errno, "unable to rename into '%s'", f->final);
		/* Filesystem without RENAME_NOREPLACE: link() also refuses to overwrite. */
		if (link(f->tmp, f->final) < 0)
			return qb_err_sys(err, QB_EIO, errno, "unable to rename into '%s'", f->final);
		unlink(f->tmp);
	}
	free(f->tmp);
	f->tmp = NULL;
	return qb_fsync_dir(f->dir, err);
}

void qb_afile_abort(struct qb_afile *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	if (f->tmp)
		unlink(f->tmp);
	free(f->tmp);
	free(f->final);
	free(f->dir);
	f->tmp = f->final = f->dir = NULL;
}
