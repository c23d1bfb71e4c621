/*
 * buf.h - a growable byte buffer with a ceiling (after curl's dynbuf).
 *
 * Always NUL-terminated.  Appending past `max` fails with QB_EFORMAT rather
 * than growing without bound: every body, XML answer or JSON document read
 * from outside goes through one of these.
 *
 *	struct qb_buf b;
 *	qb_buf_init(&b, 1 << 20);
 *	qb_buf_append(&b, data, n, &err);
 *	... b.data, b.len ...
 *	qb_buf_release(&b);
 */
#ifndef QB_BUF_H
#define QB_BUF_H

#include <stdbool.h>
#include <stddef.h>

#include "qb/error.h"

struct qb_buf {
	char *data;     /* NULL until the first append */
	size_t len;
	size_t cap;
	size_t max;     /* ceiling on len */
};

void qb_buf_init(struct qb_buf *b, size_t max);
void qb_buf_release(struct qb_buf *b);
void qb_buf_reset(struct qb_buf *b);  /* len = 0, keeps memory */
int qb_buf_append(struct qb_buf *b, const void *p, size_t n, struct qb_err *err);
int qb_buf_puts(struct qb_buf *b, const char *s, struct qb_err *err);
int qb_buf_printf(struct qb_buf *b, struct qb_err *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Give the data to the caller (who frees it); the buffer is left empty. */
char *qb_buf_detach(struct qb_buf *b);

/* Small string helpers: return NULL on allocation failure. Caller frees. */
char *qb_strdup(const char *s);
char *qb_strndup(const char *s, size_t n);
char *qb_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* s in single quotes as one shell word ("it's" gives 'it'\''s') into out (n bytes);
 * false when it did not fit: out then holds a cut, wider word not to be offered. */
bool qb_shell_word(const char *s, char *out, size_t n);

#endif
