/*
 * fuzz_catalog_prune.c - a BACKUP_DIR of any names, listed and rotated.
 *
 * Input: a first byte (keep 1-4, an age limit or none), then lines
 * "T name", T one of f (file), d (folder), l (symlink to "x").  The folder
 * is made, then:
 * - the scan lists only names that qb_backup_parse_name() accepts, of the
 *   right type (a folder for minio, a regular file else), each once, newest
 *   first; the admin page's JSON is valid and lists the same names;
 * - a dry run of the rotation, then the real one, select the same backups;
 * - after it, every entry that went is a listed backup or a manifest
 *   (manifest_STAMP.json, a regular file), and the newest of each kind is
 *   still there.
 */
#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qb/catalog.h"
#include "qb/fsutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NAMES_MAX 64

struct made {
	char name[256];
	char type;
};

static char root[] = "/tmp/qb-fuzz-prune.XXXXXX";
static char dir[64];

static void cleanup(void)
{
	struct qb_err err;

	qb_remove_tree(root, &err);
}

static bool exists(const char *name)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return lstat(path, &st) == 0;
}

static bool listed_in(const struct qb_catalog *cat, const char *name)
{
	enum qb_kind k;

	if (!qb_backup_parse_name(name, &k, NULL))
		return false;
	for (size_t i = 0; i < cat->count[k]; i++)
		if (!strcmp(cat->list[k][i].name, name))
			return true;
	return false;
}

static void check_scan(const struct qb_catalog *cat, const struct made *m, size_t n)
{
	struct qb_disk disk = { .total = 100, .used = 50, .avail = 50, .used_percent = 50 };
	static const char *const keys[] = { "database", "minio", "code" };
	struct qb_err err = { 0 };
	char *json = NULL;
	cJSON *root_j;

	for (int k = 0; k < QB_KIND_COUNT; k++) {
		for (size_t i = 0; i < cat->count[k]; i++) {
			const struct qb_backup *b = &cat->list[k][i];
			enum qb_kind kind;
			char stamp[QB_STAMP_LEN + 1];
			bool found = false;
			if (!qb_backup_parse_name(b->name, &kind, stamp) || kind != (enum qb_kind)k ||
			    strcmp(stamp, b->stamp))
				abort();
			if (i && strcmp(cat->list[k][i - 1].stamp, b->stamp) < 0)
				abort();
			for (size_t j = 0; j < n; j++)
				if (!strcmp(m[j].name, b->name))
					found = found || m[j].type == (k == QB_KIND_MINIO ? 'd' : 'f');
			if (!found) {
				fprintf(stderr, "listed '%s'\n", b->name);
				abort();
			}
			for (size_t j = 0; j < i; j++)
				if (!strcmp(cat->list[k][j].name, b->name))
					abort();
		}
	}
	if (qb_catalog_json(cat, &disk, &json, &err))
		abort();
	root_j = cJSON_Parse(json);
	if (!root_j)
		abort();
	for (int k = 0; k < QB_KIND_COUNT; k++) {
		cJSON *arr = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(root_j, "backups"), keys[k]);
		cJSON *e;
		size_t i = 0;
		if (!cJSON_IsArray(arr) || (size_t)cJSON_GetArraySize(arr) != cat->count[k])
			abort();
		cJSON_ArrayForEach(e, arr) {
			cJSON *nm = cJSON_GetObjectItemCaseSensitive(e, "name");
			if (!cJSON_IsString(nm) || strcmp(nm->valuestring, cat->list[k][i++].name))
				abort();
		}
	}
	cJSON_Delete(root_j);
	free(json);
}

static bool same_items(const struct qb_prune_result *a, const struct qb_prune_result *b)
{
	if (a->count != b->count)
		return false;
	for (size_t i = 0; i < a->count; i++)
		if (strcmp(a->items[i].name, b->items[i].name))
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct made m[NAMES_MAX];
	struct qb_prune_opts po = { 0 };
	struct qb_prune_result dry, real;
	struct qb_catalog *cat = NULL;
	struct qb_err err = { 0 };
	size_t n = 0, i = 1;
	int rc;

	if (!dir[0]) {
		if (!mkdtemp(root))
			abort();
		snprintf(dir, sizeof(dir), "%s/b", root);
		atexit(cleanup);
	}
	if (size < 1)
		return 0;
	qb_remove_tree(dir, &err);
	if (mkdir(dir, 0700) < 0)
		abort();
	po.keep = 1 + data[0] % 4;
	po.max_age_days = (data[0] >> 2) % 4 == 0 ? 1 : 0;
	po.now = 1770350400;   /* 2026-02-06 */
	while (i < size && n < NAMES_MAX) {
		const uint8_t *nl = memchr(data + i, '\n', size - i);
		size_t len = nl ? (size_t)(nl - (data + i)) : size - i;
		char path[512];
		int fd;
		if (len >= 3 && len - 2 < sizeof(m[n].name) && data[i + 1] == ' ' &&
		    !memchr(data + i + 2, '\0', len - 2) && !memchr(data + i + 2, '/', len - 2)) {
			struct made *x = &m[n];
			memcpy(x->name, data + i + 2, len - 2);
			x->name[len - 2] = '\0';
			x->type = (char)data[i];
			snprintf(path, sizeof(path), "%s/%s", dir, x->name);
			if (strcmp(x->name, ".") && strcmp(x->name, "..") && !exists(x->name)) {
				if (x->type == 'd') {
					if (mkdir(path, 0700) == 0) {
						snprintf(path, sizeof(path), "%s/%s/obj", dir, x->name);
						fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
						if (fd >= 0)
							close(fd);
						n++;
					}
				} else if (x->type == 'l') {
					if (symlink("x", path) == 0)
						n++;
				} else {
					x->type = 'f';
					fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
					if (fd >= 0) {
						close(fd);
						n++;
					}
				}
			}
		}
		i += len + 1;
	}

	if (qb_catalog_scan(&cat, dir, &err))
		abort();
	check_scan(cat, m, n);

	po.dry_run = true;
	rc = qb_catalog_prune(dir, &po, &dry, &err);
	if (rc)
		abort();
	po.dry_run = false;
	rc = qb_catalog_prune(dir, &po, &real, &err);
	if (rc) {
		fprintf(stderr, "prune: %s\n", err.msg);
		abort();
	}
	if (!same_items(&dry, &real) || dry.nmanifests != real.nmanifests)
		abort();
	for (size_t j = 0; j < real.count; j++) {
		if (!listed_in(cat, real.items[j].name))
			abort();
	}
	for (size_t j = 0; j < n; j++) {
		char stamp[QB_STAMP_LEN + 1];
		if (exists(m[j].name))
			continue;
		if (listed_in(cat, m[j].name))
			continue;
		if (qb_manifest_parse_name(m[j].name, stamp) && m[j].type == 'f')
			continue;
		fprintf(stderr, "rotation removed '%s' (%c)\n", m[j].name, m[j].type);
		abort();
	}
	for (int k = 0; k < QB_KIND_COUNT; k++)
		if (cat->count[k] && !exists(cat->list[k][0].name))
			abort();
	qb_prune_result_release(&dry);
	qb_prune_result_release(&real);
	qb_catalog_free(cat);
	return 0;
}
