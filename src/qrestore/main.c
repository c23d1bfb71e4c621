/*
 * qrestore - put back what qbackup (or the old backup.sh) saved.
 *
 *	qrestore --list [--json]
 *	qrestore --db FILE [--target-db NAME] [--yes] [--terminate-connections]
 *	qrestore --minio DIR [--only BUCKET[/PREFIX]] [--delete] [--yes]
 *	qrestore --code FILE --to DIR
 *	qrestore --latest [--target-db NAME] [--delete] [--yes] [--terminate-connections]
 *
 * FILE and DIR are paths, or bare names looked up in BACKUP_DIR.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "qb/archive.h"
#include "qb/buf.h"
#include "qb/catalog.h"
#include "qb/fsutil.h"
#include "qb/lock.h"
#include "qb/log.h"
#include "qb/manifest.h"
#include "qb/mirror.h"
#include "qb/pgdump.h"
#include "qb/run.h"
#include "qb/s3.h"
#include "signals.h"

static const char usage[] =
	"usage: qrestore --list [--json]\n"
	"       qrestore --db FILE [--target-db NAME] [--yes] [--terminate-connections]\n"
	"       qrestore --minio DIR [--only BUCKET[/PREFIX]] [--delete] [--yes]\n"
	"       qrestore --code FILE --to DIR\n"
	"       qrestore --latest [--target-db NAME] [--delete] [--yes] [--terminate-connections]\n"
	"options: --config FILE, -q, -v, --version\n";

struct args {
	const char *config, *db, *minio, *code, *to, *target_db;
	const char *only;      /* --minio: a bucket, or a bucket/prefix, of the snapshot */
	bool list, json, latest, yes, delete_extra, terminate;
	int verbosity;
	uint64_t damaged;      /* after --minio: objects left out, their file damaged */
	bool db_restored;      /* --latest: its database part went through */
	struct qb_lock *lk;    /* the run lock, once taken (lock_now) */
	bool locked;
};

/* The run lock, taken once the question is answered (a restore waiting at its
 * question must not stop the night's backup) and before anything is restored. */
static int lock_now(struct cli *c, struct args *a)
{
	int rc;

	if (a->locked)
		return EXIT_OK;
	rc = cli_lock_reader(c, "restore", "run qrestore again", &a->lk, NULL);
	a->locked = rc == EXIT_OK;
	return rc;
}

/* A flag the chosen mode does not use is said, not silently dropped: whoever
 * typed it expected something of it. */
static void warn_unused(const struct args *a)
{
	const char *mode = a->list ? "--list" : a->db ? "--db" : a->minio ? "--minio"
			 : a->code ? "--code" : "--latest";
	const struct { bool given, used; const char *flag, *where; } f[] = {
		{ a->delete_extra, a->minio || a->latest, "--delete", "--minio and --latest" },
		{ a->target_db != NULL, a->db || a->latest, "--target-db", "--db and --latest" },
		{ a->terminate, a->db || a->latest, "--terminate-connections", "--db and --latest" },
		{ a->json, a->list, "--json", "--list" },
	};

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (f[i].given && !f[i].used)
			fprintf(stderr, "qrestore: warning: %s does nothing with %s (it is for %s)\n",
				f[i].flag, mode, f[i].where);
}

