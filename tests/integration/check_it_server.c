/*
 * check_it_server.c - `qbackup serve` (server.h) from the outside: the
 * built binary on a free loopback port, spoken to with libcurl and with
 * raw sockets, against the harness's PostgreSQL.
 *
 * Every server a test starts runs with -v (debug lines included) and is
 * stopped with SIGTERM; its log must then hold neither the token nor the
 * database password, nor a sanitizer report, and it must exit 0.
 *
 * A slow backup is made by holding an ACCESS EXCLUSIVE lock on a table
 * from another session: the dump waits on it (its lock_timeout is 60 s)
 * until the test ends that session.
 *
 * QB_TEST_DEBUG=1 prints the fuzzer's mix of answers and the slow-client timing.
 */
#include <arpa/inet.h>
#include <check.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "qb/buf.h"
#include "qb/lock.h"
#include "qb/server.h"
#include "testutil.h"

#define TOKEN "qbtest-token-7f3a9c1e5b2d4f608a1b"
#define DB "qb_srv"
#define SLOW_TABLE "qb_srv_slow_t"
#define NO_TYPE "{\"type\":\"-\"}"   /* a POST body refused (400) after every other check */
#define POST_HEAD "POST /backup HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " TOKEN "\r\n"

struct srv {
	pid_t pid;
	int port;
	char *root;          /* the test's temporary folder */
	char *bdir;          /* BACKUP_DIR */
	char *log;           /* the server's stdout and stderr */
	char *conf;          /* an empty configuration file */
	char base[64];       /* http://127.0.0.1:PORT */
	const char *token;
	const char *db;
};

struct resp {
	long code;
	char *body;
	char *head;
	cJSON *json;
};

/* ---------------------------------------------------------------- helpers */

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void nap_ms(long ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&t, NULL);
}

static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static const char *qbackup(void)
{
	static char path[1024];

	snprintf(path, sizeof(path), "%s/qbackup", tu_env("QB_BUILD"));
	return path;
}

static size_t sink(char *p, size_t size, size_t n, void *ud)
{
	struct qb_buf *b = ud;

	return qb_buf_append(b, p, size * n, NULL) == QB_OK ? size * n : 0;
}

static void resp_free(struct resp *r)
{
	free(r->body);
	free(r->head);
	cJSON_Delete(r->json);
	memset(r, 0, sizeof(*r));
}

/*
 * One request.  body NULL: none (POST sends an empty one).  token NULL: no
 * Authorization header.  Every answer must be JSON with the JSON content type.
 */
static long http(const struct srv *s, const char *method, const char *path, const char *token,
		 const char *body, struct resp *r)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	struct qb_buf bb, hb;
	char url[2048], auth[256];
	CURLcode cc;

	memset(r, 0, sizeof(*r));
	ck_assert_ptr_nonnull(c);
	qb_buf_init(&bb, 1 << 22);
	qb_buf_init(&hb, 1 << 16);
	snprintf(url, sizeof(url), "%s%s", s->base, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &bb);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &hb);
	if (token) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		h = curl_slist_append(h, auth);
	}
	h = curl_slist_append(h, "Expect:");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (!strcmp(method, "HEAD")) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(method, "POST") || body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)(body ? strlen(body) : 0));
		if (strcmp(method, "POST"))
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	} else if (strcmp(method, "GET")) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	}
	cc = curl_easy_perform(c);
	ck_assert_msg(cc == CURLE_OK, "%s %s: %s", method, path, curl_easy_strerror(cc));
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->code);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	r->head = qb_buf_detach(&hb);
	r->body = qb_buf_detach(&bb);
	if (!r->body)
		r->body = strdup("");
	ck_assert_msg(r->head && strcasestr(r->head, "\ncontent-type: application/json"),
		      "%s %s: no JSON content type in\n%s", method, path, r->head);
	if (strcmp(method, "HEAD")) {
		r->json = cJSON_Parse(r->body);
		ck_assert_msg(r->json != NULL, "%s %s: not JSON: %s", method, path, r->body);
		ck_assert_msg(r->body[0] && r->body[strlen(r->body) - 1] == '\n',
			      "%s %s: no final newline", method, path);
	}
	return r->code;
}

/* Expect a status; returns the JSON (owned by r). */
static cJSON *expect(const struct srv *s, const char *method, const char *path, const char *token,
		     const char *body, long code, struct resp *r)
{
	long got = http(s, method, path, token, body, r);

	ck_assert_msg(got == code, "%s %s: expected %ld, got %ld: %s", method, path, code, got,
		      r->body);
	return r->json;
}

static const char *jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	ck_assert_msg(cJSON_IsString(v), "%s is not a string", key);
	return v->valuestring;
}

static bool jtrue(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	ck_assert_msg(cJSON_IsBool(v), "%s is not a boolean", key);
	return cJSON_IsTrue(v);
}

static bool jnull(const cJSON *o, const char *key)
{
	return cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, key));
}

static void srv_setup(struct srv *s, const char *token, const char *db)
{
	memset(s, 0, sizeof(*s));
	s->root = tu_tmpdir();
	s->token = token;
	s->db = db;
	ck_assert_int_ge(asprintf(&s->bdir, "%s/backups", s->root), 0);
	ck_assert_int_ge(asprintf(&s->log, "%s/server.log", s->root), 0);
	ck_assert_int_ge(asprintf(&s->conf, "%s/qbackup.conf", s->root), 0);
	ck_assert_int_eq(tu_write_file(s->conf, "", 0), 0);
}

/* The environment a child (server or command-line run) gets: ours, minus anything qbackup reads. */
static void child_env(const struct srv *s)
{
	static const char *const drop[] = { "MINIO_ENDPOINT", "CODE_DIR", "BACKUP_SERVER_TOKEN",
		"BACKUP_SERVER_LISTEN", "BACKUP_SERVER_NOTIFY", "DATABASE_URL", "BREVO_API_KEY",
		"BACKUP_METRICS_FILE", "OFFSITE_BUCKET", NULL };

	for (int i = 0; drop[i]; i++)
		unsetenv(drop[i]);
	setenv("BACKUP_DIR", s->bdir, 1);
	if (s->token)
		setenv("BACKUP_SERVER_TOKEN", s->token, 1);
	if (s->db) {
		char *url = tu_pg_url(s->db);
		setenv("DATABASE_URL", url, 1);
		free(url);
	}
}

static void srv_start(struct srv *s, const char *token, const char *db)
{
	char listen[64];
	struct resp r;
	double t0;

	srv_setup(s, token, db);
	s->port = free_port();
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", s->port);
	snprintf(s->base, sizeof(s->base), "http://%s", listen);
	s->pid = fork();
	ck_assert_int_ge(s->pid, 0);
	if (s->pid == 0) {
		int fd = open(s->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(126);
		child_env(s);
		execl(qbackup(), "qbackup", "-v", "--config", s->conf, "serve", "--listen", listen,
		      (char *)NULL);
		_exit(127);
	}
	/* Ready when /health answers; a sanitizer build takes a moment. */
	for (t0 = now_s(); now_s() - t0 < 20; nap_ms(50)) {
		CURL *c = curl_easy_init();
		char url[128];
		long code = 0;
		snprintf(url, sizeof(url), "%s/health", s->base);
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
		curl_easy_setopt(c, CURLOPT_TIMEOUT, 2L);
		if (curl_easy_perform(c) == CURLE_OK)
			curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		curl_easy_cleanup(c);
		if (code == 200)
			break;
		ck_assert_msg(waitpid(s->pid, NULL, WNOHANG) == 0, "the server exited at start: %s",
			      tu_read_file(s->log, NULL));
	}
	expect(s, "GET", "/health", NULL, NULL, 200, &r);
	resp_free(&r);
}

static char *srv_log(const struct srv *s)
{
	char *text = tu_read_file(s->log, NULL);

	ck_assert_ptr_nonnull(text);
	return text;
}

/* The log must never hold a secret or a sanitizer report. */
static void check_log(const char *text)
{
	ck_assert_msg(!strstr(text, TOKEN), "the token is in the server log");
	ck_assert_msg(!strstr(text, tu_env("QB_TEST_PGPASSWORD")),
		      "the database password is in the log");
	ck_assert_msg(!strstr(text, "AddressSanitizer") && !strstr(text, "runtime error:") &&
		      !strstr(text, "LeakSanitizer"), "sanitizer report in the server log:\n%s",
		      text);
}

/* Wait up to `seconds` for the child; its wait status, or -1 when it is still running. */
static int wait_exit(pid_t pid, double seconds)
{
	int st;

	for (double t0 = now_s(); now_s() - t0 < seconds; nap_ms(20))
		if (waitpid(pid, &st, WNOHANG) == pid)
			return st;
	return -1;
}

/* Its files and folders gone, once the server has exited. */
static void srv_free(struct srv *s)
{
	tu_rm_rf(s->root);
	free(s->root);
	free(s->bdir);
	free(s->log);
	free(s->conf);
}

/* After the server exited with wait status st: a clean stop, a clean log; then tidy up. */
static void srv_finish(struct srv *s, int st)
{
	char *text = srv_log(s);

	ck_assert_msg(st != -1, "the server did not stop on SIGTERM:\n%s", text);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "server exit status %d:\n%s", st,
		      text);
	ck_assert_msg(strstr(text, "server stopped"), "no clean stop in the log:\n%s", text);
	check_log(text);
	free(text);
	srv_free(s);
}

