/*
 * metrics.c - BACKUP_METRICS_FILE in Prometheus text format (see metrics.h).
 *
 * Numbers are formatted and parsed by hand (integers, and durations as
 * milliseconds printed with three decimals): printf("%f") and strtod follow
 * LC_NUMERIC, and a decimal comma would make the whole file unreadable to
 * node_exporter.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qb/buf.h"
#include "qb/fsutil.h"
#include "qb/log.h"
#include "qb/metrics.h"

#define FILE_MAX (256u << 10)
#define KIND_MAX 32

struct kstate {
	char kind[KIND_MAX];
	bool success;            /* a last success is known */
	uint64_t success_ts, success_ms, size;
	bool attempt;            /* a last attempt is known */
	uint64_t attempt_ts;
	bool attempt_ok;
};

struct table {
	struct kstate k[QB_METRICS_MAX_KINDS];
	size_t n;
};

enum field { F_SUCCESS_TS, F_SUCCESS_DUR, F_SIZE, F_ATTEMPT_TS, F_ATTEMPT_OK };

static const struct {
	const char *name;
	enum field field;
	const char *help;
} per_kind[] = {
	{ "qbackup_last_success_timestamp_seconds", F_SUCCESS_TS,
	  "End of the last successful backup of this kind (Unix time)." },
	{ "qbackup_last_success_duration_seconds", F_SUCCESS_DUR,
	  "Duration of the last successful backup of this kind." },
	{ "qbackup_last_success_size_bytes", F_SIZE,
	  "Size of the last successful backup of this kind." },
	{ "qbackup_last_attempt_timestamp_seconds", F_ATTEMPT_TS,
	  "End of the last attempt at this kind (Unix time)." },
	{ "qbackup_last_attempt_success", F_ATTEMPT_OK,
	  "1 when the last attempt at this kind succeeded, else 0." },
};
#define NFIELDS (sizeof(per_kind) / sizeof(per_kind[0]))

static bool kind_ok(const char *s, size_t n)
{
	if (n == 0 || n >= KIND_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return true;
}

static struct kstate *slot(struct table *t, const char *kind, size_t n)
{
	for (size_t i = 0; i < t->n; i++) {
		if (strlen(t->k[i].kind) == n && !strncmp(t->k[i].kind, kind, n))
			return &t->k[i];
	}
	if (t->n == QB_METRICS_MAX_KINDS)
		return NULL;
	memset(&t->k[t->n], 0, sizeof(t->k[t->n]));
	memcpy(t->k[t->n].kind, kind, n);
	return &t->k[t->n++];
}

/* "123" or "123.4": value in thousandths.  False on anything else. */
static bool parse_milli(const char *s, const char *end, uint64_t *out)
{
	uint64_t v = 0, frac = 0;
	int digits = 0, fd = 0;

	for (; s < end && *s >= '0' && *s <= '9'; s++, digits++) {
		if (v > UINT64_MAX / 10000)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (s < end && *s == '.') {
		for (s++; s < end && *s >= '0' && *s <= '9'; s++) {
			if (fd < 3) {
				frac = frac * 10 + (uint64_t)(*s - '0');
				fd++;
			}
		}
	}
	if (!digits || s != end)
		return false;
	while (fd++ < 3)
		frac *= 10;
	*out = v * 1000 + frac;
	return true;
}

static void set_field(struct kstate *k, enum field f, uint64_t milli)
{
	switch (f) {
	case F_SUCCESS_TS:  k->success = true; k->success_ts = milli / 1000; break;
	case F_SUCCESS_DUR: k->success = true; k->success_ms = milli; break;
	case F_SIZE:        k->success = true; k->size = milli / 1000; break;
	case F_ATTEMPT_TS:  k->attempt = true; k->attempt_ts = milli / 1000; break;
	case F_ATTEMPT_OK:  k->attempt = true; k->attempt_ok = milli >= 1000; break;
	}
}

/* One line of a previous file: `name{kind="x"} value`; anything else is skipped. */
static void parse_line(struct table *t, const char *line, const char *end)
{
	for (size_t f = 0; f < NFIELDS; f++) {
		size_t ln = strlen(per_kind[f].name);
		const char *kind, *q, *val;
		struct kstate *k;
		uint64_t milli;

		if ((size_t)(end - line) <= ln + 8 || strncmp(line, per_kind[f].name, ln) ||
		    strncmp(line + ln, "{kind=\"", 7))
			continue;
		kind = line + ln + 7;
		q = memchr(kind, '"', (size_t)(end - kind));
		if (!q || end - q < 3 || q[1] != '}' || q[2] != ' ' ||
		    !kind_ok(kind, (size_t)(q - kind)))
			return;
		val = q + 3;
		if (!parse_milli(val, end, &milli) || !(k = slot(t, kind, (size_t)(q - kind))))
			return;
		set_field(k, per_kind[f].field, milli);
		return;
	}
}

static void read_previous(const char *path, struct table *t)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct qb_buf b;
	struct qb_err err = { 0 };
	char chunk[8192];
	ssize_t n;

	if (fd < 0)
		return;
	qb_buf_init(&b, FILE_MAX);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		if (qb_buf_append(&b, chunk, (size_t)n, &err)) {
			qb_log(QB_LOG_WARN, "ignoring the previous metrics in '%s': %s", path,
			       err.msg);
			qb_buf_release(&b);
			close(fd);
			return;
		}
	}
	close(fd);
	for (const char *line = b.data; line && *line;) {
		const char *nl = strchr(line, '\n');
		const char *end = nl ? nl : line + strlen(line);
		if (*line != '#')
			parse_line(t, line, end);
		line = nl ? nl + 1 : end;
	}
	qb_buf_release(&b);
}

