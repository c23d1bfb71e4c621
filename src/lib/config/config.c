/*
 * config.c - environment + EnvironmentFile-style configuration.
 *
 * The file is small (a few dozen keys), so values live in a flat array and
 * lookups are linear.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "qb/array.h"
#include "qb/buf.h"
#include "qb/config.h"

#define CONFIG_FILE_MAX (1 << 20)

struct entry {
	char *key;
	char *value;
	bool force;     /* set by the command line: wins over the environment */
	int line;       /* where the file set it; 0: set by a front end */
};

struct qb_config {
	struct entry *v;
	size_t n, cap;
	char *path;
};

struct qb_config *qb_config_new(void)
{
	return calloc(1, sizeof(struct qb_config));
}

void qb_config_free(struct qb_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->n; i++) {
		free(cfg->v[i].key);
		if (cfg->v[i].value)
			explicit_bzero(cfg->v[i].value, strlen(cfg->v[i].value));
		free(cfg->v[i].value);
	}
	free(cfg->v);
	free(cfg->path);
	free(cfg);
}

static struct entry *find(const struct qb_config *cfg, const char *key)
{
	for (size_t i = 0; i < cfg->n; i++)
		if (strcmp(cfg->v[i].key, key) == 0)
			return &cfg->v[i];
	return NULL;
}

/* Set key (line: where the file set it, 0 for a front end); NULL when out of memory. */
static struct entry *put(struct qb_config *cfg, const char *key, const char *value, bool force,
			 int line)
{
	struct entry *e = find(cfg, key);
	char *copy = strdup(value ? value : "");

	if (!copy)
		return NULL;
	if (!e) {
		if (qb_array_grow(&cfg->v, &cfg->cap, cfg->n + 1, sizeof(*cfg->v), 32)) {
			free(copy);
			return NULL;
		}
		e = &cfg->v[cfg->n];
		e->key = strdup(key);
		if (!e->key) {
			free(copy);
			return NULL;
		}
		e->value = NULL;
		cfg->n++;
	}
	free(e->value);
	e->value = copy;
	e->force = force;
	e->line = line;
	return e;
}

int qb_config_set(struct qb_config *cfg, const char *key, const char *value, bool force)
{
	return put(cfg, key, value, force, 0) ? QB_OK : QB_ENOMEM;
}

static bool valid_key(const char *k, size_t n)
{
	if (n == 0 || !(isalpha((unsigned char)k[0]) || k[0] == '_'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(isalnum((unsigned char)k[i]) || k[i] == '_'))
			return false;
	return true;
}

/* Parse one value starting at p (after '='), into out; returns end of line. */
static const char *parse_value(const char *p, struct qb_buf *out, int *bad)
{
	while (*p == ' ' || *p == '\t')
		p++;
	while (*p && *p != '\n') {
		if (*p == '"') {
			for (p++; *p && *p != '"'; p++) {
				char c = *p;
				if (c == '\\' && p[1]) {
					p++;
					c = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
				}
				if (qb_buf_append(out, &c, 1, NULL))
					*bad = 1;
			}
			if (*p != '"') {
				*bad = 1;
				return p;
			}
			p++;
		} else if (*p == '\'') {
			const char *q = strchr(p + 1, '\'');
			if (!q) {
				*bad = 1;
				return p + strlen(p);
			}
			if (qb_buf_append(out, p + 1, (size_t)(q - p - 1), NULL))
				*bad = 1;
			p = q + 1;
		} else if ((*p == ' ' || *p == '\t') ) {
			/* Trailing blanks and a trailing comment end an unquoted value. */
			const char *q = p;
			while (*q == ' ' || *q == '\t')
				q++;
			if (*q == '\n' || *q == '\0' || *q == '#') {
				p = q;
				while (*p && *p != '\n')
					p++;
				break;
			}
			if (qb_buf_append(out, p, (size_t)(q - p), NULL))
				*bad = 1;
			p = q;
		} else if (*p == '\\' && p[1] == '\n') {
			p += 2;  /* line continuation */
		} else {
			if (qb_buf_append(out, p, 1, NULL))
				*bad = 1;
			p++;
		}
	}
	return p;
}

int qb_config_parse(struct qb_config *cfg, const char *text, const char *origin,
		    struct qb_err *err)
{
	const char *p = text;
	int line = 0;

	while (*p) {
		const char *key, *eq;
		struct qb_buf val;
		int bad = 0;

		line++;
		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		if (*p == '\n') {
			p++;
			continue;
		}
		if (*p == '#' || *p == ';') {
			while (*p && *p != '\n')
				p++;
			if (*p)
				p++;
			continue;
		}
		if (strncmp(p, "export ", 7) == 0)
			p += 7;
		key = p;
		eq = p;
		while (*eq && *eq != '=' && *eq != '\n')
			eq++;
		if (*eq != '=') {
			return qb_err_set(err, QB_ECONFIG, "%s:%d: expected KEY=value", origin, line);
		}
		{
			const char *kend = eq;
			while (kend > key && (kend[-1] == ' ' || kend[-1] == '\t'))
				kend--;
			if (!valid_key(key, (size_t)(kend - key)))
				return qb_err_set(err, QB_ECONFIG, "%s:%d: invalid key", origin, line);
			qb_buf_init(&val, 64 * 1024);
			p = parse_value(eq + 1, &val, &bad);
			if (bad) {
				qb_buf_release(&val);
				return qb_err_set(err, QB_ECONFIG,
						  "%s:%d: unterminated quote or oversized value", origin, line);
			}
			/* Strip a trailing CR (files edited on Windows). */
			if (val.len && val.data[val.len - 1] == '\r')
				val.data[--val.len] = '\0';
			{
				char *k = qb_strndup(key, (size_t)(kend - key));
				bool ok = k && put(cfg, k, val.data ? val.data : "", false, line);
				free(k);
				qb_buf_release(&val);
				if (!ok)
					return qb_err_set(err, QB_ENOMEM, "out of memory reading %s", origin);
			}
		}
		if (*p == '\n')
			p++;
	}
	return QB_OK;
}

static int read_file(const char *path, char **out, struct qb_err *err)
{
	struct qb_buf b;
	char chunk[8192];
	size_t n;
	FILE *f = fopen(path, "re");

	if (!f)
		return qb_err_sys(err, errno == ENOENT ? QB_ENOTFOUND : QB_ECONFIG, errno,
				  "unable to open config file '%s'", path);
	qb_buf_init(&b, CONFIG_FILE_MAX);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (qb_buf_append(&b, chunk, n, err)) {
			fclose(f);
			qb_buf_release(&b);
			return qb_err_set(err, QB_ECONFIG, "config file '%s' is too large", path);
		}
	}
	if (ferror(f)) {
		int e = errno;
		fclose(f);
		qb_buf_release(&b);
		return qb_err_sys(err, QB_ECONFIG, e, "unable to read config file '%s'", path);
	}
	fclose(f);
	*out = qb_buf_detach(&b);
	return QB_OK;
}

