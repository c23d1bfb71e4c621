/* catalog_int.h - what the catalog's files share; not part of the public API. */
#ifndef QB_CATALOG_INT_H
#define QB_CATALOG_INT_H

#include <stdint.h>

#include "qb/catalog.h"

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
