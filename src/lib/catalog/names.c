/*
 * names.c - what a backup (and a manifest) is called.
 *
 * The names are the old scripts' names, matched exactly: anything else in
 * BACKUP_DIR (a temporary file, a copy called db_..._old.sql.gz) is not a
 * backup, so it is never listed, rotated or deleted by name.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "qb/catalog.h"
#include "qb/fsutil.h"

struct kind_name {
	const char *label;
	const char *prefix;
	const char *suffix;
};

static const struct kind_name kinds[QB_KIND_COUNT] = {
	[QB_KIND_DB]    = { "db",    "db_",    ".sql.gz" },
	[QB_KIND_MINIO] = { "minio", "minio_", "" },
	[QB_KIND_CODE]  = { "code",  "code_",  ".tar.gz" },
};

const char *qb_kind_name(enum qb_kind kind)
{
	return (unsigned)kind < QB_KIND_COUNT ? kinds[kind].label : "unknown";
}

bool qb_kind_parse(const char *s, enum qb_kind *kind)
{
	for (int k = 0; k < QB_KIND_COUNT; k++) {
		if (s && !strcmp(s, kinds[k].label)) {
			*kind = (enum qb_kind)k;
			return true;
		}
	}
	return false;
}

/* "<prefix><stamp><suffix>" exactly, with a stamp qb_stamp_parse accepts
 * (a real date and time). */
static bool match(const char *name, const char *prefix, const char *suffix, char *stamp)
{
	size_t lp = strlen(prefix), ls = strlen(suffix);
	struct tm tm;

	if (strlen(name) != lp + QB_STAMP_LEN + ls || strncmp(name, prefix, lp) ||
	    strcmp(name + lp + QB_STAMP_LEN, suffix) || !qb_stamp_parse(name + lp, &tm))
		return false;
	if (stamp) {
		memcpy(stamp, name + lp, QB_STAMP_LEN);
		stamp[QB_STAMP_LEN] = '\0';
	}
	return true;
}

bool qb_backup_parse_name(const char *name, enum qb_kind *kind, char *stamp)
{
	for (int k = 0; k < QB_KIND_COUNT; k++) {
		if (match(name, kinds[k].prefix, kinds[k].suffix, stamp)) {
			if (kind)
				*kind = (enum qb_kind)k;
			return true;
		}
	}
	return false;
}

void qb_backup_make_name(enum qb_kind kind, const char *stamp, char *buf, size_t len)
{
	if ((unsigned)kind >= QB_KIND_COUNT) {
		if (len)
			buf[0] = '\0';
		return;
	}
	snprintf(buf, len, "%s%.*s%s", kinds[kind].prefix, QB_STAMP_LEN, stamp, kinds[kind].suffix);
}

bool qb_manifest_parse_name(const char *name, char *stamp)
{
	return match(name, QB_MANIFEST_PREFIX, QB_MANIFEST_SUFFIX, stamp);
}
