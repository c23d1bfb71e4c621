/*
 * script.c - reading a dump script: the gzip (or plain) stream, the
 * qbackup header and end marker, and the policy on what a script may
 * contain.  Shared by the check pass and the restore pass, so both see the
 * file the same way.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "pg_intern.h"
#include "qb/gz.h"
#include "qb/hash.h"
#include "qb/pgdump.h"
#include "qb/sqlscan.h"
#include "script.h"

#define END_MARKER "-- qbackup dump complete"
#define HEADER_MAX 4096
/* pg_dump's last comment (then "--", and \unrestrict KEY in newer versions). */
#define PG_DUMP_TRAILER "-- PostgreSQL database dump complete"

static int src_read(void *ud, void *p, size_t cap, size_t *got, struct qb_err *err)
{
	struct script *s = ud;
	size_t tl = sizeof(s->tail) - 1;
	int rc;

	if (s->head_pos < s->head_len) {
		size_t n = s->head_len - s->head_pos;
		if (n > cap)
			n = cap;
		memcpy(p, s->head + s->head_pos, n);
		s->head_pos += n;
		*got = n;
		return QB_OK;
	}
	rc = qb_gzr_read(s->gz, p, cap, got, err);
	if (rc)
		return rc;
	s->raw += *got;
	/* Keep the last bytes seen: the end marker is a comment the scanner skips. */
	if (*got >= tl) {
		memcpy(s->tail, (char *)p + *got - tl, tl);
	} else if (*got) {
		memmove(s->tail, s->tail + *got, tl - *got);
		memcpy(s->tail + tl - *got, p, *got);
	}
	return QB_OK;
}

/* KEY=VALUE of the header line (fields after ": " or a tab, up to the line's end). */
static void header_value(const char *line, const char *key, char *out, size_t cap)
{
	size_t end = strcspn(line, "\n"), kl = strlen(key), n = 0;
	const char *p = NULL;

	for (const char *q = line; (q = strstr(q, key)) && (size_t)(q - line) + kl <= end; q++)
		if (q > line && (q[-1] == '\t' || q[-1] == ' ')) {
			p = q;
			break;
		}
	if (!p)
		return;
	p += strlen(key);
	while (p[n] && p[n] != '\t' && p[n] != '\n' && n + 1 < cap)
		n++;
	memcpy(out, p, n);
	out[n] = '\0';
}

int script_open(struct script *s, const char *path, struct qb_err *err)
{
	int rc;

	memset(s, 0, sizeof(*s));
	s->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (s->fd < 0)
		return qb_err_sys(err, errno == ENOENT ? QB_ENOTFOUND : QB_EIO, errno, "unable to open '%s'", path);
	s->head = malloc(HEADER_MAX + 1);
	if (!s->head) {
		script_close(s);
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	}
	rc = qb_gzr_new(&s->gz, s->fd, err);
	if (rc) {
		qb_err_prefix(err, "%s", path);
		script_close(s);
		return rc;
	}
	/* A damaged first byte of a .sql.gz would be read as plain SQL and
	 * fail far away, on a line of binary noise. */
	rc = qb_gzr_check_name(s->gz, path, err);
	if (rc) {
		script_close(s);
		return rc;
	}
	/* The first bytes: is it ours, and what database did it come from. */
	while (!rc && s->head_len < HEADER_MAX) {
		size_t got;
		rc = qb_gzr_read(s->gz, s->head + s->head_len, HEADER_MAX - s->head_len, &got, err);
		if (rc || !got)
			break;
		s->head_len += got;
	}
	if (rc) {
		qb_err_prefix(err, "%s", path);
		script_close(s);
		return rc;
	}
	s->raw = s->head_len;
	s->head[s->head_len] = '\0';
	s->info.gzip = qb_gzr_is_gzip(s->gz);
	s->info.from_qbackup = strstr(s->head, "dump made by qbackup") != NULL;
	{
		const char *line = strstr(s->head, "-- qbackup-database: ");
		if (line) {
			header_value(line, "encoding=", s->info.encoding, sizeof(s->info.encoding));
			header_value(line, "lc_collate=", s->info.lc_collate, sizeof(s->info.lc_collate));
			header_value(line, "lc_ctype=", s->info.lc_ctype, sizeof(s->info.lc_ctype));
			header_value(line, "locale_provider=", s->info.locale_provider,
				     sizeof(s->info.locale_provider));
			header_value(line, "locale=", s->info.locale, sizeof(s->info.locale));
			header_value(line, "owner=", s->info.owner, sizeof(s->info.owner));
			if (!pgh_decode(s->info.owner))
				s->info.owner[0] = '\0';
			if (!pgh_decode(s->info.locale) || !pgh_decode(s->info.locale_provider))
				s->info.locale[0] = s->info.locale_provider[0] = '\0';
		}
	}
	{
		/* The tail starts as the head's last bytes: the stream after the
		 * head may be shorter than the tail, or empty. */
		size_t tl = sizeof(s->tail) - 1, n = s->head_len < tl ? s->head_len : tl;
		memcpy(s->tail + tl - n, s->head + s->head_len - n, n);
	}
	rc = qb_sqlscan_new(&s->scan, src_read, s, err);
	if (rc)
		script_close(s);
	return rc;
}