static uint64_t to_ms(double seconds)
{
	return seconds > 0 ? (uint64_t)(seconds * 1000.0 + 0.5) : 0;
}

static int apply_run(struct table *t, const struct qb_metrics_run *run, uint64_t now,
		     struct qb_err *err)
{
	for (size_t i = 0; i < run->nsteps; i++) {
		const struct qb_metrics_step *s = &run->steps[i];
		struct kstate *k;

		if (!s->kind || !kind_ok(s->kind, strlen(s->kind)))
			return qb_err_set(err, QB_EARG, "invalid metrics kind '%s'",
					  s->kind ? s->kind : "(null)");
		k = slot(t, s->kind, strlen(s->kind));
		if (!k)
			return qb_err_set(err, QB_EARG, "too many metrics kinds");
		k->attempt = true;
		k->attempt_ts = now;
		k->attempt_ok = s->ok;
		if (s->ok) {
			k->success = true;
			k->success_ts = now;
			k->success_ms = to_ms(s->duration);
			k->size = s->bytes;
		}
	}
	return QB_OK;
}

static int put_kind_value(struct qb_buf *b, const char *name, const struct kstate *k,
			  enum field f, struct qb_err *err)
{
	uint64_t v = 0;

	switch (f) {
	case F_SUCCESS_TS: v = k->success_ts; break;
	case F_SIZE:       v = k->size; break;
	case F_ATTEMPT_TS: v = k->attempt_ts; break;
	case F_ATTEMPT_OK: v = k->attempt_ok; break;
	case F_SUCCESS_DUR:
		return qb_buf_printf(b, err, "%s{kind=\"%s\"} %" PRIu64 ".%03u\n", name, k->kind,
				     k->success_ms / 1000, (unsigned)(k->success_ms % 1000));
	}
	return qb_buf_printf(b, err, "%s{kind=\"%s\"} %" PRIu64 "\n", name, k->kind, v);
}

