/*
 * check_mirror.c - the mirror's pure parts, without a server: which keys are
 * safe paths, escaped names, reading snapshots (the index format, with its
 * escapes and its damage, and `mc mirror` folders) and checking a snapshot's
 * files against its index (verify).
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qb/buf.h"
#include "qb/hash.h"
#include "qb/log.h"
#include "qb/mirror.h"
#include "mirror/mirror_int.h"
#include "testutil.h"

START_TEST(safe_keys)
{
	static const char *const safe[] = { "a", "a/b/c.pdf", "with space", "..a", "a..", ".hidden",
					    "a/.b", "x/...", "\xc3\xa9t\xc3\xa9", "+=&%?#", NULL };
	static const char *const bad[] = { "", "/a", "a//b", "a/", ".", "..", "./a", "a/./b",
					   "a/..", "../a", "a/../b", NULL };
	char seg[300];

	for (int i = 0; safe[i]; i++)
		ck_assert_msg(qb_minio_key_is_safe(safe[i]), "'%s' should be safe", safe[i]);
	for (int i = 0; bad[i]; i++)
		ck_assert_msg(!qb_minio_key_is_safe(bad[i]), "'%s' should be unsafe", bad[i]);
	memset(seg, 'x', 255);
	seg[255] = '\0';
	ck_assert(qb_minio_key_is_safe(seg));
	memset(seg, 'x', 256);
	seg[256] = '\0';
	ck_assert(!qb_minio_key_is_safe(seg));
}
END_TEST

START_TEST(escaped_names)
{
	char big1[1100], big2[1100];
	char *a, *b;

	a = qb_minio_escaped_name("../evil.txt");
	ck_assert_str_eq(a, "%2E.%2Fevil.txt");
	free(a);
	a = qb_minio_escaped_name("a//b ~x");
	ck_assert_str_eq(a, "a%2F%2Fb%20%7Ex");
	free(a);
	a = qb_minio_escaped_name(".");
	ck_assert_str_eq(a, "%2E");
	free(a);
	/* Long keys: shortened, a digest keeps them apart. */
	memset(big1, 'k', 1000);
	big1[1000] = '\0';
	memcpy(big2, big1, 1001);
	big2[999] = 'j';
	a = qb_minio_escaped_name(big1);
	b = qb_minio_escaped_name(big2);
	ck_assert_uint_le(strlen(a), 200);
	ck_assert_ptr_null(strchr(a, '/'));
	ck_assert_ptr_nonnull(strchr(a, '~'));
	ck_assert_str_ne(a, b);
	free(a);
	free(b);
	memset(big1, '/', 400);
	big1[400] = '\0';
	a = qb_minio_escaped_name(big1);
	ck_assert_uint_le(strlen(a), 200);
	ck_assert_ptr_null(strchr(a, '/'));
	free(a);
}
END_TEST

static char *write_index(const char *dir, const char *text)
{
	char *snap = NULL, *p = NULL;

	ck_assert_int_ge(asprintf(&snap, "%s/minio_20240101_000000", dir), 0);
	ck_assert_int_eq(mkdir(snap, 0700), 0);
	ck_assert_int_ge(asprintf(&p, "%s/%s", snap, QB_MINIO_INDEX), 0);
	ck_assert_int_eq(tu_write_file(p, text, strlen(text)), 0);
	free(p);
	return snap;
}

