/*
 * manifest.c - writing and reading run manifests with cJSON.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>

#include "qb/buf.h"
#include "qb/catalog.h"
#include "qb/fsutil.h"
#include "qb/log.h"
#include "qb/manifest.h"

#define MANIFEST_MAX (64u << 20)

struct qb_manifest {
	cJSON *root;
	cJSON *artifacts;
	cJSON *errors;
	cJSON *last;
	char stamp[QB_STAMP_LEN + 1];
};

static void iso_time(time_t t, char *buf, size_t len)
{
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%S%z", &tm);
}

struct qb_manifest *qb_manifest_new(const char *stamp, time_t started)
{
	struct qb_manifest *m = calloc(1, sizeof(*m));
	char host[256] = "", when[40];

	if (!m)
		return NULL;
	snprintf(m->stamp, sizeof(m->stamp), "%s", stamp);
	gethostname(host, sizeof(host) - 1);
	iso_time(started, when, sizeof(when));
	m->root = cJSON_CreateObject();
	if (!m->root || !cJSON_AddStringToObject(m->root, "tool", "qbackup") ||
	    !cJSON_AddStringToObject(m->root, "version", QB_VERSION) ||
	    !cJSON_AddStringToObject(m->root, "stamp", stamp) ||
	    !cJSON_AddStringToObject(m->root, "host", host) ||
	    !cJSON_AddStringToObject(m->root, "started", when) ||
	    !(m->artifacts = cJSON_AddArrayToObject(m->root, "artifacts")) ||
	    !(m->errors = cJSON_AddArrayToObject(m->root, "errors"))) {
		qb_manifest_free(m);
		return NULL;
	}
	return m;
}

void qb_manifest_free(struct qb_manifest *m)
{
	if (!m)
		return;
	cJSON_Delete(m->root);
	free(m);
}

int qb_manifest_add_artifact(struct qb_manifest *m, const char *kind, const char *name, uint64_t size,
			     const char *sha256, double seconds, struct qb_err *err)
{
	cJSON *a = cJSON_CreateObject();

	if (!a || !cJSON_AddStringToObject(a, "kind", kind) || !cJSON_AddStringToObject(a, "name", name) ||
	    !cJSON_AddNumberToObject(a, "size", (double)size) ||
	    (sha256 && sha256[0] && !cJSON_AddStringToObject(a, "sha256", sha256)) ||
	    !cJSON_AddNumberToObject(a, "seconds", seconds)) {
		cJSON_Delete(a);
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	}
	cJSON_AddItemToArray(m->artifacts, a);
	m->last = a;
	return QB_OK;
}

int qb_manifest_set_count(struct qb_manifest *m, const char *key, uint64_t value, struct qb_err *err)
{
	if (!m->last)
		return qb_err_set(err, QB_EINTERNAL, "no artifact to annotate");
	cJSON_DeleteItemFromObject(m->last, key);
	if (!cJSON_AddNumberToObject(m->last, key, (double)value))
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	return QB_OK;
}

int qb_manifest_add_db(struct qb_manifest *m, const struct qb_db_dump_result *r, struct qb_err *err)
{
	const char *name = strrchr(r->path, '/');
	cJSON *tables;
	int rc = qb_manifest_add_artifact(m, "db", name ? name + 1 : r->path, r->bytes, r->sha256, r->seconds, err);

	if (rc)
		return rc;
	if (!cJSON_AddStringToObject(m->last, "database", r->database) ||
	    !cJSON_AddStringToObject(m->last, "server_version", r->server_version) ||
	    !cJSON_AddNumberToObject(m->last, "sql_bytes", (double)r->raw_bytes) ||
	    !cJSON_AddNumberToObject(m->last, "objects", (double)r->nobjects) ||
	    !(tables = cJSON_AddArrayToObject(m->last, "tables")))
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	for (size_t i = 0; i < r->ntables; i++) {
		cJSON *t = cJSON_CreateObject();
		if (!t || !cJSON_AddStringToObject(t, "name", r->tables[i].name) ||
		    !cJSON_AddNumberToObject(t, "rows", (double)r->tables[i].rows)) {
			cJSON_Delete(t);
			return qb_err_set(err, QB_ENOMEM, "out of memory");
		}
		cJSON_AddItemToArray(tables, t);
	}
	return QB_OK;
}

int qb_manifest_add_error(struct qb_manifest *m, const char *step, const char *message)
{
	cJSON *e = cJSON_CreateObject();
	char shown[4 * QB_ERRMSG_MAX];

	/* cJSON passes DEL, C1 controls and bad UTF-8 through: a key or a server's
	 * answer quoted in the message must not reach whoever displays the file. */
	qb_printable(shown, sizeof(shown), message);
	if (!e || !cJSON_AddStringToObject(e, "step", step) || !cJSON_AddStringToObject(e, "error", shown)) {
		cJSON_Delete(e);
		return QB_ENOMEM;
	}
	cJSON_AddItemToArray(m->errors, e);
	return QB_OK;
}