static int render(struct qb_buf *b, const struct table *t, const struct qb_metrics_run *run,
		  uint64_t now, struct qb_err *err)
{
	uint64_t ms = to_ms(run->duration);
	int rc = qb_buf_printf(b, err,
		"# HELP qbackup_last_run_timestamp_seconds End of the last run (Unix time).\n"
		"# TYPE qbackup_last_run_timestamp_seconds gauge\n"
		"qbackup_last_run_timestamp_seconds %" PRIu64 "\n"
		"# HELP qbackup_last_run_duration_seconds Duration of the last qbackup run.\n"
		"# TYPE qbackup_last_run_duration_seconds gauge\n"
		"qbackup_last_run_duration_seconds %" PRIu64 ".%03u\n"
		"# HELP qbackup_last_run_success 1 when the last qbackup run succeeded, else 0.\n"
		"# TYPE qbackup_last_run_success gauge\n"
		"qbackup_last_run_success %d\n",
		now, ms / 1000, (unsigned)(ms % 1000), run->ok);

	for (size_t f = 0; !rc && f < NFIELDS; f++) {
		bool any = false;
		for (size_t i = 0; i < t->n; i++) {
			const struct kstate *k = &t->k[i];
			bool has = per_kind[f].field >= F_ATTEMPT_TS ? k->attempt : k->success;
			if (!has)
				continue;
			if (!any)
				rc = qb_buf_printf(b, err, "# HELP %s %s\n# TYPE %s gauge\n",
						   per_kind[f].name, per_kind[f].help,
						   per_kind[f].name);
			any = true;
			if (!rc)
				rc = put_kind_value(b, per_kind[f].name, k, per_kind[f].field, err);
		}
	}
	return rc;
}

/*
 * Like qb_afile_commit, but replacing the previous file (qb_afile refuses to
 * overwrite, which is right for backups and wrong for a file rewritten on
 * every run) and readable by all: node_exporter's textfile collector
 * usually runs as its own user and must read it; it holds no secret.
 */
static int commit_replace(struct qb_afile *f, struct qb_err *err)
{
	if (fchmod(f->fd, 0644) < 0)
		return qb_err_sys(err, QB_EIO, errno, "unable to set the mode of '%s'", f->tmp);
	if (fsync(f->fd) < 0)
		return qb_err_sys(err, QB_EIO, errno, "unable to fsync '%s'", f->tmp);
	if (rename(f->tmp, f->final) < 0)
		return qb_err_sys(err, QB_EIO, errno, "unable to rename into '%s'", f->final);
	free(f->tmp);
	f->tmp = NULL;        /* renamed: abort must not unlink it */
	return qb_fsync_dir(f->dir, err);
}

int qb_metrics_write(const char *path, const struct qb_metrics_run *run, struct qb_err *err)
{
	struct table t = { .n = 0 };
	struct qb_afile f = { .fd = -1 };
	struct qb_buf b;
	const char *slash = path ? strrchr(path, '/') : NULL;
	char *dir = NULL;
	uint64_t now = run->finished > 0 ? (uint64_t)run->finished : (uint64_t)time(NULL);
	int rc;

	if (!path || !path[0] || (slash && !slash[1]))
		return qb_err_set(err, QB_EARG, "invalid metrics file name '%s'", path ? path : "");
	dir = slash ? (slash == path ? qb_strdup("/") : qb_strndup(path, (size_t)(slash - path)))
		    : qb_strdup(".");
	if (!dir)
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	qb_buf_init(&b, FILE_MAX);
	read_previous(path, &t);
	rc = apply_run(&t, run, now, err);
	if (!rc)
		rc = render(&b, &t, run, now, err);
	if (!rc)
		rc = qb_afile_open(&f, dir, slash ? slash + 1 : path, err);
	if (!rc)
		rc = qb_afile_write(&f, b.data, b.len, err);
	if (!rc)
		rc = commit_replace(&f, err);
	if (rc)
		qb_err_prefix(err, "writing the metrics file '%s'", path);
	qb_afile_abort(&f);
	qb_buf_release(&b);
	free(dir);
	return rc;
}
