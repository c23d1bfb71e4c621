/* catalog_int.h - what the catalog's files share; not part of the public API. */
#ifndef QB_CATALOG_INT_H
#define QB_CATALOG_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "qb/catalog.h"

/* Is a file of this mode (from lstat) what a backup of kind is: a folder
 * for a documents snapshot, a regular file for the others?  A symlink or
 * anything else under a backup's name is not a backup. */
static inline bool cat_kind_mode(enum qb_kind kind, mode_t mode)
{
	return kind == QB_KIND_MINIO ? S_ISDIR(mode) : S_ISREG(mode);
}

/*
 * Size and file count of the folder `name` in dirfd, walked without
 * following symlinks.  Each hard-linked inode is counted once; files whose
 * names start with ".qbackup" (the snapshot's own index) are not counted
 * as files but their bytes are.  QB_ENOTFOUND when the folder vanished.
 */
int cat_tree_size(int dirfd, const char *name, uint64_t *size, uint64_t *files,
		  struct qb_err *err);

/* qb_backup_delete, also telling whether the stamp's manifest went with it. */
int cat_delete(const char *dir, const char *name, bool *manifest_dropped, struct qb_err *err);

#endif
