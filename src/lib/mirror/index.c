/*
 * index.c - the snapshot's object index: one line per object, tab-separated,
 * escaped so that any key (tabs, newlines, control bytes) fits on one line.
 * Written and read as a stream: the mirror compares it with the next
 * listing by merging two sorted streams, so neither is ever held whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mirror/mirror_int.h"
#include "qb/hash.h"

#define FIELDS 8
#define FLUSH_AT (256 * 1024)

static int put_escaped(struct qb_buf *b, const char *s, struct qb_err *err)
{
	static const char hex[] = "0123456789abcdef";
	const char *start = s;
	int rc;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[4];
		size_t n = 2;

		if (c >= 0x20 && c != 0x7f && c != '\\')
			continue;
		if (s > start && (rc = qb_buf_append(b, start, (size_t)(s - start), err)))
			return rc;
		esc[0] = '\\';
		switch (c) {
		case '\\': esc[1] = '\\'; break;
		case '\t': esc[1] = 't'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		default:
			esc[1] = 'x';
			esc[2] = hex[c >> 4];
			esc[3] = hex[c & 15];
			n = 4;
		}
		if ((rc = qb_buf_append(b, esc, n, err)))
			return rc;
		start = s + 1;
	}
	return qb_buf_append(b, start, (size_t)(s - start), err);
}

void mx_writer_init(struct mx_writer *w, struct qb_afile *af, int fd)
{
	w->af = af;
	w->fd = fd;
	qb_buf_init(&w->buf, 2 * FLUSH_AT + 8 * MX_LINE_MAX);
}

int mx_writer_flush(struct mx_writer *w, struct qb_err *err)
{
	int rc;

	if (!w->buf.len)
		return QB_OK;
	rc = w->af ? qb_afile_write(w->af, w->buf.data, w->buf.len, err)
		   : qb_write_all(w->fd, w->buf.data, w->buf.len, err);
	qb_buf_reset(&w->buf);
	return rc;
}

int mx_writer_header(struct mx_writer *w, struct qb_err *err)
{
	return qb_buf_puts(&w->buf, MX_INDEX_HEADER "\n", err);
}

int mx_writer_line(struct mx_writer *w, const struct mx_entry *e, struct qb_err *err)
{
	const char *f[FIELDS] = { e->bucket, e->key, NULL, e->etag, e->last_modified,
				  e->content_type, e->md5, e->path };
	char size[24];
	size_t start = w->buf.len;
	int rc = QB_OK;

	snprintf(size, sizeof(size), "%llu", (unsigned long long)e->size);
	f[2] = size;
	for (int i = 0; i < FIELDS && !rc; i++) {
		if (i)
			rc = qb_buf_append(&w->buf, "\t", 1, err);
		if (!rc)
			rc = put_escaped(&w->buf, f[i] ? f[i] : "", err);
	}
	/* The reader takes lines of MX_LINE_MAX bytes at most: a longer one (a listing's
	 * Last-Modified can be 16 KiB of bytes escaped as \xHH) would leave an index that
	 * no later run could read. */
	if (!rc && w->buf.len - start > MX_LINE_MAX)
		rc = qb_err_set(err, QB_EFORMAT, "the index line of '%s/%s' would be longer than "
				"%d bytes", e->bucket, e->key, MX_LINE_MAX);
	if (!rc)
		rc = qb_buf_append(&w->buf, "\n", 1, err);
	if (rc && w->buf.data) {
		/* No part of a refused line is left to be flushed. */
		w->buf.len = start;
		w->buf.data[start] = '\0';
		return rc;
	}
	if (!rc && w->buf.len >= FLUSH_AT)
		rc = mx_writer_flush(w, err);
	return rc;
}

void mx_writer_release(struct mx_writer *w)
{
	qb_buf_release(&w->buf);
}

/* ---- Reader ---- */

struct mx_reader {
	int fd;
	char *buf;               /* raw bytes read */
	size_t start, end;
	bool eof;
	char *line;              /* the current line, unescaped in place */
	unsigned long lineno;
	bool line_bad;           /* the last error was one whole line's: the next may be read */
};

int mx_reader_open(struct mx_reader **out, int dirfd, const char *name, bool want_header,
		   struct qb_err *err)
{
	struct mx_reader *r = calloc(1, sizeof(*r));
	int rc;

