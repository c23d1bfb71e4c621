/*
 * scan.c - read BACKUP_DIR into a catalog.
 *
 * Only complete backups are listed: every artifact appears under its final
 * name by an atomic rename, so a temporary name (or any name that is not
 * exactly a backup name) is a leftover or a stranger, never a backup.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "catalog/catalog_int.h"
#include "qb/array.h"
#include "qb/fsutil.h"
#include "qb/log.h"

struct stamps {
	char (*v)[QB_STAMP_LEN + 1];
	size_t n, cap;
};

static int newest_first(const void *a, const void *b)
{
	const struct qb_backup *x = a, *y = b;
	int c = strcmp(y->stamp, x->stamp);

	return c ? c : strcmp(y->name, x->name);
}

static int by_stamp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void fill_dates(struct qb_backup *b)
{
	struct tm tm;
	const char *s = b->stamp;

	snprintf(b->date, sizeof(b->date), "%.4s-%.2s-%.2s %.2s:%.2s:%.2s", s, s + 4, s + 6,
		 s + 9, s + 11, s + 13);
	b->time = qb_stamp_parse(s, &tm) ? mktime(&tm) : 0;
}

/* One snapshot that cannot be walked must not stop every listing, run and
 * rotation: it is kept with its size unknown and the reason.  Out of memory
 * stops the scan. */
static int walked(struct qb_backup *b, int rc, struct qb_err *err)
{
	if (rc == QB_OK || rc == QB_ENOMEM)
		return rc;
	b->size = 0;
	b->file_count = 0;
	snprintf(b->unreadable, sizeof(b->unreadable), "%s", err->msg);
	qb_err_clear(err);
	return QB_OK;
}

/* Read one entry of dir; *keep false when it is not a backup. */
static int read_entry(DIR *d, const char *name, struct qb_backup *b, bool walk, bool *keep,
		      struct qb_err *err)
{
	struct stat st;
	int rc;

	*keep = false;
	memset(b, 0, sizeof(*b));
	if (!qb_backup_parse_name(name, &b->kind, b->stamp))
		return QB_OK;
	if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)   /* deleted while we listed */
			return QB_OK;
		return qb_err_sys(err, QB_EIO, errno, "unable to stat '%s'", name);
	}
	if (!cat_kind_mode(b->kind, st.st_mode))
		return QB_OK;
	if (strlen(name) >= sizeof(b->name))   /* cannot happen: the name parsed */
		return QB_OK;
	memcpy(b->name, name, strlen(name) + 1);
	fill_dates(b);
	if (b->kind != QB_KIND_MINIO || !walk) {
		b->size = b->kind != QB_KIND_MINIO ? (uint64_t)st.st_size : 0;
		*keep = true;
		return QB_OK;
	}
	rc = cat_tree_size(dirfd(d), name, &b->size, &b->file_count, err);
	if (rc == QB_ENOTFOUND)
		return QB_OK;
	rc = walked(b, rc, err);
	*keep = rc == QB_OK;
	return rc;
}

static int add(struct qb_catalog *cat, size_t *cap, const struct qb_backup *b)
{
	size_t k = (size_t)b->kind;

	if (qb_array_grow(&cat->list[k], &cap[k], cat->count[k] + 1, sizeof(*b), 16))
		return -1;
	cat->list[k][cat->count[k]++] = *b;
	return 0;
}

static int add_manifest(DIR *d, const char *name, struct stamps *m, struct qb_err *err)
{
	char stamp[QB_STAMP_LEN + 1];
	struct stat st;

	if (!qb_manifest_parse_name(name, stamp))
		return QB_OK;
	if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
		return QB_OK;
	if (qb_array_grow(&m->v, &m->cap, m->n + 1, sizeof(*m->v), 16))
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	memcpy(m->v[m->n++], stamp, sizeof(stamp));
	return QB_OK;
}

/* Sort the lists, tie backups to their manifests, and keep the manifests
 * tied to none (m->v is then the orphans' array, oldest first). */
static int finish(struct qb_catalog *cat, struct stamps *m, struct qb_err *err)
{
	bool *used = m->n ? calloc(m->n, sizeof(*used)) : NULL;
	size_t n = 0;

	if (m->n && !used)
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	if (m->n)
		qsort(m->v, m->n, sizeof(*m->v), by_stamp);
	for (int k = 0; k < QB_KIND_COUNT; k++) {
		if (cat->count[k])
			qsort(cat->list[k], cat->count[k], sizeof(struct qb_backup), newest_first);
		for (size_t i = 0; i < cat->count[k]; i++) {
			struct qb_backup *b = &cat->list[k][i];
			char (*hit)[QB_STAMP_LEN + 1] = m->n ?
				bsearch(b->stamp, m->v, m->n, sizeof(*m->v), by_stamp) : NULL;
			b->has_manifest = hit != NULL;
			if (hit)
				used[hit - m->v] = true;
		}
	}
	for (size_t i = 0; i < m->n; i++)
		if (!used[i])
			memcpy(m->v[n++], m->v[i], sizeof(*m->v));
	free(used);
	cat->orphans = m->v;
	cat->norphans = n;
	m->v = NULL;
	return QB_OK;
}