static void srv_stop(struct srv *s)
{
	ck_assert_int_eq(kill(s->pid, SIGTERM), 0);
	srv_finish(s, wait_exit(s->pid, 60));
}

/* A file or folder named like a backup, for listing and deleting. */
static void fake_backup(const struct srv *s, const char *name)
{
	char *path;

	mkdir(s->bdir, 0700);
	ck_assert_int_ge(asprintf(&path, "%s/%s", s->bdir, name), 0);
	if (!strncmp(name, "minio_", 6))
		ck_assert_int_eq(mkdir(path, 0700), 0);
	else
		ck_assert_int_eq(tu_write_file(path, "x", 1), 0);
	free(path);
}

static bool exists(const struct srv *s, const char *name)
{
	char *path;
	struct stat st;
	bool there;

	ck_assert_int_ge(asprintf(&path, "%s/%s", s->bdir, name), 0);
	there = lstat(path, &st) == 0;
	free(path);
	return there;
}

/* ------------------------------------------------- the slow-database trick */

static void make_db(void)
{
	tu_pg_create_db(DB);
	ck_assert_int_eq(tu_psql(DB, "CREATE TABLE " SLOW_TABLE " (id int PRIMARY KEY, v text);"
				 "INSERT INTO " SLOW_TABLE " SELECT g, md5(g::text) "
				 "FROM generate_series(1, 1000) g;",
				 NULL), 0);
}

/* A session holding ACCESS EXCLUSIVE on the table for up to `seconds`. */
static pid_t hold_table(int seconds)
{
	char *cmd, *out = NULL;
	pid_t pid;

	ck_assert_int_ge(asprintf(&cmd, "exec '%s/psql' -X -q -h %s -p %s -U %s -d %s -c "
				  "'BEGIN; LOCK TABLE " SLOW_TABLE " IN ACCESS EXCLUSIVE MODE; "
				  "SELECT pg_sleep(%d); COMMIT;' >/dev/null 2>&1",
				  tu_env("QB_TEST_PGBIN"), tu_env("QB_TEST_PGHOST"),
				  tu_env("QB_TEST_PGPORT"),
				  tu_env("QB_TEST_PGUSER"), DB, seconds), 0);
	setenv("PGPASSWORD", tu_env("QB_TEST_PGPASSWORD"), 1);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	free(cmd);
	for (double t0 = now_s();; nap_ms(50)) {
		ck_assert_msg(now_s() - t0 < 20, "the table lock was never taken");
		ck_assert_int_eq(tu_psql("postgres", "SELECT count(*) FROM pg_locks l "
					 "JOIN pg_database d ON d.oid = l.database "
					 "WHERE d.datname = '" DB "' AND l.granted AND "
					 "l.mode = 'AccessExclusiveLock' AND "
					 "l.locktype = 'relation';",
					 &out), 0);
		if (strtol(out, NULL, 10) > 0)
			break;
		free(out);
		out = NULL;
	}
	free(out);
	return pid;
}

/* End the session holding the table (pg_sleep does not notice its client leaving). */
static void release_table(pid_t holder)
{
	ck_assert_int_eq(tu_psql("postgres", "SELECT count(pg_terminate_backend(pid)) "
				 "FROM pg_stat_activity WHERE datname = '" DB "' AND "
				 "query LIKE '%pg_sleep%' AND pid <> pg_backend_pid();", NULL), 0);
	ck_assert_msg(wait_exit(holder, 20) != -1, "the table lock holder did not end");
}

/* Wait until the server's job holds the run lock (qb_run took it). */
static void wait_run_lock(const struct srv *s)
{
	struct qb_lock_info info;
	struct qb_err err = { 0 };
	bool held = false;

	for (double t0 = now_s(); now_s() - t0 < 20; nap_ms(20)) {
		ck_assert_int_eq(qb_lock_holder(s->bdir, &held, &info, &err), 0);
		if (held && info.pid == s->pid)
			return;
	}
	ck_abort_msg("the server's job never took the run lock");
}

/* Poll /backup/status until the job is no longer running; returns its status document. */
static cJSON *wait_job(const struct srv *s, const char *id, struct resp *r)
{
	for (double t0 = now_s(); now_s() - t0 < 90; nap_ms(100)) {
		cJSON *st = expect(s, "GET", "/backup/status", s->token, NULL, 200, r);
		ck_assert_str_eq(jstr(st, "job"), id);
		if (strcmp(jstr(st, "status"), "running"))
			return st;
		ck_assert(jnull(st, "result"));
		ck_assert(jnull(st, "finished"));
		resp_free(r);
	}
	ck_abort_msg("the job did not finish");
	return NULL;
}

static int count_prefix(const struct srv *s, const char *prefix)
{
	char *out = NULL;
	int n;

	tu_sh(&out, "ls -1 '%s' 2>/dev/null | grep -c '^%s' || true", s->bdir, prefix);
	n = (int)strtol(out, NULL, 10);
	free(out);
	return n;
}

#define RUNNING "a backup is already running"

/* The 409 document: names the holder, what it is doing first. */
static void check_conflict(const cJSON *j, const char *error, const char *type, pid_t pid)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "pid");

	ck_assert_str_eq(jstr(j, "error"), error);
	ck_assert_str_eq(jstr(j, "type"), type);
	ck_assert_int_eq(strlen(jstr(j, "started")), 19);
	ck_assert_msg(cJSON_IsNumber(p) && (pid_t)p->valuedouble == pid, "409 names the wrong pid");
}

/*
 * Raw bytes to the server: connect, send, half-close when asked, read for
 * up to ms.  The HTTP status of the answer, 0 when none came, -1 when the
 * connection was refused.
 */
static int raw(int port, const void *p, size_t n, bool half_close, int ms, char *out, size_t cap)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), code = 0;
	size_t got = 0;
	char buf[4096];
	double t0 = now_s();

	ck_assert_int_ge(fd, 0);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	for (size_t off = 0; off < n;) {
		ssize_t k = send(fd, (const char *)p + off, n - off, MSG_NOSIGNAL);
		if (k <= 0)
			break;
		off += (size_t)k;
	}
	if (half_close)
		shutdown(fd, SHUT_WR);
	for (;;) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		int left = ms - (int)((now_s() - t0) * 1000);
		ssize_t k;
		if (left <= 0 || poll(&pf, 1, left) <= 0)
			break;
		k = recv(fd, buf, sizeof(buf), 0);
		if (k <= 0)
			break;
		if (out && got + 1 < cap) {
			size_t c = (size_t)k < cap - got - 1 ? (size_t)k : cap - got - 1;
			memcpy(out + got, buf, c);
			got += c;
		}
		if (!code && k > 12 && !strncmp(buf, "HTTP/1.", 7))
			code = (int)strtol(buf + 9, NULL, 10);
	}
	if (out)
		out[got] = '\0';
	close(fd);
	return code;
}

/* ------------------------------------------------------------------ tests */

static const char *const protected[][2] = {
	{ "GET", "/backups" }, { "HEAD", "/backups" }, { "GET", "/backup/status" },
	{ "POST", "/backup" }, { "DELETE", "/backups?file=db_20260101_030000.sql.gz" },
};