START_TEST(index_reading)
{
	char *dir = tu_tmpdir(), *snap;
	uint64_t n = 0, bytes = 0;
	struct qb_err err = { 0 };

	snap = write_index(dir, "qbackup-minio-index 1\n"
			   "docs\ta\\tb\\nc\\\\d\\x01\t10\tetag\t2024\ttext/plain\t\t\n"
			   "docs\tz\t5\te\t\t\t\t.qbackup-escaped/docs/z\n"
			   "scans\tk\t0\td41d8cd98f00b204e9800998ecf8427e\t\t\t"
			   "d41d8cd98f00b204e9800998ecf8427e\t\n");
	ck_assert_int_eq(qb_minio_snapshot_info(snap, &n, &bytes, &err), QB_OK);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(bytes, 15);
	tu_rm_rf(snap);
	free(snap);

	/* Damage of every kind is reported, never guessed around. */
	{
		static const char *const bad[] = {
			"not an index\n",
			"qbackup-minio-index 1\ndocs\ta\t10\n",
			"qbackup-minio-index 1\ndocs\ta\tten\te\t\t\t\t\n",
			"qbackup-minio-index 1\ndocs\ta\\q\t1\te\t\t\t\t\n",
			"qbackup-minio-index 1\ndocs\ta\\x00\t1\te\t\t\t\t\n",
			"qbackup-minio-index 1\ndocs\ta\t1\te\t\t\t\t\textra\n",
			"qbackup-minio-index 1\ndocs\ta\t1\te\t\t\t\t",
			"qbackup-minio-index 1\n\ta\t1\te\t\t\t\t\n",
			NULL,
		};
		for (int i = 0; bad[i]; i++) {
			snap = write_index(dir, bad[i]);
			ck_assert_msg(qb_minio_snapshot_info(snap, &n, &bytes, &err) == QB_ECORRUPT,
				      "case %d: %s", i, err.msg);
			tu_rm_rf(snap);
			free(snap);
		}
	}
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(index_line_bound)
{
	char *dir = tu_tmpdir(), *snap, *text;
	size_t n = 200000;
	uint64_t objs, bytes;
	struct qb_err err = { 0 };

	text = malloc(n + 64);
	ck_assert_ptr_nonnull(text);
	memcpy(text, "qbackup-minio-index 1\ndocs\t", 27);
	memset(text + 27, 'k', n);
	memcpy(text + 27 + n, "\t1\te\t\t\t\t\n", 10);
	snap = write_index(dir, text);
	ck_assert_int_eq(qb_minio_snapshot_info(snap, &objs, &bytes, &err), QB_ECORRUPT);
	ck_assert_ptr_nonnull(strstr(err.msg, "longer than"));
	free(text);
	free(snap);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

/* Found by fuzz/fuzz_mxindex.c: a line the reader refuses (over MX_LINE_MAX once escaped:
 * a listing's Last-Modified may be 16 KiB of DEL bytes, 4 bytes each) was written, and
 * the index could not be read back by the next run.  The writer refuses it now, and
 * leaves nothing of it behind. */
START_TEST(index_writer_line_bound)
{
	char *dir = tu_tmpdir(), *lm = malloc(17000);
	struct mx_entry big = { "docs", "big", 1, "e", NULL, "", "", "" };
	struct mx_entry ok = { "docs", "ok", 2, "e", "2024-01-01T00:00:00.000Z", "", "", "" };
	struct mx_writer w;
	struct mx_reader *r;
	struct mx_entry e;
	struct qb_err err = { 0 };
	bool got;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);

	ck_assert_ptr_nonnull(lm);
	ck_assert_int_ge(dfd, 0);
	memset(lm, 0x7f, 16999);
	lm[16999] = '\0';
	big.last_modified = lm;
	mx_writer_init(&w, NULL, openat(dfd, "idx", O_WRONLY | O_CREAT | O_TRUNC, 0600));
	ck_assert_int_ge(w.fd, 0);
	ck_assert_int_eq(mx_writer_header(&w, &err), QB_OK);
	ck_assert_int_eq(mx_writer_line(&w, &big, &err), QB_EFORMAT);
	ck_assert_msg(strstr(err.msg, "longer than"), "%s", err.msg);
	ck_assert_int_eq(mx_writer_line(&w, &ok, &err), QB_OK);
	ck_assert_int_eq(mx_writer_flush(&w, &err), QB_OK);
	close(w.fd);
	mx_writer_release(&w);

	ck_assert_int_eq(mx_reader_open(&r, dfd, "idx", true, &err), QB_OK);
	ck_assert_msg(mx_reader_next(r, &e, &got, &err) == QB_OK, "%s", err.msg);
	ck_assert(got);
	ck_assert_str_eq(e.key, "ok");
	ck_assert_int_eq(mx_reader_next(r, &e, &got, &err), QB_OK);
	ck_assert(!got);
	mx_reader_free(r);
	close(dfd);
	free(lm);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(mc_mirror_folder_info)
{
	char *dir = tu_tmpdir(), *old = NULL;
	uint64_t n = 0, bytes = 0;
	struct qb_err err = { 0 };

	ck_assert_int_eq(tu_sh(NULL, "cd '%s' && mkdir -p old/docs/a/b old/scans .qb-tmp.x && "
			       "printf 12345 > old/docs/a/b/c.pdf && printf 1 > old/docs/x && "
			       "printf 12 > old/scans/s.png && "
			       "printf 123 > old/docs/.qb-tmp.part && "
			       "ln -s x old/docs/link", dir), 0);
	ck_assert_int_ge(asprintf(&old, "%s/old", dir), 0);
	/* A file named like qbackup's temporary files is an object all the same (qbackup
	 * writes none inside a bucket's folder); the symlink is not. */
	ck_assert_int_eq(qb_minio_snapshot_info(old, &n, &bytes, &err), QB_OK);
	ck_assert_uint_eq(n, 4);
	ck_assert_uint_eq(bytes, 11);
	free(old);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(configured)
{
	struct qb_config *cfg = qb_config_new();

	ck_assert(!qb_minio_configured(cfg) || getenv("MINIO_ENDPOINT"));
	qb_config_set(cfg, "MINIO_ENDPOINT", "http://127.0.0.1:9000", true);
	ck_assert(qb_minio_configured(cfg));
	qb_config_free(cfg);
}
END_TEST

/* ---- Checking the files against the index (verify) ---- */

/* The objects of the snapshot that check_files() builds.  md5: what the index's MD5
 * field holds ("md5": the content's, "": none, as in an older index); etag: "md5"
 * for the content's, else written as is (a multipart ETag). */
static const struct vobj {
	const char *key;
	const char *path;        /* the index's stored path, "" for docs/<key> */
	const char *data;
	const char *etag;
	const char *md5;
} vobjs[] = {
	{ "../evil.txt", ".qbackup-escaped/docs/%2E.%2Fevil.txt", "escaped-content", "md5", "md5" },
	{ "a/one.pdf", "", "one-content-of-a-pdf", "md5", "md5" },
	{ "big.tif", "", "multipart, no md5 recorded", "0123456789abcdef0123456789abcdef-3", "" },
	{ "big2.tif", "", "multipart, md5 recorded", "fedcba9876543210fedcba9876543210-2", "md5" },
	{ "ctl\x01\x1b[31m", "", "key with control bytes", "md5", "md5" },
	{ "r\xc3\xa9sum\xc3\xa9\xc2\x9b.pdf", "", "UTF-8 text and a C1 control", "md5", "md5" },
	{ "two.txt", "", "older index: ETag only", "md5", "" },
};
#define NVOBJS (sizeof(vobjs) / sizeof(vobjs[0]))

static void md5_hex(const char *data, char *hex)
{
	struct qb_hash *h = qb_hash_new(QB_MD5);

	qb_hash_update(h, data, strlen(data));
	qb_hash_final_hex(h, hex);
	qb_hash_free(h);
}

/* The index's escaping of a key (control bytes as \xHH). */
static void index_escape(struct qb_buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f || c == '\\')
			qb_buf_printf(b, NULL, "\\x%02x", c);
		else
			qb_buf_append(b, s, 1, NULL);
	}
}

/* dir/minio_20240101_000000 with the files of vobjs and their index. */
static char *check_files(const char *dir)
{
	char *snap, *p = NULL;
	struct qb_buf b;

	qb_buf_init(&b, 1 << 20);
	qb_buf_puts(&b, "qbackup-minio-index 1\n", NULL);
	for (size_t i = 0; i < NVOBJS; i++) {
		const struct vobj *o = &vobjs[i];
		char md5[QB_HASH_HEX_MAX];
		md5_hex(o->data, md5);
		qb_buf_puts(&b, "docs\t", NULL);
		index_escape(&b, o->key);
		qb_buf_printf(&b, NULL, "\t%zu\t%s\t2024\ttext/plain\t%s\t%s\n", strlen(o->data),
			      strcmp(o->etag, "md5") ? o->etag : md5,
			      strcmp(o->md5, "md5") ? o->md5 : md5, o->path);
	}
	snap = write_index(dir, b.data);
	qb_buf_release(&b);
	ck_assert_int_eq(tu_sh(NULL, "mkdir -p '%s/docs/a' '%s/.qbackup-escaped/docs'", snap, snap), 0);
	for (size_t i = 0; i < NVOBJS; i++) {
		const struct vobj *o = &vobjs[i];
		ck_assert_int_ge(asprintf(&p, "%s/%s%s", snap, o->path[0] ? "" : "docs/",
					  o->path[0] ? o->path : o->key), 0);
		ck_assert_int_eq(tu_write_file(p, o->data, strlen(o->data)), 0);
		free(p);
	}
	return snap;
}

/* Overwrite one byte of snap/rel in place (hard links share it). */
static void flip_byte(const char *snap, const char *rel, long at)
{
	char *p = NULL;
	FILE *f;
	int c;

	ck_assert_int_ge(asprintf(&p, "%s/%s", snap, rel), 0);
	f = fopen(p, "r+b");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fseek(f, at, SEEK_SET), 0);
	c = fgetc(f);
	ck_assert_int_ne(c, EOF);
	ck_assert_int_eq(fseek(f, at, SEEK_SET), 0);
	fputc(c ^ 0x20, f);
	ck_assert_int_eq(fclose(f), 0);
	free(p);
}