/* Walk the newest minio snapshot (skipping any that vanished meanwhile), and,
 * when it cannot be read, the next ones until one can: its size is then the
 * best guess of the next snapshot's. */
static int size_newest(DIR *d, struct qb_catalog *cat, struct qb_err *err)
{
	struct qb_backup *v = cat->list[QB_KIND_MINIO];
	size_t *n = &cat->count[QB_KIND_MINIO], i = 0;

	while (i < *n) {
		int rc = cat_tree_size(dirfd(d), v[i].name, &v[i].size, &v[i].file_count, err);
		if (rc == QB_ENOTFOUND) {
			memmove(v + i, v + i + 1, (*n - i - 1) * sizeof(*v));
			(*n)--;
			continue;
		}
		if ((rc = walked(&v[i], rc, err)) || !v[i].unreadable[0])
			return rc;
		i++;
	}
	return QB_OK;
}

static int scan(struct qb_catalog **out, const char *dir, bool walk_all, struct qb_err *err)
{
	struct qb_catalog *cat = calloc(1, sizeof(*cat));
	size_t cap[QB_KIND_COUNT] = { 0 };
	struct stamps m = { 0 };
	struct dirent *de;
	DIR *d = NULL;
	int rc = QB_OK;

	*out = NULL;
	if (!cat || !(cat->dir = strdup(dir))) {
		rc = qb_err_set(err, QB_ENOMEM, "out of memory");
		goto out;
	}
	d = opendir(dir);
	if (!d) {
		if (errno == ENOENT)
			rc = qb_err_set(err, QB_ENOTFOUND, "backup folder '%s' does not exist",
					dir);
		else
			rc = qb_err_sys(err, QB_EIO, errno, "unable to read backup folder '%s'",
					dir);
		goto out;
	}
	while (!rc && (errno = 0, de = readdir(d))) {
		struct qb_backup b;
		bool keep;

		if (de->d_name[0] == '.')
			continue;
		rc = add_manifest(d, de->d_name, &m, err);
		if (!rc)
			rc = read_entry(d, de->d_name, &b, walk_all, &keep, err);
		if (!rc && keep && add(cat, cap, &b))
			rc = qb_err_set(err, QB_ENOMEM, "out of memory");
	}
	if (!rc && errno)
		rc = qb_err_sys(err, QB_EIO, errno, "unable to read backup folder '%s'", dir);
	if (rc) {
		qb_err_prefix(err, "listing '%s'", dir);
		goto out;
	}
	rc = finish(cat, &m, err);
	if (!rc && !walk_all)
		rc = size_newest(d, cat, err);
	if (rc)
		goto out;
	*out = cat;
	cat = NULL;
out:
	if (d)
		closedir(d);
	free(m.v);
	qb_catalog_free(cat);
	return rc;
}

int qb_catalog_scan(struct qb_catalog **out, const char *dir, struct qb_err *err)
{
	return scan(out, dir, true, err);
}

int qb_catalog_scan_newest(struct qb_catalog **out, const char *dir, struct qb_err *err)
{
	return scan(out, dir, false, err);
}

void qb_catalog_free(struct qb_catalog *cat)
{
	if (!cat)
		return;
	for (int k = 0; k < QB_KIND_COUNT; k++)
		free(cat->list[k]);
	free(cat->orphans);
	free(cat->dir);
	free(cat);
}

const struct qb_backup *qb_catalog_find(const struct qb_catalog *cat, const char *name)
{
	enum qb_kind kind;

	if (!qb_backup_parse_name(name, &kind, NULL))
		return NULL;
	for (size_t i = 0; i < cat->count[kind]; i++) {
		if (!strcmp(cat->list[kind][i].name, name))
			return &cat->list[kind][i];
	}
	return NULL;
}

const struct qb_backup *qb_catalog_latest(const struct qb_catalog *cat, enum qb_kind kind)
{
	if ((unsigned)kind >= QB_KIND_COUNT || !cat->count[kind])
		return NULL;
	return &cat->list[kind][0];
}

const struct qb_backup *qb_catalog_before(const struct qb_catalog *cat, const struct qb_backup *b)
{
	const struct qb_backup *v = cat->list[b->kind];
	size_t n = cat->count[b->kind];

	/* The list is newest first, and b one of its entries. */
	return b >= v && b + 1 < v + n ? b + 1 : NULL;
}

size_t qb_catalog_warn_unreadable(const struct qb_catalog *cat)
{
	const struct qb_backup *v = cat->list[QB_KIND_MINIO];
	size_t n = 0;

	for (size_t i = 0; i < cat->count[QB_KIND_MINIO]; i++) {
		if (!v[i].unreadable[0])
			continue;
		qb_log(QB_LOG_WARN, "%s: size unknown, the snapshot cannot be read in full: %s",
		       v[i].name, v[i].unreadable);
		n++;
	}
	return n;
}