static int parse(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "list", no_argument, NULL, 'L' }, { "json", no_argument, NULL, 'j' },
		{ "db", required_argument, NULL, 'd' }, { "minio", required_argument, NULL, 'm' },
		{ "code", required_argument, NULL, 'k' }, { "to", required_argument, NULL, 'o' },
		{ "target-db", required_argument, NULL, 'T' }, { "latest", no_argument, NULL, 'l' },
		{ "yes", no_argument, NULL, 'y' }, { "delete", no_argument, NULL, 'D' },
		{ "terminate-connections", no_argument, NULL, 'X' }, { "config", required_argument, NULL, 'c' },
		{ "only", required_argument, NULL, 'O' },
		{ "quiet", no_argument, NULL, 'q' }, { "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' }, { "version", no_argument, NULL, 'V' }, { NULL, 0, NULL, 0 },
	};
	int c, modes;

	memset(a, 0, sizeof(*a));
	a->verbosity = 1;
	while ((c = getopt_long(argc, argv, "c:qvhy", opts, NULL)) != -1) {
		switch (c) {
		case 'L': a->list = true; break;
		case 'j': a->json = true; break;
		case 'd': a->db = optarg; break;
		case 'm': a->minio = optarg; break;
		case 'k': a->code = optarg; break;
		case 'o': a->to = optarg; break;
		case 'T': a->target_db = optarg; break;
		case 'l': a->latest = true; break;
		case 'y': a->yes = true; break;
		case 'D': a->delete_extra = true; break;
		case 'X': a->terminate = true; break;
		case 'O': a->only = optarg; break;
		case 'c': a->config = optarg; break;
		case 'q': a->verbosity = 0; break;
		case 'v': a->verbosity = 2; break;
		case 'h': fputs(usage, stdout); exit(EXIT_OK);
		case 'V': printf("qrestore %s\n", QB_VERSION); exit(EXIT_OK);
		default: fputs(usage, stderr); return EXIT_USAGE;
		}
	}
	modes = a->list + !!a->db + !!a->minio + !!a->code + a->latest;
	if (a->code && !a->to)
		fputs("qrestore: --code needs --to DIR (a new or empty folder to extract into)\n", stderr);
	/* Refused, not warned: --latest with it would restore every document. */
	if (a->only && !a->minio)
		fputs("qrestore: --only is for --minio (a part of one snapshot)\n", stderr);
	if (optind != argc || modes != 1 || (a->code && !a->to) || (a->to && !a->code) ||
	    (a->only && !a->minio)) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	warn_unused(a);
	return EXIT_OK;
}

static int cmp_desc(const void *a, const void *b)
{
	return strcmp(*(char *const *)b, *(char *const *)a);
}

/* A bare name found neither here nor in BACKUP_DIR: say so, with the backups
 * whose names hold it (newest first), or where to see them all. */
static int not_found(struct cli *c, const char *name)
{
	enum { SHOWN = 4 };
	struct qb_err err = { 0 };
	const char *dir = qb_backup_dir(c->cfg);
	char *hits[64], list[512] = "";
	size_t n = 0, used = 0;
	DIR *d = opendir(dir);
	struct dirent *de;

	while (d && n < sizeof(hits) / sizeof(hits[0]) && (de = readdir(d)))
		if (de->d_name[0] != '.' && strncmp(de->d_name, "manifest_", 9) &&
		    strstr(de->d_name, name) && (hits[n] = strdup(de->d_name)))
			n++;
	if (d)
		closedir(d);
	qsort(hits, n, sizeof(hits[0]), cmp_desc);
	for (size_t i = 0; i < n && i < SHOWN && used < sizeof(list); i++)
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "", hits[i]);
	for (size_t i = 0; i < n; i++)
		free(hits[i]);
	qb_err_set(&err, QB_ENOTFOUND, "no backup named '%s' here or in %s%s%s%s", name, dir,
		   n ? ": did you mean " : " (qrestore --list shows them)", list,
		   n > SHOWN ? ", ...?" : n ? "?" : "");
	return cli_fail(c, &err);
}

/* A path as given, or a bare name (a '/' at its end allowed) in BACKUP_DIR:
 * *out, for the caller to free; an exit status when there is none. */
static int resolve(struct cli *c, const char *arg, char **out)
{
	struct stat st;
	size_t n = strlen(arg);
	char *name, *path;
	int rc;

	*out = NULL;
	while (n > 1 && arg[n - 1] == '/')
		n--;
	if (!(name = qb_strndup(arg, n)))
		return EXIT_FAILED;
	if (strchr(name, '/') || stat(arg, &st) == 0) {
		free(name);
		*out = strdup(arg);
		return *out ? EXIT_OK : EXIT_FAILED;
	}
	path = qb_path_join(qb_backup_dir(c->cfg), name);
	if (path && stat(path, &st) != 0 && errno == ENOENT) {
		rc = not_found(c, name);
		free(name);
		free(path);
		return rc;
	}
	free(name);
	*out = path;
	return path ? EXIT_OK : EXIT_FAILED;
}