START_TEST(test_health_and_tokens)
{
	static const char *const wrong[] = { "wrong", TOKEN "x", "qbtest-token", "", NULL };
	struct srv s;
	struct resp r;
	cJSON *j;

	srv_start(&s, TOKEN, NULL);
	j = expect(&s, "GET", "/health", NULL, NULL, 200, &r);
	ck_assert_str_eq(jstr(j, "status"), "ok");
	ck_assert_str_eq(jstr(j, "version"), QB_VERSION);
	ck_assert(jnull(j, "lastBackup"));
	ck_assert(!jtrue(j, "running"));
	resp_free(&r);
	ck_assert_int_eq(http(&s, "HEAD", "/health", NULL, NULL, &r), 200);
	resp_free(&r);
	/* A wrong token on /health does not matter either. */
	expect(&s, "GET", "/health", "wrong", NULL, 200, &r);
	resp_free(&r);

	for (size_t i = 0; i < sizeof(protected) / sizeof(protected[0]); i++) {
		const char *m = protected[i][0], *p = protected[i][1];
		ck_assert_int_eq(http(&s, m, p, NULL, NULL, &r), 401);
		ck_assert_msg(strcasestr(r.head, "\nWWW-Authenticate: Bearer"),
			      "%s %s: no challenge", m, p);
		if (r.json)
			ck_assert_str_eq(jstr(r.json, "error"), "missing or invalid bearer token");
		resp_free(&r);
		for (int w = 0; wrong[w]; w++) {
			ck_assert_msg(http(&s, m, p, wrong[w], NULL, &r) == 401,
				      "%s %s with '%s': %ld", m, p, wrong[w], r.code);
			resp_free(&r);
		}
	}
	/* Not a bearer scheme, or the token in the query string: still 401. */
	{
		CURL *c = curl_easy_init();
		struct curl_slist *h = curl_slist_append(NULL, "Authorization: Basic " TOKEN);
		char url[128];
		long code = 0;
		snprintf(url, sizeof(url), "%s/backups?token=" TOKEN, s.base);
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
		{
			struct qb_buf b;
			qb_buf_init(&b, 1 << 16);
			curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
			ck_assert_int_eq(curl_easy_perform(c), CURLE_OK);
			qb_buf_release(&b);
		}
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		ck_assert_int_eq(code, 401);
		curl_slist_free_all(h);
		curl_easy_cleanup(c);
	}
	/* None of the refused requests started or deleted anything. */
	ck_assert_int_eq(count_prefix(&s, "db_"), 0);
	ck_assert_int_eq(count_prefix(&s, "manifest_"), 0);

	/* The right token, and the scheme in any case with extra spaces. */
	expect(&s, "GET", "/backups", TOKEN, NULL, 200, &r);
	resp_free(&r);
	{
		CURL *c = curl_easy_init();
		struct curl_slist *h = curl_slist_append(NULL, "Authorization: bEaReR   " TOKEN);
		struct qb_buf b;
		char url[128];
		long code = 0;
		qb_buf_init(&b, 1 << 16);
		snprintf(url, sizeof(url), "%s/backups", s.base);
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
		ck_assert_int_eq(curl_easy_perform(c), CURLE_OK);
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		ck_assert_int_eq(code, 200);
		qb_buf_release(&b);
		curl_slist_free_all(h);
		curl_easy_cleanup(c);
	}
	srv_stop(&s);
}
END_TEST

START_TEST(test_listing_and_delete)
{
	static const char *const names[] = { "db_20260101_030000.sql.gz", "minio_20260101_030000",
		"code_20260101_030000.tar.gz", "db_20260102_030000.sql.gz", NULL };
	struct srv s;
	struct resp r;
	char *cli = NULL;
	cJSON *j;

	srv_start(&s, TOKEN, NULL);
	for (int i = 0; names[i]; i++)
		fake_backup(&s, names[i]);
	/* Byte for byte what `qbackup list --json` prints. */
	expect(&s, "GET", "/backups", TOKEN, NULL, 200, &r);
	ck_assert_int_eq(tu_sh(&cli, "env -u MINIO_ENDPOINT -u CODE_DIR BACKUP_DIR='%s' '%s' "
			       "--config '%s' list --json 2>/dev/null", s.bdir, qbackup(), s.conf),
			 0);
	ck_assert_str_eq(r.body, cli);
	j = cJSON_GetObjectItemCaseSensitive(r.json, "backups");
	j = cJSON_GetObjectItemCaseSensitive(j, "database");
	ck_assert_int_eq(cJSON_GetArraySize(j), 2);
	ck_assert_str_eq(jstr(cJSON_GetArrayItem(j, 0), "name"), "db_20260102_030000.sql.gz");
	ck_assert_str_eq(jstr(r.json, "backupDir"), s.bdir);
	free(cli);
	resp_free(&r);
	ck_assert_int_eq(http(&s, "HEAD", "/backups", TOKEN, NULL, &r), 200);
	resp_free(&r);

	j = expect(&s, "GET", "/health", NULL, NULL, 200, &r);
	ck_assert_str_eq(jstr(j, "lastBackup"), "2026-01-02 03:00:00");
	resp_free(&r);

	j = expect(&s, "DELETE", "/backups?file=db_20260101_030000.sql.gz", TOKEN, NULL, 200, &r);
	ck_assert_str_eq(jstr(j, "deleted"), "db_20260101_030000.sql.gz");
	ck_assert(!exists(&s, "db_20260101_030000.sql.gz"));
	resp_free(&r);
	j = expect(&s, "DELETE", "/backups?file=db_20260101_030000.sql.gz", TOKEN, NULL, 404, &r);
	ck_assert_ptr_nonnull(strstr(jstr(j, "error"), "no backup named"));
	resp_free(&r);
	/* A folder backup, and a percent-encoded (but harmless) name. */
	expect(&s, "DELETE", "/backups?file=minio_20260101_030000", TOKEN, NULL, 200, &r);
	ck_assert(!exists(&s, "minio_20260101_030000"));
	resp_free(&r);
	expect(&s, "DELETE", "/backups?file=code%5F20260101_030000.tar.gz", TOKEN, NULL, 200, &r);
	ck_assert(!exists(&s, "code_20260101_030000.tar.gz"));
	resp_free(&r);
	/* file= missing, repeated, or a type mismatch (a file named like a folder backup). */
	expect(&s, "DELETE", "/backups", TOKEN, NULL, 400, &r);
	resp_free(&r);
	expect(&s, "DELETE", "/backups?file=db_20260102_030000.sql.gz&file=x", TOKEN, NULL, 400,
	       &r);
	ck_assert(exists(&s, "db_20260102_030000.sql.gz"));
	resp_free(&r);
	fake_backup(&s, "db_20260103_030000.sql.gz");
	expect(&s, "DELETE", "/backups?file=db_20260103_030000.sql.gz&other=1", TOKEN, NULL, 200,
	       &r);
	resp_free(&r);
	srv_stop(&s);
}
END_TEST

START_TEST(test_delete_traversal)
{
	static const char *const bad[] = {
		"../x", "..%2Fx", "..%2fx", "%2e%2e%2fx", "%2E%2E%2Fx", "%2e%2e/x", "..", "%2e%2e",
		"a/b", "a%2Fb", "/etc/passwd", "%2Fetc%2Fpasswd", "%00",
		"db_20260101_030000.sql.gz%00",
		"db_20260101_030000.sql.gz%00.txt", "", "%20", ".qbackup.lock", ".", "%2e",
		"manifest_20260101_030000.json", "%252e%252e%252fx", "..%5cx", "backups",
		"db_20260101_030000.sql.gz/", "db_20260101_030000.sql.gz%2F..%2F..%2Fx",
		"minio_20260101_030000/../../x", "db_20260101_030000.sql.gz%0a", "%ff%fe",
		"%1b%5b2J", NULL
	};
	struct srv s;
	struct resp r;
	char *outside, *link;

	srv_start(&s, TOKEN, NULL);
	fake_backup(&s, "db_20260101_030000.sql.gz");
	fake_backup(&s, "minio_20260101_030000");
	fake_backup(&s, "manifest_20260101_030000.json");
	ck_assert_int_ge(asprintf(&outside, "%s/x", s.root), 0);
	ck_assert_int_eq(tu_write_file(outside, "keep", 4), 0);
	for (int i = 0; bad[i]; i++) {
		char path[256];
		snprintf(path, sizeof(path), "/backups?file=%s", bad[i]);
		ck_assert_msg(http(&s, "DELETE", path, TOKEN, NULL, &r) == 400, "file=%s: %ld %s",
			      bad[i], r.code, r.body);
		resp_free(&r);
	}
	/* The refused name comes back inside the JSON as text, never as raw bytes
	 * (not UTF-8, or a terminal's escape sequence). */
	ck_assert_int_eq(http(&s, "DELETE", "/backups?file=%ff%fe%1b%5b2J", TOKEN, NULL, &r), 400);
	ck_assert_msg(strstr(r.body, "\\\\xff\\\\xfe\\\\x1b[2J") && !strchr(r.body, '\xff') &&
		      !strchr(r.body, '\x1b'), "%s", r.body);
	resp_free(&r);
	/* A symlink named like a backup is not one: nothing outside is touched. */
	ck_assert_int_ge(asprintf(&link, "%s/db_20260102_030000.sql.gz", s.bdir), 0);
	ck_assert_int_eq(symlink(outside, link), 0);
	expect(&s, "DELETE", "/backups?file=db_20260102_030000.sql.gz", TOKEN, NULL, 404, &r);
	resp_free(&r);
	ck_assert_int_eq(access(outside, F_OK), 0);
	ck_assert(exists(&s, "db_20260101_030000.sql.gz"));
	ck_assert(exists(&s, "minio_20260101_030000"));
	ck_assert(exists(&s, "manifest_20260101_030000.json"));
	ck_assert(exists(&s, "db_20260102_030000.sql.gz"));
	free(link);
	free(outside);
	srv_stop(&s);
}
END_TEST

