/*
 * keys.c - the settings qbackup and qrestore read, so that a key of the
 * config file that nothing reads (BACKUP_KEPP=7, a typo: the run would keep
 * the default 14) is named to the user instead of ignored in silence.
 *
 * The list is every key the sources pass to qb_config_get*() and every key of
 * etc/qbackup.conf.sample; check_config holds both to it.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "qb/config.h"

static const char *const known[] = {
	"ADMIN_EMAIL", "AWS_CA_BUNDLE", "BACKUP_DIR", "BACKUP_KEEP", "BACKUP_MAX_AGE_DAYS",
	"BACKUP_METRICS_FILE", "BACKUP_SERVER_LISTEN", "BACKUP_SERVER_NOTIFY", "BACKUP_SERVER_TOKEN",
	"BREVO_API_KEY", "BREVO_API_URL", "BREVO_SENDER_EMAIL", "CODE_DIR", "CODE_EXCLUDE",
	"COMPRESS_THREADS", "CURL_CA_BUNDLE", "DATABASE_URL", "DB_COMPRESS_LEVEL",
	"DISK_ALERT_PERCENT", "MINIO_ACCESS_KEY", "MINIO_ALLOW_EMPTY", "MINIO_BUCKETS",
	"MINIO_ENDPOINT", "MINIO_INSECURE", "MINIO_PARALLEL", "MINIO_PART_SIZE_MB", "MINIO_PORT",
	"MINIO_REGION", "MINIO_RETRIES", "MINIO_SECRET_KEY", "MINIO_TIMEOUT", "MINIO_USE_SSL",
	"RESTORE_JOBS", "RESTORE_MAINTENANCE_WORK_MEM",
};

const char *qb_config_known_key(size_t i)
{
	return i < sizeof(known) / sizeof(known[0]) ? known[i] : NULL;
}

bool qb_config_key_known(const char *key)
{
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(key, known[i]))
			return true;
	return false;
}

/* backup_keep is BACKUP_KEEP mistyped: case does not count. */
static char upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

static bool same(char a, char b)
{
	return upper(a) == upper(b);
}

/* Edit distance (insert, delete, replace, swap of neighbours), capped: any
 * result above cap means "further"; letters compared regardless of case. */
static size_t distance(const char *a, const char *b, size_t cap)
{
	enum { N = 40 };
	size_t la = strlen(a), lb = strlen(b);
	size_t d[N + 1][N + 1];

	if (la > N || lb > N || (la > lb ? la - lb : lb - la) > cap)
		return cap + 1;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			size_t best = d[i - 1][j - 1] + !same(a[i - 1], b[j - 1]);
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && same(a[i - 1], b[j - 2]) && same(a[i - 2], b[j - 1]) &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

const char *qb_config_key_suggest(const char *key)
{
	const char *best = NULL;
	size_t bestd = 3;   /* two edits at most: further is another word, not a typo */

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		size_t d = distance(key, known[i], 2);
		if (d < bestd) {
			bestd = d;
			best = known[i];
		}
	}
	return best;
}
