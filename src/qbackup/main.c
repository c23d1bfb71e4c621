/*
 * qbackup - back up the database, the documents and the code.
 *
 *	qbackup [--type all|db|minio|code] [--notify] [--json] [-q|-v] [--config FILE]
 *	qbackup list [--json]
 *	qbackup delete NAME
 *	qbackup prune [--dry-run]
 *	qbackup verify [NAME | --latest] [--restore-test] [--notify]
 *
 * A table of commands; each parses its options and makes one library call.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "qb/buf.h"
#include "qb/catalog.h"
#include "qb/lock.h"
#include "qb/log.h"
#include "qb/run.h"
#include "qb/verify.h"

static const char usage[] =
	"usage: qbackup [--type all|db|minio|code] [--notify] [--json] [-q|-v] [--config FILE]\n"
	"       qbackup list [--json]\n"
	"       qbackup delete NAME\n"
	"       qbackup prune [--dry-run]\n"
	"       qbackup verify [NAME | --latest] [--restore-test] [--notify]\n"
	"       qbackup serve [--listen ADDR:PORT]\n"
	"       qbackup --version\n";

static int parse(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "type", required_argument, NULL, 't' }, { "notify", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' }, { "config", required_argument, NULL, 'c' },
		{ "quiet", no_argument, NULL, 'q' }, { "verbose", no_argument, NULL, 'v' },
		{ "dry-run", no_argument, NULL, 'd' }, { "latest", no_argument, NULL, 'l' },
		{ "restore-test", no_argument, NULL, 'r' }, { "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' }, { "listen", required_argument, NULL, 'L' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(a, 0, sizeof(*a));
	a->verbosity = 1;
	while ((c = getopt_long(argc, argv, "t:njc:qvh", opts, NULL)) != -1) {
		switch (c) {
		case 't': a->type = optarg; break;
		case 'n': a->notify = true; break;
		case 'j': a->json = true; break;
		case 'c': a->config = optarg; break;
		case 'q': a->verbosity = 0; break;
		case 'v': a->verbosity = 2; break;
		case 'd': a->dry_run = true; break;
		case 'l': a->latest = true; break;
		case 'r': a->restore_test = true; break;
		case 'L': a->listen = optarg; break;
		case 'h': fputs(usage, stdout); exit(EXIT_OK);
		case 'V': printf("qbackup %s\n", QB_VERSION); exit(EXIT_OK);
		default: fputs(usage, stderr); return EXIT_USAGE;
		}
	}
	a->first = optind;
	return EXIT_OK;
}

static int cmd_run(struct cli *c, struct args *a, int argc, char **argv)
{
	struct qb_run_opts o = { .types = QB_RUN_ALL, .notify = a->notify, .run_type = "all" };
	struct qb_run_result r;
	struct qb_err err = { 0 };
	int rc;

	(void)argv;
	if (argc > a->first) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	if (a->type && strcmp(a->type, "all")) {
		static const struct { const char *name; unsigned bit; } types[] = {
			{ "db", QB_RUN_DB }, { "minio", QB_RUN_MINIO }, { "code", QB_RUN_CODE } };
		o.types = 0;
		for (size_t i = 0; i < 3; i++)
			if (!strcmp(a->type, types[i].name))
				o.types = types[i].bit;
		if (!o.types) {
			cli_line(stderr, "qbackup: unknown --type '%s' (all, db, minio or code)", a->type);
			return EXIT_USAGE;
		}
		o.explicit_type = true;
		o.run_type = a->type;
	}
	o.progress = &c->progress;
	rc = qb_run(c->cfg, &o, &r, &err);
	if (rc && !r.nsteps)
		return cli_fail(c, &err);
	if (a->json) {
		char *json = qb_run_json(&r);
		if (json)
			printf("%s\n", json);
		free(json);
	} else if (c->verbosity > 0) {
		static const char *const status[] = { "ok", "FAILED", "skipped" };
		printf("backup %s: %s in %.1f s\n", r.stamp, r.ok ? "ok" : "FAILED", r.seconds);
		for (size_t i = 0; i < r.nsteps; i++) {
			const struct qb_step_result *s = &r.steps[i];
			char size[QB_SIZE_STR_MAX];
			qb_format_size(s->bytes, size, sizeof(size));
			if (s->status == QB_STEP_OK)
				cli_line(stdout, "  %-6s %-7s %-34s %10s %7.1f s", s->kind, status[s->status], s->name,
					 size, s->seconds);
			else
				cli_line(stdout, "  %-6s %-7s %s", s->kind, status[s->status], s->error);
		}
		if (r.pruned)
			printf("  rotation removed %u old backup(s)\n", r.pruned);
		if (r.disk_alert)
			printf("  WARNING: disk %d%% full\n", r.disk_percent);
	}
	return rc ? EXIT_FAILED : EXIT_OK;
}

static int cmd_list(struct cli *c, struct args *a, int argc, char **argv)
{
	(void)argv;
	if (argc > a->first + 1) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	return cli_list(c, a->json);
}

static int cmd_delete(struct cli *c, struct args *a, int argc, char **argv)
{
	struct qb_err err = { 0 };
	struct qb_lock *lock = NULL;
	const char *dir = qb_backup_dir(c->cfg);
	int rc;

	if (argc != a->first + 2) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	rc = qb_backup_check_name(argv[a->first + 1], strlen(argv[a->first + 1]), &err);
	if (!rc)
		rc = qb_lock_acquire(&lock, dir, "delete", &err);
	if (!rc)
		rc = qb_backup_delete(dir, argv[a->first + 1], &err);
	qb_lock_free(lock);
	if (rc)
		return cli_fail(c, &err);
	qb_log(QB_LOG_INFO, "deleted %s", argv[a->first + 1]);
	return EXIT_OK;
}

static int cmd_prune(struct cli *c, struct args *a, int argc, char **argv)
{
	struct qb_prune_opts po = { .dry_run = a->dry_run };
	struct qb_prune_result pr;
	struct qb_err err = { 0 };
	struct qb_lock *lock = NULL;
	const char *dir = qb_backup_dir(c->cfg);
	int rc;

	(void)argv;
	memset(&pr, 0, sizeof(pr));
	if (argc > a->first + 1) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	rc = qb_config_get_long(c->cfg, "BACKUP_KEEP", 14, 1, 100000, &po.keep, &err);
	if (!rc)
		rc = qb_config_get_long(c->cfg, "BACKUP_MAX_AGE_DAYS", 0, 0, 100000, &po.max_age_days, &err);
	if (!rc && !a->dry_run)
		rc = qb_lock_acquire(&lock, dir, "prune", &err);
	if (!rc)
		rc = qb_catalog_prune(dir, &po, &pr, &err);
	for (size_t i = 0; i < pr.count; i++) {
		char size[QB_SIZE_STR_MAX];
		qb_format_size(pr.items[i].size, size, sizeof(size));
		printf("%s %s (%s)\n", a->dry_run ? "would delete" : "deleted", pr.items[i].name, size);
	}
	/* What went before an error is still said; "nothing to delete" only after a rotation
	 * that ran (not when the config or the lock stopped it). */
	if (!rc && !pr.count)
		printf("nothing to delete (keeping %ld of each kind%s)\n", po.keep,
		       po.max_age_days ? " within the age limit" : "");
	qb_prune_result_release(&pr);
	qb_lock_free(lock);
	return rc ? cli_fail(c, &err) : EXIT_OK;
}