int qb_config_load(struct qb_config **out, const char *path, struct qb_err *err)
{
	struct qb_config *cfg = qb_config_new();
	const char *file = path;
	char *text = NULL;
	int rc = QB_OK;

	*out = NULL;
	if (!cfg)
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	if (!file) {
		struct stat st;
		if (stat(QB_CONFIG_DEFAULT_PATH, &st) == 0)
			file = QB_CONFIG_DEFAULT_PATH;
	}
	if (file) {
		rc = read_file(file, &text, err);
		if (!rc)
			rc = qb_config_parse(cfg, text, file, err);
		if (text)
			explicit_bzero(text, strlen(text));
		free(text);
		if (!rc && !(cfg->path = strdup(file)))
			rc = qb_err_set(err, QB_ENOMEM, "out of memory");
	}
	if (rc) {
		qb_config_free(cfg);
		return rc;
	}
	*out = cfg;
	return QB_OK;
}

const char *qb_config_get(const struct qb_config *cfg, const char *key, const char *def)
{
	const struct entry *e = cfg ? find(cfg, key) : NULL;
	const char *env;

	if (e && e->force && e->value[0])
		return e->value;
	env = getenv(key);
	if (env && env[0])
		return env;
	if (e && e->value[0])
		return e->value;
	return def;
}

int qb_config_get_long(const struct qb_config *cfg, const char *key, long def,
		       long min, long max, long *out, struct qb_err *err)
{
	const char *s = qb_config_get(cfg, key, NULL);
	char *end;
	long v;

	if (!s) {
		*out = def;
		return QB_OK;
	}
	errno = 0;
	v = strtol(s, &end, 10);
	while (*end == ' ')
		end++;
	if (errno || end == s || *end || v < min || v > max)
		return qb_err_set(err, QB_ECONFIG, "%s must be a whole number from %ld to %ld, not '%s'",
				  key, min, max, qb_config_key_is_secret(key) ? "***" : s);
	*out = v;
	return QB_OK;
}

int qb_config_get_bool(const struct qb_config *cfg, const char *key, bool def,
		       bool *out, struct qb_err *err)
{
	const char *s = qb_config_get(cfg, key, NULL);

	if (!s) {
		*out = def;
		return QB_OK;
	}
	if (!strcasecmp(s, "1") || !strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcasecmp(s, "on"))
		*out = true;
	else if (!strcasecmp(s, "0") || !strcasecmp(s, "false") || !strcasecmp(s, "no") || !strcasecmp(s, "off"))
		*out = false;
	else
		return qb_err_set(err, QB_ECONFIG, "%s must be true or false, not '%s'", key,
				  qb_config_key_is_secret(key) ? "***" : s);
	return QB_OK;
}

void qb_config_each_unknown(const struct qb_config *cfg, qb_config_unknown_fn fn, void *ud)
{
	for (size_t i = 0; cfg && i < cfg->n; i++)
		if (cfg->v[i].line && !qb_config_key_known(cfg->v[i].key))
			fn(ud, cfg->v[i].key, cfg->v[i].line);
}

const char *qb_config_path(const struct qb_config *cfg)
{
	return cfg ? cfg->path : NULL;
}

bool qb_config_key_is_secret(const char *key)
{
	static const char *const words[] = { "PASSWORD", "SECRET", "TOKEN", "API_KEY", "DATABASE_URL", NULL };

	for (int i = 0; words[i]; i++)
		if (strstr(key, words[i]))
			return true;
	return false;
}
