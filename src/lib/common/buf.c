/* buf.c - growable buffer with a ceiling, and small string helpers. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qb/buf.h"

void qb_buf_init(struct qb_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void qb_buf_release(struct qb_buf *b)
{
	free(b->data);
	qb_buf_init(b, b->max);
}

void qb_buf_reset(struct qb_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

static int grow(struct qb_buf *b, size_t need, struct qb_err *err)
{
	size_t cap;
	char *p;

	if (need > b->max)
		return qb_err_set(err, QB_EFORMAT, "data exceeds the limit of %zu bytes", b->max);
	if (need + 1 <= b->cap)
		return QB_OK;
	cap = b->cap ? b->cap : 256;
	while (cap < need + 1)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p)
		return qb_err_set(err, QB_ENOMEM, "out of memory growing a buffer to %zu bytes", cap);
	b->data = p;
	b->cap = cap;
	return QB_OK;
}

int qb_buf_append(struct qb_buf *b, const void *p, size_t n, struct qb_err *err)
{
	int rc;

	if (n > b->max - b->len)
		return qb_err_set(err, QB_EFORMAT, "data exceeds the limit of %zu bytes", b->max);
	rc = grow(b, b->len + n, err);
	if (rc)
		return rc;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return QB_OK;
}

int qb_buf_puts(struct qb_buf *b, const char *s, struct qb_err *err)
{
	return qb_buf_append(b, s, strlen(s), err);
}

int qb_buf_printf(struct qb_buf *b, struct qb_err *err, const char *fmt, ...)
{
	va_list ap;
	int n, rc;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return qb_err_set(err, QB_EINTERNAL, "bad format string");
	if ((size_t)n > b->max - b->len)
		return qb_err_set(err, QB_EFORMAT, "data exceeds the limit of %zu bytes", b->max);
	rc = grow(b, b->len + (size_t)n, err);
	if (rc)
		return rc;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return QB_OK;
}

char *qb_buf_detach(struct qb_buf *b)
{
	char *p = b->data;

	if (!p)
		p = calloc(1, 1);
	qb_buf_init(b, b->max);
	return p;
}

char *qb_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

char *qb_strndup(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *qb_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&p, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : p;
}
