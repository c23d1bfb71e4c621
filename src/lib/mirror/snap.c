/*
 * snap.c - snapshots as a set: is MinIO configured, which buckets, which
 * previous snapshot to link from, how big a snapshot is, and progress pacing.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mirror/mirror_int.h"
#include "qb/array.h"
#include "qb/log.h"
#include "qb/s3.h"

bool qb_minio_configured(const struct qb_config *cfg)
{
	return qb_config_get(cfg, "MINIO_ENDPOINT", NULL) != NULL;
}

static bool is_snapshot_name(const char *name)
{
	struct tm tm;
	size_t pl = strlen(QB_MINIO_PREFIX);

	return !strncmp(name, QB_MINIO_PREFIX, pl) && strlen(name) == pl + 15 &&
	       qb_stamp_parse(name + pl, &tm);
}

int mx_find_previous(const char *backup_dir, const char *self, char **out, struct qb_err *err)
{
	DIR *d = opendir(backup_dir);
	struct dirent *de;
	char best[64] = "";

	*out = NULL;
	if (!d)
		return errno == ENOENT ? QB_OK : qb_err_sys(err, QB_EIO, errno,
							    "unable to read folder '%s'",
							    backup_dir);
	while ((de = readdir(d))) {
		struct stat st;
		char *idx;

		if (!is_snapshot_name(de->d_name) || !strcmp(de->d_name, self) ||
		    strcmp(de->d_name, best) <= 0)
			continue;
		idx = qb_asprintf("%s/%s", de->d_name, QB_MINIO_INDEX);
		if (idx && fstatat(dirfd(d), idx, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode))
			snprintf(best, sizeof(best), "%s", de->d_name);
		free(idx);
	}
	closedir(d);
	if (best[0] && !(*out = qb_path_join(backup_dir, best)))
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	return QB_OK;
}

struct bucket_list {
	char **v;
	unsigned n;
	size_t cap;
};

static int add_bucket(void *ud, const char *name, struct qb_err *err)
{
	struct bucket_list *l = ud;

	if (qb_array_grow(&l->v, &l->cap, (size_t)l->n + 1, sizeof(*l->v), 16))
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	if (!(l->v[l->n] = qb_strdup(name)))
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	l->n++;
	return QB_OK;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int mx_buckets(const struct qb_config *cfg, struct qb_s3 *s3, char ***names, unsigned *n,
	       struct qb_err *err)
{
	const char *conf = qb_config_get(cfg, "MINIO_BUCKETS", NULL);
	struct bucket_list l = { 0 };
	int rc = QB_OK;

	*names = NULL;
	*n = 0;
	if (conf) {
		const char *p = conf;
		while (*p && !rc) {
			size_t len = strcspn(p, ",");
			const char *s = p, *e = p + len;
			while (s < e && (*s == ' ' || *s == '\t'))
				s++;
			while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
				e--;
			if (e > s) {
				char *name = qb_strndup(s, (size_t)(e - s));
				rc = name ? add_bucket(&l, name, err)
					  : qb_err_set(err, QB_ENOMEM, "out of memory");
				free(name);
			}
			p += len + (p[len] == ',');
		}
	} else {
		rc = qb_s3_list_buckets(s3, add_bucket, &l, err);
	}
	if (!rc && l.n > 1) {
		unsigned o = 1;
		qsort(l.v, l.n, sizeof(*l.v), cmp_str);
		for (unsigned i = 1; i < l.n; i++) {
			if (!strcmp(l.v[i], l.v[o - 1]))
				free(l.v[i]);
			else
				l.v[o++] = l.v[i];
		}
		l.n = o;
	}
	if (!rc && conf && l.n == 0)
		rc = qb_err_set(err, QB_ECONFIG, "MINIO_BUCKETS names no bucket (leave it empty for "
				"every bucket the access key can list)");
	for (unsigned i = 0; i < l.n && !rc; i++)
		if (!mx_bucket_name_ok(l.v[i]))
			rc = qb_err_set(err, QB_ECONFIG, "'%s' is not a valid bucket name", l.v[i]);
	if (rc) {
		mx_free_names(l.v, l.n);
		return rc;
	}
	*names = l.v;
	*n = l.n;
	return QB_OK;
}

int qb_minio_snapshot_info(const char *snapshot_dir, uint64_t *objects, uint64_t *bytes,
			   struct qb_err *err)
{
	int root = open(snapshot_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct mx_reader *r = NULL;
	uint64_t no = 0, nb = 0;
	bool got = true;
	int rc;

	*objects = *bytes = 0;
	if (root < 0)
		return qb_err_sys(err, errno == ENOENT ? QB_ENOTFOUND : QB_EIO, errno,
				  "unable to open snapshot '%s'", snapshot_dir);
	rc = mx_reader_open(&r, root, QB_MINIO_INDEX, true, err);
	if (!rc) {
		while (!rc) {
			struct mx_entry e;
			rc = mx_reader_next(r, &e, &got, err);
			if (rc || !got)
				break;
			no++;
			nb += e.size;
		}
		mx_reader_free(r);
	} else if (rc == QB_ENOTFOUND) {
		/* An `mc mirror` folder: count its files. */
		char **names = NULL;
		unsigned n = 0;

		qb_err_clear(err);
		rc = mx_list_bucket_dirs(root, &names, &n, err);
		for (unsigned i = 0; i < n && !rc; i++) {
			struct mx_walk *w = NULL;
			rc = mx_walk_open(&w, root, names[i], err);
			while (!rc) {
				const char *rel;
				uint64_t size;
				bool regular;
				rc = mx_walk_next(w, &rel, &size, &regular, &got, err);
				if (rc || !got)
					break;
				no += regular;
				nb += regular ? size : 0;
			}
			mx_walk_free(w);
		}
		mx_free_names(names, n);
	}
	close(root);
	if (rc)
		return qb_err_prefix(err, "reading snapshot '%s'", snapshot_dir);
	*objects = no;
	*bytes = nb;
	return QB_OK;
}

double mx_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void mx_progress_init(struct mx_progress *p, const struct qb_progress_cb *cb, const char *step)
{
	p->cb = cb;
	p->step = step;
	p->t0 = mx_now();
	p->last = 0;
}

void mx_progress(struct mx_progress *p, uint64_t items, uint64_t items_total, uint64_t bytes,
		 uint64_t bytes_total, const char *current, bool final)
{
	struct qb_progress pr;
	double now;

	if (!p->cb || !p->cb->fn)
		return;
	now = mx_now();
	if (!final && now - p->last < 0.2)
		return;
	p->last = now;
	memset(&pr, 0, sizeof(pr));
	pr.step = p->step;
	pr.items_done = items;
	pr.items_total = items_total;
	pr.bytes_done = bytes;
	pr.bytes_total = bytes_total;
	pr.elapsed = now - p->t0;
	pr.current = current;
	pr.final = final;
	p->cb->fn(p->cb->ud, &pr);
}
