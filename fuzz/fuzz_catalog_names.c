/*
 * fuzz_catalog_names.c - backup and manifest names, and sizes for people.
 *
 * - Any string is a backup name or not; a name that parses is exactly
 *   prefix + stamp + suffix of its kind, its stamp a real date and time
 *   (checked here independently: month lengths, leap years), it is
 *   rebuilt identical by qb_backup_make_name(), and qb_backup_check_name()
 *   accepts it.  The same for manifest names.
 * - A kind and 15 bytes made into a name parse back iff the bytes are a
 *   valid stamp, and give that stamp.
 * - qb_format_size() and qb_format_df_size() fit QB_SIZE_STR_MAX uncut.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qb/catalog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const prefixes[] = { "db_", "minio_", "code_" };
static const char *const suffixes[] = { ".sql.gz", "", ".tar.gz" };

static int num(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/* "YYYYMMDD_HHMMSS" naming a time a clock shows. */
static bool valid_stamp(const char *s)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, m, d;

	if (strlen(s) < QB_STAMP_LEN || s[8] != '_')
		return false;
	for (int i = 0; i < QB_STAMP_LEN; i++)
		if (i != 8 && (s[i] < '0' || s[i] > '9'))
			return false;
	y = num(s, 4);
	m = num(s + 4, 2);
	d = num(s + 6, 2);
	if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return false;
	if (m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return false;
	return num(s + 9, 2) < 24 && num(s + 11, 2) < 60 && num(s + 13, 2) < 60;
}

static void check_name(const char *name)
{
	char stamp[QB_STAMP_LEN + 1], again[QB_BACKUP_NAME_MAX];
	struct qb_err err = { 0 };
	enum qb_kind kind;
	bool ours = qb_backup_parse_name(name, &kind, stamp);
	size_t lp, ls;

	if (ours) {
		if ((unsigned)kind >= QB_KIND_COUNT)
			abort();
		lp = strlen(prefixes[kind]);
		ls = strlen(suffixes[kind]);
		if (strlen(name) != lp + QB_STAMP_LEN + ls || strncmp(name, prefixes[kind], lp) ||
		    strcmp(name + lp + QB_STAMP_LEN, suffixes[kind]) ||
		    strncmp(name + lp, stamp, QB_STAMP_LEN) || !valid_stamp(stamp)) {
			fprintf(stderr, "'%s' parsed as %d '%s'\n", name, kind, stamp);
			abort();
		}
		qb_backup_make_name(kind, stamp, again, sizeof(again));
		if (strcmp(again, name))
			abort();
		if (qb_backup_check_name(name, strlen(name), &err))
			abort();
	} else if (qb_backup_check_name(name, strlen(name), &err) != QB_EREFUSED) {
		abort();
	}
	if (qb_manifest_parse_name(name, stamp)) {
		char m[64];
		snprintf(m, sizeof(m), QB_MANIFEST_PREFIX "%s" QB_MANIFEST_SUFFIX, stamp);
		if (ours || strcmp(m, name) || !valid_stamp(stamp)) {
			fprintf(stderr, "'%s' parsed as a manifest of '%s'\n", name, stamp);
			abort();
		}
	}
}

static void check_made(enum qb_kind kind, const char *s)
{
	char name[QB_BACKUP_NAME_MAX], stamp[QB_STAMP_LEN + 1];
	enum qb_kind k2;
	bool ok;

	qb_backup_make_name(kind, s, name, sizeof(name));
	ok = qb_backup_parse_name(name, &k2, stamp);
	if (ok != (strlen(s) == QB_STAMP_LEN && valid_stamp(s)) ||
	    (ok && (k2 != kind || strcmp(stamp, s)))) {
		fprintf(stderr, "made '%s' from '%s': %d\n", name, s, ok);
		abort();
	}
}

static void check_sizes(uint64_t v)
{
	char a[QB_SIZE_STR_MAX], b[256];

	qb_format_size(v, a, sizeof(a));
	qb_format_size(v, b, sizeof(b));
	if (strcmp(a, b))
		abort();
	qb_format_df_size(v, a, sizeof(a));
	qb_format_df_size(v, b, sizeof(b));
	if (strcmp(a, b))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *name = malloc(size + 1);
	uint64_t v = 0;

	if (!name)
		abort();
	memcpy(name, data, size);
	name[size] = '\0';
	check_name(name);
	if (size >= 1) {
		char s[QB_STAMP_LEN + 1];
		size_t n = size - 1 < QB_STAMP_LEN ? size - 1 : QB_STAMP_LEN;
		memcpy(s, data + 1, n);
		s[n] = '\0';
		if (strlen(s) == n)
			check_made((enum qb_kind)(data[0] % QB_KIND_COUNT), s);
	}
	memcpy(&v, data, size < sizeof(v) ? size : sizeof(v));
	check_sizes(v);
	check_sizes(v >> (size % 64));
	free(name);
	return 0;
}