START_TEST(test_bad_requests)
{
	static const char *const malformed[] = { "{", "{\"type\":}", "[]", "\"db\"", "null", "42",
		"{\"type\":1}", "{\"type\":null}", "{\"type\":[\"db\"]}", "{} trailing",
		"{\"type\":\"db\"}}",
		"type=db", NULL };
	static const char *const unknown[] = { "{\"type\":\"everything\"}", "{\"type\":\"DB\"}",
		"{\"type\":\"\"}", "{\"type\":\"db \"}", NULL };
	static const char *const notfound[] = { "/", "/backupz", "/backups/", "/health/",
		"/health/x", "/../backups", "/backup/status/x", "/BACKUPS", "/%2e%2e/backups",
		"/index.html", NULL };
	struct srv s;
	struct resp r;
	char *big, req[512], out[2048];
	int code;

	srv_start(&s, TOKEN, NULL);
	expect(&s, "GET", "/backup/status", TOKEN, NULL, 404, &r);
	resp_free(&r);
	for (int i = 0; malformed[i]; i++) {
		ck_assert_msg(http(&s, "POST", "/backup", TOKEN, malformed[i], &r) == 400,
			      "%s: %ld", malformed[i], r.code);
		resp_free(&r);
	}
	for (int i = 0; unknown[i]; i++) {
		ck_assert_msg(http(&s, "POST", "/backup", TOKEN, unknown[i], &r) == 400, "%s: %ld",
			      unknown[i], r.code);
		ck_assert_ptr_nonnull(strstr(jstr(r.json, "error"), "unknown type"));
		resp_free(&r);
	}
	expect(&s, "POST", "/backup?async=maybe", TOKEN, NULL, 400, &r);
	resp_free(&r);

	/* 4096 bytes is the ceiling: at it, the body is read (and refused for its type)... */
	big = malloc(8193);
	ck_assert_ptr_nonnull(big);
	memset(big, ' ', 8192);
	memcpy(big, "{\"type\":\"nope\"}", 15);
	big[4096] = '\0';
	expect(&s, "POST", "/backup", TOKEN, big, 400, &r);
	resp_free(&r);
	/* ... one byte more is 413, and so is a far larger one. */
	big[4096] = ' ';
	big[4097] = '\0';
	expect(&s, "POST", "/backup", TOKEN, big, 413, &r);
	resp_free(&r);
	big[8192] = '\0';
	expect(&s, "POST", "/backup", TOKEN, big, 413, &r);
	resp_free(&r);
	/* A declared length over the ceiling is refused before any body is sent. */
	snprintf(req, sizeof(req), POST_HEAD "Content-Length: 100000000\r\n\r\n");
	code = raw(s.port, req, strlen(req), false, 5000, out, sizeof(out));
	ck_assert_msg(code == 413, "declared 100 MB: %d %s", code, out);
	ck_assert_ptr_nonnull(strcasestr(out, "content-type: application/json"));
	/* A chunked body has no declared length: it is counted as it comes. */
	{
		struct qb_buf b;
		qb_buf_init(&b, 1 << 20);
		qb_buf_puts(&b, POST_HEAD "Transfer-Encoding: chunked\r\n\r\n", NULL);
		for (int i = 0; i < 10; i++) {
			qb_buf_printf(&b, NULL, "400\r\n");
			qb_buf_append(&b, big + 4096, 1024, NULL);
			qb_buf_printf(&b, NULL, "\r\n");
		}
		qb_buf_printf(&b, NULL, "0\r\n\r\n");
		code = raw(s.port, b.data, b.len, true, 5000, out, sizeof(out));
		ck_assert_msg(code == 413, "chunked 10 KB: %d %s", code, out);
		qb_buf_release(&b);
	}
	/* A NUL inside the body. */
	snprintf(req, sizeof(req), POST_HEAD "Content-Length: 15\r\n\r\n{\"type\":\"db\"}");
	{
		size_t n = strlen(req);
		memcpy(req + n, "\0 ", 3);
		code = raw(s.port, req, n + 2, true, 5000, out, sizeof(out));
		ck_assert_msg(code == 400, "NUL in body: %d %s", code, out);
	}
	free(big);

	/* Wrong methods, with what is allowed. */
	ck_assert_int_eq(http(&s, "PUT", "/backup", TOKEN, NULL, &r), 405);
	ck_assert_ptr_nonnull(strcasestr(r.head, "\nAllow: POST\r"));
	resp_free(&r);
	expect(&s, "GET", "/backup", TOKEN, NULL, 405, &r);
	resp_free(&r);
	ck_assert_int_eq(http(&s, "POST", "/health", NULL, NULL, &r), 405);
	ck_assert_ptr_nonnull(strcasestr(r.head, "\nAllow: GET, HEAD\r"));
	resp_free(&r);
	ck_assert_int_eq(http(&s, "PATCH", "/backups", TOKEN, NULL, &r), 405);
	ck_assert_ptr_nonnull(strcasestr(r.head, "\nAllow: GET, HEAD, DELETE\r"));
	resp_free(&r);
	expect(&s, "DELETE", "/backup/status", TOKEN, NULL, 405, &r);
	resp_free(&r);
	expect(&s, "OPTIONS", "/backups", NULL, NULL, 405, &r);
	resp_free(&r);

	/* Unknown paths, with or without the token. */
	for (int i = 0; notfound[i]; i++) {
		ck_assert_msg(http(&s, "GET", notfound[i], TOKEN, NULL, &r) == 404, "%s: %ld",
			      notfound[i], r.code);
		resp_free(&r);
		ck_assert_msg(http(&s, "POST", notfound[i], NULL, "{}", &r) == 404, "%s: %ld",
			      notfound[i], r.code);
		resp_free(&r);
	}
	/* Nothing ran. */
	ck_assert_int_eq(count_prefix(&s, "manifest_"), 0);
	expect(&s, "GET", "/backup/status", TOKEN, NULL, 404, &r);
	resp_free(&r);
	srv_stop(&s);
}
END_TEST