int qb_manifest_write(struct qb_manifest *m, const char *dir, time_t finished, struct qb_err *err)
{
	char when[40], name[64];
	struct qb_afile f;
	char *text;
	int rc;

	iso_time(finished, when, sizeof(when));
	cJSON_DeleteItemFromObject(m->root, "finished");
	cJSON_DeleteItemFromObject(m->root, "status");
	if (!cJSON_AddStringToObject(m->root, "finished", when) ||
	    !cJSON_AddStringToObject(m->root, "status", cJSON_GetArraySize(m->errors) ? "failed" : "ok"))
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	text = cJSON_Print(m->root);
	if (!text)
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	snprintf(name, sizeof(name), QB_MANIFEST_PREFIX "%s" QB_MANIFEST_SUFFIX, m->stamp);
	rc = qb_afile_open(&f, dir, name, err);
	if (!rc)
		rc = qb_afile_write(&f, text, strlen(text), err);
	if (!rc)
		rc = qb_afile_write(&f, "\n", 1, err);
	if (!rc)
		rc = qb_afile_commit(&f, err);
	qb_afile_abort(&f);
	cJSON_free(text);
	return rc;
}

static char *read_small(const char *path, struct qb_err *err)
{
	FILE *f = fopen(path, "re");
	struct qb_buf b;
	char chunk[65536], *text;
	size_t n;

	if (!f) {
		if (errno == ENOENT)
			qb_err_set(err, QB_ENOTFOUND, "no manifest '%s'", path);
		else
			qb_err_sys(err, QB_EIO, errno, "unable to open the manifest '%s'", path);
		return NULL;
	}
	qb_buf_init(&b, MANIFEST_MAX);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (qb_buf_append(&b, chunk, n, err)) {
			fclose(f);
			qb_buf_release(&b);
			return NULL;
		}
	if (ferror(f)) {
		qb_err_set(err, QB_EIO, "unable to read the manifest '%s'", path);
		fclose(f);
		qb_buf_release(&b);
		return NULL;
	}
	fclose(f);
	text = qb_buf_detach(&b);
	if (!text)
		qb_err_set(err, QB_ENOMEM, "out of memory");
	return text;
}

/* A whole number in [0, hi), hi at most 2^64: anything else (-1, 1e300, 2.5)
 * would be a wrong value, or undefined behaviour, once cast. */
static bool whole(const cJSON *n, double hi)
{
	return cJSON_IsNumber(n) && n->valuedouble >= 0 && n->valuedouble < hi &&
	       (double)(uint64_t)n->valuedouble == n->valuedouble;
}

