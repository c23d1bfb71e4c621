/*
 * beneath.c - open a path under a folder without following any symlink on the
 * way.  O_NOFOLLOW alone guards only the last name: "docs/id_rsa" with docs a
 * symlink to /root/.ssh would still be opened.  Each folder of the path is
 * opened in turn with O_NOFOLLOW instead, so a symlink anywhere fails (ELOOP
 * or ENOTDIR).  Paths are relative and already checked for "..".
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "qb/fsutil.h"

static int close_keep_errno(int fd)
{
	int e = errno;

	close(fd);
	errno = e;
	return -1;
}

int qb_open_parent_nofollow(int dirfd, const char *rel, const char **leaf)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	const char *p = rel, *slash;

	while (fd >= 0 && (slash = strchr(p, '/'))) {
		char name[NAME_MAX + 1];
		size_t n = (size_t)(slash - p);
		int next;

		if (n == 0 || n > NAME_MAX) {
			errno = n ? ENAMETOOLONG : ENOENT;
			return close_keep_errno(fd);
		}
		memcpy(name, p, n);
		name[n] = '\0';
		next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0)
			return close_keep_errno(fd);
		close(fd);
		fd = next;
		p = slash + 1;
	}
	*leaf = p;
	return fd;
}

int qb_open_nofollow(int dirfd, const char *rel, int flags, unsigned mode)
{
	const char *leaf;
	int parent = qb_open_parent_nofollow(dirfd, rel, &leaf), fd;

	if (parent < 0)
		return -1;
	fd = openat(parent, leaf, flags | O_NOFOLLOW | O_CLOEXEC, (mode_t)mode);
	if (fd < 0)
		return close_keep_errno(parent);
	close(parent);
	return fd;
}