START_TEST(test_backup_runs)
{
	struct srv s;
	struct resp r;
	cJSON *j, *steps;
	char id[64];

	make_db();
	srv_start(&s, TOKEN, DB);
	/* Synchronous, one type. */
	j = expect(&s, "POST", "/backup", TOKEN, "{\"type\":\"db\"}", 200, &r);
	ck_assert(jtrue(j, "ok"));
	steps = cJSON_GetObjectItemCaseSensitive(j, "steps");
	ck_assert_int_eq(cJSON_GetArraySize(steps), 1);
	ck_assert_str_eq(jstr(cJSON_GetArrayItem(steps, 0), "kind"), "db");
	ck_assert_str_eq(jstr(cJSON_GetArrayItem(steps, 0), "status"), "ok");
	ck_assert(exists(&s, jstr(cJSON_GetArrayItem(steps, 0), "name")));
	ck_assert(!cJSON_GetObjectItemCaseSensitive(j, "error"));
	resp_free(&r);
	/* No body: all, and what is not configured is skipped. */
	j = expect(&s, "POST", "/backup", TOKEN, NULL, 200, &r);
	steps = cJSON_GetObjectItemCaseSensitive(j, "steps");
	ck_assert_int_eq(cJSON_GetArraySize(steps), 3);
	ck_assert_str_eq(jstr(cJSON_GetArrayItem(steps, 0), "status"), "ok");
	ck_assert_str_eq(jstr(cJSON_GetArrayItem(steps, 1), "status"), "skipped");
	ck_assert_str_eq(jstr(cJSON_GetArrayItem(steps, 2), "status"), "skipped");
	resp_free(&r);
	expect(&s, "POST", "/backup", TOKEN, "{\"type\":\"all\"}", 200, &r);
	resp_free(&r);
	ck_assert_int_eq(count_prefix(&s, "db_"), 3);
	/* Asked for by name, an unconfigured step fails: 500 with the error. */
	j = expect(&s, "POST", "/backup", TOKEN, "{\"type\":\"minio\"}", 500, &r);
	ck_assert(!jtrue(j, "ok"));
	ck_assert_ptr_nonnull(strstr(jstr(j, "error"), "MINIO_ENDPOINT"));
	resp_free(&r);
	j = expect(&s, "GET", "/backup/status", TOKEN, NULL, 200, &r);
	ck_assert_str_eq(jstr(j, "status"), "failed");
	ck_assert_str_eq(jstr(j, "type"), "minio");
	ck_assert_ptr_nonnull(strstr(jstr(cJSON_GetObjectItemCaseSensitive(j, "result"), "error"),
				     "MINIO_ENDPOINT"));
	resp_free(&r);
	/* Asynchronous. */
	j = expect(&s, "POST", "/backup?async=1", TOKEN, "{\"type\":\"db\"}", 202, &r);
	ck_assert_str_eq(jstr(j, "status"), "running");
	ck_assert_int_eq(strlen(jstr(j, "job")), 16);
	snprintf(id, sizeof(id), "%s", jstr(j, "job"));
	resp_free(&r);
	j = wait_job(&s, id, &r);
	ck_assert_str_eq(jstr(j, "status"), "ok");
	ck_assert_str_eq(jstr(j, "type"), "db");
	ck_assert_int_eq(strlen(jstr(j, "finished")), 19);
	ck_assert(jtrue(cJSON_GetObjectItemCaseSensitive(j, "result"), "ok"));
	resp_free(&r);
	ck_assert_int_eq(count_prefix(&s, "db_"), 4);
	j = expect(&s, "GET", "/backups", TOKEN, NULL, 200, &r);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(j, "backups"), "database")), 4);
	resp_free(&r);
	j = expect(&s, "GET", "/health", NULL, NULL, 200, &r);
	ck_assert(!jnull(j, "lastBackup"));
	ck_assert(!jtrue(j, "running"));
	resp_free(&r);
	srv_stop(&s);
}
END_TEST

/* Lock types (the command line's, qrestore's) and the 409's words for them. */
static const char *const holders[][2] = {
	{ "prune", "a prune is running" }, { "delete", "a delete is running" },
	{ "verify", "a verify is running" }, { "restore", "a restore (qrestore) is running" },
	{ "all", RUNNING }, { "test", "another run holds the lock" },
};

START_TEST(test_one_run_at_a_time)
{
	struct srv s;
	struct resp r;
	struct qb_lock *lk = NULL;
	struct qb_err err = { 0 };
	char id[64], *out = NULL, *cmd;
	pid_t holder;
	cJSON *j;

	make_db();
	srv_start(&s, TOKEN, DB);
	fake_backup(&s, "db_20250101_030000.sql.gz");

	/* A slow run from the server... */
	holder = hold_table(120);
	j = expect(&s, "POST", "/backup?async=1", TOKEN, "{\"type\":\"db\"}", 202, &r);
	snprintf(id, sizeof(id), "%s", jstr(j, "job"));
	resp_free(&r);
	wait_run_lock(&s);
	j = expect(&s, "GET", "/health", NULL, NULL, 200, &r);
	ck_assert(jtrue(j, "running"));
	resp_free(&r);
	j = expect(&s, "GET", "/backup/status", TOKEN, NULL, 200, &r);
	ck_assert_str_eq(jstr(j, "job"), id);
	ck_assert_str_eq(jstr(j, "status"), "running");
	resp_free(&r);
	/* ... refuses a second one, synchronous or not, and a delete. */
	j = expect(&s, "POST", "/backup", TOKEN, "{\"type\":\"db\"}", 409, &r);
	check_conflict(j, RUNNING, "db", s.pid);
	resp_free(&r);
	j = expect(&s, "POST", "/backup?async=1", TOKEN, NULL, 409, &r);
	check_conflict(j, RUNNING, "db", s.pid);
	resp_free(&r);
	j = expect(&s, "DELETE", "/backups?file=db_20250101_030000.sql.gz", TOKEN, NULL, 409, &r);
	check_conflict(j, RUNNING, "db", s.pid);
	ck_assert(exists(&s, "db_20250101_030000.sql.gz"));
	resp_free(&r);
	/* ... and one from the command line (exit status 4, "locked"). */
	{
		char *url = tu_pg_url(DB);
		ck_assert_int_ge(asprintf(&cmd, "env -u MINIO_ENDPOINT -u CODE_DIR BACKUP_DIR='%s' "
					  "DATABASE_URL='%s' '%s' --config '%s' --type db", s.bdir,
					  url, qbackup(), s.conf), 0);
		free(url);
	}
	ck_assert_int_eq(tu_sh(&out, "%s", cmd), 4);
	ck_assert_msg(strstr(out, "holds the lock"), "%s", out);
	free(out);
	release_table(holder);
	j = wait_job(&s, id, &r);
	ck_assert_str_eq(jstr(j, "status"), "ok");
	resp_free(&r);

	/* A run from the command line (here: its lock) makes the server answer 409,
	 * saying what holds the lock: not every holder is a backup. */
	for (size_t i = 0; i < sizeof(holders) / sizeof(holders[0]); i++) {
		const char *type = holders[i][0], *error = holders[i][1];
		ck_assert_int_eq(qb_lock_acquire(&lk, s.bdir, type, &err), 0);
		j = expect(&s, "POST", "/backup", TOKEN, "{\"type\":\"db\"}", 409, &r);
		check_conflict(j, error, type, getpid());
		resp_free(&r);
		j = expect(&s, "POST", "/backup?async=true", TOKEN, NULL, 409, &r);
		check_conflict(j, error, type, getpid());
		resp_free(&r);
		j = expect(&s, "DELETE", "/backups?file=db_20250101_030000.sql.gz", TOKEN, NULL, 409,
			   &r);
		check_conflict(j, error, type, getpid());
		resp_free(&r);
		if (i + 1 < sizeof(holders) / sizeof(holders[0]))   /* the last one stays, below */
			qb_lock_free(lk);
	}
	j = expect(&s, "GET", "/health", NULL, NULL, 200, &r);
	ck_assert(jtrue(j, "running"));
	resp_free(&r);
	/* The last job is still the one that ran. */
	j = expect(&s, "GET", "/backup/status", TOKEN, NULL, 200, &r);
	ck_assert_str_eq(jstr(j, "job"), id);
	resp_free(&r);
	qb_lock_free(lk);

	/* Free again: both work. */
	expect(&s, "POST", "/backup", TOKEN, "{\"type\":\"db\"}", 200, &r);
	resp_free(&r);
	expect(&s, "DELETE", "/backups?file=db_20250101_030000.sql.gz", TOKEN, NULL, 200, &r);
	resp_free(&r);
	j = expect(&s, "GET", "/health", NULL, NULL, 200, &r);
	ck_assert(!jtrue(j, "running"));
	resp_free(&r);
	/* The command line runs too, now. */
	ck_assert_int_eq(tu_sh(&out, "%s", cmd), 0);
	free(out);
	free(cmd);
	srv_stop(&s);
}
END_TEST

struct post_arg {
	const char *url;
	long code;
	double seconds;
	char body[8192];
};

/* A synchronous POST from another thread: no Check assertions here. */
static void *post_thread(void *p)
{
	struct post_arg *a = p;
	CURL *c = curl_easy_init();
	struct curl_slist *h = curl_slist_append(NULL, "Authorization: Bearer " TOKEN);
	struct qb_buf b;
	double t0 = now_s();

	qb_buf_init(&b, 1 << 20);
	curl_easy_setopt(c, CURLOPT_URL, a->url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, "{\"type\":\"db\"}");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->code);
	a->seconds = now_s() - t0;
	snprintf(a->body, sizeof(a->body), "%s", b.data ? b.data : "");
	qb_buf_release(&b);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return NULL;
}