/* What failed, for the alert of a `verify --notify`. */
struct failures {
	struct qb_buf names;   /* "db_..., minio_..." */
	struct qb_buf text;    /* one line per failure */
};

static void failed(struct failures *f, const char *name, const char *what, const char *msg)
{
	qb_buf_printf(&f->names, NULL, "%s%s", f->names.len ? ", " : "", name);
	qb_buf_printf(&f->text, NULL, "%s%s%s: %s", f->text.len ? "; " : "", name, what, msg);
}

/*
 * The server's words on a failed restore may quote the dump's rows (a COPY
 * line's value, a duplicate key): clients' data, which must not travel to the
 * email service.  The email keeps what qbackup says up to the server's
 * message; the whole message is in this run's output, on this machine.
 */
static void failed_restore(struct failures *f, const char *name, const char *msg)
{
	static const char *const marks[] = { "ERROR:", "FATAL:", "PANIC:" };
	const char *cut = NULL;
	char kept[QB_ERRMSG_MAX + 160];

	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
		const char *p = strstr(msg, marks[i]);
		if (p && (!cut || p < cut))
			cut = p + strlen(marks[i]);
	}
	if (cut)
		snprintf(kept, sizeof(kept), "%.*s the server's message is in this run's output on "
			 "this machine (it may quote the backup's data, kept out of email)",
			 (int)(cut - msg), msg);
	failed(f, name, " (restore test)", cut ? kept : msg);
}

