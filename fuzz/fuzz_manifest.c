/*
 * fuzz_manifest.c - qb_manifest_lookup() on any bytes as the manifest file.
 *
 * For each kind's name of the stamp: the lookup answers QB_OK,
 * QB_ENOTFOUND or QB_ECORRUPT.  QB_OK gives the entry of that name, of that
 * name's kind, with a SHA-256 that is "" or 64 lowercase hex digits and
 * tables that all have a name; an error leaves the entry empty.  ASan and
 * UBSan see the rest (a size of -1 or 1e300 is not a uint64_t).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qb/catalog.h"
#include "qb/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define STAMP "20260206_030000"

static char dir[] = "/tmp/qb-fuzz-manifest.XXXXXX";
static char path[128];

static void check(const char *name, enum qb_kind kind)
{
	struct qb_manifest_entry e;
	struct qb_err err = { 0 };
	int rc = qb_manifest_lookup(dir, name, &e, &err);

	if (rc != QB_OK) {
		if ((rc != QB_ENOTFOUND && rc != QB_ECORRUPT) || e.tables || e.ntables ||
		    e.name[0] || e.sha256[0]) {
			fprintf(stderr, "%s: rc %d '%s'\n", name, rc, err.msg);
			abort();
		}
		return;
	}
	if (strcmp(e.name, name) || strcmp(e.kind, qb_kind_name(kind))) {
		fprintf(stderr, "asked %s, got %s (%s)\n", name, e.name, e.kind);
		abort();
	}
	if (e.sha256[0]) {
		if (strlen(e.sha256) != 64 || strspn(e.sha256, "0123456789abcdef") != 64) {
			fprintf(stderr, "%s: sha256 '%s'\n", name, e.sha256);
			abort();
		}
	}
	for (size_t i = 0; i < e.ntables; i++)
		if (!e.tables[i].name)
			abort();
	qb_manifest_entry_release(&e);
}

static void cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f;

	if (!path[0]) {
		if (!mkdtemp(dir))
			abort();
		snprintf(path, sizeof(path), "%s/manifest_" STAMP ".json", dir);
		atexit(cleanup);
	}
	f = fopen(path, "we");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f))
		abort();
	check("db_" STAMP ".sql.gz", QB_KIND_DB);
	check("minio_" STAMP, QB_KIND_MINIO);
	check("code_" STAMP ".tar.gz", QB_KIND_CODE);
	return 0;
}