START_TEST(test_long_sync_post)
{
	struct srv s;
	struct resp r;
	struct post_arg a = { 0 };
	pthread_t t;
	pid_t holder;
	double t0;
	char url[128];
	cJSON *j;

	make_db();
	srv_start(&s, TOKEN, DB);
	holder = hold_table(120);
	snprintf(url, sizeof(url), "%s/backup", s.base);
	a.url = url;
	t0 = now_s();
	ck_assert_int_eq(pthread_create(&t, NULL, post_thread, &a), 0);
	wait_run_lock(&s);
	/* The waiting POST holds neither /health nor the rest of the server. */
	{
		double h0 = now_s();
		j = expect(&s, "GET", "/health", NULL, NULL, 200, &r);
		ck_assert(jtrue(j, "running"));
		ck_assert_msg(now_s() - h0 < 2, "/health waited for the backup");
		resp_free(&r);
	}
	expect(&s, "POST", "/backup", TOKEN, NULL, 409, &r);
	resp_free(&r);
	expect(&s, "GET", "/backups", TOKEN, NULL, 200, &r);
	resp_free(&r);
	/* Outlast the idle timeout (10 s): the waiting client still gets its answer. */
	while (now_s() - t0 < 12.5)
		nap_ms(100);
	release_table(holder);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_msg(a.code == 200, "long POST: %ld %s", a.code, a.body);
	ck_assert_msg(a.seconds > 11, "the POST did not wait for the backup (%.1f s)", a.seconds);
	j = cJSON_Parse(a.body);
	ck_assert_ptr_nonnull(j);
	ck_assert(jtrue(j, "ok"));
	cJSON_Delete(j);
	srv_stop(&s);
}
END_TEST

/*
 * A POST /backup?async=1 sent but for the end of its body: the server has read
 * its headers and waits for the rest.  Returns the connection.
 */
static int post_begin(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char head[512];
	int fd, n;

	n = snprintf(head, sizeof(head), "POST /backup?async=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		     "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
		     "Content-Length: 13\r\nConnection: close\r\n\r\n{\"type\":", TOKEN);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(send(fd, head, (size_t)n, MSG_NOSIGNAL), n);
	nap_ms(200);
	return fd;
}

/* The rest of post_begin's body, then its answer (up to 10 s) in buf; closes fd. */
static void post_end(int fd, char *buf, size_t cap)
{
	size_t got = 0;

	ck_assert_int_eq(send(fd, "\"db\"}", 5, MSG_NOSIGNAL), 5);
	for (double t0 = now_s(); now_s() - t0 < 10 && got + 1 < cap;) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		ssize_t k;
		if (poll(&pf, 1, 200) <= 0)
			continue;
		if ((k = recv(fd, buf + got, cap - 1 - got, 0)) <= 0)
			break;
		got += (size_t)k;
	}
	buf[got] = '\0';
	close(fd);
}

/* The answer of a stopping server: a 503, in JSON, that says so. */
static void check_stopping(const char *answer)
{
	ck_assert_msg(!strncmp(answer, "HTTP/1.1 503", 12) && strstr(answer, "stopping") &&
		      strstr(answer, "application/json"), "answer: %s", answer);
}

/* A server with a backup held up by a locked table (the holder returned), sent
 * SIGTERM: still running, waiting for the backup.  early not NULL: a POST that
 * was under way when the signal came (post_begin), for the caller to end. */
static pid_t stop_during_backup(struct srv *s, int *early)
{
	struct resp r;
	pid_t holder;

	make_db();
	srv_start(s, TOKEN, DB);
	holder = hold_table(120);
	expect(s, "POST", "/backup?async=1", TOKEN, "{\"type\":\"db\"}", 202, &r);
	resp_free(&r);
	wait_run_lock(s);
	if (early)
		*early = post_begin(s->port);
	ck_assert_int_eq(kill(s->pid, SIGTERM), 0);
	ck_assert_msg(wait_exit(s->pid, 1.5) == -1, "the server left its backup behind");
	return holder;
}

/* Seconds until a new connection is refused, or closed unanswered (10 when it
 * hangs): fails the test when it is answered. */
static double refused_in(int port)
{
	double t0 = now_s();
	int code = raw(port, "GET /health HTTP/1.0\r\n\r\n", 24, true, 10000, NULL, 0);

	ck_assert_msg(code <= 0, "a new connection was answered %d during the stop", code);
	return now_s() - t0;
}

START_TEST(test_stop_waits_for_job)
{
	struct srv s;
	int early;
	pid_t holder = stop_during_backup(&s, &early);
	char *text, answer[4096];
	double waited;
	int st;

	/* No longer accepting while it waits, and saying so at once: a client (the admin
	 * page's /health) must not wait in a queue that nobody serves. */
	waited = refused_in(s.port);
	ck_assert_msg(waited < 2, "a new connection waited %.1f s during the stop", waited);
	/* A request already accepted is answered: 503, the server is going away (the
	 * running backup is not what it waits for). */
	post_end(early, answer, sizeof(answer));
	check_stopping(answer);
	release_table(holder);
	st = wait_exit(s.pid, 60);
	text = srv_log(&s);
	ck_assert_ptr_nonnull(strstr(text, "waiting for the running backup"));
	free(text);
	ck_assert_int_eq(count_prefix(&s, "db_"), 1);
	ck_assert_int_eq(count_prefix(&s, ".qb-tmp"), 0);
	srv_finish(&s, st);
}
END_TEST

/* A second signal while the stop waits for a backup stops at once, as a crash
 * would: no backup under a final name, and the run lock free for the next run. */
START_TEST(test_second_signal_stops_now)
{
	struct srv s;
	pid_t holder = stop_during_backup(&s, NULL);
	char *text;
	int st;

	ck_assert_int_eq(kill(s.pid, SIGINT), 0);
	st = wait_exit(s.pid, 10);
	release_table(holder);
	text = srv_log(&s);
	ck_assert_msg(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 1,
		      "status %d after a second signal:\n%s", st, text);
	ck_assert_msg(strstr(text, "received SIGINT again: stopping now"), "%s", text);
	check_log(text);
	free(text);
	ck_assert_int_eq(count_prefix(&s, "db_"), 0);
	srv_free(&s);
}
END_TEST

/* A POST whose body is still arriving when SIGTERM comes: answered 503, and no
 * backup starts on the way out (it used to get its 202 and hold the stop up). */
START_TEST(test_post_during_stop_refused)
{
	struct srv s;
	char answer[4096];
	int fd, st;

	make_db();
	srv_start(&s, TOKEN, DB);
	fd = post_begin(s.port);
	ck_assert_int_eq(kill(s.pid, SIGTERM), 0);
	nap_ms(300);
	post_end(fd, answer, sizeof(answer));
	check_stopping(answer);
	st = wait_exit(s.pid, 30);
	ck_assert_int_eq(count_prefix(&s, "db_"), 0);
	ck_assert_int_eq(count_prefix(&s, ".qb-tmp"), 0);
	srv_finish(&s, st);
}
END_TEST

/* ------------------------------------------------------------- the fuzzer */

static uint64_t rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void put(struct qb_buf *b, const char *s)
{
	qb_buf_puts(b, s, NULL);
}

static void put_random(struct qb_buf *b, uint64_t *x, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = (char)(rnd(x) & 0xff);
		qb_buf_append(b, &c, 1, NULL);
	}
}

/*
 * One malformed (or merely odd) request.  The real token only goes with
 * methods that cannot start a backup, so the loop never runs one.
 */