static int cmd_verify(struct cli *c, struct args *a, int argc, char **argv)
{
	const char *dir = qb_backup_dir(c->cfg);
	struct qb_catalog *cat = NULL;
	struct qb_err err = { 0 };
	const char *names[QB_KIND_COUNT];
	struct qb_lock *lock = NULL;
	struct failures f;
	size_t n = 0;
	int worst = EXIT_OK;

	if (argc > a->first + 2 || (argc == a->first + 2 && a->latest)) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	/* Reading a snapshot takes a while: a rotation must not remove it meanwhile
	 * (it would read as damaged).  A run holding the lock is no failure to
	 * report: the next verify will look.  Any other lock error is one. */
	if ((worst = cli_lock_reader(c, "verify", "run qbackup verify again", &lock, &err))) {
		if (worst != EXIT_LOCKED && a->notify)
			qb_run_alert_as(c->cfg, "verify failed", "Failed", "lock", err.msg);
		return worst;
	}
	/* The alert's error text holds a few KiB: more would be cut anyway. */
	qb_buf_init(&f.names, 1024);
	qb_buf_init(&f.text, 4096);
	if (qb_catalog_scan(&cat, dir, &err)) {
		worst = cli_fail(c, &err);
		failed(&f, dir, "", err.msg);
		goto out;
	}
	if (argc == a->first + 2) {
		const struct qb_backup *b = qb_catalog_find(cat, argv[a->first + 1]);
		if (!b) {
			qb_err_set(&err, QB_ENOTFOUND, "no backup named '%s' in %s", argv[a->first + 1], dir);
			worst = cli_fail(c, &err);
			failed(&f, argv[a->first + 1], "", err.msg);
			goto out;
		}
		names[n++] = b->name;
	} else {
		for (int k = 0; k < QB_KIND_COUNT; k++) {
			const struct qb_backup *b = qb_catalog_latest(cat, (enum qb_kind)k);
			if (b)
				names[n++] = b->name;
		}
	}
	/* Nothing to verify is no "ok": a probe that runs verify must see it. */
	if (!n) {
		qb_err_set(&err, QB_ENOTFOUND, "no backups in %s", dir);
		worst = cli_fail(c, &err);
		failed(&f, dir, "", err.msg);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		char detail[256] = "";
		enum qb_kind kind;
		char stamp[QB_STAMP_LEN + 1];
		qb_err_clear(&err);
		if (qb_verify_backup(dir, names[i], detail, sizeof(detail), &err)) {
			cli_line(stdout, "%-34s FAILED  %s", names[i], err.msg);
			worst = cli_exit_for(err.code);
			failed(&f, names[i], "", err.msg);
			continue;
		}
		cli_line(stdout, "%-34s ok      %s", names[i], detail);
		qb_backup_parse_name(names[i], &kind, stamp);
		if (a->restore_test && kind == QB_KIND_DB) {
			fflush(stdout);
			if (qb_restore_test(c->cfg, dir, names[i], detail, sizeof(detail), &err)) {
				cli_line(stdout, "%-34s FAILED  restore test: %s", names[i], err.msg);
				worst = cli_exit_for(err.code);
				failed_restore(&f, names[i], err.msg);
			} else {
				cli_line(stdout, "%-34s ok      %s", names[i], detail);
			}
		}
	}
out:
	qb_catalog_free(cat);
	qb_lock_free(lock);
	/* A weekly `verify --restore-test --notify` is how a backup that would not
	 * restore comes to light before the night it is needed. */
	if (worst != EXIT_OK && a->notify)
		qb_run_alert_as(c->cfg, a->restore_test ? "verify or restore test failed" : "verify failed",
				"Failed", f.names.data, f.text.data);
	qb_buf_release(&f.names);
	qb_buf_release(&f.text);
	return worst;
}

static const struct command {
	const char *name;
	int (*fn)(struct cli *, struct args *, int, char **);
} commands[] = {
	{ "list", cmd_list }, { "delete", cmd_delete }, { "prune", cmd_prune }, { "verify", cmd_verify },
	{ "serve", cmd_serve },
};

int main(int argc, char **argv)
{
	struct cli c;
	struct args a;
	int rc = parse(argc, argv, &a);
	int (*fn)(struct cli *, struct args *, int, char **) = cmd_run;

	if (rc)
		return rc;
	if (a.first < argc) {
		fn = NULL;
		for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
			if (!strcmp(argv[a.first], commands[i].name))
				fn = commands[i].fn;
		if (!fn) {
			cli_line(stderr, "qbackup: unknown command '%s'", argv[a.first]);
			fputs(usage, stderr);
			return EXIT_USAGE;
		}
	}
	cli_init(&c, "qbackup");
	cli_set_verbosity(&c, a.verbosity);
	if (!cli_load_config(&c, a.config)) {
		cli_done(&c);
		return EXIT_CONFIG;
	}
	rc = fn(&c, &a, argc, argv);
	cli_done(&c);
	return rc;
}