	*out = NULL;
	if (!r)
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	r->fd = -1;
	r->buf = malloc(2 * MX_LINE_MAX);
	r->line = malloc(MX_LINE_MAX + 1);
	if (!r->buf || !r->line) {
		mx_reader_free(r);
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	}
	r->fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (r->fd < 0) {
		rc = qb_err_sys(err, errno == ENOENT ? QB_ENOTFOUND : QB_EIO, errno,
				"unable to open '%s'", name);
		mx_reader_free(r);
		return rc;
	}
	if (want_header) {
		size_t len = strlen(MX_INDEX_HEADER) + 1;
		char head[64];
		ssize_t got;

		do
			got = read(r->fd, head, len);
		while (got < 0 && errno == EINTR);
		if (got != (ssize_t)len || memcmp(head, MX_INDEX_HEADER "\n", len)) {
			mx_reader_free(r);
			return qb_err_set(err, QB_ECORRUPT, "'%s' is not a qbackup object index",
					  name);
		}
		r->lineno = 1;
	}
	*out = r;
	return QB_OK;
}

/* The next raw line into r->line (without its newline); *got false at the end. */
static int read_line(struct mx_reader *r, size_t *len, bool *got, struct qb_err *err)
{
	for (;;) {
		char *nl = memchr(r->buf + r->start, '\n', r->end - r->start);
		ssize_t n;

		if (nl) {
			*len = (size_t)(nl - (r->buf + r->start));
			if (*len > MX_LINE_MAX)
				break;
			memcpy(r->line, r->buf + r->start, *len);
			r->line[*len] = '\0';
			r->start += *len + 1;
			r->lineno++;
			*got = true;
			return QB_OK;
		}
		if (r->end - r->start > MX_LINE_MAX)
			break;
		if (r->eof) {
			if (r->end > r->start)
				return qb_err_set(err, QB_ECORRUPT,
						  "object index ends in the middle of line %lu",
						  r->lineno + 1);
			*got = false;
			return QB_OK;
		}
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
		do
			n = read(r->fd, r->buf + r->end, 2 * MX_LINE_MAX - r->end);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return qb_err_sys(err, QB_EIO, errno, "unable to read an object index");
		if (n == 0)
			r->eof = true;
		r->end += (size_t)n;
	}
	return qb_err_set(err, QB_ECORRUPT, "object index line %lu is longer than %d bytes",
			  r->lineno + 1, MX_LINE_MAX);
}


/* Unescape s in place up to its NUL; false on a bad escape or an escaped NUL. */
static bool unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (*s != '\\') {
			*o++ = *s;
			continue;
		}
		s++;
		switch (*s) {
		case '\\': *o++ = '\\'; break;
		case 't': *o++ = '\t'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 'x': {
			int hi = qb_hex_digit(s[1]), lo = hi >= 0 ? qb_hex_digit(s[2]) : -1;
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return false;
			*o++ = (char)(hi * 16 + lo);
			s += 2;
			break;
		}
		default:
			return false;
		}
	}
	*o = '\0';
	return true;
}

int mx_reader_next(struct mx_reader *r, struct mx_entry *e, bool *got, struct qb_err *err)
{
	char *f[FIELDS];
	char *p, *end;
	size_t len;
	int n = 0, rc;
	unsigned long long size;

	r->line_bad = false;
	rc = read_line(r, &len, got, err);
	if (rc || !*got)
		return rc;
	r->line_bad = true;
	p = r->line;
	f[n++] = p;
	for (; *p; p++) {
		if (*p != '\t')
			continue;
		if (n == FIELDS)
			break;
		*p = '\0';
		f[n++] = p + 1;
	}
	if (n != FIELDS || *p)
		return qb_err_set(err, QB_ECORRUPT, "object index line %lu does not have %d fields",
				  r->lineno, FIELDS);
	for (int i = 0; i < FIELDS; i++)
		if (!unescape(f[i]))
			return qb_err_set(err, QB_ECORRUPT, "bad escape on object index line %lu",
					  r->lineno);
	errno = 0;
	size = strtoull(f[2], &end, 10);
	if (!f[0][0] || !f[1][0] || f[2][0] < '0' || f[2][0] > '9' || *end || errno)
		return qb_err_set(err, QB_ECORRUPT, "bad object index line %lu", r->lineno);
	e->bucket = f[0];
	e->key = f[1];
	e->size = size;
	e->etag = f[3];
	e->last_modified = f[4];
	e->content_type = f[5];
	e->md5 = f[6];
	e->path = f[7];
	r->line_bad = false;
	return QB_OK;
}

bool mx_reader_line_bad(const struct mx_reader *r)
{
	return r->line_bad;
}

void mx_reader_free(struct mx_reader *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	free(r->buf);
	free(r->line);
	free(r);
}

bool mx_iso_time(const char *iso, time_t *t)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (!iso || !strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm))
		return false;
	*t = timegm(&tm);
	return *t != (time_t)-1;
}