static int restore_db(struct cli *c, struct args *a, const char *arg, bool confirmed)
{
	struct qb_db_restore_opts o = { .target_db = a->target_db, .terminate_connections = a->terminate,
					.progress = &c->progress };
	struct qb_db_restore_result r;
	struct qb_db_script_info info;
	struct qb_db_target tgt;
	struct qb_manifest_entry e;
	struct qb_err err = { 0 };
	char *path = NULL;
	const char *base;
	int rc, lock_rc = EXIT_OK;

	memset(&e, 0, sizeof(e));
	memset(&tgt, 0, sizeof(tgt));
	if ((rc = resolve(c, arg, &path)))
		return rc;
	/* A backup of ours has a manifest beside it: check the file against it. */
	base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	{
		char *dir = qb_strndup(path, (size_t)(base - path));
		int mrc = dir ? qb_manifest_lookup(dir[0] ? dir : ".", base, &e, &err) : QB_ENOMEM;
		if (mrc == QB_OK && e.sha256[0])
			o.expected_sha256 = e.sha256;
		/* No manifest, or not a backup name: an old script's dump.  Anything else (a
		 * damaged manifest, one that does not list the file) is said out loud. */
		else if (mrc != QB_EARG && !(mrc == QB_ENOTFOUND && !strncmp(err.msg, "no manifest", 11)))
			qb_log(QB_LOG_WARN, "%s: its SHA-256 cannot be checked against the manifest: %s",
			       base, mrc == QB_OK ? "the manifest gives none" : err.msg);
		free(dir);
		qb_err_clear(&err);
	}
	o.path = path;
	stop_quit_note("stopped; nothing was changed");
	/* Only a question needs the target looked up here (the library does it
	 * too): replacing an existing database without --yes. */
	rc = confirmed || a->yes ? QB_OK : qb_db_target(c->cfg, a->target_db, &tgt, &err);
	/* Before asking, check the whole file: a damaged one is refused without a
	 * question.  With nothing to ask, the library checks it while it makes the
	 * database to restore into (nothing of the script runs before). */
	if (!rc && tgt.exists) {
		rc = qb_db_check_script(path, o.expected_sha256, &info, &err);
		if (!rc) {
			o.checked = &info;
			qb_log(QB_LOG_INFO, "%s: intact (%llu statements%s)", path,
			       (unsigned long long)info.statements,
			       o.expected_sha256 ? ", SHA-256 matches the manifest" : "");
		}
	}
	if (!rc && tgt.exists) {
		char q[1024];
		snprintf(q, sizeof(q), "Replace database \"%s\" on %s with %s? (the current one is kept "
			 "under a dated name)", tgt.name, tgt.server, base);
		if (!cli_confirm(c, q, a->yes, &err))
			rc = err.code;
	}
	/* lock_now() says why it failed itself: its exit status is returned as it is. */
	if (!rc && (lock_rc = lock_now(c, a)))
		rc = QB_ELOCKED;
	if (!rc) {
		stop_during_db();
		rc = qb_db_restore(c->cfg, &o, &r, &err);
		stop_quit_note("stopped");
	}
	if (!rc) {
		cli_line(stdout, "restored %s into %sdatabase \"%s\": %llu statements, %llu rows in %.1f s", base,
			 r.previous ? "" : "a new ", r.target, (unsigned long long)r.statements,
			 (unsigned long long)r.copy_rows, r.seconds);
		if (r.previous)
			cli_line(stdout, "the previous database is kept as \"%s\" (drop it when satisfied)", r.previous);
		qb_db_restore_result_release(&r);
	}
	qb_manifest_entry_release(&e);
	qb_db_target_release(&tgt);
	free(path);
	return lock_rc ? lock_rc : rc ? cli_fail(c, &err) : EXIT_OK;
}

/* The server a documents restore writes to, for its question: whoever answers
 * must see which one (a test server or production). */