static bool sha256_hex(const char *s)
{
	return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

/* Fill e from an entry's tables: QB_OK, QB_ECORRUPT (err untouched) when one
 * is malformed, or QB_ENOMEM. */
static int read_tables(const cJSON *tables, struct qb_manifest_entry *e, struct qb_err *err)
{
	const cJSON *t;

	if (!tables || (cJSON_IsArray(tables) && cJSON_GetArraySize(tables) == 0))
		return QB_OK;
	if (!cJSON_IsArray(tables))
		return QB_ECORRUPT;
	e->tables = calloc((size_t)cJSON_GetArraySize(tables), sizeof(*e->tables));
	if (!e->tables)
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	cJSON_ArrayForEach(t, tables) {
		cJSON *tn = cJSON_GetObjectItemCaseSensitive(t, "name");
		cJSON *tr = cJSON_GetObjectItemCaseSensitive(t, "rows");
		if (!cJSON_IsString(tn) || !whole(tr, 9223372036854775808.0))
			return QB_ECORRUPT;
		e->tables[e->ntables].name = strdup(tn->valuestring);
		if (!e->tables[e->ntables].name)
			return qb_err_set(err, QB_ENOMEM, "out of memory");
		e->tables[e->ntables++].rows = (int64_t)tr->valuedouble;
	}
	return QB_OK;
}

int qb_manifest_lookup(const char *dir, const char *name, struct qb_manifest_entry *e, struct qb_err *err)
{
	enum qb_kind kind;
	char stamp[QB_STAMP_LEN + 1], leaf[64];
	char *path, *text;
	cJSON *root, *arts, *a, *found = NULL;
	int rc = QB_ENOTFOUND;

	memset(e, 0, sizeof(*e));
	if (!qb_backup_parse_name(name, &kind, stamp))
		return qb_err_set(err, QB_EARG, "'%s' is not a backup name", name);
	snprintf(leaf, sizeof(leaf), QB_MANIFEST_PREFIX "%s" QB_MANIFEST_SUFFIX, stamp);
	path = qb_path_join(dir, leaf);
	if (!path)
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	text = read_small(path, err);
	free(path);
	if (!text)
		return err->code == QB_ENOTFOUND
			       ? qb_err_set(err, QB_ENOTFOUND, "no manifest for '%s'", name)
			       : err->code;
	root = cJSON_Parse(text);
	free(text);
	if (!root)
		return qb_err_set(err, QB_ECORRUPT, "the manifest %s is not valid JSON", leaf);
	arts = cJSON_GetObjectItemCaseSensitive(root, "artifacts");
	cJSON_ArrayForEach(a, arts) {
		cJSON *n = cJSON_GetObjectItemCaseSensitive(a, "name");
		if (!cJSON_IsString(n) || strcmp(n->valuestring, name) != 0)
			continue;
		if (found) {
			/* Two answers: neither can be trusted. */
			rc = qb_err_set(err, QB_ECORRUPT, "the manifest %s lists '%s' twice", leaf, name);
			goto out;
		}
		found = a;
	}
	if (found) {
		cJSON *k = cJSON_GetObjectItemCaseSensitive(found, "kind");
		cJSON *s = cJSON_GetObjectItemCaseSensitive(found, "size");
		cJSON *h = cJSON_GetObjectItemCaseSensitive(found, "sha256");

		/* What the writer wrote, or the file was damaged or forged: a SHA-256
		 * cut to fit, or a size cast from -1, would be a wrong answer. */
		if (!cJSON_IsString(k) || strcmp(k->valuestring, qb_kind_name(kind)) ||
		    !whole(s, 18446744073709551616.0) ||
		    (h && (!cJSON_IsString(h) || !sha256_hex(h->valuestring))))
			rc = QB_ECORRUPT;
		else
			rc = read_tables(cJSON_GetObjectItemCaseSensitive(found, "tables"), e, err);
		if (rc == QB_ECORRUPT)
			qb_err_set(err, QB_ECORRUPT, "the manifest %s has a damaged entry for '%s'",
				   leaf, name);
		if (rc)
			goto out;
		snprintf(e->name, sizeof(e->name), "%s", name);
		snprintf(e->kind, sizeof(e->kind), "%s", k->valuestring);
		e->size = (uint64_t)s->valuedouble;
		if (h)
			memcpy(e->sha256, h->valuestring, sizeof(e->sha256));
	}
out:
	cJSON_Delete(root);
	if (rc == QB_ENOTFOUND)
		qb_err_set(err, QB_ENOTFOUND, "the manifest %s does not list '%s'", leaf, name);
	if (rc && rc != QB_ENOTFOUND)
		qb_manifest_entry_release(e);
	return rc;
}

void qb_manifest_entry_release(struct qb_manifest_entry *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->ntables; i++)
		free(e->tables[i].name);
	free(e->tables);
	memset(e, 0, sizeof(*e));
}
