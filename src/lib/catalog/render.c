/*
 * render.c - the listing as the admin page's JSON and as a table.
 *
 * The JSON shape is a contract with the existing admin page (the old
 * backup API answered it): key names, order and value types must not
 * change.  cJSON escapes every string, so an odd backup folder path cannot
 * break the document.
 */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "qb/buf.h"
#include "qb/catalog.h"

#define TABLE_MAX (16u << 20)

static const char *const json_keys[QB_KIND_COUNT] = {
	[QB_KIND_DB] = "database", [QB_KIND_MINIO] = "minio", [QB_KIND_CODE] = "code",
};

static const char *const titles[QB_KIND_COUNT] = {
	[QB_KIND_DB] = "Database (PostgreSQL)",
	[QB_KIND_MINIO] = "Documents (MinIO)",
	[QB_KIND_CODE] = "Code",
};

static int get_disk(const struct qb_catalog *cat, const struct qb_disk *disk,
		    struct qb_disk *tmp, const struct qb_disk **use, struct qb_err *err)
{
	int rc = QB_OK;

	*use = disk;
	if (!disk) {
		rc = qb_disk_usage(cat->dir, tmp, err);
		*use = tmp;
	}
	return rc;
}

static void percent(const struct qb_disk *d, char *buf, size_t len)
{
	if (d->used_percent < 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%d%%", d->used_percent);
}

/* A snapshot that could not be walked has no size to show (the type stays a string). */
static void size_text(const struct qb_backup *b, char *buf, size_t len)
{
	if (b->unreadable[0])
		snprintf(buf, len, "unknown");
	else
		qb_format_size(b->size, buf, len);
}

static cJSON *entry(const struct qb_backup *b)
{
	cJSON *o = cJSON_CreateObject();
	char size[QB_SIZE_STR_MAX];

	size_text(b, size, sizeof(size));
	if (!o || !cJSON_AddStringToObject(o, "name", b->name) ||
	    !cJSON_AddStringToObject(o, "size", size) ||
	    !cJSON_AddStringToObject(o, "date", b->date) ||
	    (b->kind == QB_KIND_MINIO &&
	     !cJSON_AddNumberToObject(o, "fileCount", (double)b->file_count))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static cJSON *build(const struct qb_catalog *cat, const struct qb_disk *d)
{
	cJSON *root = cJSON_CreateObject(), *backups, *usage;
	char used[16], avail[QB_SIZE_STR_MAX];

	if (!root || !(backups = cJSON_AddObjectToObject(root, "backups")))
		goto fail;
	for (int k = 0; k < QB_KIND_COUNT; k++) {
		cJSON *arr = cJSON_AddArrayToObject(backups, json_keys[k]);
		if (!arr)
			goto fail;
		for (size_t i = 0; i < cat->count[k]; i++) {
			cJSON *o = entry(&cat->list[k][i]);
			if (!o || !cJSON_AddItemToArray(arr, o)) {
				cJSON_Delete(o);
				goto fail;
			}
		}
	}
	percent(d, used, sizeof(used));
	qb_format_df_size(d->avail, avail, sizeof(avail));
	if (!(usage = cJSON_AddObjectToObject(root, "diskUsage")) ||
	    !cJSON_AddStringToObject(usage, "used", used) ||
	    !cJSON_AddStringToObject(usage, "available", avail) ||
	    !cJSON_AddStringToObject(root, "backupDir", cat->dir))
		goto fail;
	return root;
fail:
	cJSON_Delete(root);
	return NULL;
}

int qb_catalog_json(const struct qb_catalog *cat, const struct qb_disk *disk, char **out,
		    struct qb_err *err)
{
	struct qb_disk tmp;
	const struct qb_disk *d;
	cJSON *root;
	int rc = get_disk(cat, disk, &tmp, &d, err);

	*out = NULL;
	if (rc)
		return rc;
	root = build(cat, d);
	if (root)
		*out = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (!*out)
		return qb_err_set(err, QB_ENOMEM, "out of memory building the listing");
	return QB_OK;
}

static int table_kind(struct qb_buf *b, const struct qb_catalog *cat, int k, struct qb_err *err)
{
	int rc = qb_buf_printf(b, err, "%s: %zu\n", titles[k], cat->count[k]);

	for (size_t i = 0; !rc && i < cat->count[k]; i++) {
		const struct qb_backup *e = &cat->list[k][i];
		char size[QB_SIZE_STR_MAX];

		size_text(e, size, sizeof(size));
		rc = qb_buf_printf(b, err, "  %-30s %10s  %s", e->name, size, e->date);
		if (!rc && k == QB_KIND_MINIO && e->unreadable[0])
			rc = qb_buf_printf(b, err, "  (unreadable: %s)", e->unreadable);
		else if (!rc && k == QB_KIND_MINIO)
			rc = qb_buf_printf(b, err, "  %" PRIu64 " file%s", e->file_count,
					   e->file_count == 1 ? "" : "s");
		if (!rc && !e->has_manifest)
			rc = qb_buf_puts(b, "  (no manifest)", err);
		if (!rc)
			rc = qb_buf_puts(b, "\n", err);
	}
	return rc;
}

int qb_catalog_table(const struct qb_catalog *cat, const struct qb_disk *disk, char **out,
		     struct qb_err *err)
{
	struct qb_disk tmp;
	const struct qb_disk *d;
	struct qb_buf b;
	char used[16], avail[QB_SIZE_STR_MAX];
	int rc = get_disk(cat, disk, &tmp, &d, err);

	*out = NULL;
	if (rc)
		return rc;
	qb_buf_init(&b, TABLE_MAX);
	rc = qb_buf_printf(&b, err, "Backups in %s\n", cat->dir);
	for (int k = 0; !rc && k < QB_KIND_COUNT; k++) {
		rc = qb_buf_puts(&b, "\n", err);
		if (!rc)
			rc = table_kind(&b, cat, k, err);
	}
	percent(d, used, sizeof(used));
	qb_format_df_size(d->avail, avail, sizeof(avail));
	if (!rc)
		rc = qb_buf_printf(&b, err, "\nDisk: %s used, %s available\n", used, avail);
	if (rc) {
		qb_buf_release(&b);
		return rc;
	}
	*out = qb_buf_detach(&b);
	return *out ? QB_OK : qb_err_set(err, QB_ENOMEM, "out of memory");
}