static void endpoint(struct cli *c, char *buf, size_t len)
{
	struct qb_s3_conf conf;
	struct qb_err err = { 0 };

	memset(&conf, 0, sizeof(conf));
	if (qb_s3_conf_load(&conf, c->cfg, &err) == QB_OK && conf.url)
		snprintf(buf, len, "%s", conf.url);
	else
		snprintf(buf, len, "MINIO_ENDPOINT");
	qb_s3_conf_release(&conf);
}

static int restore_minio(struct cli *c, struct args *a, const char *arg, bool confirmed)
{
	struct qb_minio_stats st;
	struct qb_err err = { 0 };
	char *path = NULL, part[512] = "", word[512], again[560] = "";
	int rc = resolve(c, arg, &path);

	memset(&st, 0, sizeof(st));
	if (rc)
		return rc;
	if (a->only) {
		snprintf(part, sizeof(part), " (only %s)", a->only);
		/* A part cut short would name a wider one: then no text to copy. */
		if (qb_shell_word(a->only, word, sizeof(word)))
			snprintf(again, sizeof(again), " --only %s", word);
		else
			snprintf(again, sizeof(again), " with the same --only");
	}
	if (!confirmed && a->delete_extra) {
		char q[1536], url[512];
		endpoint(c, url, sizeof(url));
		snprintf(q, sizeof(q), "Restore %s%s to %s, and DELETE the objects there%s%s that "
			 "are not in it?", arg, part, url, a->only ? " under " : "",
			 a->only ? a->only : "");
		if (!cli_confirm(c, q, a->yes, &err))
			rc = err.code;
	}
	if (!rc && (rc = lock_now(c, a))) {
		free(path);
		return rc;
	}
	if (!rc) {
		static char note[1536];
		snprintf(note, sizeof(note), "stopped%s; the objects sent so far are in place: run "
			 "qrestore --minio %s%s to finish (identical objects are skipped)",
			 a->db_restored ? " after the database was restored" : "", arg, again);
		stop_quit_note(note);
		rc = qb_minio_restore_part(c->cfg, path, a->only, a->delete_extra, &c->progress,
					   &st, &err);
		stop_quit_note("stopped");
	}
	a->damaged = rc == QB_ECORRUPT && st.finished ? st.damaged : 0;
	if (!rc || a->damaged) {
		char left[64] = "";
		if (a->damaged)
			snprintf(left, sizeof(left), ", %llu NOT restored (damaged)",
				 (unsigned long long)a->damaged);
		cli_line(stdout, "restored %s%s: %llu objects uploaded, %llu already identical, %llu deleted%s in %.1f s", arg, part,
		       (unsigned long long)st.fetched, (unsigned long long)st.skipped,
		       (unsigned long long)st.deleted, left, st.seconds);
	}
	free(path);
	return rc ? cli_fail(c, &err) : EXIT_OK;
}

static int restore_code(struct cli *c, struct args *a)
{
	struct qb_err err = { 0 };
	char *path = NULL;
	int rc = resolve(c, a->code, &path);

	if (rc)
		return rc;
	if ((rc = lock_now(c, a))) {
		free(path);
		return rc;
	}
	stop_quit_note("stopped; the folder given to --to may hold part of the archive: remove it "
		       "before trying again");
	rc = qb_code_extract(path, a->to, &err);
	stop_quit_note("stopped");
	if (!rc)
		cli_line(stdout, "extracted %s into %s", a->code, a->to);
	free(path);
	return rc ? cli_fail(c, &err) : EXIT_OK;
}

/* A backup the catalog of BACKUP_DIR named, by its whole path: a bare name is
 * looked up in the current folder first, and a copy of the same name there is
 * not the backup the question named. */
static int restore_listed(struct cli *c, struct args *a, const char *name,
			  int (*restore)(struct cli *, struct args *, const char *, bool))
{
	char *path = qb_path_join(qb_backup_dir(c->cfg), name);
	int rc = path ? restore(c, a, path, true) : EXIT_FAILED;

	free(path);
	return rc;
}

