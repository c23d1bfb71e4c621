/*
 * fuzz_sqlscan_script.c - the restore's whole-file check (qb_db_check_script)
 * on any script, written plain (.sql) and gzip'd (.sql.gz):
 *   - both say the same (code, statements, COPY blocks, qbackup's or not);
 *   - what it accepts holds no meta-command but \connect (\c), \restrict and
 *     \unrestrict and no statements joined by \; as the scanner reads it, and
 *     as many statements as the scanner finds;
 *   - a cut prefix of an accepted script is refused, or it lost nothing: the
 *     same statements and COPY blocks.
 * The first byte says where to cut, the second what to wrap the script in
 * (nothing, pg_dump's closing lines, qbackup's header and end marker), so
 * that the fuzzer reaches scripts the check accepts.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qb/gz.h"
#include "qb/pgdump.h"
#include "qb/sqlscan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQ(c) do { if (!(c)) abort(); } while (0)

#define PG_TRAILER "\n--\n-- PostgreSQL database dump complete\n--\n\n"
#define QB_HEAD "--\n-- PostgreSQL database dump made by qbackup 0.1.0\n--\n\n"
#define QB_END "\n--\n-- qbackup dump complete\n--\n"

static char dir[] = "/tmp/qb-fuzz-script.XXXXXX";

static void cleanup(void)
{
	char path[64];

	snprintf(path, sizeof(path), "%s/s.sql", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/s.sql.gz", dir);
	unlink(path);
	rmdir(dir);
}

static int sink(void *ud, const void *p, size_t n, struct qb_err *err)
{
	(void)err;
	REQ(write(*(int *)ud, p, n) == (ssize_t)n);
	return QB_OK;
}

static int check(const char *text, size_t len, bool gz, struct qb_db_script_info *info)
{
	char path[64];
	struct qb_err err;
	int fd, rc;

	snprintf(path, sizeof(path), "%s/s.sql%s", dir, gz ? ".gz" : "");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	REQ(fd >= 0);
	if (gz) {
		struct qb_gzw *w;
		REQ(qb_gzw_new(&w, sink, &fd, 1, 1, &err) == QB_OK);
		REQ(qb_gzw_write(w, text, len, &err) == QB_OK);
		REQ(qb_gzw_finish(w, &err) == QB_OK);
		qb_gzw_free(w);
	} else {
		REQ(write(fd, text, len) == (ssize_t)len);
	}
	REQ(close(fd) == 0);
	memset(&err, 0, sizeof(err));
	rc = qb_db_check_script(path, NULL, info, &err);
	REQ(rc != QB_OK || (info->statements > 0 && info->copy_blocks <= info->statements));
	return rc;
}

struct mem {
	const char *p;
	size_t len, off;
};

static int mem_read(void *ud, void *p, size_t cap, size_t *got, struct qb_err *err)
{
	struct mem *m = ud;
	size_t n = m->len - m->off < cap ? m->len - m->off : cap;

	(void)err;
	memcpy(p, m->p + m->off, n);
	m->off += n;
	*got = n;
	return QB_OK;
}

static bool word(const char *t, size_t len, const char *w)
{
	size_t n = strlen(w);

	return len >= n && !memcmp(t, w, n) &&
	       (len == n || t[n] == ' ' || t[n] == '\t' || t[n] == '\r');
}

/* The scanner's view of an accepted script: only the allowed meta-commands. */
static void allowed(const char *text, size_t len, const struct qb_db_script_info *info)
{
	struct mem m = { text, len, 0 };
	struct qb_sqlscan *s;
	struct qb_sql_item it;
	struct qb_err err;
	uint64_t stmts = 0, copies = 0;

	REQ(qb_sqlscan_new(&s, mem_read, &m, &err) == QB_OK);
	while (qb_sqlscan_next(s, &it, &err) == QB_OK && it.kind != QB_SQL_EOF) {
		if (it.kind == QB_SQL_META)
			REQ(word(it.text, it.len, "\\connect") || word(it.text, it.len, "\\c") ||
			    word(it.text, it.len, "\\restrict") ||
			    word(it.text, it.len, "\\unrestrict"));
		if (it.kind == QB_SQL_STMT) {
			REQ(!it.joined);
			stmts++;
			copies += it.copy_from_stdin;
		}
	}
	REQ(it.kind == QB_SQL_EOF && stmts == info->statements && copies == info->copy_blocks);
	qb_sqlscan_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct qb_db_script_info a, b;
	char *text;
	size_t len = 0, cut;
	int rc;

	if (size < 2 || size > 1 << 14)
		return 0;
	if (!ready) {
		REQ(mkdtemp(dir) != NULL);
		atexit(cleanup);
		ready = true;
	}
	text = malloc(size + sizeof(QB_HEAD) + sizeof(PG_TRAILER) + sizeof(QB_END));
	REQ(text);
	if (data[1] % 3 == 2) {
		memcpy(text, QB_HEAD, strlen(QB_HEAD));
		len = strlen(QB_HEAD);
	}
	memcpy(text + len, data + 2, size - 2);
	len += size - 2;
	if (data[1] % 3 == 1) {
		memcpy(text + len, PG_TRAILER, strlen(PG_TRAILER));
		len += strlen(PG_TRAILER);
	} else if (data[1] % 3 == 2) {
		memcpy(text + len, QB_END, strlen(QB_END));
		len += strlen(QB_END);
	}

	rc = check(text, len, false, &a);
	REQ(check(text, len, true, &b) == rc);
	if (!rc) {
		REQ(a.statements == b.statements && a.copy_blocks == b.copy_blocks &&
		    a.from_qbackup == b.from_qbackup);
		allowed(text, len, &a);
		/* cut in the last 600 bytes, where the closing lines are, or anywhere */
		cut = data[0] < 128 ? (len > 600 ? len - 600 : 0) + (size_t)data[0] * 5 :
				      (size_t)(data[0] - 128) * len / 128;
		if (cut < len && !check(text, cut, data[0] & 1, &b))
			REQ(b.statements == a.statements && b.copy_blocks == a.copy_blocks);
	}
	free(text);
	return 0;
}
