/*
 * check_it_minio.c - the S3 client, the MinIO mirror and its restore against
 * a real S3 server (moto, started by tests/harness/run.sh) and, for faults
 * a real server will not produce on demand, against tests/harness/s3fault.py
 * (503s, dropped connections, damaged and cut bodies, a server that dies).
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qb/hash.h"
#include "qb/log.h"
#include "qb/mirror.h"
#include "qb/s3.h"
#include "testutil.h"

#define SECRET "s3cr3t-Never-Logged-7f1d"
#define MIB (1024 * 1024)

/* ---- Log capture ---- */

static struct qb_buf logbuf;

static void log_sink(void *ud, enum qb_level level, const char *msg)
{
	(void)ud;
	qb_buf_printf(&logbuf, NULL, "[%s] %s\n", qb_level_name(level), msg);
}

static void setup(void)
{
	qb_buf_init(&logbuf, 64 << 20);
	qb_buf_puts(&logbuf, "", NULL);
	qb_log_set_sink(log_sink, NULL, QB_LOG_DEBUG);
}

static void teardown(void)
{
	qb_log_set_sink(NULL, NULL, QB_LOG_INFO);
	qb_buf_release(&logbuf);
}

static void assert_no_secret(const struct qb_err *err)
{
	ck_assert_ptr_null(strstr(logbuf.data, SECRET));
	if (err)
		ck_assert_ptr_null(strstr(err->msg, SECRET));
}

/* ---- Helpers ---- */

static const char *moto(void)
{
	return tu_env("QB_TEST_S3_ENDPOINT");
}

static struct qb_s3 *client(const char *endpoint)
{
	struct qb_s3_conf c;
	struct qb_err err = { 0 };
	struct qb_s3 *s3 = NULL;

	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(qb_s3_conf_endpoint(&c, endpoint, 0, false, &err), QB_OK);
	c.access_key = strdup("qbtest");
	c.secret_key = strdup(SECRET);
	c.region = strdup("us-east-1");
	c.part_size = 5 * (uint64_t)MIB;
	c.parallel = 8;
	c.retries = 3;
	c.timeout = 30;
	c.retry_base_ms = 50;
	ck_assert_int_eq(qb_s3_new(&s3, &c, &err), QB_OK);
	qb_s3_conf_release(&c);
	return s3;
}

static struct qb_config *config(const char *endpoint, const char *backup_dir, const char *buckets)
{
	struct qb_config *cfg = qb_config_new();

	ck_assert_ptr_nonnull(cfg);
	qb_config_set(cfg, "MINIO_ENDPOINT", endpoint, true);
	qb_config_set(cfg, "MINIO_ACCESS_KEY", "qbtest", true);
	qb_config_set(cfg, "MINIO_SECRET_KEY", SECRET, true);
	qb_config_set(cfg, "MINIO_PART_SIZE_MB", "5", true);
	qb_config_set(cfg, "MINIO_TIMEOUT", "20", true);
	qb_config_set(cfg, "BACKUP_DIR", backup_dir, true);
	if (buckets)
		qb_config_set(cfg, "MINIO_BUCKETS", buckets, true);
	return cfg;
}

/* Deterministic content of a key: n bytes. */
static char *content(const char *key, size_t n, unsigned salt)
{
	char *p = malloc(n + 1);
	uint32_t h = 2166136261u ^ salt;

	ck_assert_ptr_nonnull(p);
	for (const char *k = key; *k; k++)
		h = (h ^ (unsigned char)*k) * 16777619u;
	for (size_t i = 0; i < n; i++) {
		h = h * 1103515245u + 12345u;
		p[i] = (char)(h >> 16);
	}
	p[n] = '\0';
	return p;
}

static void put(struct qb_s3 *s3, const char *bucket, const char *key, const void *p, size_t n,
		const char *type)
{
	struct qb_err err = { 0 };
	struct qb_s3_result res;

	ck_assert_msg(qb_s3_put_buffer(s3, bucket, key, p, n, type, &res, &err) == QB_OK,
		      "put '%s': %s", key, err.msg);
	ck_assert_str_eq(res.etag, res.md5);
}

static void make_bucket(struct qb_s3 *s3, const char *bucket)
{
	struct qb_err err = { 0 };

	ck_assert_msg(qb_s3_create_bucket(s3, bucket, &err) == QB_OK, "%s", err.msg);
}

struct keylist {
	char **keys;
	uint64_t *sizes;
	size_t n, cap;
};

static int collect(void *ud, const struct qb_s3_object *o, struct qb_err *err)
{
	struct keylist *l = ud;

	(void)err;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 256;
		l->keys = realloc(l->keys, l->cap * sizeof(*l->keys));
		l->sizes = realloc(l->sizes, l->cap * sizeof(*l->sizes));
		ck_assert(l->keys && l->sizes);
	}
	l->keys[l->n] = strdup(o->key);
	l->sizes[l->n++] = o->size;
	return QB_OK;
}

static struct keylist list(struct qb_s3 *s3, const char *bucket)
{
	struct keylist l = { 0 };
	struct qb_err err = { 0 };

	ck_assert_msg(qb_s3_list_objects(s3, bucket, NULL, collect, &l, &err) == QB_OK, "%s",
		      err.msg);
	return l;
}

static void keylist_free(struct keylist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->keys[i]);
	free(l->keys);
	free(l->sizes);
}

static void deleted(void *ud, int rc, const struct qb_s3_result *res, const struct qb_err *err)
{
	(void)res;
	ck_assert_msg(rc == QB_OK, "delete: %s", err ? err->msg : "?");
	(*(int *)ud)++;
}

static void empty_bucket(struct qb_s3 *s3, const char *bucket)
{
	struct keylist l = list(s3, bucket);
	struct qb_s3_pool *pool;
	struct qb_err err = { 0 };
	int done = 0;

	ck_assert_int_eq(qb_s3_pool_new(&pool, s3, 8, &err), QB_OK);
	for (size_t i = 0; i < l.n; i++)
		ck_assert_int_eq(qb_s3_pool_delete(pool, bucket, l.keys[i], deleted, &done, &err),
				 QB_OK);
	ck_assert_int_eq(qb_s3_pool_wait(pool, &err), QB_OK);
	qb_s3_pool_free(pool);
	ck_assert_int_eq(done, (int)l.n);
	keylist_free(&l);
	l = list(s3, bucket);
	ck_assert_uint_eq(l.n, 0);
	keylist_free(&l);
}

static void put_done(void *ud, int rc, const struct qb_s3_result *res, const struct qb_err *err)
{
	(void)res;
	ck_assert_msg(rc == QB_OK, "seed: %s", err ? err->msg : "?");
	(*(int *)ud)++;
}

/* count objects "<prefix>/NNNN.txt" of base + (i * 37) % 3001 bytes, uploaded in parallel
 * from one file. */
static void seed_bulk(struct qb_s3 *s3, const char *dir, const char *bucket, const char *prefix,
		      int count, size_t base)
{
	char *path = NULL, key[128];
	uint64_t *off = calloc((size_t)count + 1, sizeof(*off));
	struct qb_s3_pool *pool;
	struct qb_err err = { 0 };
	int fd, done = 0;

	ck_assert_int_ge(asprintf(&path, "%s/seed.bin", dir), 0);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	for (int i = 0; i < count; i++) {
		size_t n = base + (size_t)(i * 37) % 3001;
		char *c;
		snprintf(key, sizeof(key), "%s/%04d.txt", prefix, i);
		c = content(key, n, 0);
		ck_assert_int_eq(write(fd, c, n), (ssize_t)n);
		off[i + 1] = off[i] + n;
		free(c);
	}
	ck_assert_int_eq(qb_s3_pool_new(&pool, s3, 8, &err), QB_OK);
	for (int i = 0; i < count; i++) {
		struct qb_s3_put p = { .bucket = bucket, .fd = fd, .offset = off[i],
				       .length = off[i + 1] - off[i],
				       .content_type = "text/plain" };
		snprintf(key, sizeof(key), "%s/%04d.txt", prefix, i);
		p.key = key;
		ck_assert_int_eq(qb_s3_pool_put(pool, &p, put_done, &done, &err), QB_OK);
	}
	ck_assert_int_eq(qb_s3_pool_wait(pool, &err), QB_OK);
	ck_assert_int_eq(done, count);
	qb_s3_pool_free(pool);
	close(fd);
	unlink(path);
	free(path);
	free(off);
}

static size_t bulk_size(int i, size_t base)
{
	return base + (size_t)(i * 37) % 3001;
}

static char *snap(const char *dir, const char *stamp)
{
	char *p;

	ck_assert_int_ge(asprintf(&p, "%s/minio_%s", dir, stamp), 0);
	return p;
}

static void assert_file(const char *path, const void *p, size_t n)
{
	size_t len = 0;
	char *got = tu_read_file(path, &len);

	ck_assert_msg(got != NULL, "missing '%s'", path);
	ck_assert_msg(len == n && !memcmp(got, p, n), "'%s' differs (%zu bytes, wanted %zu)", path,
		      len, n);
	free(got);
}

static ino_t inode(const char *path)
{
	struct stat st;

	ck_assert_msg(lstat(path, &st) == 0, "missing '%s'", path);
	return st.st_ino;
}

/* Count the index lines (after the header) and those naming a given stored path prefix. */
static size_t index_lines(const char *snapdir, const char *needle)
{
	char *p = NULL, *text, *line;
	size_t n = 0;

	ck_assert_int_ge(asprintf(&p, "%s/%s", snapdir, QB_MINIO_INDEX), 0);
	text = tu_read_file(p, NULL);
	ck_assert_ptr_nonnull(text);
	ck_assert(!strncmp(text, "qbackup-minio-index 1\n", 22));
	for (line = strchr(text, '\n') + 1; *line; line = strchr(line, '\n') + 1) {
		char *end = strchr(line, '\n');
		ck_assert_ptr_nonnull(end);
		*end = '\0';
		if (!needle || strstr(line, needle))
			n++;
		*end = '\n';
	}
	free(text);
	free(p);
	return n;
}

static int count_entries(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, prefix, strlen(prefix)))
			n++;
	closedir(d);
	return n;
}

struct prog {
	int calls;
	bool final;
	uint64_t items;
};

static void on_progress(void *ud, const struct qb_progress *p)
{
	struct prog *g = ud;

	g->calls++;
	if (p->final) {
		g->final = true;
		g->items = p->items_done;
	}
	ck_assert(p->step != NULL);
}

/* ---- The fault server ---- */