/* When the newest snapshot holds less than half the objects of the one before
 * (documents deleted before the night's backup, a bucket emptied), the words
 * the question adds, so that the one before is not missed: "" otherwise. */
static void shrunk_note(struct cli *c, const struct qb_catalog *cat, const struct qb_backup *newest,
			char *note, size_t cap)
{
	const struct qb_backup *prev = qb_catalog_before(cat, newest);
	char *a = qb_path_join(qb_backup_dir(c->cfg), newest->name);
	char *b = prev ? qb_path_join(qb_backup_dir(c->cfg), prev->name) : NULL;
	uint64_t na = 0, nb = 0, bytes;
	struct qb_err err = { 0 };

	note[0] = '\0';
	if (a && b && !qb_minio_snapshot_info(a, &na, &bytes, &err) &&
	    !qb_minio_snapshot_info(b, &nb, &bytes, &err) && na * 2 < nb)
		snprintf(note, cap, " (it holds %llu objects, %s before it %llu: if documents were lost "
			 "before the last backup, answer no and run qrestore --minio %s)",
			 (unsigned long long)na, prev->name, (unsigned long long)nb, prev->name);
	free(a);
	free(b);
}

/* The last line of --latest when a part did not go through: what was restored and
 * what was not, so that a failure above is not followed by one that reads like success. */
static void latest_summary(struct cli *c, const struct args *a, const struct qb_backup *db,
			   const struct qb_backup *mn, int rdb, int rmn)
{
	char dpart[320], mpart[512];

	if (rdb)
		snprintf(dpart, sizeof(dpart), "database NOT restored (see above)");
	else if (db)
		snprintf(dpart, sizeof(dpart), "database restored from %s", db->name);
	else
		snprintf(dpart, sizeof(dpart), "no database dump to restore");
	if (rdb && mn)
		snprintf(mpart, sizeof(mpart), "documents NOT restored either, so that they still "
			 "match the database (once it is restored, run qrestore --latest again; "
			 "qrestore --minio %s restores the documents alone)", mn->name);
	else if (rmn && stop_requested())
		snprintf(mpart, sizeof(mpart), "documents NOT restored: stopped (qrestore --minio %s "
			 "restores them)", mn->name);
	else if (rmn && a->damaged)
		snprintf(mpart, sizeof(mpart), "documents restored from %s except %llu "
			 "damaged object%s (see above)", mn->name,
			 (unsigned long long)a->damaged, a->damaged == 1 ? "" : "s");
	else if (rmn)
		snprintf(mpart, sizeof(mpart), "documents NOT restored (see above)");
	else if (mn)
		snprintf(mpart, sizeof(mpart), "documents restored from %s", mn->name);
	else
		snprintf(mpart, sizeof(mpart), "documents not restored (%s)",
			 qb_minio_configured(c->cfg) ? "no snapshot" : "MINIO_ENDPOINT is not set");
	fflush(stdout);
	cli_line(stderr, "%s: %s; %s", c->prog, dpart, mpart);
}

/*
 * The emergency runbook's command: newest database dump and document snapshot,
 * one question that names all it will do (the database and its server, the
 * documents' server, the deletion --delete asks for).  The database goes first;
 * when it is not restored (refused, damaged, interrupted: the target is then as
 * it was), the documents are left as they are too, since the snapshot's would
 * no longer match the database (objects uploaded since, which the database
 * names, deleted or reverted).  Documents that fail leave the restored
 * database in place.
 */
