/*
 * prune.c - rotation: keep the newest BACKUP_KEEP of each kind.
 *
 * The newest backup of a kind is never deleted, whatever its age: after a
 * week of failed runs, an age limit alone would otherwise delete the only
 * good copy.  (Not rotating after a failed run at all is the caller's rule.)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog/catalog_int.h"
#include "qb/fsutil.h"
#include "qb/buf.h"
#include "qb/log.h"

static bool doomed(const struct qb_prune_opts *o, time_t now, size_t i, const struct qb_backup *b)
{
	if (i == 0)
		return false;
	if ((long long)i >= (long long)o->keep)
		return true;
	return o->max_age_days > 0 && b->time > 0 &&
	       (double)(now - b->time) > (double)o->max_age_days * 86400.0;
}

static int add_item(struct qb_prune_result *r, const struct qb_backup *b, struct qb_err *err)
{
	struct qb_backup *p = realloc(r->items, (r->count + 1) * sizeof(*p));

	if (!p)
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	r->items = p;
	r->items[r->count++] = *b;
	r->bytes += b->size;
	return QB_OK;
}

static int add_manifest(struct qb_prune_result *r, const char *stamp, struct qb_err *err)
{
	char **p = realloc(r->manifests, (r->nmanifests + 1) * sizeof(*p));

	if (!p)
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	r->manifests = p;
	p[r->nmanifests] = qb_asprintf(QB_MANIFEST_PREFIX "%s" QB_MANIFEST_SUFFIX, stamp);
	if (!p[r->nmanifests])
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	r->nmanifests++;
	return QB_OK;
}

static bool listed(const struct qb_prune_result *r, const char *stamp)
{
	for (size_t i = 0; i < r->nmanifests; i++) {
		if (!strncmp(r->manifests[i] + strlen(QB_MANIFEST_PREFIX), stamp, QB_STAMP_LEN))
			return true;
	}
	return false;
}

/* Dry run: which manifests would lose their last artifact. */
static int would_orphan(const struct qb_catalog *cat, struct qb_prune_result *r,
			struct qb_err *err)
{
	for (size_t j = 0; j < r->count; j++) {
		const struct qb_backup *b = &r->items[j];
		bool kept = false;

		if (!b->has_manifest || listed(r, b->stamp))
			continue;
		for (int k = 0; k < QB_KIND_COUNT && !kept; k++) {
			for (size_t i = 0; i < cat->count[k] && !kept; i++) {
				const struct qb_backup *c = &cat->list[k][i];
				bool gone = false;
				for (size_t n = 0; n < r->count && !gone; n++)
					gone = !strcmp(r->items[n].name, c->name);
				kept = !gone && !strcmp(c->stamp, b->stamp);
			}
		}
		if (!kept) {
			int rc = add_manifest(r, b->stamp, err);
			if (rc)
				return rc;
		}
	}
	return QB_OK;
}

static int delete_items(const char *dir, struct qb_prune_result *r, struct qb_err *err)
{
	size_t planned = r->count;
	struct qb_backup *plan = r->items;
	size_t failed = 0;
	struct qb_err first = { 0 };
	int rc = QB_OK;

	/* Rebuild the result with what really went, so an error leaves it true. */
	r->items = NULL;
	r->count = 0;
	r->bytes = 0;
	/* One backup that cannot be deleted (a folder another user owns, say) must
	 * not keep the others: rotation would stop there every night until the disk
	 * is full.  The rest go; the first error is returned at the end, and the
	 * others are logged. */
	for (size_t i = 0; !rc && i < planned; i++) {
		struct qb_err e = { 0 };
		bool dropped;
		int one = cat_delete(dir, plan[i].name, &dropped, &e);

		if (one == QB_ENOMEM) {
			rc = qb_err_set(err, QB_ENOMEM, "out of memory");
		} else if (one) {
			if (failed++)   /* the first is returned, and the caller reports it */
				qb_log(QB_LOG_ERROR, "rotation: %s", e.msg);
			else
				first = e;
		} else {
			rc = add_item(r, &plan[i], err);
			if (!rc && dropped)
				rc = add_manifest(r, plan[i].stamp, err);
		}
	}
	free(plan);
	if (!rc && failed) {
		*err = first;
		if (failed > 1)
			qb_err_prefix(err, "%zu backups could not be deleted; the first", failed);
		rc = err->code;
	}
	return rc;
}

/*
 * Manifests of runs that left no artifact (every step failed) say what went
 * wrong; they go once they are older than every backup kept, so that they
 * last as long as the rotation window and no longer.
 */
static int prune_orphans(const char *dir, const struct qb_catalog *cat, const struct qb_prune_opts *o,
			 time_t now, struct qb_prune_result *r, struct qb_err *err)
{
	const char *oldest = NULL;
	int rc = QB_OK;

	for (int k = 0; k < QB_KIND_COUNT; k++) {
		for (size_t i = 0; i < cat->count[k]; i++) {
			const struct qb_backup *b = &cat->list[k][i];
			if (!doomed(o, now, i, b) && (!oldest || strcmp(b->stamp, oldest) < 0))
				oldest = b->stamp;
		}
	}
	for (size_t i = 0; oldest && !rc && i < cat->norphans; i++) {
		const char *stamp = cat->orphans[i];
		if (strcmp(stamp, oldest) >= 0)
			break;  /* oldest first: the rest are newer */
		rc = add_manifest(r, stamp, err);
		if (!rc && !o->dry_run) {
			char *path = qb_path_join(dir, r->manifests[r->nmanifests - 1]);
			if (!path)
				rc = qb_err_set(err, QB_ENOMEM, "out of memory");
			else if (unlink(path) < 0 && errno != ENOENT)
				rc = qb_err_sys(err, QB_EIO, errno, "unable to delete '%s'", path);
			free(path);
		}
	}
	return rc;
}

int qb_catalog_prune(const char *dir, const struct qb_prune_opts *opts,
		     struct qb_prune_result *res, struct qb_err *err)
{
	struct qb_catalog *cat = NULL;
	time_t now = opts->now ? opts->now : time(NULL);
	int rc;

	memset(res, 0, sizeof(*res));
	if (opts->keep < 1)
		return qb_err_set(err, QB_EARG, "the number of backups to keep must be at least 1");
	if (opts->max_age_days < 0)
		return qb_err_set(err, QB_EARG, "the maximum backup age must not be negative");
	rc = qb_catalog_scan(&cat, dir, err);
	for (int k = 0; !rc && k < QB_KIND_COUNT; k++) {
		for (size_t i = 0; !rc && i < cat->count[k]; i++) {
			if (doomed(opts, now, i, &cat->list[k][i]))
				rc = add_item(res, &cat->list[k][i], err);
		}
	}
	if (!rc && opts->dry_run)
		rc = would_orphan(cat, res, err);
	else if (!rc)
		rc = delete_items(dir, res, err);
	if (!rc)
		rc = prune_orphans(dir, cat, opts, now, res, err);
	if (!rc)
		qb_log(QB_LOG_INFO, "rotation%s: %zu backup(s) and %zu manifest(s) %s in '%s'",
		       opts->dry_run ? " (dry run)" : "", res->count, res->nmanifests,
		       opts->dry_run ? "would be deleted" : "deleted", dir);
	qb_catalog_free(cat);
	return rc;
}

void qb_prune_result_release(struct qb_prune_result *res)
{
	if (!res)
		return;
	for (size_t i = 0; i < res->nmanifests; i++)
		free(res->manifests[i]);
	free(res->manifests);
	free(res->items);
	memset(res, 0, sizeof(*res));
}
