/*
 * config.h - settings from the environment and a KEY=value file.
 *
 * Keys are read from the environment first, then from the file: the
 * environment wins.  The file is `--config FILE` when given, else
 * /etc/qbackup/qbackup.conf when it exists.  Its syntax is that of a systemd
 * EnvironmentFile: `KEY=value` lines, `#` or `;` comments, optional
 * `export ` prefix, values optionally in single or double quotes (double
 * quotes honour \" \\ \n \t escapes).
 *
 *	struct qb_config *cfg;
 *	if (qb_config_load(&cfg, path_or_NULL, &err)) ...;
 *	const char *dir = qb_config_get(cfg, "BACKUP_DIR", "/opt/backups/moncabinet");
 *	qb_config_free(cfg);
 */
#ifndef QB_CONFIG_H
#define QB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "qb/error.h"

#define QB_CONFIG_DEFAULT_PATH "/etc/qbackup/qbackup.conf"
#define QB_DEFAULT_BACKUP_DIR  "/opt/backups/moncabinet"

struct qb_config;

/* path NULL: the default file if it exists, else environment only. */
int qb_config_load(struct qb_config **out, const char *path, struct qb_err *err);
/* Parse file-format text (used by load and by the tests). */
int qb_config_parse(struct qb_config *cfg, const char *text, const char *origin,
		    struct qb_err *err);
struct qb_config *qb_config_new(void);
void qb_config_free(struct qb_config *cfg);

/* Set a value (overrides file values; the environment still wins unless
 * `force`).  Used by front ends for command-line overrides. */
int qb_config_set(struct qb_config *cfg, const char *key, const char *value, bool force);

/* Borrowed string, valid until cfg is freed; def when unset or empty. */
const char *qb_config_get(const struct qb_config *cfg, const char *key, const char *def);
int qb_config_get_long(const struct qb_config *cfg, const char *key, long def,
		       long min, long max, long *out, struct qb_err *err);
int qb_config_get_bool(const struct qb_config *cfg, const char *key, bool def,
		       bool *out, struct qb_err *err);
/* Which file was read, or NULL. */
const char *qb_config_path(const struct qb_config *cfg);

/* The keys of the file that no part of qbackup reads (a typo, most likely:
 * the setting then keeps its default), in file order, each with its line. */
typedef void (*qb_config_unknown_fn)(void *ud, const char *key, int line);
void qb_config_each_unknown(const struct qb_config *cfg, qb_config_unknown_fn fn, void *ud);
/* Is key one that qbackup or qrestore reads? */
bool qb_config_key_known(const char *key);
/* The known key one or two typing slips away from key, or NULL. */
const char *qb_config_key_suggest(const char *key);
/* The i-th known key; NULL past the last. */
const char *qb_config_known_key(size_t i);

/* True for keys whose values must never be logged (passwords, keys, tokens). */
bool qb_config_key_is_secret(const char *key);

#endif