int script_head(const char *path, struct qb_db_script_info *info, struct qb_err *err)
{
	struct script s;
	int rc = script_open(&s, path, err);

	if (!rc)
		*info = s.info;
	script_close(&s);
	return rc;
}

/* [p, end) holds nothing but spaces, tabs and a CR. */
static bool blank(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
		p++;
	return p == end;
}

/* Is [p, end) a line pg_dump writes after its closing line: blank, "--", or
 * "\unrestrict KEY" (since the August 2025 minor releases: 17.6, 16.10, 15.14...)? */
static bool after_trailer(const char *p, const char *end)
{
	static const char unrestrict[] = "\\unrestrict ";
	size_t n = (size_t)(end - p), un = sizeof(unrestrict) - 1;

	return blank(p, end) || (n >= 2 && !memcmp(p, "--", 2) && blank(p + 2, end)) ||
	       (n > un && !memcmp(p, unrestrict, un));
}

/* The tail's last line that is the closing line (pg_dump's or qbackup's end
 * marker), followed only by what after_trailer() allows.  Nothing else may
 * follow: the closing line seen in COPY data or in a block comment would be
 * followed by what ends them, and one that only ends a line ("SELECT 1; --
 * ...") or stands before more SQL is not the end of the dump. */
static bool dump_complete(const char *tail, size_t tl, const char *closing)
{
	size_t ml = strlen(closing), i = tl - ml + 1;
	const char *p, *nl, *end = tail + tl;

	while (--i > 0 && (tail[i - 1] != '\n' || memcmp(tail + i, closing, ml)))
		;
	if (!i)
		return false;
	p = tail + i + ml;
	nl = memchr(p, '\n', (size_t)(end - p));
	if (!blank(p, nl ? nl : end))
		return false;
	while (nl) {
		p = nl + 1;
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!after_trailer(p, nl ? nl : end))
			return false;
	}
	return true;
}

int script_finish(const struct script *s, uint64_t statements, const char *path, struct qb_err *err)
{
	size_t tl = sizeof(s->tail) - 1;

	/* A failed "pg_dump | gzip" leaves a valid gzip of nothing: restoring
	 * it would swap an empty database in for the target. */
	if (!statements)
		return qb_err_set(err, QB_ECORRUPT,
				  "'%s' contains no SQL statement (an empty or failed dump?); nothing was restored",
				  path);
	if (!s->info.from_qbackup) {
		if (dump_complete(s->tail, tl, PG_DUMP_TRAILER))
			return QB_OK;
		return qb_err_set(err, QB_ECORRUPT, "'%s' looks cut short: pg_dump's closing line '"
				  PG_DUMP_TRAILER "' is missing at its end", path);
	}
	if (dump_complete(s->tail, tl, END_MARKER))
		return QB_OK;
	return qb_err_set(err, QB_ECORRUPT, "'%s' is truncated: the dump's end marker is missing", path);
}