struct fault {
	pid_t pid;
	int in_fd;
	char url[64];
	char log[512];
};

static void fault_start(struct fault *f, const char *dir, const char *const *args)
{
	char *script = NULL;
	const char *argv[24];
	int in[2], out[2], n = 0, port = 0;
	char line[64];
	FILE *fp;

	ck_assert_int_ge(asprintf(&script, "%s/tests/harness/s3fault.py", tu_env("QB_SRCDIR")), 0);
	static int runs;

	snprintf(f->log, sizeof(f->log), "%s/fault-%d.log", dir, ++runs);
	argv[n++] = "python3";
	argv[n++] = script;
	argv[n++] = moto();
	argv[n++] = "--log";
	argv[n++] = f->log;
	for (int i = 0; args[i] && n < 23; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	ck_assert_int_eq(pipe(in), 0);
	ck_assert_int_eq(pipe(out), 0);
	f->pid = fork();
	ck_assert_int_ge(f->pid, 0);
	if (f->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execvp("python3", (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	f->in_fd = in[1];
	fp = fdopen(out[0], "r");
	ck_assert_ptr_nonnull(fp);
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), fp));
	ck_assert_int_eq(sscanf(line, "PORT %d", &port), 1);
	fclose(fp);
	snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%d", port);
	free(script);
}

static void fault_stop(struct fault *f)
{
	kill(f->pid, SIGTERM);
	close(f->in_fd);
	waitpid(f->pid, NULL, 0);
}

static int fault_count(const struct fault *f, const char *what)
{
	char *text = tu_read_file(f->log, NULL);
	int n = 0;

	if (!text)
		return 0;
	for (char *p = text; (p = strstr(p, what)); p++)
		if (p == text || p[-1] == '\n')
			n++;
	free(text);
	return n;
}

/* ---- The S3 client ---- */

START_TEST(client_operations)
{
	struct qb_s3 *s3 = client(moto());
	const char *keys[] = { "plain.txt", "with space/and+plus=eq&amp%pct?q#h.pdf",
			       "\xc3\xa9t\xc3\xa9/\xe2\x98\x83 \xe6\x96\x87\xe4\xbb\xb6.txt",
			       NULL };
	struct qb_err err = { 0 };
	struct qb_s3_result res;
	bool exists = true;
	char *dir = tu_tmpdir(), *path = NULL, *big;
	int fd;

	ck_assert_int_eq(qb_s3_bucket_exists(s3, "it-client", &exists, &err), QB_OK);
	ck_assert(!exists);
	make_bucket(s3, "it-client");
	make_bucket(s3, "it-client");     /* already ours: fine */
	ck_assert_int_eq(qb_s3_bucket_exists(s3, "it-client", &exists, &err), QB_OK);
	ck_assert(exists);
	for (int i = 0; keys[i]; i++) {
		char *c = content(keys[i], 1000 + (size_t)i, 0);
		put(s3, "it-client", keys[i], c, 1000 + (size_t)i, "application/pdf");
		free(c);
	}
	put(s3, "it-client", "zero", "", 0, NULL);
	ck_assert_int_eq(qb_s3_head_object(s3, "it-client", keys[1], &res, &err), QB_OK);
	ck_assert_uint_eq(res.size, 1001);
	ck_assert_str_eq(res.content_type, "application/pdf");
	ck_assert_int_eq(qb_s3_head_object(s3, "it-client", "nope", &res, &err), QB_ENOTFOUND);
	/* GET streamed to a file, verified. */
	ck_assert_int_ge(asprintf(&path, "%s/get", dir), 0);
	for (int i = 0; keys[i]; i++) {
		char *c = content(keys[i], 1000 + (size_t)i, 0);
		fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
		ck_assert_int_eq(qb_s3_get_file(s3, "it-client", keys[i], fd, &res, &err), QB_OK);
		close(fd);
		ck_assert(res.verified);
		assert_file(path, c, 1000 + (size_t)i);
		free(c);
	}
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_eq(qb_s3_get_file(s3, "it-client", "missing/key", fd, &res, &err),
			 QB_ENOTFOUND);
	close(fd);
	ck_assert_ptr_nonnull(strstr(err.msg, "'it-client/missing/key'"));
	ck_assert_ptr_nonnull(strstr(err.msg, "404"));
	/* A multipart upload: 11 MiB in 5 MiB parts. */
	big = content("big", 11 * MIB, 0);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_eq(write(fd, big, 11 * MIB), 11 * MIB);
	ck_assert_int_eq(qb_s3_put_file(s3, "it-client", "big.bin", fd, 11 * MIB,
					"application/octet-stream", NULL, &res, &err), QB_OK);
	close(fd);
	ck_assert_ptr_nonnull(strstr(res.etag, "-3"));
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_eq(qb_s3_get_file(s3, "it-client", "big.bin", fd, &res, &err), QB_OK);
	close(fd);
	ck_assert(!res.verified);          /* a multipart ETag is not an MD5 */
	assert_file(path, big, 11 * MIB);
	free(big);
	/* Listing, deleting. */
	{
		struct keylist l = list(s3, "it-client");
		ck_assert_uint_eq(l.n, 5);
		for (size_t i = 1; i < l.n; i++)
			ck_assert_int_lt(strcmp(l.keys[i - 1], l.keys[i]), 0);
		keylist_free(&l);
	}
	ck_assert_int_eq(qb_s3_delete_object(s3, "it-client", "zero", &err), QB_OK);
	ck_assert_int_eq(qb_s3_delete_object(s3, "it-client", "zero", &err), QB_OK);
	ck_assert_int_eq(qb_s3_head_object(s3, "it-client", "zero", &res, &err), QB_ENOTFOUND);
	assert_no_secret(&err);
	qb_s3_free(s3);
	tu_rm_rf(dir);
	free(dir);
	free(path);
}
END_TEST

/* ---- Mirror ---- */

static const char *const awkward[] = {
	"with space.txt",
	"unicode/\xc3\xa9t\xc3\xa9 \xe2\x98\x83 \xe6\x96\x87\xe4\xbb\xb6.pdf",
	"sym + = & % ? #.bin",
	"percent%2Fnot-a-slash.txt",
	"deep/1/2/3/4/5/6/7/8/9/10/11/12/leaf.txt",
	"a-b.txt",
	"a/b.txt",
	/* moto refuses a newline in a key; the index escapes it like these. */
	"ctl/tab\there\rcr\\back\x01\x7f.txt",
	NULL,
};

/* A pooled listing whose callback fetches every hundredth object in the same pool, and stops
 * with an error at object stop_at (0: never). */
struct pooled {
	struct qb_s3_pool *pool;
	const char *bucket;
	struct keylist l;
	size_t stop_at;
	unsigned fetched;
	uint64_t fetched_bytes;
	int fd;                 /* every fetch writes here: only the listing is looked at */
};

static void pooled_fetched(void *ud, int rc, const struct qb_s3_result *res,
			   const struct qb_err *err)
{
	struct pooled *pl = ud;

	ck_assert_msg(rc == QB_OK || rc == QB_ECANCELLED, "%s", err ? err->msg : "");
	if (rc == QB_OK) {
		pl->fetched++;
		pl->fetched_bytes += res->size;
	}
}

static int pooled_object(void *ud, const struct qb_s3_object *o, struct qb_err *err)
{
	struct pooled *pl = ud;

	collect(&pl->l, o, err);
	if (pl->stop_at && pl->l.n == pl->stop_at)
		return qb_err_set(err, QB_EIO, "stopped at '%s'", o->key);
	if (pl->l.n % 100)
		return QB_OK;
	/* One fetch in a hundred is enough to keep the pool busy while pages come. */
	return qb_s3_pool_get(pl->pool, pl->bucket, o->key, pl->fd, pooled_fetched, pl, err);
}

static void assert_pooled_listing(struct qb_s3 *s3, const char *bucket, uint64_t objects)
{
	struct keylist ref = list(s3, bucket);
	struct pooled pl;
	struct qb_err err = { 0 };
	char *dir = tu_tmpdir(), *path = NULL;
	uint64_t want = 0;

	ck_assert_uint_eq(ref.n, objects);
	/* Pages of 100, 1,000, then the rest, with transfers running beside them: the same
	 * objects, in the same order, as the synchronous listing. */
	memset(&pl, 0, sizeof(pl));
	pl.bucket = bucket;
	ck_assert_int_ge(asprintf(&path, "%s/got", dir), 0);
	pl.fd = open(path, O_WRONLY | O_CREAT, 0600);
	ck_assert_int_ge(pl.fd, 0);
	ck_assert_int_eq(qb_s3_pool_new(&pl.pool, s3, 4, &err), QB_OK);
	ck_assert_msg(qb_s3_pool_list_objects(pl.pool, bucket, NULL, pooled_object, &pl, &err) ==
		      QB_OK, "%s", err.msg);
	ck_assert_int_eq(qb_s3_pool_wait(pl.pool, &err), QB_OK);
	ck_assert_uint_eq(pl.fetched, objects / 100);
	ck_assert_uint_eq(pl.l.n, ref.n);
	for (size_t i = 0; i < ref.n; i++) {
		ck_assert_str_eq(pl.l.keys[i], ref.keys[i]);
		ck_assert_uint_eq(pl.l.sizes[i], ref.sizes[i]);
		if ((i + 1) % 100 == 0)
			want += ref.sizes[i];
	}
	/* The pool counts object bytes only, not the listing pages. */
	ck_assert_uint_eq(pl.fetched_bytes, want);
	ck_assert_uint_eq(qb_s3_pool_bytes(pl.pool), want);
	qb_s3_pool_free(pl.pool);
	keylist_free(&pl.l);

	/* The callback fails in the second page, with the third on its way: the error comes
	 * back as it is, and the page left in the pool is dropped when it arrives (wait) or
	 * when the pool goes (free); ASan sees no leak either way. */
	for (int how = 0; how < 2; how++) {
		memset(&pl.l, 0, sizeof(pl.l));
		pl.stop_at = 150;
		pl.fetched = 0;
		ck_assert_int_eq(qb_s3_pool_new(&pl.pool, s3, 4, &err), QB_OK);
		ck_assert_int_eq(qb_s3_pool_list_objects(pl.pool, bucket, NULL, pooled_object, &pl,
							 &err), QB_EIO);
		ck_assert_ptr_nonnull(strstr(err.msg, "stopped at"));
		ck_assert_uint_eq(pl.l.n, 150);
		if (how == 0) {
			ck_assert_uint_gt(qb_s3_pool_pending(pl.pool), 0);
			ck_assert_int_eq(qb_s3_pool_wait(pl.pool, &err), QB_OK);
		}
		qb_s3_pool_free(pl.pool);
		keylist_free(&pl.l);
	}
	close(pl.fd);
	keylist_free(&ref);
	tu_rm_rf(dir);
	free(path);
	free(dir);
}

START_TEST(mirror_large_bucket)
{
	struct qb_s3 *s3 = client(moto());
	char *dir = tu_tmpdir(), *sd, *p = NULL, *big, *path = NULL;
	struct qb_config *cfg = config(moto(), dir, "it-full");
	struct qb_progress_cb pcb;
	struct prog g = { 0 };
	struct qb_minio_stats st;
	struct qb_err err = { 0 };
	struct qb_s3_result res;
	struct stat sb;
	uint64_t objs = 0, bytes = 0, want_bytes = 0;
	int fd;

	make_bucket(s3, "it-full");
	seed_bulk(s3, dir, "it-full", "bulk", 1100, 0);
	for (int i = 0; i < 1100; i++)
		want_bytes += bulk_size(i, 0);
	for (int i = 0; awkward[i]; i++) {
		char *c = content(awkward[i], 100 + (size_t)i, 0);
		put(s3, "it-full", awkward[i], c, 100 + (size_t)i, NULL);
		want_bytes += 100 + (size_t)i;
		free(c);
	}
	put(s3, "it-full", "zero-byte", "", 0, NULL);
	/* One multipart-uploaded object. */
	big = content("large/scan.tif", 11 * MIB, 0);
	ck_assert_int_ge(asprintf(&path, "%s/big", dir), 0);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_eq(write(fd, big, 11 * MIB), 11 * MIB);
	ck_assert_int_eq(qb_s3_put_file(s3, "it-full", "large/scan.tif", fd, 11 * MIB, "image/tiff",
					NULL, &res, &err), QB_OK);
	close(fd);
	unlink(path);
	ck_assert_ptr_nonnull(strchr(res.etag, '-'));
	want_bytes += 11 * MIB;

	pcb.fn = on_progress;
	pcb.ud = &g;
	ck_assert_msg(qb_minio_backup(cfg, dir, "20240101_010101", &pcb, &st, &err) == QB_OK, "%s",
		      err.msg);
	ck_assert_uint_eq(st.objects, 1100 + 8 + 2);
	ck_assert_uint_eq(st.fetched, st.objects);
	ck_assert_uint_eq(st.linked, 0);
	ck_assert_uint_eq(st.bytes, want_bytes);
	ck_assert_uint_eq(st.buckets, 1);
	ck_assert_uint_eq(st.warnings, 0);
	ck_assert(g.final);
	ck_assert_uint_eq(g.items, st.objects);
	ck_assert_int_eq(count_entries(dir, ".qb-tmp"), 0);
	sd = snap(dir, "20240101_010101");
	ck_assert_int_eq(stat(sd, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0700);
	ck_assert_uint_eq(index_lines(sd, NULL), st.objects);
	/* Every byte. */
	for (int i = 0; i < 1100; i++) {
		char key[64];
		char *c;
		snprintf(key, sizeof(key), "bulk/%04d.txt", i);
		c = content(key, bulk_size(i, 0), 0);
		free(p);
		ck_assert_int_ge(asprintf(&p, "%s/it-full/%s", sd, key), 0);
		assert_file(p, c, bulk_size(i, 0));
		free(c);
	}
	ck_assert_int_eq(stat(p, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);
	for (int i = 0; awkward[i]; i++) {
		char *c = content(awkward[i], 100 + (size_t)i, 0);
		free(p);
		ck_assert_int_ge(asprintf(&p, "%s/it-full/%s", sd, awkward[i]), 0);
		assert_file(p, c, 100 + (size_t)i);
		free(c);
	}
	free(p);
	ck_assert_int_ge(asprintf(&p, "%s/it-full/zero-byte", sd), 0);
	assert_file(p, "", 0);
	free(p);
	ck_assert_int_ge(asprintf(&p, "%s/it-full/large/scan.tif", sd), 0);
	assert_file(p, big, 11 * MIB);
	ck_assert_uint_eq(index_lines(sd, "\timage/tiff\t"), 1);
	/* The index keeps the MD5 computed while fetching, multipart objects included. */
	{
		struct qb_hash *h = qb_hash_new(QB_MD5);
		char hex[QB_HASH_HEX_MAX], *needle = NULL;

		qb_hash_update(h, big, 11 * MIB);
		qb_hash_final_hex(h, hex);
		qb_hash_free(h);
		ck_assert_int_ge(asprintf(&needle, "\timage/tiff\t%s\t", hex), 0);
		ck_assert_uint_eq(index_lines(sd, needle), 1);
		free(needle);
	}
	ck_assert_int_eq(qb_minio_snapshot_info(sd, &objs, &bytes, &err), QB_OK);
	ck_assert_uint_eq(objs, st.objects);
	ck_assert_uint_eq(bytes, want_bytes);
	/* verify's pass: every file, the multipart one by the MD5 recorded while fetching. */
	{
		struct qb_minio_check chk;
		ck_assert_msg(qb_minio_snapshot_check(sd, &chk, &err) == QB_OK, "%s", err.msg);
		ck_assert(chk.indexed);
		ck_assert_uint_eq(chk.objects, st.objects);
		ck_assert_uint_eq(chk.bytes, want_bytes);
		ck_assert_uint_eq(chk.md5_checked, st.objects);
		ck_assert_uint_eq(chk.size_only + chk.bad, 0);
	}
	assert_pooled_listing(s3, "it-full", st.objects);
	/* Same stamp again: refused, the snapshot untouched. */
	ck_assert_int_ne(qb_minio_backup(cfg, dir, "20240101_010101", NULL, &st, &err), QB_OK);
	ck_assert_ptr_nonnull(strstr(err.msg, "already exists"));
	assert_no_secret(&err);
	free(big);
	free(p);
	free(path);
	free(sd);
	qb_config_free(cfg);
	qb_s3_free(s3);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

static const char *const unsafe[] = {
	"../evil.txt",
	"a/../../evil2.txt",
	"/abs.txt",
	"a//b.txt",
	"./dot.txt",
	"x/./y.txt",
	"x/..",
	"trail/",
	"clash",
	NULL,
};

/* A segment longer than a file name may be. */
static char *long_key(void)
{
	char *k = malloc(400);

	ck_assert_ptr_nonnull(k);
	memcpy(k, "long/", 5);
	memset(k + 5, 'n', 300);
	memcpy(k + 305, ".pdf", 5);
	return k;
}

/* No file anywhere under dir whose name contains "evil" outside the escaped folder. */
static void assert_nothing_escaped(const char *dir)
{
	char *out = NULL;

	ck_assert_int_eq(tu_sh(&out, "find '%s' -name '*evil*' -not -path '*/.qbackup-escaped/*'",
			       dir), 0);
	ck_assert_msg(out[0] == '\0', "written outside: %s", out);
	free(out);
}

START_TEST(mirror_unsafe_keys)
{
	struct qb_s3 *s3 = client(moto());
	char *dir = tu_tmpdir(), *sd, *p = NULL, *lk = long_key(), *warn = NULL;
	struct qb_config *cfg = config(moto(), dir, "it-unsafe");
	struct qb_minio_stats st;
	struct qb_err err = { 0 };
	struct keylist before, after;
	int n = 0;

	make_bucket(s3, "it-unsafe");
	for (int i = 0; unsafe[i]; i++, n++) {
		char *c = content(unsafe[i], 50 + (size_t)i, 0);
		put(s3, "it-unsafe", unsafe[i], c, 50 + (size_t)i, "text/plain");
		free(c);
	}
	put(s3, "it-unsafe", "clash/inner.pdf", "inner", 5, "application/pdf");
	put(s3, "it-unsafe", lk, "long", 4, NULL);
	put(s3, "it-unsafe", "ok/normal.txt", "normal", 6, NULL);
	n += 3;
	before = list(s3, "it-unsafe");
	ck_assert_uint_eq(before.n, (size_t)n);

	ck_assert_msg(qb_minio_backup(cfg, dir, "20240202_020202", NULL, &st, &err) == QB_OK, "%s",
		      err.msg);
	ck_assert_uint_eq(st.objects, (uint64_t)n);
	ck_assert_uint_eq(st.escaped, 10);     /* the 9 above and the long one */
	ck_assert_uint_eq(st.warnings, 10);
	sd = snap(dir, "20240202_020202");
	assert_nothing_escaped(dir);
	/* The snapshot holds the bucket, the escaped folder and the index, nothing else. */
	ck_assert_int_eq(tu_sh(&p, "ls -A '%s' | tr '\\n' ' '", sd), 0);
	ck_assert_str_eq(p, ".qbackup-escaped .qbackup-index it-unsafe ");
	free(p);
	p = NULL;
	ck_assert_int_eq(tu_sh(&p, "ls -A '%s'", dir), 0);
	ck_assert_str_eq(p, "minio_20240202_020202\n");
	free(p);
	/* Each unsafe key: a warning naming it, an index line with an escaped path. */
	for (int i = 0; unsafe[i]; i++) {
		ck_assert_int_ge(asprintf(&warn, "object key '%s' in bucket 'it-unsafe'",
					  unsafe[i]), 0);
		ck_assert_msg(strstr(logbuf.data, warn) != NULL, "no warning for '%s'", unsafe[i]);
		free(warn);
	}
	ck_assert_ptr_nonnull(strstr(logbuf.data, "is also the folder of other keys"));
	ck_assert_uint_eq(index_lines(sd, "\t.qbackup-escaped/it-unsafe/"), 10);
	ck_assert_int_ge(asprintf(&p, "%s/it-unsafe/clash/inner.pdf", sd), 0);
	assert_file(p, "inner", 5);
	free(p);
	ck_assert_int_ge(asprintf(&p, "%s/.qbackup-escaped/it-unsafe/clash", sd), 0);
	{
		char *c = content("clash", 58, 0);
		assert_file(p, c, 58);
		free(c);
	}
	free(p);
	ck_assert_int_ge(asprintf(&p, "%s/it-unsafe/ok/normal.txt", sd), 0);
	assert_file(p, "normal", 6);
	free(p);
	/* verify finds each escaped object at the index's path. */
	{
		struct qb_minio_check chk;
		ck_assert_msg(qb_minio_snapshot_check(sd, &chk, &err) == QB_OK, "%s", err.msg);
		ck_assert_uint_eq(chk.md5_checked, (uint64_t)n);
	}

	/* Back under their exact keys. */
	empty_bucket(s3, "it-unsafe");
	ck_assert_msg(qb_minio_restore(cfg, sd, false, NULL, &st, &err) == QB_OK, "%s", err.msg);
	ck_assert_uint_eq(st.uploaded, (uint64_t)n);
	after = list(s3, "it-unsafe");
	ck_assert_uint_eq(after.n, before.n);
	for (size_t i = 0; i < after.n; i++) {
		ck_assert_str_eq(after.keys[i], before.keys[i]);
		ck_assert_uint_eq(after.sizes[i], before.sizes[i]);
	}
	for (int i = 0; unsafe[i]; i++) {
		char *c = content(unsafe[i], 50 + (size_t)i, 0);
		int fd;
		struct qb_s3_result res;
		ck_assert_int_ge(asprintf(&p, "%s/get", dir), 0);
		fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0600);
		ck_assert_int_eq(qb_s3_get_file(s3, "it-unsafe", unsafe[i], fd, &res, &err), QB_OK);
		close(fd);
		assert_file(p, c, 50 + (size_t)i);
		ck_assert_str_eq(res.content_type, "text/plain");
		free(c);
		free(p);
	}
	/* ... and names the key of a damaged one. */
	{
		struct qb_minio_check chk;
		ck_assert_int_ge(asprintf(&p, "%s/.qbackup-escaped/it-unsafe/clash", sd), 0);
		ck_assert_int_eq(truncate(p, 3), 0);
		free(p);
		ck_assert_int_eq(qb_minio_snapshot_check(sd, &chk, &err), QB_ECORRUPT);
		ck_assert_msg(strstr(err.msg, "'it-unsafe/clash' is 3 bytes, the index says 58"), "%s",
			      err.msg);
		ck_assert_uint_eq(chk.bad, 1);
	}
	assert_no_secret(&err);
	keylist_free(&before);
	keylist_free(&after);
	free(lk);
	free(sd);
	qb_config_free(cfg);
	qb_s3_free(s3);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(mirror_incremental)
{
	struct qb_s3 *s3 = client(moto());
	char *dir = tu_tmpdir(), *s1, *s2, *s3d, *a = NULL, *b = NULL;
	struct qb_config *cfg = config(moto(), dir, "it-incr");
	struct qb_minio_stats st;
	struct qb_err err = { 0 };
	char *edit;
	uint64_t objs, bytes;

	make_bucket(s3, "it-incr");
	seed_bulk(s3, dir, "it-incr", "doc", 30, 100);
	ck_assert_int_eq(qb_minio_backup(cfg, dir, "20240303_030301", NULL, &st, &err), QB_OK);
	ck_assert_uint_eq(st.fetched, 30);
	s1 = snap(dir, "20240303_030301");
	/* A file of the snapshot edited in place, same size: fetched again, not carried
	 * forward (its mtime is no longer the object's Last-Modified). */
	ck_assert_int_ge(asprintf(&a, "%s/it-incr/doc/0003.txt", s1), 0);
	ck_assert_int_eq(tu_sh(NULL, "printf X | dd of='%s' bs=1 seek=2 conv=notrunc 2>/dev/null", a),
			 0);
	/* A same-size edit, a deletion, an addition. */
	edit = content("doc/0005.txt", bulk_size(5, 100), 99);
	put(s3, "it-incr", "doc/0005.txt", edit, bulk_size(5, 100), NULL);
	ck_assert_int_eq(qb_s3_delete_object(s3, "it-incr", "doc/0007.txt", &err), QB_OK);
	put(s3, "it-incr", "doc/new.txt", "new", 3, NULL);
	ck_assert_msg(qb_minio_backup(cfg, dir, "20240303_030302", NULL, &st, &err) == QB_OK, "%s",
		      err.msg);
	ck_assert_uint_eq(st.objects, 30);
	ck_assert_uint_eq(st.linked, 27);
	ck_assert_uint_eq(st.fetched, 3);
	s2 = snap(dir, "20240303_030302");
	for (int i = 0; i < 30; i++) {
		char key[64];
		snprintf(key, sizeof(key), "doc/%04d.txt", i);
		free(a);
		free(b);
		ck_assert_int_ge(asprintf(&a, "%s/it-incr/%s", s1, key), 0);
		ck_assert_int_ge(asprintf(&b, "%s/it-incr/%s", s2, key), 0);
		if (i == 7) {
			ck_assert_int_ne(access(b, F_OK), 0);
		} else if (i == 5) {
			ck_assert(inode(a) != inode(b));
			assert_file(b, edit, bulk_size(5, 100));
		} else if (i == 3) {
			char *want = content(key, bulk_size(3, 100), 0);
			ck_assert(inode(a) != inode(b));
			assert_file(b, want, bulk_size(3, 100));
			free(want);
		} else {
			ck_assert_msg(inode(a) == inode(b), "'%s' not shared", key);
		}
	}
	free(b);
	ck_assert_int_ge(asprintf(&b, "%s/it-incr/doc/new.txt", s2), 0);
	assert_file(b, "new", 3);
	ck_assert_uint_eq(index_lines(s2, "doc/0007.txt"), 0);
	ck_assert_uint_eq(index_lines(s2, "doc/new.txt"), 1);
	/* Nothing changed: everything linked. */
	ck_assert_int_eq(qb_minio_backup(cfg, dir, "20240303_030303", NULL, &st, &err), QB_OK);
	ck_assert_uint_eq(st.linked, 30);
	ck_assert_uint_eq(st.fetched, 0);
	s3d = snap(dir, "20240303_030303");
	ck_assert_int_eq(qb_minio_snapshot_info(s3d, &objs, &bytes, &err), QB_OK);
	ck_assert_uint_eq(objs, 30);
	free(a);
	free(b);
	free(edit);
	free(s1);
	free(s2);
	free(s3d);
	qb_config_free(cfg);
	qb_s3_free(s3);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

/* ---- Restore ---- */

START_TEST(restore_round_trip)
{
	struct qb_s3 *s3 = client(moto());
	char *dir = tu_tmpdir(), *sd, *p = NULL, *big, *path = NULL;
	struct qb_config *cfg = config(moto(), dir, "it-rt");
	struct qb_minio_stats st;
	struct qb_err err = { 0 };
	struct qb_s3_result res;
	struct keylist before, after;
	int fd;

	make_bucket(s3, "it-rt");
	seed_bulk(s3, dir, "it-rt", "files", 60, 0);
	for (int i = 0; awkward[i]; i++) {
		char *c = content(awkward[i], 10 + (size_t)i, 0);
		put(s3, "it-rt", awkward[i], c, 10 + (size_t)i,
		    i == 1 ? "application/pdf" : "image/png");
		free(c);
	}
	put(s3, "it-rt", "zero-byte", "", 0, "text/plain");
	big = content("huge.pdf", 12 * MIB, 0);
	ck_assert_int_ge(asprintf(&path, "%s/big", dir), 0);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_eq(write(fd, big, 12 * MIB), 12 * MIB);
	ck_assert_int_eq(qb_s3_put_file(s3, "it-rt", "huge.pdf", fd, 12 * MIB, "application/pdf",
					NULL, &res, &err), QB_OK);
	close(fd);
	before = list(s3, "it-rt");
	ck_assert_int_eq(qb_minio_backup(cfg, dir, "20240404_040404", NULL, &st, &err), QB_OK);
	sd = snap(dir, "20240404_040404");

	/* Into the emptied bucket. */
	empty_bucket(s3, "it-rt");
	ck_assert_msg(qb_minio_restore(cfg, "minio_20240404_040404", false, NULL, &st, &err) ==
		      QB_OK, "%s", err.msg);
	ck_assert_uint_eq(st.uploaded, before.n);
	ck_assert_uint_eq(st.skipped, 0);
	after = list(s3, "it-rt");
	ck_assert_uint_eq(after.n, before.n);
	for (size_t i = 0; i < after.n; i++) {
		char *local = NULL;
		size_t n = 0;
		char *want;

		ck_assert_str_eq(after.keys[i], before.keys[i]);
		ck_assert_uint_eq(after.sizes[i], before.sizes[i]);
		ck_assert_int_ge(asprintf(&local, "%s/it-rt/%s", sd, after.keys[i]), 0);
		want = tu_read_file(local, &n);
		ck_assert_ptr_nonnull(want);
		free(p);
		ck_assert_int_ge(asprintf(&p, "%s/get", dir), 0);
		fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0600);
		ck_assert_int_eq(qb_s3_get_file(s3, "it-rt", after.keys[i], fd, &res, &err), QB_OK);
		close(fd);
		assert_file(p, want, n);
		free(want);
		free(local);
	}
	ck_assert_int_eq(qb_s3_head_object(s3, "it-rt", awkward[1], &res, &err), QB_OK);
	ck_assert_str_eq(res.content_type, "application/pdf");
	ck_assert_int_eq(qb_s3_head_object(s3, "it-rt", awkward[2], &res, &err), QB_OK);
	ck_assert_str_eq(res.content_type, "image/png");
	ck_assert_int_eq(qb_s3_head_object(s3, "it-rt", "huge.pdf", &res, &err), QB_OK);
	ck_assert_ptr_nonnull(strchr(res.etag, '-'));     /* went up in parts */
	ck_assert_str_eq(res.content_type, "application/pdf");

	/* A bucket's folder, or one deeper, is not a snapshot: refused before the server
	 * is asked anything (its folders would have been taken for buckets). */
	free(p);
	ck_assert_int_ge(asprintf(&p, "%s/it-rt", sd), 0);
	ck_assert_int_eq(qb_minio_restore(cfg, p, true, NULL, &st, &err), QB_EARG);
	ck_assert_msg(strstr(err.msg, "inside a snapshot (1 level up)"), "%s", err.msg);
	free(p);
	ck_assert_int_ge(asprintf(&p, "%s/it-rt/files", sd), 0);
	ck_assert_int_eq(qb_minio_restore(cfg, p, false, NULL, &st, &err), QB_EARG);
	ck_assert_msg(strstr(err.msg, "(2 levels up)"), "%s", err.msg);

	/* Again: all identical, nothing sent. */
	ck_assert_int_eq(qb_minio_restore(cfg, sd, false, NULL, &st, &err), QB_OK);
	ck_assert_uint_eq(st.skipped, before.n);
	ck_assert_uint_eq(st.uploaded, 0);

	/* An extra object and a changed one; --delete removes the extra. */
	put(s3, "it-rt", "extra/new.txt", "extra", 5, NULL);
	put(s3, "it-rt", "files/0003.txt", "changed", 7, NULL);
	ck_assert_int_eq(qb_minio_restore(cfg, sd, false, NULL, &st, &err), QB_OK);
	ck_assert_uint_eq(st.uploaded, 1);
	ck_assert_uint_eq(st.deleted, 0);
	ck_assert_int_eq(qb_s3_head_object(s3, "it-rt", "extra/new.txt", &res, &err), QB_OK);
	ck_assert_int_eq(qb_minio_restore(cfg, sd, true, NULL, &st, &err), QB_OK);
	ck_assert_uint_eq(st.deleted, 1);
	ck_assert_uint_eq(st.uploaded, 0);
	ck_assert_int_eq(qb_s3_head_object(s3, "it-rt", "extra/new.txt", &res, &err), QB_ENOTFOUND);
	keylist_free(&after);
	after = list(s3, "it-rt");
	ck_assert_uint_eq(after.n, before.n);
	/* A damaged large file is refused before any part goes up: no Content-MD5
	 * covers an upload in parts, the index's MD5 is checked first. */
	free(p);
	ck_assert_int_ge(asprintf(&p, "%s/it-rt/huge.pdf", sd), 0);
	big[5 * MIB] ^= 1;
	unlink(p);
	ck_assert_int_eq(tu_write_file(p, big, 12 * MIB), 0);
	ck_assert_int_eq(qb_s3_delete_object(s3, "it-rt", "huge.pdf", &err), QB_OK);
	ck_assert_int_eq(qb_minio_restore(cfg, sd, false, NULL, &st, &err), QB_ECORRUPT);
	ck_assert_uint_eq(st.damaged, 1);
	ck_assert_msg(strstr(err.msg, "huge.pdf") && strstr(err.msg, "does not match"), "%s", err.msg);
	ck_assert_int_eq(qb_s3_head_object(s3, "it-rt", "huge.pdf", &res, &err), QB_ENOTFOUND);
	big[5 * MIB] ^= 1;
	unlink(p);
	ck_assert_int_eq(tu_write_file(p, big, 12 * MIB), 0);
	ck_assert_int_eq(qb_minio_restore(cfg, sd, false, NULL, &st, &err), QB_OK);
	ck_assert_uint_eq(st.uploaded, 1);
	/* A damaged snapshot file is refused (Content-MD5 from the index), and so is a
	 * missing one; each costs its own object only: the others are restored. */
	free(p);
	ck_assert_int_ge(asprintf(&p, "%s/it-rt/files/0010.txt", sd), 0);
	{
		size_t n = 0;
		char *c = tu_read_file(p, &n);
		c[0] ^= 1;
		unlink(p);      /* a hard link of nothing else here, but do not write through it */
		ck_assert_int_eq(tu_write_file(p, c, n), 0);
		free(c);
	}
	free(p);
	ck_assert_int_ge(asprintf(&p, "%s/it-rt/files/0012.txt", sd), 0);
	ck_assert_int_eq(unlink(p), 0);
	for (int i = 10; i <= 12; i++) {
		char key[32];
		snprintf(key, sizeof(key), "files/%04d.txt", i);
		ck_assert_int_eq(qb_s3_delete_object(s3, "it-rt", key, &err), QB_OK);
	}
	ck_assert_int_eq(qb_minio_restore(cfg, sd, false, NULL, &st, &err), QB_ECORRUPT);
	/* The first to fail is named: the missing file, or the damaged one's refused upload. */
	ck_assert_msg(strstr(err.msg, "2 objects not restored") &&
		      (strstr(err.msg, "files/0010.txt") || strstr(err.msg, "files/0012.txt")),
		      "%s", err.msg);
	assert_no_secret(&err);
	ck_assert_uint_eq(st.damaged, 2);
	ck_assert_uint_eq(st.uploaded, 1);
	ck_assert_int_eq(qb_s3_head_object(s3, "it-rt", "files/0011.txt", &res, &err), QB_OK);
	ck_assert_int_eq(qb_s3_head_object(s3, "it-rt", "files/0010.txt", &res, &err), QB_ENOTFOUND);
	ck_assert_int_eq(qb_s3_head_object(s3, "it-rt", "files/0012.txt", &res, &err), QB_ENOTFOUND);
	ck_assert(st.finished);
	/* With --delete, over other versions of those keys: the damaged ones are neither
	 * overwritten (moto does not check Content-MD5: the upload is stopped before its
	 * last byte) nor deleted. */
	{
		char etag[2][QB_S3_ETAG_MAX];
		put(s3, "it-rt", "files/0010.txt", "other", 5, NULL);
		put(s3, "it-rt", "files/0012.txt", "other 12", 8, NULL);
		ck_assert_int_eq(qb_s3_delete_object(s3, "it-rt", "files/0011.txt", &err), QB_OK);
		for (int i = 0; i < 2; i++) {
			ck_assert_int_eq(qb_s3_head_object(s3, "it-rt", i ? "files/0012.txt" :
							   "files/0010.txt", &res, &err), QB_OK);
			memcpy(etag[i], res.etag, sizeof(etag[i]));
		}
		ck_assert_int_eq(qb_minio_restore(cfg, sd, true, NULL, &st, &err), QB_ECORRUPT);
		ck_assert_uint_eq(st.damaged, 2);
		ck_assert_uint_eq(st.uploaded, 1);
		ck_assert_uint_eq(st.deleted, 0);
		ck_assert(st.finished);
		for (int i = 0; i < 2; i++) {
			ck_assert_int_eq(qb_s3_head_object(s3, "it-rt", i ? "files/0012.txt" :
							   "files/0010.txt", &res, &err), QB_OK);
			ck_assert_str_eq(res.etag, etag[i]);
		}
		ck_assert_int_eq(qb_s3_head_object(s3, "it-rt", "files/0011.txt", &res, &err), QB_OK);
	}
	/* An empty object whose index line gives another MD5 (a damaged index): an empty
	 * body has nothing for the upload to stop, so it is refused before it is sent. */
	ck_assert_int_eq(tu_sh(NULL, "sed -i '/^it-rt\tzero-byte\t/s/d41d8cd98f00b204e9800998ecf8427e/"
			       "0123456789abcdef0123456789abcdef/g' '%s/.qbackup-index'", sd), 0);
	ck_assert_int_eq(qb_s3_delete_object(s3, "it-rt", "zero-byte", &err), QB_OK);
	ck_assert_int_eq(qb_minio_restore(cfg, sd, false, NULL, &st, &err), QB_ECORRUPT);
	ck_assert_uint_eq(st.damaged, 3);
	ck_assert(st.finished);
	ck_assert_int_eq(qb_s3_head_object(s3, "it-rt", "zero-byte", &res, &err), QB_ENOTFOUND);
	/* A damaged index line: with --delete, nothing changes (its object, unknown, would
	 * be deleted); without, that one object is left out and the others go back. */
	ck_assert_int_eq(tu_sh(NULL, "sed -i '/^it-rt\tfiles\\/0013.txt\t/s/\t[0-9]*\t/\t12x\t/' "
			       "'%s/.qbackup-index'", sd), 0);
	ck_assert_int_eq(qb_s3_delete_object(s3, "it-rt", "files/0013.txt", &err), QB_OK);
	ck_assert_int_eq(qb_s3_delete_object(s3, "it-rt", "files/0014.txt", &err), QB_OK);
	ck_assert_int_ne(qb_minio_restore(cfg, sd, true, NULL, &st, &err), QB_OK);
	ck_assert_msg(strstr(err.msg, ".qbackup-index") && strstr(err.msg, "nothing was changed") &&
		      strstr(err.msg, "line"), "%s", err.msg);
	ck_assert_int_eq(qb_s3_head_object(s3, "it-rt", "files/0014.txt", &res, &err), QB_ENOTFOUND);
	ck_assert_int_eq(qb_minio_restore(cfg, sd, false, NULL, &st, &err), QB_ECORRUPT);
	ck_assert_uint_eq(st.damaged, 4);
	ck_assert(st.finished);
	ck_assert_int_eq(qb_s3_head_object(s3, "it-rt", "files/0014.txt", &res, &err), QB_OK);
	ck_assert_int_eq(qb_s3_head_object(s3, "it-rt", "files/0013.txt", &res, &err), QB_ENOTFOUND);
	keylist_free(&before);
	keylist_free(&after);
	free(big);
	free(p);
	free(path);
	free(sd);
	qb_config_free(cfg);
	qb_s3_free(s3);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(restore_mc_mirror_folder)
{
	struct qb_s3 *s3 = client(moto());
	char *dir = tu_tmpdir(), *p = NULL;
	struct qb_config *cfg = config(moto(), dir, NULL);
	struct qb_minio_stats st;
	struct qb_err err = { 0 };
	struct qb_s3_result res;
	struct keylist l;
	uint64_t objs, bytes;
	const char *files[] = { "a-b.txt", "a/b.txt", "a/c/d.pdf", "a0", "z.png", "empty",
				".qb-tmp.notes", NULL };

	ck_assert_int_eq(tu_sh(NULL, "mkdir -p '%s/mcold/it-mc/a/c'", dir), 0);
	for (int i = 0; files[i]; i++) {
		char *c = content(files[i], i == 5 ? 0 : 200 + (size_t)i, 0);
		free(p);
		ck_assert_int_ge(asprintf(&p, "%s/mcold/it-mc/%s", dir, files[i]), 0);
		ck_assert_int_eq(tu_write_file(p, c, i == 5 ? 0 : 200 + (size_t)i), 0);
		free(c);
	}
	free(p);
	ck_assert_int_ge(asprintf(&p, "%s/no-such-folder", dir), 0);
	ck_assert_int_eq(qb_minio_snapshot_info(p, &objs, &bytes, &err), QB_ENOTFOUND);
	free(p);
	ck_assert_int_ge(asprintf(&p, "%s/mcold", dir), 0);
	ck_assert_int_eq(qb_minio_snapshot_info(p, &objs, &bytes, &err), QB_OK);
	ck_assert_uint_eq(objs, 7);
	/* A bare name, looked up in BACKUP_DIR; the bucket does not exist yet. */
	ck_assert_msg(qb_minio_restore(cfg, "mcold", false, NULL, &st, &err) == QB_OK, "%s",
		      err.msg);
	ck_assert_uint_eq(st.created, 1);
	ck_assert_uint_eq(st.uploaded, 7);
	l = list(s3, "it-mc");
	ck_assert_uint_eq(l.n, 7);
	/* A key that looks like one of qbackup's temporary names is a key all the same. */
	ck_assert_str_eq(l.keys[0], ".qb-tmp.notes");
	ck_assert_str_eq(l.keys[1], "a-b.txt");
	ck_assert_str_eq(l.keys[2], "a/b.txt");
	ck_assert_str_eq(l.keys[3], "a/c/d.pdf");
	ck_assert_str_eq(l.keys[4], "a0");
	ck_assert_int_eq(qb_s3_head_object(s3, "it-mc", "a/c/d.pdf", &res, &err), QB_OK);
	ck_assert_str_eq(res.content_type, "application/pdf");
	ck_assert_int_eq(qb_s3_head_object(s3, "it-mc", "z.png", &res, &err), QB_OK);
	ck_assert_str_eq(res.content_type, "image/png");
	/* Again: the MD5s match, nothing sent; --delete with nothing extra deletes nothing. */
	ck_assert_int_eq(qb_minio_restore(cfg, p, true, NULL, &st, &err), QB_OK);
	ck_assert_uint_eq(st.skipped, 7);
	ck_assert_uint_eq(st.deleted, 0);
	/* A symlink and a FIFO in the folder are keys left out: the server's a/b.txt is
	 * neither overwritten nor deleted by --delete, and nothing waits on the FIFO. */
	ck_assert_int_eq(tu_sh(NULL, "cd '%s/it-mc/a' && rm b.txt && ln -s ../a-b.txt b.txt && "
			       "mkfifo fifo", p), 0);
	ck_assert_int_eq(qb_minio_restore(cfg, p, true, NULL, &st, &err), QB_ECORRUPT);
	ck_assert_msg(strstr(err.msg, "2 objects not restored"), "%s", err.msg);
	ck_assert_uint_eq(st.damaged, 2);
	ck_assert_uint_eq(st.skipped, 6);
	ck_assert_uint_eq(st.deleted, 0);
	ck_assert_uint_eq(st.uploaded, 0);
	ck_assert_int_eq(qb_s3_head_object(s3, "it-mc", "a/b.txt", &res, &err), QB_OK);
	ck_assert_int_eq(qb_s3_head_object(s3, "it-mc", "a/fifo", &res, &err), QB_ENOTFOUND);
	ck_assert_int_eq(qb_minio_restore(cfg, "no-such-snapshot", false, NULL, &st, &err),
			 QB_ENOTFOUND);
	keylist_free(&l);
	free(p);
	qb_config_free(cfg);
	qb_s3_free(s3);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

/* The ETag of bucket/key on the server, or "" when it is not there. */
static char *etag_of(struct qb_s3 *s3, const char *bucket, const char *key)
{
	struct qb_s3_result res;
	struct qb_err err = { 0 };
	int rc = qb_s3_head_object(s3, bucket, key, &res, &err);

	ck_assert_msg(rc == QB_OK || rc == QB_ENOTFOUND, "%s", err.msg);
	return strdup(rc == QB_OK ? res.etag : "");
}

static void assert_etag(struct qb_s3 *s3, const char *bucket, const char *key, const char *want)
{
	char *got = etag_of(s3, bucket, key);

	ck_assert_msg(!strcmp(got, want), "%s/%s: ETag '%s', not '%s'", bucket, key, got, want);
	free(got);
}

/* --only: one bucket, or the keys under a prefix of one, come back; nothing else on the
 * server changes, even with --delete; a part the snapshot does not hold is refused. */
START_TEST(restore_part)
{
	struct qb_s3 *s3 = client(moto());
	char *dir = tu_tmpdir(), *sd, *a1, *ab, *b1_new, *p = NULL;
	struct qb_config *cfg = config(moto(), dir, "it-part,it-part2");
	struct qb_minio_stats st;
	struct qb_err err = { 0 };
	const char *keys[] = { "a/1.txt", "a/2.txt", "a/sub/3.txt", "ab.txt", "b/1.txt", NULL };

	make_bucket(s3, "it-part");
	make_bucket(s3, "it-part2");
	for (int i = 0; keys[i]; i++) {
		char *c = content(keys[i], 100 + (size_t)i, 0);
		put(s3, "it-part", keys[i], c, 100 + (size_t)i, NULL);
		free(c);
	}
	put(s3, "it-part2", "x.txt", "x", 1, NULL);
	ck_assert_msg(qb_minio_backup(cfg, dir, "20240707_070707", NULL, &st, &err) == QB_OK, "%s",
		      err.msg);
	sd = snap(dir, "20240707_070707");
	a1 = etag_of(s3, "it-part", "a/1.txt");
	ab = etag_of(s3, "it-part", "ab.txt");
	/* After the backup: a/1.txt deleted, b/1.txt changed, a/new.txt and b/new.txt added,
	 * ab.txt changed (it starts with "a", not with "a/"), it-part2 emptied. */
	ck_assert_int_eq(qb_s3_delete_object(s3, "it-part", "a/1.txt", &err), QB_OK);
	put(s3, "it-part", "b/1.txt", "changed", 7, NULL);
	put(s3, "it-part", "ab.txt", "changed too", 11, NULL);
	put(s3, "it-part", "a/new.txt", "new", 3, NULL);
	put(s3, "it-part", "b/new.txt", "new", 3, NULL);
	ck_assert_int_eq(qb_s3_delete_object(s3, "it-part2", "x.txt", &err), QB_OK);
	b1_new = etag_of(s3, "it-part", "b/1.txt");
	free(ab);
	ab = etag_of(s3, "it-part", "ab.txt");

	ck_assert_msg(qb_minio_restore_part(cfg, sd, "it-part/a/", true, NULL, &st, &err) ==
		      QB_OK, "%s", err.msg);
	ck_assert_uint_eq(st.objects, 3);
	ck_assert_uint_eq(st.uploaded, 1);
	ck_assert_uint_eq(st.skipped, 2);
	ck_assert_uint_eq(st.deleted, 1);
	ck_assert_uint_eq(st.buckets, 1);
	assert_etag(s3, "it-part", "a/1.txt", a1);
	assert_etag(s3, "it-part", "a/new.txt", "");
	assert_etag(s3, "it-part", "ab.txt", ab);
	assert_etag(s3, "it-part", "b/1.txt", b1_new);
	ck_assert_str_ne(b1_new, "");
	assert_etag(s3, "it-part", "b/new.txt", "22af645d1859cb5ca6da0c484f1f37ea"); /* "new" */
	assert_etag(s3, "it-part2", "x.txt", "");

	/* A whole bucket: the other one still untouched. */
	ck_assert_msg(qb_minio_restore_part(cfg, sd, "it-part2", false, NULL, &st, &err) ==
		      QB_OK, "%s", err.msg);
	ck_assert_uint_eq(st.uploaded, 1);
	assert_etag(s3, "it-part2", "x.txt", "9dd4e461268c8034f5c8564e155c67a6"); /* "x" */
	assert_etag(s3, "it-part", "b/1.txt", b1_new);

	/* Refused before anything is sent: no such bucket in the snapshot, nothing under
	 * the prefix (with --delete that would empty it on the server), not a bucket name. */
	ck_assert_int_eq(qb_minio_restore_part(cfg, sd, "it-nope/a/", true, NULL, &st, &err),
			 QB_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(err.msg, "holds no bucket 'it-nope'"));
	ck_assert_int_eq(qb_minio_restore_part(cfg, sd, "it-part/b/new", true, NULL, &st, &err),
			 QB_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(err.msg, "holds no object under 'it-part/b/new'"));
	ck_assert_int_eq(qb_minio_restore_part(cfg, sd, "../x", false, NULL, &st, &err), QB_EARG);
	assert_etag(s3, "it-part", "b/new.txt", "22af645d1859cb5ca6da0c484f1f37ea");

	/* An `mc mirror` folder (no index): the same filter on its files. */
	ck_assert_int_eq(tu_sh(NULL, "mkdir -p '%s/mc/it-part/a' '%s/mc/it-part/b' && "
			       "printf old > '%s/mc/it-part/a/1.txt' && "
			       "printf old > '%s/mc/it-part/b/1.txt'", dir, dir, dir, dir), 0);
	ck_assert_int_ge(asprintf(&p, "%s/mc", dir), 0);
	ck_assert_msg(qb_minio_restore_part(cfg, p, "it-part/a", false, NULL, &st, &err) ==
		      QB_OK, "%s", err.msg);
	ck_assert_uint_eq(st.objects, 1);
	ck_assert_uint_eq(st.uploaded, 1);
	assert_etag(s3, "it-part", "a/1.txt", "149603e6c03516362a8da23f624db945"); /* "old" */
	assert_etag(s3, "it-part", "b/1.txt", b1_new);

	/* A server that ignores the prefix and lists the whole bucket: --delete still
	 * touches nothing outside the part. */
	{
		const char *args[] = { "--ignore-prefix", NULL };
		struct qb_config *via;
		struct fault f;

		fault_start(&f, dir, args);
		via = config(f.url, dir, "it-part");
		ck_assert_msg(qb_minio_restore_part(via, sd, "it-part/a/", true, NULL, &st, &err) ==
			      QB_OK, "%s", err.msg);
		ck_assert_int_eq(fault_count(&f, "noprefix GET"), 1);
		ck_assert_uint_eq(st.deleted, 0);
		ck_assert_uint_eq(st.uploaded, 1);   /* a/1.txt, "old" above */
		assert_etag(s3, "it-part", "a/1.txt", a1);
		assert_etag(s3, "it-part", "b/new.txt", "22af645d1859cb5ca6da0c484f1f37ea");
		assert_etag(s3, "it-part", "ab.txt", ab);
		fault_stop(&f);
		qb_config_free(via);
	}

	free(p);
	free(a1);
	free(ab);
	free(b1_new);
	free(sd);
	qb_config_free(cfg);
	qb_s3_free(s3);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

/* ---- Faults ---- */

START_TEST(server_dies_mid_mirror)
{
	struct qb_s3 *s3 = client(moto());
	char *dir = tu_tmpdir();
	const char *args[] = { "--die-after", "40", NULL };
	struct fault f;
	struct qb_config *cfg;
	struct qb_minio_stats st;
	struct qb_err err = { 0 };
	int rc;

	make_bucket(s3, "it-die");
	seed_bulk(s3, dir, "it-die", "scan", 150, 20000);
	fault_start(&f, dir, args);
	cfg = config(f.url, dir, "it-die");
	qb_config_set(cfg, "MINIO_RETRIES", "2", true);
	qb_config_set(cfg, "MINIO_PARALLEL", "4", true);
	rc = qb_minio_backup(cfg, dir, "20240505_050505", NULL, &st, &err);
	ck_assert_int_eq(rc, QB_ENET);
	ck_assert_msg(strstr(err.msg, "'it-die/scan/") || strstr(err.msg, "'it-die'"), "%s",
		      err.msg);
	ck_assert_ptr_nonnull(strstr(err.msg, "after 3 attempts"));
	ck_assert_ptr_nonnull(strstr(err.msg, f.url));
	ck_assert_int_eq(count_entries(dir, "minio_"), 0);
	ck_assert_int_eq(count_entries(dir, ".qb-tmp"), 0);
	ck_assert_uint_gt(st.fetched, 0);
	ck_assert_uint_lt(st.fetched, 150);
	assert_no_secret(&err);
	fault_stop(&f);
	qb_config_free(cfg);
	qb_s3_free(s3);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(retries_503_drops_and_bad_bodies)
{
	struct qb_s3 *s3 = client(moto());
	char *dir = tu_tmpdir(), *sd, *p = NULL;
	const char *args[] = { "--drop", "1", "--fail", "1", "--corrupt", "1", NULL };
	struct fault f;
	struct qb_config *cfg;
	struct qb_minio_stats st;
	struct qb_err err = { 0 };

	make_bucket(s3, "it-503");
	seed_bulk(s3, dir, "it-503", "doc", 24, 500);
	fault_start(&f, dir, args);
	cfg = config(f.url, dir, "it-503");
	qb_config_set(cfg, "MINIO_RETRIES", "4", true);
	ck_assert_msg(qb_minio_backup(cfg, dir, "20240606_060606", NULL, &st, &err) == QB_OK, "%s",
		      err.msg);
	ck_assert_uint_eq(st.fetched, 24);
	/* Every request met each fault once: the listing (drop, 503) and each GET (drop, 503,
	 * bad MD5). */
	ck_assert_int_eq(fault_count(&f, "drop GET"), 25);
	ck_assert_int_eq(fault_count(&f, "503 GET"), 25);
	ck_assert_int_eq(fault_count(&f, "corrupt GET"), 24);
	ck_assert_ptr_nonnull(strstr(logbuf.data, "does not match the ETag"));
	ck_assert_ptr_nonnull(strstr(logbuf.data, "HTTP 503 SlowDown"));
	sd = snap(dir, "20240606_060606");
	for (int i = 0; i < 24; i++) {
		char key[64];
		char *c;
		snprintf(key, sizeof(key), "doc/%04d.txt", i);
		c = content(key, bulk_size(i, 500), 0);
		free(p);
		ck_assert_int_ge(asprintf(&p, "%s/it-503/%s", sd, key), 0);
		assert_file(p, c, bulk_size(i, 500));
		free(c);
	}
	fault_stop(&f);
	qb_config_free(cfg);

	/* Cut bodies (Content-Length longer than what came) are retried too; and the restore
	 * goes through 503s. */
	{
		const char *cut[] = { "--truncate", "1", "--fail", "1", NULL };
		char *other = NULL;

		/* Another folder: nothing to link from, every object is fetched. */
		ck_assert_int_ge(asprintf(&other, "%s/other", dir), 0);
		fault_start(&f, dir, cut);
		cfg = config(f.url, other, "it-503");
		qb_config_set(cfg, "MINIO_RETRIES", "3", true);
		ck_assert_msg(qb_minio_backup(cfg, other, "20240606_060607", NULL, &st, &err) ==
			      QB_OK, "%s", err.msg);
		ck_assert_uint_eq(st.fetched, 24);
		ck_assert_int_eq(fault_count(&f, "truncate GET"), 25);
		free(other);
		empty_bucket(s3, "it-503");
		ck_assert_msg(qb_minio_restore(cfg, sd, false, NULL, &st, &err) == QB_OK, "%s",
			      err.msg);
		ck_assert_uint_eq(st.uploaded, 24);
		ck_assert_int_ge(fault_count(&f, "503 PUT"), 24);
		fault_stop(&f);
		qb_config_free(cfg);
	}

	/* A server that keeps answering 503: a clear error after the bounded retries. */
	{
		const char *always[] = { "--fail", "1", "--always", NULL };
		fault_start(&f, dir, always);
		cfg = config(f.url, dir, "it-503");
		qb_config_set(cfg, "MINIO_RETRIES", "2", true);
		ck_assert_int_eq(qb_minio_backup(cfg, dir, "20240606_060608", NULL, &st, &err),
				 QB_EREMOTE);
		ck_assert_ptr_nonnull(strstr(err.msg, "'it-503'"));
		ck_assert_ptr_nonnull(strstr(err.msg, "HTTP 503 SlowDown"));
		ck_assert_ptr_nonnull(strstr(err.msg, "after 3 attempts"));
		ck_assert_int_eq(fault_count(&f, "503 GET"), 3);
		ck_assert_int_eq(count_entries(dir, "minio_20240606_060608"), 0);
		fault_stop(&f);
		qb_config_free(cfg);
	}
	assert_no_secret(&err);
	free(p);
	free(sd);
	qb_s3_free(s3);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

static int count_object(void *ud, const struct qb_s3_object *o, struct qb_err *err)
{
	(void)o;
	(void)err;
	(*(unsigned *)ud)++;
	return QB_OK;
}

/* A bucket of three one-byte objects k0..k2. */
static void three_objects(struct qb_s3 *s3, const char *bucket)
{
	make_bucket(s3, bucket);
	for (int i = 0; i < 3; i++) {
		char key[16];
		snprintf(key, sizeof(key), "k%d", i);
		put(s3, bucket, key, "x", 1, NULL);
	}
}

/* Both listings (alone, and in a pool) of a bucket behind a looping server stop with
 * the continuation-token error after handing out `seen` objects. */
static void assert_listings_stop(struct qb_s3 *via, const char *bucket, unsigned want)
{
	struct qb_s3_pool *pool = NULL;
	struct qb_err err = { 0 };
	unsigned seen = 0;

	ck_assert_int_eq(qb_s3_list_objects(via, bucket, NULL, count_object, &seen, &err),
			 QB_EFORMAT);
	ck_assert_ptr_nonnull(strstr(err.msg, "came back to a continuation token it gave"));
	ck_assert_ptr_nonnull(strstr(err.msg, bucket));
	ck_assert_uint_eq(seen, want);
	seen = 0;
	qb_err_clear(&err);
	ck_assert_int_eq(qb_s3_pool_new(&pool, via, 0, &err), QB_OK);
	ck_assert_int_eq(qb_s3_pool_list_objects(pool, bucket, NULL, count_object, &seen, &err),
			 QB_EFORMAT);
	ck_assert_ptr_nonnull(strstr(err.msg, "came back to a continuation token it gave"));
	ck_assert_uint_eq(seen, want);
	qb_s3_pool_free(pool);
}

START_TEST(listing_without_new_token)
{
	struct qb_s3 *s3 = client(moto()), *via;
	char *dir = tu_tmpdir();
	const char *args[] = { "--stuck-listing", NULL };
	struct fault f;
	struct qb_config *cfg;
	struct qb_minio_stats st;
	struct qb_err err = { 0 };

	three_objects(s3, "it-stuck");
	fault_start(&f, dir, args);
	/* Every page says "truncated, go on with token stuck": the second page repeats the
	 * token, which would loop forever.  Both listings stop after the first page. */
	via = client(f.url);
	assert_listings_stop(via, "it-stuck", 3);
	ck_assert_int_ge(fault_count(&f, "stuck GET"), 4);
	/* The mirror fails with it and leaves no snapshot, complete-looking or not. */
	cfg = config(f.url, dir, "it-stuck");
	ck_assert_int_eq(qb_minio_backup(cfg, dir, "20240808_080808", NULL, &st, &err), QB_EFORMAT);
	ck_assert_ptr_nonnull(strstr(err.msg, "'it-stuck'"));
	ck_assert_int_eq(count_entries(dir, "minio_"), 0);
	ck_assert_int_eq(count_entries(dir, ".qb-tmp"), 0);
	assert_no_secret(&err);
	fault_stop(&f);
	qb_config_free(cfg);
	qb_s3_free(via);
	qb_s3_free(s3);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

/* A snapshot whose bucket folder was replaced by a symlink to a folder outside it, with
 * a file of the listed name and size: the restore refuses to read through it. */
START_TEST(restore_refuses_symlinked_folder)
{
	struct qb_s3 *s3 = client(moto());
	char *dir = tu_tmpdir(), *sd;
	struct qb_config *cfg = config(moto(), dir, "it-sym");
	struct qb_minio_stats st;
	struct qb_err err = { 0 };
	struct keylist l;

	make_bucket(s3, "it-sym");
	put(s3, "it-sym", "d/secret.txt", "public", 6, "text/plain");
	ck_assert_int_eq(qb_minio_backup(cfg, dir, "20240505_050505", NULL, &st, &err), QB_OK);
	sd = snap(dir, "20240505_050505");
	ck_assert_int_eq(tu_sh(NULL, "mkdir -p '%s/outside' && printf 'SECRET' > "
			       "'%s/outside/secret.txt' && rm -rf '%s/it-sym/d' && "
			       "ln -s '%s/outside' '%s/it-sym/d'", dir, dir, sd, dir, sd), 0);
	empty_bucket(s3, "it-sym");
	ck_assert_int_ne(qb_minio_restore(cfg, sd, false, NULL, &st, &err), QB_OK);
	ck_assert_ptr_nonnull(strstr(err.msg, "it-sym/d/secret.txt"));
	l = list(s3, "it-sym");
	ck_assert_uint_eq(l.n, 0);
	keylist_free(&l);
	/* The backup does not link through it either: the next snapshot downloads. */
	put(s3, "it-sym", "d/secret.txt", "public", 6, "text/plain");
	ck_assert_int_eq(qb_minio_backup(cfg, dir, "20240505_050506", NULL, &st, &err), QB_OK);
	ck_assert_uint_eq(st.linked, 0);
	ck_assert_uint_eq(st.fetched, 1);
	free(sd);
	sd = snap(dir, "20240505_050506");
	{
		char *p = qb_asprintf("%s/it-sym/d/secret.txt", sd);
		assert_file(p, "public", 6);
		free(p);
	}
	free(sd);
	qb_config_free(cfg);
	qb_s3_free(s3);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

/* A multipart object (no MD5 to check) comes back shorter than listed, with a
 * Content-Length to match and its own ETag: a bad transfer, never a good copy. */
START_TEST(mirror_refuses_shrunk_object)
{
	struct qb_s3 *s3 = client(moto());
	char *dir = tu_tmpdir(), *path = qb_asprintf("%s/big.bin", dir);
	char *big = content("shrink", 11 * MIB, 0);
	const char *args[] = { "--shrink", "100", "--match", "big.bin", NULL };
	const char *args2[] = { "--shrink", "100", "--strip-etag", "--match", "big.bin", NULL };
	struct qb_s3_result res;
	struct fault f;
	struct qb_config *cfg;
	struct qb_minio_stats st;
	struct qb_err err = { 0 };
	int fd;

	make_bucket(s3, "it-shrink");
	put(s3, "it-shrink", "small.txt", "small", 5, NULL);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_eq(write(fd, big, 11 * MIB), 11 * MIB);
	ck_assert_int_eq(qb_s3_put_file(s3, "it-shrink", "big.bin", fd, 11 * MIB,
					"application/octet-stream", NULL, &res, &err), QB_OK);
	close(fd);
	unlink(path);
	ck_assert_ptr_nonnull(strstr(res.etag, "-3"));
	fault_start(&f, dir, args);
	cfg = config(f.url, dir, "it-shrink");
	ck_assert_int_eq(qb_minio_backup(cfg, dir, "20240909_090909", NULL, &st, &err),
			 QB_EREMOTE);
	ck_assert_ptr_nonnull(strstr(err.msg, "'big.bin'"));
	ck_assert_ptr_nonnull(strstr(err.msg, "'it-shrink'"));
	ck_assert_ptr_nonnull(strstr(err.msg, "under the same ETag"));
	ck_assert_int_ge(fault_count(&f, "shrink GET"), 1);
	ck_assert_int_eq(count_entries(dir, "minio_"), 0);
	ck_assert_int_eq(count_entries(dir, ".qb-tmp"), 0);
	fault_stop(&f);
	qb_config_free(cfg);
	/* With no ETag in the answer, a new size is all that can tell: taken as replaced
	 * since the listing, and the snapshot holds what came. */
	fault_start(&f, dir, args2);
	cfg = config(f.url, dir, "it-shrink");
	ck_assert_msg(qb_minio_backup(cfg, dir, "20240909_090910", NULL, &st, &err) == QB_OK, "%s",
		      err.msg);
	ck_assert_int_eq(count_entries(dir, "minio_"), 1);
	{
		char *sd = snap(dir, "20240909_090910");
		char *got = qb_asprintf("%s/it-shrink/big.bin", sd);
		assert_file(got, big, 11 * MIB / 2);
		free(got);
		free(sd);
	}
	fault_stop(&f);
	qb_config_free(cfg);
	qb_s3_free(s3);
	free(big);
	free(path);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

/* Tokens c1, c2, c1, c2...: no page repeats the one before it, and yet the listing
 * would never end.  It stops when the fourth page's token is the second's. */
START_TEST(listing_cycling_tokens)
{
	struct qb_s3 *s3 = client(moto()), *via;
	char *dir = tu_tmpdir();
	const char *args[] = { "--cycling-listing", NULL };
	struct fault f;

	three_objects(s3, "it-cycle");
	fault_start(&f, dir, args);
	via = client(f.url);
	assert_listings_stop(via, "it-cycle", 9);
	ck_assert_int_eq(fault_count(&f, "stuck GET"), 8);
	fault_stop(&f);
	qb_s3_free(via);
	qb_s3_free(s3);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

/* Waits, without running the pool, until the server has answered the request for the
 * second page: the pooled listing must have sent it by itself. */
struct ahead {
	const struct fault *f;
	unsigned seen;
	bool second_page_asked;
};

static int look_ahead(void *ud, const struct qb_s3_object *o, struct qb_err *err)
{
	struct ahead *a = ud;

	(void)o;
	(void)err;
	if (++a->seen != 90)
		return QB_OK;
	for (int i = 0; i < 500 && !a->second_page_asked; i++) {
		a->second_page_asked = fault_count(a->f, "ok GET /it-ahead?continuation-token") == 1;
		if (!a->second_page_asked)
			usleep(10 * 1000);
	}
	return QB_OK;
}

/* A caller that only links files never runs the pool: the next page still goes out while
 * it works through the current one (an unchanged re-run then waits for one page less). */
START_TEST(listing_asks_for_next_page_early)
{
	struct qb_s3 *s3 = client(moto()), *via;
	struct qb_s3_pool *pool = NULL;
	char *dir = tu_tmpdir();
	const char *args[] = { NULL };
	struct qb_err err = { 0 };
	struct fault f;
	struct ahead a = { &f, 0, false };

	make_bucket(s3, "it-ahead");
	seed_bulk(s3, dir, "it-ahead", "d", 130, 10);
	fault_start(&f, dir, args);
	via = client(f.url);
	ck_assert_int_eq(qb_s3_pool_new(&pool, via, 0, &err), QB_OK);
	ck_assert_msg(qb_s3_pool_list_objects(pool, "it-ahead", NULL, look_ahead, &a, &err) ==
		      QB_OK, "%s", err.msg);
	ck_assert_uint_eq(a.seen, 130);
	ck_assert_msg(a.second_page_asked, "the second page was not asked for during the first");
	ck_assert_int_eq(fault_count(&f, "ok GET /it-ahead?"), 2);
	qb_s3_pool_free(pool);
	fault_stop(&f);
	qb_s3_free(via);
	qb_s3_free(s3);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(settings_errors)
{
	char *dir = tu_tmpdir();
	struct qb_config *cfg = config(moto(), dir, "it-none");
	struct qb_minio_stats st;
	struct qb_err err = { 0 };

	ck_assert(qb_minio_configured(cfg));
	/* A configured bucket that does not exist is an error, not an empty snapshot. */
	ck_assert_int_eq(qb_minio_backup(cfg, dir, "20240707_070707", NULL, &st, &err),
			 QB_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(err.msg, "it-none"));
	ck_assert_int_eq(count_entries(dir, "minio_"), 0);
	ck_assert_int_eq(count_entries(dir, ".qb-tmp"), 0);
	ck_assert_int_eq(qb_minio_backup(cfg, dir, "2024-07-07", NULL, &st, &err), QB_EARG);
	qb_config_set(cfg, "MINIO_BUCKETS", "../etc", true);
	ck_assert_int_eq(qb_minio_backup(cfg, dir, "20240707_070707", NULL, &st, &err), QB_ECONFIG);
	qb_config_free(cfg);
	cfg = qb_config_new();
	ck_assert(!qb_minio_configured(cfg));
	qb_config_set(cfg, "MINIO_ENDPOINT", moto(), true);
	ck_assert_int_eq(qb_minio_backup(cfg, dir, "20240707_070707", NULL, &st, &err), QB_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err.msg, "MINIO_SECRET_KEY"));
	assert_no_secret(&err);
	qb_config_free(cfg);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

/* A server that suddenly lists nothing (a wrong endpoint or key, a wiped store) must
 * not record empty snapshots that would rotate the real ones away. */
START_TEST(mirror_refuses_empty_after_full)
{
	struct qb_s3 *s3 = client(moto());
	char *dir = tu_tmpdir();
	struct qb_config *cfg = config(moto(), dir, "it-empty");
	struct qb_minio_stats st;
	struct qb_err err = { 0 };

	make_bucket(s3, "it-empty");
	seed_bulk(s3, dir, "it-empty", "doc", 3, 10);
	ck_assert_int_eq(qb_minio_backup(cfg, dir, "20240808_080801", NULL, &st, &err), QB_OK);
	empty_bucket(s3, "it-empty");
	ck_assert_int_eq(qb_minio_backup(cfg, dir, "20240808_080802", NULL, &st, &err), QB_EREMOTE);
	ck_assert_msg(strstr(err.msg, "minio_20240808_080801 holds 3") &&
		      strstr(err.msg, "MINIO_ALLOW_EMPTY"), "%s", err.msg);
	ck_assert_int_eq(count_entries(dir, "minio_"), 1);
	ck_assert_int_eq(count_entries(dir, ".qb-tmp"), 0);
	/* Deleted on purpose: the setting keeps the empty snapshot; after it, an
	 * empty server is what the previous snapshot says too. */
	qb_config_set(cfg, "MINIO_ALLOW_EMPTY", "true", true);
	ck_assert_int_eq(qb_minio_backup(cfg, dir, "20240808_080803", NULL, &st, &err), QB_OK);
	ck_assert_uint_eq(st.objects, 0);
	qb_config_set(cfg, "MINIO_ALLOW_EMPTY", "false", true);
	ck_assert_int_eq(qb_minio_backup(cfg, dir, "20240808_080804", NULL, &st, &err), QB_OK);
	ck_assert_int_eq(count_entries(dir, "minio_"), 3);
	/* A bucket list of nothing but commas is no "every bucket". */
	qb_config_set(cfg, "MINIO_BUCKETS", " , ", true);
	ck_assert_int_eq(qb_minio_backup(cfg, dir, "20240808_080805", NULL, &st, &err), QB_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err.msg, "MINIO_BUCKETS names no bucket"));
	qb_config_free(cfg);
	qb_s3_free(s3);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

/* Declared with extern so that the runner's generator sees one definition. */
extern Suite *suite_it_minio(void);

Suite *suite_it_minio(void)
{
	Suite *s = suite_create("it_minio");
	TCase *tc = tcase_create("minio");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, client_operations);
	tcase_add_test(tc, mirror_large_bucket);
	tcase_add_test(tc, mirror_unsafe_keys);
	tcase_add_test(tc, mirror_incremental);
	tcase_add_test(tc, restore_round_trip);
	tcase_add_test(tc, restore_mc_mirror_folder);
	tcase_add_test(tc, restore_part);
	tcase_add_test(tc, server_dies_mid_mirror);
	tcase_add_test(tc, retries_503_drops_and_bad_bodies);
	tcase_add_test(tc, listing_without_new_token);
	tcase_add_test(tc, listing_cycling_tokens);
	tcase_add_test(tc, listing_asks_for_next_page_early);
	tcase_add_test(tc, mirror_refuses_shrunk_object);
	tcase_add_test(tc, restore_refuses_symlinked_folder);
	tcase_add_test(tc, settings_errors);
	tcase_add_test(tc, mirror_refuses_empty_after_full);
	suite_add_tcase(s, tc);
	return s;
}