static struct qb_buf vlog;

static void vlog_sink(void *ud, enum qb_level level, const char *msg)
{
	(void)ud;
	qb_buf_printf(&vlog, NULL, "[%s] %s\n", qb_level_name(level), msg);
}

static int check_snap(const char *snap, struct qb_minio_check *chk, struct qb_err *err)
{
	int rc;

	qb_buf_init(&vlog, 1 << 20);
	qb_buf_puts(&vlog, "", NULL);
	qb_log_set_sink(vlog_sink, NULL, QB_LOG_DEBUG);
	rc = qb_minio_snapshot_check(snap, chk, err);
	qb_log_set_sink(NULL, NULL, QB_LOG_INFO);
	return rc;
}

static size_t count_lines(const char *text, const char *needle)
{
	size_t n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

START_TEST(check_intact)
{
	char *dir = tu_tmpdir(), *snap = check_files(dir);
	struct qb_minio_check chk;
	struct qb_err err = { 0 };
	uint64_t bytes = 0;

	for (size_t i = 0; i < NVOBJS; i++)
		bytes += strlen(vobjs[i].data);
	ck_assert_msg(check_snap(snap, &chk, &err) == QB_OK, "%s", err.msg);
	ck_assert(chk.indexed);
	ck_assert_uint_eq(chk.objects, NVOBJS);
	ck_assert_uint_eq(chk.bytes, bytes);
	/* Only the multipart object without a recorded MD5 is checked by size alone; the
	 * escaped one was found at the index's path. */
	ck_assert_uint_eq(chk.md5_checked, NVOBJS - 1);
	ck_assert_uint_eq(chk.size_only, 1);
	ck_assert_uint_eq(chk.bad, 0);
	ck_assert_uint_eq(count_lines(vlog.data, "[ERROR]"), 0);
	qb_buf_release(&vlog);

	/* A same-size change to the size-only object passes: nothing to compare it with. */
	flip_byte(snap, "docs/big.tif", 3);
	ck_assert_msg(check_snap(snap, &chk, &err) == QB_OK, "%s", err.msg);
	ck_assert_uint_eq(chk.size_only, 1);
	qb_buf_release(&vlog);
	tu_rm_rf(dir);
	free(snap);
	free(dir);
}
END_TEST

START_TEST(check_byte_flip)
{
	char *dir = tu_tmpdir(), *snap = check_files(dir), want[QB_HASH_HEX_MAX];
	struct qb_minio_check chk;
	struct qb_err err = { 0 };

	md5_hex(vobjs[1].data, want);
	flip_byte(snap, "docs/a/one.pdf", 5);
	ck_assert_int_eq(check_snap(snap, &chk, &err), QB_ECORRUPT);
	ck_assert_uint_eq(chk.bad, 1);
	ck_assert_uint_eq(chk.objects, NVOBJS);
	ck_assert_msg(strstr(err.msg, snap) && strstr(err.msg, "1 of 7 objects") &&
		      strstr(err.msg, "'docs/a/one.pdf' has MD5 ") && strstr(err.msg, want),
		      "%s", err.msg);
	ck_assert_msg(strstr(vlog.data, "[ERROR]") && strstr(vlog.data, "'a/one.pdf' in bucket 'docs'"),
		      "%s", vlog.data);
	qb_buf_release(&vlog);

	/* A multipart object whose MD5 was recorded while fetching is checked by it. */
	flip_byte(snap, "docs/a/one.pdf", 5);
	flip_byte(snap, "docs/big2.tif", 0);
	ck_assert_int_eq(check_snap(snap, &chk, &err), QB_ECORRUPT);
	ck_assert_msg(strstr(err.msg, "'docs/big2.tif' has MD5"), "%s", err.msg);
	qb_buf_release(&vlog);

	/* The escaped object, found at the index's path, named by its key. */
	flip_byte(snap, "docs/big2.tif", 0);
	flip_byte(snap, ".qbackup-escaped/docs/%2E.%2Fevil.txt", 0);
	ck_assert_int_eq(check_snap(snap, &chk, &err), QB_ECORRUPT);
	ck_assert_msg(strstr(err.msg, "'docs/../evil.txt' has MD5"), "%s", err.msg);
	qb_buf_release(&vlog);

	/* Control bytes of a key never reach the terminal. */
	flip_byte(snap, ".qbackup-escaped/docs/%2E.%2Fevil.txt", 0);
	{
		char *rel = NULL;
		ck_assert_int_ge(asprintf(&rel, "docs/%s", vobjs[4].key), 0);
		flip_byte(snap, rel, 0);
		free(rel);
	}
	ck_assert_int_eq(check_snap(snap, &chk, &err), QB_ECORRUPT);
	ck_assert_msg(strstr(err.msg, "'docs/ctl\\x01\\x1b[31m' has MD5"), "%s", err.msg);
	ck_assert_ptr_null(strchr(err.msg, '\x1b'));
	ck_assert_ptr_null(strchr(vlog.data, '\x1b'));
	ck_assert_ptr_null(strchr(vlog.data, '\x01'));
	qb_buf_release(&vlog);

	/* UTF-8 text stays as it is; a C1 control (U+009B, a terminal's CSI) does not. */
	{
		char *rel = NULL;
		ck_assert_int_ge(asprintf(&rel, "docs/%s", vobjs[4].key), 0);
		flip_byte(snap, rel, 0);
		free(rel);
		ck_assert_int_ge(asprintf(&rel, "docs/%s", vobjs[5].key), 0);
		flip_byte(snap, rel, 0);
		free(rel);
	}
	ck_assert_int_eq(check_snap(snap, &chk, &err), QB_ECORRUPT);
	ck_assert_msg(strstr(err.msg, "'docs/r\xc3\xa9sum\xc3\xa9\\xc2\\x9b.pdf' has MD5"), "%s",
		      err.msg);
	qb_buf_release(&vlog);
	tu_rm_rf(dir);
	free(snap);
	free(dir);
}
END_TEST

START_TEST(check_truncated_missing_symlink)
{
	char *dir = tu_tmpdir(), *snap = check_files(dir), *p = NULL;
	struct qb_minio_check chk;
	struct qb_err err = { 0 };

	/* Cut short: the size differs (the multipart one too: sizes are always checked). */
	ck_assert_int_ge(asprintf(&p, "%s/docs/two.txt", snap), 0);
	ck_assert_int_eq(truncate(p, 3), 0);
	free(p);
	ck_assert_int_ge(asprintf(&p, "%s/docs/big.tif", snap), 0);
	ck_assert_int_eq(tu_write_file(p, "x", 1), 0);
	free(p);
	ck_assert_int_eq(check_snap(snap, &chk, &err), QB_ECORRUPT);
	ck_assert_uint_eq(chk.bad, 2);
	ck_assert_msg(strstr(err.msg, "2 of 7 objects") &&
		      strstr(err.msg, "'docs/big.tif' is 1 bytes, the index says 26") &&
		      strstr(err.msg, "'docs/two.txt' is 3 bytes, the index says 22"), "%s", err.msg);
	qb_buf_release(&vlog);

	/* Missing. */
	ck_assert_int_ge(asprintf(&p, "%s/docs/a/one.pdf", snap), 0);
	ck_assert_int_eq(unlink(p), 0);
	free(p);
	ck_assert_int_eq(check_snap(snap, &chk, &err), QB_ECORRUPT);
	ck_assert_uint_eq(chk.bad, 3);
	ck_assert_msg(strstr(err.msg, "'docs/a/one.pdf' is missing"), "%s", err.msg);
	qb_buf_release(&vlog);

	/* A folder on the way replaced by a symlink to an identical copy elsewhere: not
	 * followed, as a restore would not follow it. */
	ck_assert_int_eq(tu_sh(NULL, "cd '%s' && rm -rf docs/a && mkdir -p ../elsewhere && "
			       "printf %%s '%s' > ../elsewhere/one.pdf && ln -s ../../elsewhere docs/a",
			       snap, vobjs[1].data), 0);
	ck_assert_int_eq(check_snap(snap, &chk, &err), QB_ECORRUPT);
	ck_assert_msg(strstr(err.msg, "'docs/a/one.pdf' cannot be opened"), "%s", err.msg);
	qb_buf_release(&vlog);

	/* A FIFO in a file's place is reported, without hanging on its open. */
	ck_assert_int_eq(tu_sh(NULL, "cd '%s' && rm -f docs/two.txt && mkfifo docs/two.txt", snap), 0);
	ck_assert_int_eq(check_snap(snap, &chk, &err), QB_ECORRUPT);
	ck_assert_msg(strstr(err.msg, "'docs/two.txt' is not a regular file"), "%s", err.msg);
	qb_buf_release(&vlog);
	tu_rm_rf(dir);
	free(snap);
	free(dir);
}
END_TEST

START_TEST(check_many_bad)
{
	char *dir = tu_tmpdir(), *snap, *p = NULL;
	struct qb_minio_check chk;
	struct qb_err err = { 0 };
	struct qb_buf b;

	/* 40 objects, 25 of them missing: every one counted, a few named. */
	qb_buf_init(&b, 1 << 20);
	qb_buf_puts(&b, "qbackup-minio-index 1\n", NULL);
	for (int i = 0; i < 40; i++)
		qb_buf_printf(&b, NULL, "docs\tk%02d\t1\t\t\t\t\t\n", i);
	snap = write_index(dir, b.data);
	qb_buf_release(&b);
	ck_assert_int_eq(tu_sh(NULL, "mkdir '%s/docs'", snap), 0);
	for (int i = 25; i < 40; i++) {
		ck_assert_int_ge(asprintf(&p, "%s/docs/k%02d", snap, i), 0);
		ck_assert_int_eq(tu_write_file(p, "x", 1), 0);
		free(p);
	}
	ck_assert_int_eq(check_snap(snap, &chk, &err), QB_ECORRUPT);
	ck_assert_uint_eq(chk.objects, 40);
	ck_assert_uint_eq(chk.bad, 25);
	ck_assert_uint_eq(chk.size_only, 15);
	ck_assert_msg(strstr(err.msg, "25 of 40 objects") && strstr(err.msg, "'docs/k02' is missing; ...") &&
		      !strstr(err.msg, "k03"), "%s", err.msg);
	ck_assert_uint_eq(count_lines(vlog.data, "[ERROR]"), 10);
	qb_buf_release(&vlog);
	tu_rm_rf(dir);
	free(snap);
	free(dir);
}
END_TEST

START_TEST(check_without_index)
{
	char *dir = tu_tmpdir(), *old = NULL;
	struct qb_minio_check chk;
	struct qb_err err = { 0 };

	ck_assert_int_eq(tu_sh(NULL, "cd '%s' && mkdir -p old/docs/a && printf 12345 > old/docs/a/c.pdf && "
			       "printf 1 > old/docs/x", dir), 0);
	ck_assert_int_ge(asprintf(&old, "%s/old", dir), 0);
	ck_assert_msg(check_snap(old, &chk, &err) == QB_OK, "%s", err.msg);
	ck_assert(!chk.indexed);
	ck_assert_uint_eq(chk.objects, 2);
	ck_assert_uint_eq(chk.bytes, 6);
	ck_assert_uint_eq(chk.md5_checked + chk.size_only + chk.bad, 0);
	qb_buf_release(&vlog);
	/* A damaged index is not taken for a missing one. */
	ck_assert_int_eq(tu_sh(NULL, "echo junk > '%s/%s'", old, QB_MINIO_INDEX), 0);
	ck_assert_int_eq(check_snap(old, &chk, &err), QB_ECORRUPT);
	ck_assert_msg(strstr(err.msg, "not a qbackup object index"), "%s", err.msg);
	qb_buf_release(&vlog);
	free(old);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

/* Declared with extern so that the runner's generator sees one definition. */
extern Suite *suite_mirror(void);

Suite *suite_mirror(void)
{
	Suite *s = suite_create("mirror");
	TCase *tc = tcase_create("mirror");

	tcase_add_test(tc, safe_keys);
	tcase_add_test(tc, escaped_names);
	tcase_add_test(tc, index_reading);
	tcase_add_test(tc, index_line_bound);
	tcase_add_test(tc, index_writer_line_bound);
	tcase_add_test(tc, mc_mirror_folder_info);
	tcase_add_test(tc, configured);
	tcase_add_test(tc, check_intact);
	tcase_add_test(tc, check_byte_flip);
	tcase_add_test(tc, check_truncated_missing_symlink);
	tcase_add_test(tc, check_many_bad);
	tcase_add_test(tc, check_without_index);
	suite_add_tcase(s, tc);
	return s;
}
