/*
 * extract.c - a code tarball into an empty folder.
 *
 * Two passes: qb_code_verify reads everything first (a corrupt or hostile
 * tarball is refused before the target is touched), then the extraction
 * pass checks every member again, since the file could change in between.
 *
 * libarchive extracts relative to the working directory, and its
 * SECURE_NOABSOLUTEPATHS flag forbids the alternative of prefixing member
 * names with the target: so, like tar -C, we chdir into the target for
 * the duration and back.  The tarball is opened before: a relative path to
 * it would be looked up inside the target.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/archive_int.h"
#include "qb/buf.h"
#include "qb/fsutil.h"
#include "qb/log.h"

static const int base_flags = ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
	ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
	ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS;

/*
 * Whoever else can write into the target, or owns it, could read what we
 * extract (a code tree holds .env secrets) or swap parts of it: a folder
 * another user made in advance at the path we were given (say /tmp/code),
 * or a symlink to one, is refused.  The checks are made on the opened
 * folder, so a swap between the lstat and the open is refused too.
 */
static int check_target(int dfd, const char *dir, struct qb_err *err)
{
	struct stat st;

	if (fstat(dfd, &st) < 0)
		return qb_err_sys(err, QB_EIO, errno, "unable to stat '%s'", dir);
	if (st.st_uid != geteuid())
		return qb_err_set(err, QB_EREFUSED, "refusing '%s': it is owned by uid %lu, not "
				  "by us; choose a new path or fix its owner", dir,
				  (unsigned long)st.st_uid);
	if (st.st_mode & 022)
		return qb_err_set(err, QB_EREFUSED, "refusing '%s': it is writable by group or "
				  "others (mode %04o); choose a new path or fix its mode", dir,
				  (unsigned)(st.st_mode & 07777));
	return QB_OK;
}

static int check_empty(int dfd, const char *dir, struct qb_err *err)
{
	int fd = dup(dfd);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;
	int rc = QB_OK;

	if (!d) {
		rc = qb_err_sys(err, QB_EIO, errno, "unable to read folder '%s'", dir);
		if (fd >= 0)
			close(fd);
		return rc;
	}
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			rc = qb_err_set(err, QB_EREFUSED, "'%s' is not empty: choose a new or "
					"empty folder", dir);
			break;
		}
	}
	closedir(d);
	return rc;
}

/*
 * The target must be an empty folder of ours that only we can write to, or
 * not exist (then it is created 0700).  On success *dfd is the open folder.
 */
static int open_target(const char *dir, bool *created, int *dfd, struct qb_err *err)
{
	struct stat st;
	int rc;

	*created = false;
	if (lstat(dir, &st) < 0) {
		if (errno != ENOENT)
			return qb_err_sys(err, QB_EIO, errno, "unable to stat '%s'", dir);
		if ((rc = qb_mkdir_p(dir, 0700, err)))
			return rc;
		*created = true;
	} else if (S_ISLNK(st.st_mode)) {
		return qb_err_set(err, QB_EREFUSED, "refusing '%s': it is a symlink; choose a new "
				  "path or pass the folder it points to", dir);
	} else if (!S_ISDIR(st.st_mode)) {
		return qb_err_set(err, QB_EREFUSED, "'%s' is not a folder", dir);
	}
	*dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (*dfd < 0) {
		rc = errno == ELOOP || errno == ENOTDIR ?
			qb_err_set(err, QB_EREFUSED, "refusing '%s': it changed into a symlink "
				   "or a file while being checked", dir) :
			qb_err_sys(err, QB_EIO, errno, "unable to open '%s'", dir);
	} else {
		rc = check_target(*dfd, dir, err);
		if (!rc)
			rc = check_empty(*dfd, dir, err);
		if (rc) {
			close(*dfd);
			*dfd = -1;
		}
	}
	/* A folder made here and then refused goes again (rmdir: only if still empty). */
	if (rc && *created)
		rmdir(dir);
	return rc;
}

/* Undo a failed extraction: the folder was empty (or new) before. */
static void empty_target(const char *dir, bool created)
{
	struct qb_err err = { 0 };
	struct dirent *de;
	DIR *d = opendir(dir);

	while (d && (de = readdir(d))) {
		char *path;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		path = qb_path_join(dir, de->d_name);
		if (path && qb_remove_tree(path, &err))
			qb_log(QB_LOG_WARN, "unable to clean '%s': %s", dir, err.msg);
		free(path);
	}
	if (d)
		closedir(d);
	if (created && rmdir(dir) < 0)
		qb_log(QB_LOG_WARN, "unable to remove '%s' after a failed extraction", dir);
}

static int member_error(struct archive *a, const char *member, struct qb_err *err)
{
	const char *what = archive_error_string(a) ? archive_error_string(a) : "unknown error";
	int e = archive_errno(a);

	/* "Write failed" alone does not say that the disk is full. */
	if (e > 0 && !strstr(what, strerror(e)))
		return qb_err_set(err, QB_EIO, "unable to extract member '%s': %s: %s", member,
				  what, strerror(e));
	return qb_err_set(err, QB_EIO, "unable to extract member '%s': %s", member, what);
}

static int copy_member(struct archive *in, struct archive *out, const char *member,
		       struct qb_err *err)
{
	const void *buf;
	size_t size;
	la_int64_t off;
	int r;

	/* ARCHIVE_WARN here is lost data (a failed or short write: a full disk),
	 * not a remark: finish_entry would then extend the file to its size
	 * with zeros and the member would look whole. */
	while ((r = archive_read_data_block(in, &buf, &size, &off)) == ARCHIVE_OK) {
		if (archive_write_data_block(out, buf, size, off) < ARCHIVE_OK)
			return member_error(out, member, err);
	}
	if (r != ARCHIVE_EOF)
		return qb_err_set(err, QB_ECORRUPT, "unable to read member '%s': %s", member,
				  archive_error_string(in));
	return QB_OK;
}

