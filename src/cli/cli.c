/*
 * cli.c - shared front-end plumbing (see cli.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "qb/catalog.h"
#include "qb/fsutil.h"
#include "qb/lock.h"
#include "qb/log.h"
#include "qb/run.h"

static void clear_line(struct cli *c)
{
	if (c->line_open) {
		fputs("\r\033[K", stderr);
		c->line_open = false;
	}
}

void cli_line(FILE *f, const char *fmt, ...)
{
	char raw[4096], line[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	qb_printable(line, sizeof(line), raw);
	fprintf(f, "%s\n", line);
}

/* msg has been through qb_printable() in qb_log(). */
static void sink(void *ud, enum qb_level level, const char *msg)
{
	struct cli *c = ud;
	char when[40];
	struct tm tm;
	time_t now = time(NULL);

	clear_line(c);
	localtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S%z", &tm);
	fprintf(stderr, "%s %-5s %s\n", when, qb_level_name(level), msg);
}

static void eta(char *buf, size_t len, double seconds)
{
	long s = (long)(seconds + 0.5);

	if (s >= 3600)
		snprintf(buf, len, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
	else
		snprintf(buf, len, "%ld:%02ld", s / 60, s % 60);
}

static void progress(void *ud, const struct qb_progress *p)
{
	struct cli *c = ud;
	char done[QB_SIZE_STR_MAX], rate[QB_SIZE_STR_MAX], left[32] = "";
	double bps = p->elapsed > 0 ? (double)p->bytes_done / p->elapsed : 0;

	if (!c->tty || c->verbosity == 0)
		return;
	qb_format_size(p->bytes_done, done, sizeof(done));
	qb_format_size((uint64_t)bps, rate, sizeof(rate));
	if (p->bytes_total > p->bytes_done && bps > 0) {
		char t[24];
		eta(t, sizeof(t), (double)(p->bytes_total - p->bytes_done) / bps);
		snprintf(left, sizeof(left), ", ETA %s", t);
	}
	if (p->items_total)
		fprintf(stderr, "\r\033[K%s: %" PRIu64 "/%" PRIu64 ", %s, %s/s%s", p->step, p->items_done,
			p->items_total, done, rate, left);
	else
		fprintf(stderr, "\r\033[K%s: %" PRIu64 " done, %s, %s/s", p->step, p->items_done, done, rate);
	c->line_open = true;
	if (p->final)
		clear_line(c);
	fflush(stderr);
}

void cli_init(struct cli *c, const char *prog)
{
	memset(c, 0, sizeof(*c));
	umask(077);
	/* What was done (standard output) and the log (standard error) stay in
	 * order in one file, for cron's log and a restore's transcript. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	c->prog = prog;
	c->verbosity = 1;
	c->tty = isatty(STDERR_FILENO);
	c->progress.fn = progress;
	c->progress.ud = c;
	qb_log_set_sink(sink, c, QB_LOG_INFO);
}

void cli_set_verbosity(struct cli *c, int verbosity)
{
	c->verbosity = verbosity;
	qb_log_set_sink(sink, c, verbosity == 0 ? QB_LOG_WARN : verbosity == 1 ? QB_LOG_INFO : QB_LOG_DEBUG);
}

/* A key nothing reads: the setting it meant keeps its default, so say so. */
static void warn_unknown(void *ud, const char *key, int line)
{
	const struct cli *c = ud;
	const char *near = qb_config_key_suggest(key);
	const char *file = qb_config_path(c->cfg);

	if (!strncmp(key, "PG", 2) && key[2] >= 'A' && key[2] <= 'Z')
		qb_log(QB_LOG_WARN, "%s:%d: %s is ignored: libpq reads it from the environment "
		       "only (put the setting in DATABASE_URL)", file, line, key);
	else
		qb_log(QB_LOG_WARN, "%s:%d: unknown setting %s is ignored%s%s%s", file, line, key,
		       near ? " (did you mean " : "", near ? near : "", near ? "?)" : "");
}

bool cli_load_config(struct cli *c, const char *path)
{
	struct qb_err err = { 0 };

	if (qb_config_load(&c->cfg, path, &err)) {
		cli_line(stderr, "%s: %s", c->prog, err.msg);
		return false;
	}
	qb_config_each_unknown(c->cfg, warn_unknown, c);
	c->no_config_file = !path && access(QB_CONFIG_DEFAULT_PATH, F_OK) != 0 && errno == ENOENT;
	return true;
}

void cli_done(struct cli *c)
{
	clear_line(c);
	qb_config_free(c->cfg);
	c->cfg = NULL;
	qb_log_set_sink(NULL, NULL, QB_LOG_INFO);
}

int cli_exit_for(int code)
{
	switch (code) {
	case QB_OK:           return EXIT_OK;
	case QB_EARG:         return EXIT_USAGE;
	case QB_ECONFIG:      return EXIT_CONFIG;
	case QB_ELOCKED:      return EXIT_LOCKED;
	case QB_EREFUSED:     return EXIT_REFUSED;
	case QB_ECORRUPT:     return EXIT_CORRUPT;
	case QB_ENOTFOUND:    return EXIT_NOTFOUND;
	default:              return EXIT_FAILED;
	}
}

int cli_fail(struct cli *c, const struct qb_err *err)
{
	clear_line(c);
	cli_line(stderr, "%s: %s", c->prog, err->msg[0] ? err->msg : qb_code_text(err->code));
	/* A config file in another place, forgotten: the settings then are the
	 * defaults, and the error above may be only their consequence. */
	if (c->no_config_file)
		cli_line(stderr, "%s: note: no configuration file was read (%s does not exist), "
			 "only the environment: if the file is elsewhere, give --config FILE",
			 c->prog, QB_CONFIG_DEFAULT_PATH);
	return cli_exit_for(err->code);
}

bool cli_confirm(struct cli *c, const char *question, bool yes, struct qb_err *err)
{
	char answer[16], shown[3072];
	FILE *tty;

	if (yes)
		return true;
	if (!isatty(STDIN_FILENO)) {
		qb_err_set(err, QB_EREFUSED, "%s: no terminal to confirm on; run again with --yes to proceed",
			   question);
		return false;
	}
	clear_line(c);
	tty = stderr;
	qb_printable(shown, sizeof(shown), question);
	fprintf(tty, "%s [y/N] ", shown);
	fflush(tty);
	if (!fgets(answer, sizeof(answer), stdin) || (answer[0] != 'y' && answer[0] != 'Y')) {
		qb_err_set(err, QB_EREFUSED, "not confirmed; nothing was changed");
		return false;
	}
	return true;
}

int cli_list(struct cli *c, bool json)
{
	struct qb_catalog *cat = NULL;
	struct qb_err err = { 0 };
	char *text = NULL;
	int rc = qb_catalog_scan(&cat, qb_backup_dir(c->cfg), &err);

	if (!rc)
		qb_catalog_warn_unreadable(cat);
	if (!rc)
		rc = json ? qb_catalog_json(cat, NULL, &text, &err) : qb_catalog_table(cat, NULL, &text, &err);
	qb_catalog_free(cat);
	if (rc)
		return cli_fail(c, &err);
	fputs(text, stdout);
	if (json)
		fputc('\n', stdout);
	free(text);
	return EXIT_OK;
}

/*
 * qrestore and qbackup verify read backups that a run's rotation or the
 * server's DELETE could remove under them (a snapshot walked by --minio
 * --delete, or read by verify, say): they take the run lock too.  Nothing to
 * guard without a BACKUP_DIR (a dump brought from elsewhere) or without a
 * lock file (no run ever started there; a reader, maybe run as root, never
 * creates it, or the backup user's runs could no longer open it).  A lock file
 * it may not open (a read-only copy of the backups) is worth a warning, not a
 * refusal.
 */
int cli_lock_reader(struct cli *c, const char *what, const char *again, struct qb_lock **lk,
		    struct qb_err *why)
{
	const char *dir = qb_backup_dir(c->cfg);
	struct qb_err err = { 0 };
	struct stat st;
	char *file;
	bool have;

	*lk = NULL;
	if (!dir || stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return EXIT_OK;
	file = qb_path_join(dir, QB_LOCK_NAME);
	have = file && lstat(file, &st) == 0;
	free(file);
	if (!have)
		return EXIT_OK;
	if (qb_lock_acquire(lk, dir, what, &err)) {
		if (err.sys_errno == EACCES || err.sys_errno == EROFS || err.sys_errno == EPERM) {
			qb_log(QB_LOG_WARN, "going on without the run lock: %s", err.msg);
			return EXIT_OK;
		}
		if (err.code == QB_ELOCKED) {
			char held[sizeof(err.msg)];
			snprintf(held, sizeof(held), "%s", err.msg);
			qb_err_set(&err, QB_ELOCKED, "%s: wait for it to end, then %s", held, again);
		}
		if (why)
			*why = err;
		return cli_fail(c, &err);
	}
	return EXIT_OK;
}