static void fuzz_request(struct qb_buf *b, uint64_t *x)
{
	static const char *const methods[] = { "GET", "POST", "DELETE", "PUT", "HEAD", "OPTIONS",
		"PATCH", "TRACE", "CONNECT", "G ET", "get", "POST\t", "", "\x01\x02",
		"GETGETGETGETGET" };
	static const char *const safe[] = { "GET", "HEAD", "DELETE" };
	static const char *const paths[] = { "/health", "/backup", "/backups", "/backup/status",
		"/backups?file=", "/backups?file=%00", "/backups?file=..%2f..%2fetc%2fpasswd",
		"/backups?file=db_20260101_030000.sql.gz", "/backup?async=1", "/backup?async=%ff",
		"/../../etc/passwd", "//backups", "/%zz", "/%", "*", "", "/health?x=%00%00",
		"http://127.0.0.1/health", "/backups?file=a&file=b&file=c", "/\xff\xfe",
		"/health#frag" };
	static const char *const versions[] = { "HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/1.1x",
		"HTTP/0.9", "", "HTTP/1.1 extra", "http/1.1" };
	static const char *const headers[] = { "Host: x", "Content-Length: 5", "Content-Length: -1",
		"Content-Length: 99999999999999999999999", "Content-Length: abc",
		"Content-Length: 0", "Transfer-Encoding: chunked",
		"Transfer-Encoding: gzip, chunked",
		"Expect: 100-continue", "Authorization: Bearer", "Authorization: Bearer wrong",
		"Authorization: Basic Zm9vOmJhcg==",
		"Authorization:", "Connection: close", "Connection: keep-alive", "NoColonHere",
		" leading-space: x", "X-Bin: \x7f\x01", "Content-Type: application/json",
		"Content-Length: 5\r\nContent-Length: 6", "Host:", ": empty-name" };
	unsigned kind = (unsigned)(rnd(x) % 8);
	bool authed = rnd(x) % 4 == 0;
	const char *m = authed ? safe[rnd(x) % 3] :
				 methods[rnd(x) % (sizeof(methods) / sizeof(*methods))];

	qb_buf_reset(b);
	if (kind == 0) {            /* pure garbage */
		put_random(b, x, rnd(x) % 700);
		return;
	}
	put(b, m);
	put(b, " ");
	if (kind == 1) {            /* a random path */
		put(b, "/");
		put_random(b, x, rnd(x) % 64);
	} else if (kind == 2) {     /* a long one */
		for (unsigned i = 0, n = (unsigned)(rnd(x) % 5000); i < n; i++)
			put(b, "a");
	} else {
		put(b, paths[rnd(x) % (sizeof(paths) / sizeof(*paths))]);
	}
	put(b, " ");
	/* Mostly well-formed framing, so most requests reach the endpoints. */
	put(b, rnd(x) % 3 ? "HTTP/1.1" : versions[rnd(x) % (sizeof(versions) / sizeof(*versions))]);
	put(b, "\r\n");
	if (authed) {
		put(b, "Authorization: Bearer " TOKEN "\r\n");
	}
	if (rnd(x) % 2)
		put(b, "Host: x\r\n");
	for (unsigned i = 0, n = (unsigned)(rnd(x) % 4); i < n; i++) {
		put(b, headers[rnd(x) % (sizeof(headers) / sizeof(*headers))]);
		put(b, "\r\n");
	}
	if (kind == 3) {            /* a huge header */
		put(b, "X-Big: ");
		for (unsigned i = 0; i < 40000; i++)
			put(b, "b");
		put(b, "\r\n");
	}
	if (rnd(x) % 8)
		put(b, "\r\n");
	else if (rnd(x) % 2)
		put(b, "\n\r\n\r");
	if (kind == 4) {            /* chunks, well formed or not */
		put(b, rnd(x) % 2 ? "5\r\nhello\r\n0\r\n\r\n" : "zz\r\nxx\r\nffffffffffffffff\r\n");
	} else if (kind >= 5) {     /* a random body */
		put_random(b, x, rnd(x) % (kind == 7 ? 9000 : 200));
	}
	if (kind == 6 && b->len > 10)      /* flip a few bytes anywhere */
		for (int i = 0; i < 3; i++) {
			size_t at = (size_t)(rnd(x) % b->len);
			/* Never the method: the token rule holds. */
			if (at >= (size_t)strlen(m) + 1)
				b->data[at] ^= (char)(1 << (rnd(x) % 8));
		}
}

START_TEST(test_fuzz)
{
	struct srv s;
	struct resp r;
	struct qb_buf b;
	uint64_t seed = (uint64_t)time(NULL) * 2654435761u | 1, x = seed;
	unsigned done = 0, answered = 0, counts[600] = { 0 };
	double t0;

	srv_start(&s, TOKEN, NULL);
	/* Not a name the fuzzer's paths hold: an authorized DELETE of it would be legitimate. */
	fake_backup(&s, "db_20250505_050505.sql.gz");
	qb_buf_init(&b, 1 << 20);
	for (t0 = now_s(); done < 5000 && now_s() - t0 < 45; done++) {
		int code;
		fuzz_request(&b, &x);
		code = raw(s.port, b.data ? b.data : "", b.len, true, 3000, NULL, 0);
		ck_assert_msg(code != -1, "connection refused after %u requests (seed %llu)", done,
			      (unsigned long long)seed);
		ck_assert_msg(code < 500 || code == 501 || code == 505,
			      "status %d after %u requests (seed %llu)", code, done,
			      (unsigned long long)seed);
		if (code > 0) {
			answered++;
			counts[code < 600 ? code : 0]++;
		}
	}
	qb_buf_release(&b);
	if (getenv("QB_TEST_DEBUG")) {
		fprintf(stderr, "fuzz: %u requests in %.1f s, %u answered:", done, now_s() - t0,
			answered);
		for (int i = 0; i < 600; i++)
			if (counts[i])
				fprintf(stderr, " %d:%u", i, counts[i]);
		fprintf(stderr, "\n");
	}
	ck_assert_msg(done >= 1000, "only %u requests in the time allowed", done);
	ck_assert_msg(answered > done / 4, "only %u of %u requests answered", answered, done);
	ck_assert_msg(counts[401] && counts[404] && counts[400], "the mix missed the basics");
	/* Still healthy, still whole. */
	ck_assert_int_eq(waitpid(s.pid, NULL, WNOHANG), 0);
	expect(&s, "GET", "/health", NULL, NULL, 200, &r);
	resp_free(&r);
	expect(&s, "GET", "/backups", TOKEN, NULL, 200, &r);
	resp_free(&r);
	ck_assert(exists(&s, "db_20250505_050505.sql.gz"));
	ck_assert_int_eq(count_prefix(&s, "manifest_"), 0);
	srv_stop(&s);
}
END_TEST

START_TEST(test_slow_clients)
{
	enum { N = 40 };
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct srv s;
	struct resp r;
	int fds[N], closed = 0;
	bool checked = false;
	double t0;

	srv_start(&s, TOKEN, NULL);
	a.sin_port = htons((uint16_t)s.port);
	/* More clients than the server takes, each sending half a request and stalling. */
	for (int i = 0; i < N; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		ck_assert_int_ge(fds[i], 0);
		ck_assert_int_eq(connect(fds[i], (struct sockaddr *)&a, sizeof(a)), 0);
		ck_assert_int_gt(send(fds[i], "GET /health HTTP/1.1\r\nHost: x\r\n", 31,
				      MSG_NOSIGNAL), 0);
	}
	/* Those it has no room for are dropped at once; the others once idle past the timeout. */
	for (t0 = now_s(); closed < N && now_s() - t0 < 40; nap_ms(100)) {
		if (!checked && now_s() - t0 > 2) {
			checked = true;
			ck_assert_msg(closed >= N - QB_SERVER_CONN_MAX && closed < N,
				      "%d closed at once: the connection limit is not %d", closed,
				      QB_SERVER_CONN_MAX);
		}
		for (int i = 0; i < N; i++) {
			struct pollfd pf = { .fd = fds[i], .events = POLLIN };
			char c;
			if (fds[i] < 0 || poll(&pf, 1, 0) <= 0)
				continue;
			if (recv(fds[i], &c, 1, MSG_DONTWAIT) <= 0) {
				close(fds[i]);
				fds[i] = -1;
				closed++;
			}
		}
	}
	if (getenv("QB_TEST_DEBUG"))
		fprintf(stderr, "slow clients: all closed after %.1f s\n", now_s() - t0);
	ck_assert_msg(closed == N, "%d of %d stalled clients still connected after %.0f s",
		      N - closed, N, now_s() - t0);
	expect(&s, "GET", "/health", NULL, NULL, 200, &r);
	resp_free(&r);
	srv_stop(&s);
}
END_TEST

/*
 * `qbackup serve` run once, with `vars` added to a clean environment and `args`
 * after serve; killed after 20 s should it start serving.  Its exit status, its
 * output in *out.
 */
static int serve_once(const struct srv *s, const char *vars, const char *args, char **out)
{
	return tu_sh(out, "env -u BACKUP_SERVER_TOKEN -u BACKUP_SERVER_LISTEN -u MINIO_ENDPOINT "
		     "-u CODE_DIR BACKUP_DIR='%s' %s timeout -s KILL 20 '%s' --config '%s' "
		     "serve %s",
		     s->bdir, vars, qbackup(), s->conf, args);
}