static int latest(struct cli *c, struct args *a)
{
	struct qb_catalog *cat = NULL;
	struct qb_db_target tgt;
	struct qb_err err = { 0 };
	const struct qb_backup *db, *mn;
	char q[2560], url[512] = "", dbq[768] = "", shrunk[512] = "";
	int rdb = EXIT_OK, rmn = EXIT_OK;

	memset(&tgt, 0, sizeof(tgt));
	stop_quit_note("stopped; nothing was changed");
	/* Names only: an emergency restore does not wait for fourteen snapshots to be sized. */
	if (qb_catalog_scan_newest(&cat, qb_backup_dir(c->cfg), &err))
		return cli_fail(c, &err);
	db = qb_catalog_latest(cat, QB_KIND_DB);
	mn = qb_minio_configured(c->cfg) ? qb_catalog_latest(cat, QB_KIND_MINIO) : NULL;
	if (!db && !mn) {
		qb_err_set(&err, QB_ENOTFOUND, "no backup to restore in %s", qb_backup_dir(c->cfg));
		qb_catalog_free(cat);
		return cli_fail(c, &err);
	}
	/* The database the question names, looked up before anything is asked or done. */
	if (db && qb_db_target(c->cfg, a->target_db, &tgt, &err)) {
		qb_catalog_free(cat);
		rdb = cli_fail(c, &err);
		latest_summary(c, a, db, mn, rdb, rmn);
		return rdb;
	}
	if (db)
		snprintf(dbq, sizeof(dbq), "the database \"%s\" on %s from %s%s", tgt.name, tgt.server,
			 db->name, tgt.exists ? " (the current one is kept under a dated name)"
					      : " (a new database)");
	if (mn) {
		endpoint(c, url, sizeof(url));
		shrunk_note(c, cat, mn, shrunk, sizeof(shrunk));
		if (shrunk[0] && a->yes)
			qb_log(QB_LOG_WARN, "the documents snapshot %s%s", mn->name, shrunk);
	}
	snprintf(q, sizeof(q), "Restore %s%s%s%s%s%s%s%s?", dbq, db && mn ? ", and " : "",
		 mn ? "the documents from " : "", mn ? mn->name : "", shrunk, mn ? " to " : "",
		 mn ? url : "",
		 mn && a->delete_extra ? ", and DELETE the objects that are not in the snapshot" : "");
	qb_db_target_release(&tgt);
	if (!cli_confirm(c, q, a->yes, &err)) {
		qb_catalog_free(cat);
		return cli_fail(c, &err);
	}
	if ((rdb = lock_now(c, a))) {
		qb_catalog_free(cat);
		return rdb;
	}
	if (db)
		rdb = restore_listed(c, a, db->name, restore_db);
	a->db_restored = db && !rdb;
	if (a->db_restored && mn) {
		static char note[512];
		snprintf(note, sizeof(note), "stopped after the database was restored; the documents "
			 "were not: qrestore --minio %s restores them", mn->name);
		stop_quit_note(note);
	}
	/* Asked to stop while the database was being put in place: not the documents. */
	if (mn && !rdb && stop_requested())
		rmn = 130;
	else if (mn && !rdb)
		rmn = restore_listed(c, a, mn->name, restore_minio);
	if (!mn && !qb_minio_configured(c->cfg))
		qb_log(QB_LOG_WARN, "documents not restored: MINIO_ENDPOINT is not set");
	if (rdb || rmn)
		latest_summary(c, a, db, mn, rdb, rmn);
	qb_catalog_free(cat);
	return rdb ? rdb : rmn;
}

int main(int argc, char **argv)
{
	struct cli c;
	struct args a;
	int rc = parse(argc, argv, &a);

	if (rc)
		return rc;
	cli_init(&c, "qrestore");
	cli_set_verbosity(&c, a.verbosity);
	if (stop_start(c.prog) < 0)
		qb_log(QB_LOG_WARN, "Ctrl-C will kill qrestore without tidying up: no thread for signals");
	if (!cli_load_config(&c, a.config)) {
		cli_done(&c);
		return EXIT_CONFIG;
	}
	if (a.list) {
		rc = cli_list(&c, a.json);
	} else {
		if (a.db)
			rc = restore_db(&c, &a, a.db, false);
		else if (a.minio)
			rc = restore_minio(&c, &a, a.minio, false);
		else if (a.code)
			rc = restore_code(&c, &a);
		else
			rc = latest(&c, &a);
		qb_lock_free(a.lk);
	}
	cli_done(&c);
	/* Stopped: 130, unless what was asked had finished all the same. */
	return stop_requested() && rc ? 130 : rc;
}
