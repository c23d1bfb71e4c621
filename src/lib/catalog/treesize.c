/*
 * treesize.c - the size of a MinIO snapshot folder.
 *
 * Snapshots may share unchanged files through hard links (that is how a
 * daily mirror stays cheap), so a file's bytes are counted once per inode
 * within a snapshot: the figure is what this snapshot holds, not what
 * deleting it would free.  Symlinks are never followed (a snapshot is
 * data, and a link could point anywhere).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog/catalog_int.h"

#define MAX_DEPTH 1024          /* S3 keys are at most 1024 bytes long */
#define INDEX_PREFIX ".qbackup"

struct ino_slot {
	dev_t dev;
	ino_t ino;
	bool used;
};

struct walk {
	struct ino_slot *slots;  /* open addressing, power-of-two size */
	size_t cap, n;
	uint64_t size, files;
};

static size_t slot_of(const struct walk *w, dev_t dev, ino_t ino)
{
	uint64_t h = ((uint64_t)ino * 0x9E3779B97F4A7C15ull) ^ (uint64_t)dev;

	return (size_t)(h ^ (h >> 29)) & (w->cap - 1);
}

/* 1 when (dev, ino) was new, 0 when already seen, -1 on allocation failure. */
static int remember(struct walk *w, dev_t dev, ino_t ino)
{
	size_t i;

	if ((w->n + 1) * 2 > w->cap) {
		struct walk grown = { .cap = w->cap ? w->cap * 2 : 256, .n = 0 };
		grown.slots = calloc(grown.cap, sizeof(*grown.slots));
		if (!grown.slots)
			return -1;
		for (size_t j = 0; j < w->cap; j++) {
			if (!w->slots[j].used)
				continue;
			i = slot_of(&grown, w->slots[j].dev, w->slots[j].ino);
			while (grown.slots[i].used)
				i = (i + 1) & (grown.cap - 1);
			grown.slots[i] = w->slots[j];
		}
		free(w->slots);
		w->slots = grown.slots;
		w->cap = grown.cap;
	}
	for (i = slot_of(w, dev, ino); w->slots[i].used; i = (i + 1) & (w->cap - 1)) {
		if (w->slots[i].dev == dev && w->slots[i].ino == ino)
			return 0;
	}
	w->slots[i] = (struct ino_slot){ dev, ino, true };
	w->n++;
	return 1;
}

static int walk_dir(struct walk *w, int fd, const char *top, unsigned depth, struct qb_err *err)
{
	DIR *d;
	struct dirent *de;
	int rc = QB_OK;

	if (depth > MAX_DEPTH) {
		close(fd);
		return qb_err_set(err, QB_EUNSUPPORTED, "folders nested too deep in '%s'", top);
	}
	d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		return qb_err_sys(err, QB_EIO, e, "unable to read folder in '%s'", top);
	}
	while (!rc && (errno = 0, de = readdir(d))) {
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT)
				rc = qb_err_sys(err, QB_EIO, errno, "unable to stat '%s' in '%s'",
						de->d_name, top);
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(d), de->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0) {
				if (errno != ENOENT)
					rc = qb_err_sys(err, QB_EIO, errno,
							"unable to open folder '%s' in '%s'",
							de->d_name, top);
				continue;
			}
			rc = walk_dir(w, sub, top, depth + 1, err);
		} else if (S_ISREG(st.st_mode)) {
			int fresh = st.st_nlink > 1 ? remember(w, st.st_dev, st.st_ino) : 1;
			if (fresh < 0) {
				rc = qb_err_set(err, QB_ENOMEM, "out of memory");
				break;
			}
			if (fresh)
				w->size += (uint64_t)st.st_size;
			if (strncmp(de->d_name, INDEX_PREFIX, strlen(INDEX_PREFIX)) != 0)
				w->files++;
		}
	}
	if (!rc && errno)
		rc = qb_err_sys(err, QB_EIO, errno, "unable to read folder in '%s'", top);
	closedir(d);
	return rc;
}

int cat_tree_size(int dirfd, const char *name, uint64_t *size, uint64_t *files,
		  struct qb_err *err)
{
	struct walk w = { 0 };
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int rc;

	if (fd < 0) {
		if (errno == ENOENT)
			return qb_err_set(err, QB_ENOTFOUND, "'%s' vanished", name);
		return qb_err_sys(err, QB_EIO, errno, "unable to open folder '%s'", name);
	}
	rc = walk_dir(&w, fd, name, 0, err);
	free(w.slots);
	*size = w.size;
	*files = w.files;
	return rc;
}