void script_close(struct script *s)
{
	qb_sqlscan_free(s->scan);
	qb_gzr_free(s->gz);
	if (s->fd >= 0)
		close(s->fd);
	free(s->head);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

/* p past a block comment that starts at p, nested ones included (an
 * unclosed one ends at the NUL). */
static const char *skip_block_comment(const char *p)
{
	unsigned long depth = 0;

	do {
		if (p[0] == '/' && p[1] == '*') {
			depth++;
			p += 2;
		} else if (p[0] == '*' && p[1] == '/') {
			depth--;
			p += 2;
		} else if (*p) {
			p++;
		} else {
			break;
		}
	} while (depth);
	return p;
}

/* p past what the server skips between tokens: blanks (space, tab, CR, LF,
 * FF, VT), "--" comments to the end of the line, and block comments. */
static const char *skip_blanks(const char *p)
{
	for (;;) {
		if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' || *p == '\f' || *p == '\v')
			p++;
		else if (p[0] == '-' && p[1] == '-')
			p += strcspn(p, "\n");
		else if (p[0] == '/' && p[1] == '*')
			p = skip_block_comment(p);
		else
			return p;
	}
}

static bool ident_char(char c)
{
	unsigned char u = (unsigned char)c;

	return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '_' ||
	       u == '$' || u >= 0x80;
}

/* The statement's first two tokens are the keywords a and b (any case). */
static bool starts_with_words(const char *text, const char *a, const char *b)
{
	const char *w[2] = { a, b }, *p = text;

	for (size_t i = 0; i < 2; i++) {
		size_t n = strlen(w[i]);
		p = skip_blanks(p);
		if (strncasecmp(p, w[i], n) || ident_char(p[n]))
			return false;
		p += n;
	}
	return true;
}

/*
 * CREATE, DROP and ALTER DATABASE would act on other databases than the
 * scratch one the script runs in (ALTER DATABASE could rename the live
 * target or change its owner or settings).  pg_dump without --create emits
 * none of them (PostgreSQL 11 and later keep ALTER DATABASE ... SET, the
 * owner, COMMENT ON and GRANT ON DATABASE for --create; qrestore carries the
 * target's own settings over itself).  COMMENT ON DATABASE, which pg_dump
 * before 11 wrote without --create, stays allowed: it changes a comment only.
 */
static bool touches_database(const char *text)
{
	return starts_with_words(text, "CREATE", "DATABASE") ||
	       starts_with_words(text, "DROP", "DATABASE") ||
	       starts_with_words(text, "ALTER", "DATABASE");
}

int script_policy(const struct qb_sql_item *it, enum script_meta *meta, struct qb_err *err)
{
	*meta = SCRIPT_META_NONE;
	if (it->kind == QB_SQL_META) {
		const char *t = it->text + 1;
		size_t n = strcspn(t, " \t\r");
		if ((n == 7 && !strncmp(t, "connect", 7)) || (n == 1 && t[0] == 'c'))
			*meta = SCRIPT_META_CONNECT;
		else if ((n == 8 && !strncmp(t, "restrict", 8)) || (n == 10 && !strncmp(t, "unrestrict", 10)))
			*meta = SCRIPT_META_IGNORE;
		else
			return qb_err_set(err, QB_EREFUSED,
					  "line %lu: the script contains the psql meta-command '%.*s'; "
					  "only \\connect, \\restrict and \\unrestrict are allowed, nothing was restored",
					  it->line, (int)(n + 1 > 40 ? 40 : n + 1), it->text);
		return QB_OK;
	}
	/* Statements joined by \; go to the server as one query, past the check below,
	 * which reads only the first.  pg_dump never writes \;. */
	if (it->kind == QB_SQL_STMT && it->joined)
		return qb_err_set(err, QB_EREFUSED,
				  "line %lu: the script joins statements with psql's \\; (pg_dump "
				  "never does); nothing was restored", it->line);
	if (it->kind == QB_SQL_STMT && touches_database(it->text))
		return qb_err_set(err, QB_EREFUSED,
				  "line %lu: the script creates, alters or drops a database (made with pg_dump "
				  "--create or pg_dumpall?); qrestore restores one database's contents, nothing "
				  "was restored", it->line);
	return QB_OK;
}

struct hash_job {
	const char *path;
	pthread_t thread;
	char hex[QB_HASH_HEX_MAX];
	struct qb_err err;
	int rc;
};

static void *hash_main(void *arg)
{
	struct hash_job *h = arg;

	h->rc = qb_sha256_file(h->path, h->hex, NULL, &h->err);
	return NULL;
}

int qb_db_check_script(const char *path, const char *expected_sha256,
		       struct qb_db_script_info *info, struct qb_err *err)
{
	struct script s;
	struct qb_sql_item it;
	int rc;

	struct hash_job hj = { .path = path };
	bool hashing;

	memset(info, 0, sizeof(*info));
	/* The checksum of the stored file and the reading of its contents are
	 * independent: on a second core they cost the time of the longer one. */
	hashing = pthread_create(&hj.thread, NULL, hash_main, &hj) == 0;
	if (!hashing)
		hash_main(&hj);
	rc = script_open(&s, path, err);
	if (!rc)
		qb_gzr_parallel(s.gz);  /* nothing else to do here: inflate on both cores */
	if (rc) {
		if (hashing)
			pthread_join(hj.thread, NULL);
		return rc;
	}
	while (!(rc = qb_sqlscan_next(s.scan, &it, err)) && it.kind != QB_SQL_EOF) {
		if (pgi_interrupted()) {
			rc = qb_err_set(err, QB_ECANCELLED, "interrupted");
			break;
		}
		enum script_meta m;
		if (it.kind == QB_SQL_STMT) {
			s.info.statements++;
			if (it.copy_from_stdin)
				s.info.copy_blocks++;
		}
		rc = script_policy(&it, &m, err);
		if (rc)
			break;
	}
	if (rc == QB_ECORRUPT || rc == QB_EFORMAT)
		qb_err_prefix(err, "'%s' is damaged or truncated", path);
	if (hashing)
		pthread_join(hj.thread, NULL);
	/* A file that differs from its manifest says so first, whatever else is wrong. */
	if (!hj.rc && expected_sha256 && strcmp(expected_sha256, hj.hex) != 0)
		rc = qb_err_set(err, QB_ECORRUPT, "'%s' does not match its manifest: SHA-256 is %s, expected %s",
				path, hj.hex, expected_sha256);
	else if (!rc && hj.rc)
		rc = qb_err_set(err, hj.err.code, "%s", hj.err.msg);
	if (!rc)
		rc = script_finish(&s, s.info.statements, path, err);
	if (!rc) {
		memcpy(s.info.sha256, hj.hex, sizeof(hj.hex));
		s.info.raw_bytes = s.raw;
		*info = s.info;
	}
	script_close(&s);
	return rc;
}
