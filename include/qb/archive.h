/*
 * archive.h - the code tree as a .tar.gz, and back.
 *
 * Archiving: CODE_DIR becomes BACKUP_DIR/code_YYYYMMDD_HHMMSS.tar.gz, a pax
 * tar compressed on every core (gz.h), written atomically (fsutil.h, 0600)
 * and hashed (SHA-256) as it is written.  Members are named relative to
 * CODE_DIR ("app/page.js"), in sorted order.  Symlinks are stored as
 * symlinks and never followed; modes, owners and mtimes are kept; hard
 * links are stored once.  An entry whose name matches one of the excludes
 * (a comma list of names or shell globs, e.g. "node_modules,.next,.git")
 * is skipped with everything below it, at any depth.  Sockets, fifos and
 * devices are skipped (with a warning), and so is BACKUP_DIR if it lies
 * inside CODE_DIR.  A file or folder that cannot be read fails the archive
 * (QB_EIO naming it) rather than leave a silent hole in the backup.
 *
 *	struct qb_code_stats st;
 *	rc = qb_code_archive(code_dir, backup_dir, "code_20260206_030000.tar.gz",
 *			     NULL, &progress, &st, &err);     // st.sha256 for the manifest
 *
 * Extracting: into a folder that does not exist yet (created 0700), or an
 * empty one owned by the effective uid and not writable by group or others
 * (else QB_EREFUSED, saying why); a symlink is refused, as is a folder
 * swapped for one between the check and the open.  The whole tarball is
 * read and checked first, so a corrupt or hostile one leaves the folder
 * untouched: members with an absolute name, a ".." component, or a path
 * through a symlink stored earlier in the archive (or through a hard link
 * to one) are refused (QB_EREFUSED, naming the member).  libarchive's
 * secure-extraction flags are set as well.  Modes and mtimes are restored,
 * owners too when running as root.  If extraction fails half way, what was
 * extracted is removed again.  While extracting, the process's working
 * directory is the target folder (as with tar -C): do not run it alongside
 * threads that rely on the working directory.
 *
 * Verifying: reads the whole tarball (every gzip member's CRC and length,
 * every tar header and data block) and applies the same member-name checks.
 * The tarball may also be a plain tar or one made by the old scripts.
 */
#ifndef QB_ARCHIVE_H
#define QB_ARCHIVE_H

#include <stdint.h>

#include "qb/error.h"
#include "qb/hash.h"
#include "qb/progress.h"

#define QB_CODE_DEFAULT_EXCLUDES "node_modules,.next,.git"

struct qb_code_stats {
	uint64_t entries;       /* members written: folders, files, symlinks */
	uint64_t files;         /* regular files among them (a hard link's second name: not) */
	uint64_t bytes_in;      /* bytes of file content read */
	uint64_t tar_bytes;     /* size of the uncompressed tar stream */
	uint64_t bytes_out;     /* size of the .tar.gz */
	char sha256[QB_HASH_HEX_MAX];   /* of the .tar.gz, lower-case hex */
};

/* excludes NULL: QB_CODE_DEFAULT_EXCLUDES; "": none.  An exclude holding a
 * '/' is refused (QB_ECONFIG): they match names, not paths.  progress may
 * be NULL; its step is "code" and items are files. */
int qb_code_archive(const char *code_dir, const char *backup_dir, const char *name,
		    const char *excludes, const struct qb_progress_cb *progress,
		    struct qb_code_stats *st, struct qb_err *err);

int qb_code_extract(const char *tarball, const char *to_dir, struct qb_err *err);

struct qb_code_check {
	uint64_t entries;       /* members */
	uint64_t files;         /* regular files (hard links to earlier members: not) */
	uint64_t bytes;         /* file content bytes */
};
/* QB_ECORRUPT for a damaged tarball, QB_EREFUSED for an unsafe member; st may be NULL. */
int qb_code_verify(const char *tarball, struct qb_code_check *st, struct qb_err *err);

#endif