START_TEST(test_listen_rules)
{
	struct srv s, open;
	struct resp r;
	char *out = NULL, arg[128];
	int port = free_port(), busy, rc;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);

	srv_setup(&s, NULL, NULL);
	/* No token: anything but loopback is refused, with the reason (exit 5: refused). */
	snprintf(arg, sizeof(arg), "--listen 0.0.0.0:%d", port);
	rc = serve_once(&s, "", arg, &out);
	ck_assert_msg(rc == 5, "0.0.0.0 without a token: exit %d: %s", rc, out);
	ck_assert_ptr_nonnull(strstr(out, "refusing to listen on 0.0.0.0"));
	ck_assert_ptr_nonnull(strstr(out, "BACKUP_SERVER_TOKEN"));
	free(out);
	snprintf(arg, sizeof(arg), "BACKUP_SERVER_LISTEN=0.0.0.0:%d", port);
	rc = serve_once(&s, arg, "", &out);
	ck_assert_msg(rc == 5, "BACKUP_SERVER_LISTEN=0.0.0.0: exit %d: %s", rc, out);
	free(out);
	snprintf(arg, sizeof(arg), "--listen '[::]:%d'", port);
	rc = serve_once(&s, "", arg, &out);
	ck_assert_msg(rc == 5, "[::] without a token: exit %d: %s", rc, out);
	free(out);
	/* Bad addresses: from the command line (2, usage) or the configuration (3). */
	rc = serve_once(&s, "", "--listen nonsense", &out);
	ck_assert_msg(rc == 2 && strstr(out, "invalid listen address"), "exit %d: %s", rc, out);
	free(out);
	rc = serve_once(&s, "", "--listen 127.0.0.1:70000", &out);
	ck_assert_msg(rc == 2, "port 70000: exit %d: %s", rc, out);
	free(out);
	snprintf(arg, sizeof(arg), "--listen ::1:%d", port);
	rc = serve_once(&s, "", arg, &out);
	ck_assert_msg(rc == 2, "IPv6 without brackets: exit %d: %s", rc, out);
	free(out);
	rc = serve_once(&s, "BACKUP_SERVER_LISTEN=example.com:80", "", &out);
	ck_assert_msg(rc == 3, "a host name: exit %d: %s", rc, out);
	free(out);
	/* A token no header can carry is a configuration error. */
	snprintf(arg, sizeof(arg), "--listen 127.0.0.1:%d", port);
	rc = serve_once(&s, "BACKUP_SERVER_TOKEN='two words'", arg, &out);
	ck_assert_msg(rc == 3, "a token with a space: exit %d: %s", rc, out);
	ck_assert_msg(!strstr(out, "two words"), "the token is in the message: %s", out);
	free(out);
	/* A port already taken: exit 1, saying so. */
	busy = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(busy, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(busy, 1), 0);
	ck_assert_int_eq(getsockname(busy, (struct sockaddr *)&a, &len), 0);
	snprintf(arg, sizeof(arg), "--listen 127.0.0.1:%d", ntohs(a.sin_port));
	rc = serve_once(&s, "BACKUP_SERVER_TOKEN=" TOKEN, arg, &out);
	ck_assert_msg(rc == 1 && strstr(out, "unable to listen on"), "port in use: exit %d: %s", rc,
		      out);
	ck_assert_msg(!strstr(out, TOKEN), "the token is in the output");
	free(out);
	close(busy);
	tu_rm_rf(s.root);
	free(s.root);
	free(s.bdir);
	free(s.log);
	free(s.conf);

	/* No token on loopback: serves, without authentication, and says so. */
	srv_start(&open, NULL, NULL);
	expect(&open, "GET", "/backups", NULL, NULL, 200, &r);
	resp_free(&r);
	{
		char *text = srv_log(&open);
		ck_assert_ptr_nonnull(strstr(text, "no token set"));
		free(text);
	}
	/* ...but only to requests addressed to a loopback name: not to a page whose own
	 * name resolves to 127.0.0.1 (DNS rebinding), nor to a page posting from a browser,
	 * even one served on loopback (a development server on localhost:3000): an Origin
	 * must be the server's own.  A POST that passes is refused for its body (400), so
	 * that none starts a backup. */
	{
		/* hport, oport: the server's port follows the host, the origin. */
		static const struct {
			const char *host; bool hport; const char *origin; bool oport; const char *req; int code;
		} cases[] = {
			{ "127.0.0.1", true, NULL, false, "GET /health", 200 },
			{ "localhost", false, NULL, false, "GET /backups", 200 },
			{ "[::1]", true, NULL, false, "GET /backups", 200 },
			/* No Origin: the Next.js route, curl. */
			{ "127.0.0.1", true, NULL, false, "POST /backup?async=1", 400 },
			{ "127.0.0.1", true, "http://127.0.0.1", true, "GET /backups", 200 },
			{ "127.0.0.1", true, "HTTP://127.0.0.1", true, "POST /backup?async=1", 400 },
			{ "evil.example", true, NULL, false, "GET /backups", 403 },
			{ "127.0.0.1.evil.example", false, NULL, false, "GET /health", 403 },
			{ "evil.example", true, NULL, false, "DELETE /backups?file=db_20260101_030000.sql.gz", 403 },
			{ "127.0.0.1", true, "http://evil.example", false, "POST /backup?async=1", 403 },
			{ "127.0.0.1", true, "null", false, "POST /backup?async=1", 403 },
			{ "127.0.0.1", true, "http://localhost:3000", false, "POST /backup?async=1", 403 },
			{ "127.0.0.1", true, "http://127.0.0.1:3000", false, "POST /backup?async=1", 403 },
			{ "127.0.0.1", true, "http://127.0.0.1", false, "POST /backup?async=1", 403 },
			{ "127.0.0.1", true, "http://localhost", true, "POST /backup?async=1", 403 },
			{ "127.0.0.1", true, "https://127.0.0.1", true, "POST /backup?async=1", 403 },
			{ "127.0.0.1", true, "http://127.0.0.1", true, "DELETE /backups?file=db_20260101_030000.sql.gz", 200 },
			{ "127.0.0.1", true, "http://localhost:3000", false, "DELETE /backups?file=db_20260101_030000.sql.gz", 403 },
		};
		char req[512], host[128], origin[128], body[4096];
		fake_backup(&open, "db_20260101_030000.sql.gz");
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			int n, code;
			snprintf(host, sizeof(host), cases[i].hport ? "%s:%d" : "%s", cases[i].host, open.port);
			snprintf(origin, sizeof(origin), cases[i].oport ? "%s:%d" : "%s",
				 cases[i].origin ? cases[i].origin : "", open.port);
			n = snprintf(req, sizeof(req), "%s HTTP/1.1\r\nHost: %s\r\n%s%s%sContent-Length: %zu"
				     "\r\nConnection: close\r\n\r\n%s", cases[i].req, host,
				     cases[i].origin ? "Origin: " : "", origin, cases[i].origin ? "\r\n" : "",
				     strlen(cases[i].req[0] == 'P' ? NO_TYPE : ""),
				     cases[i].req[0] == 'P' ? NO_TYPE : "");
			code = raw(open.port, req, (size_t)n, false, 3000, body, sizeof(body));
			ck_assert_msg(code == cases[i].code, "%s, Host %s, Origin %s: %d\n%s", cases[i].req, host,
				      origin, code, body);
			if (code == 403)
				ck_assert_msg(strstr(body, cases[i].origin ? "Origin" : "loopback name") &&
					      strstr(body, "application/json"), "%s", body);
			if (code == 400)
				ck_assert_msg(strstr(body, "unknown type"), "%s", body);
			/* The one delete that passes: the backup is there again for the next. */
			if (cases[i].req[0] == 'D' && code == 200)
				fake_backup(&open, "db_20260101_030000.sql.gz");
		}
		ck_assert(exists(&open, "db_20260101_030000.sql.gz"));
		ck_assert_int_eq(count_prefix(&open, ".qb-tmp"), 0);
	}
	srv_stop(&open);
}
END_TEST

extern Suite *suite_it_server(void);

Suite *suite_it_server(void)
{
	Suite *s = suite_create("it_server");
	TCase *tc = tcase_create("server");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_health_and_tokens);
	tcase_add_test(tc, test_listing_and_delete);
	tcase_add_test(tc, test_delete_traversal);
	tcase_add_test(tc, test_bad_requests);
	tcase_add_test(tc, test_backup_runs);
	tcase_add_test(tc, test_one_run_at_a_time);
	tcase_add_test(tc, test_long_sync_post);
	tcase_add_test(tc, test_stop_waits_for_job);
	tcase_add_test(tc, test_second_signal_stops_now);
	tcase_add_test(tc, test_post_during_stop_refused);
	tcase_add_test(tc, test_fuzz);
	tcase_add_test(tc, test_slow_clients);
	tcase_add_test(tc, test_listen_rules);
	suite_add_tcase(s, tc);
	return s;
}