/* What a code tree is made of.  A device node or FIFO has no place in one: our
 * own archives never hold them (the walk leaves them out), and one in a tarball
 * from elsewhere is left out too, since as root it would make a device file in
 * the restored tree.  (A hard link is as good as what it links to.) */
static const char *left_out(struct archive_entry *e)
{
	if (archive_entry_hardlink(e))
		return NULL;
	switch (archive_entry_filetype(e)) {
	case AE_IFREG: case AE_IFDIR: case AE_IFLNK:
		return NULL;
	case AE_IFCHR: return "a character device";
	case AE_IFBLK: return "a block device";
	case AE_IFIFO: return "a FIFO";
	case AE_IFSOCK: return "a socket";
	default: return "of an unknown type";
	}
}

/* The extraction pass, run with the target as working directory; r was opened
 * before (a relative tarball path means something else in there). */
static int extract_here(struct arc_reader *r, const char *tarball, struct qb_err *err)
{
	struct arc_guard *g = arc_guard_new();
	struct archive *out = archive_write_disk_new();
	struct archive_entry *e;
	int rc = QB_OK;

	if (!g || !out) {
		rc = qb_err_set(err, QB_ENOMEM, "out of memory");
		goto out;
	}
	/* As root, restore owners too (what tar does for root). */
	archive_write_disk_set_options(out, base_flags |
				       (geteuid() == 0 ? ARCHIVE_EXTRACT_OWNER : 0));
	archive_write_disk_set_standard_lookup(out);
	while (!rc) {
		int s = archive_read_next_header(arc_reader_archive(r), &e);
		const char *member, *why;
		if (s == ARCHIVE_EOF)
			break;
		if (s < ARCHIVE_WARN) {
			rc = arc_reader_error(r, tarball, err);
			break;
		}
		if ((rc = arc_guard_check(g, e, err)))
			break;
		member = archive_entry_pathname(e);
		if ((s = arc_guard_to_left_out(g, e)) < 0) {
			rc = qb_err_set(err, QB_ENOMEM, "out of memory");
			break;
		}
		if (s || (why = left_out(e))) {
			if (s)
				qb_log(QB_LOG_WARN, "leaving out '%s': it is a hard link to '%s', "
				       "which is left out", member, archive_entry_hardlink(e));
			else
				qb_log(QB_LOG_WARN, "leaving out '%s': it is %s, not a file, "
				       "folder or symlink", member, why);
			if ((rc = arc_guard_leave_out(g, e, err)))
				break;
			continue;
		}
		s = archive_write_header(out, e);
		if (s < ARCHIVE_WARN) {
			rc = member_error(out, member, err);
			break;
		}
		arc_guard_extracted(g, e);
		if (s == ARCHIVE_WARN)
			qb_log(QB_LOG_WARN, "extracting '%s': %s", member,
			       archive_error_string(out));
		if (archive_entry_size(e) > 0)
			rc = copy_member(arc_reader_archive(r), out, member, err);
		if (!rc && (s = archive_write_finish_entry(out)) < ARCHIVE_WARN)
			rc = member_error(out, member, err);
		else if (!rc && s == ARCHIVE_WARN)   /* a mode, time or owner not set */
			qb_log(QB_LOG_WARN, "extracting '%s': %s", member,
			       archive_error_string(out));
	}
	/* Folder modes and times are applied at close, after their content. */
	if (!rc && archive_write_close(out) < ARCHIVE_WARN)
		rc = qb_err_set(err, QB_EIO, "unable to finish extracting: %s",
				archive_error_string(out));
out:
	if (out)
		archive_write_free(out);
	arc_guard_free(g);
	return rc;
}

static int extract(const char *tarball, const char *to_dir, struct qb_err *err)
{
	struct arc_reader *r = NULL;
	bool created = false, away = false;
	int cwd = -1, dfd = -1, rc;

	rc = qb_code_verify(tarball, NULL, err);
	/* A refused target is someone else's: it is left as it is. */
	if (!rc)
		rc = open_target(to_dir, &created, &dfd, err);
	if (rc)
		return rc;
	if ((rc = arc_reader_open(&r, tarball, err)))
		goto out;
	cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cwd < 0 || fchdir(dfd) < 0) {
		rc = qb_err_sys(err, QB_EIO, errno, "unable to enter '%s'", to_dir);
		goto out;
	}
	away = true;
	rc = extract_here(r, tarball, err);
	/* libarchive does not check close(); a write the disk refuses late
	 * (NFS, a thin volume) shows here instead of in a file of zeros. */
	if (!rc && syncfs(dfd) < 0)
		rc = qb_err_sys(err, QB_EIO, errno, "unable to write the extracted files to disk");
	if (fchdir(cwd) == 0)
		away = false;
	else if (!rc)
		rc = qb_err_sys(err, QB_EIO, errno, "unable to return to the working directory");
	if (!rc)
		qb_log(QB_LOG_INFO, "extracted '%s' into '%s'", tarball, to_dir);
out:
	arc_reader_free(r);
	if (dfd >= 0)
		close(dfd);
	if (cwd >= 0)
		close(cwd);
	/* A relative to_dir means something else while still inside it. */
	if (rc && !away)
		empty_target(to_dir, created);
	return rc;
}

int qb_code_extract(const char *tarball, const char *to_dir, struct qb_err *err)
{
	struct arc_locale loc;
	int rc;

	arc_locale_begin(&loc);
	rc = extract(tarball, to_dir, err);
	arc_locale_end(&loc);
	return rc;
}
