/* error.c - the error table and message helpers of error.h. */
#include <stdio.h>
#include <string.h>

#include "qb/error.h"

static const char *const code_names[] = {
#define QB_X_NAME(name, text) #name,
	QB_ERROR_LIST(QB_X_NAME)
#undef QB_X_NAME
};

static const char *const code_texts[] = {
#define QB_X_TEXT(name, text) text,
	QB_ERROR_LIST(QB_X_TEXT)
#undef QB_X_TEXT
};

const char *qb_code_name(int code)
{
	if (code < 0 || code >= QB_ERROR_COUNT)
		return "QB_EUNKNOWN";
	return code_names[code];
}

const char *qb_code_text(int code)
{
	if (code < 0 || code >= QB_ERROR_COUNT)
		return "unknown error";
	return code_texts[code];
}

__attribute__((format(printf, 3, 0)))
static void vset(struct qb_err *err, int code, const char *fmt, va_list ap)
{
	err->code = code;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
}

int qb_err_set(struct qb_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	va_start(ap, fmt);
	vset(err, code, fmt, ap);
	va_end(ap);
	err->sys_errno = 0;
	return code;
}

int qb_err_sys(struct qb_err *err, int code, int errnum, const char *fmt, ...)
{
	va_list ap;
	size_t len;

	if (!err)
		return code;
	va_start(ap, fmt);
	vset(err, code, fmt, ap);
	va_end(ap);
	err->sys_errno = errnum;
	len = strlen(err->msg);
	if (len < sizeof(err->msg))
		snprintf(err->msg + len, sizeof(err->msg) - len, ": %s", strerror(errnum));
	return code;
}

int qb_err_prefix(struct qb_err *err, const char *fmt, ...)
{
	char head[QB_ERRMSG_MAX];
	char old[QB_ERRMSG_MAX];
	va_list ap;

	if (!err)
		return QB_EINTERNAL;
	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	{
		size_t h = strnlen(head, sizeof(err->msg) - 3);
		size_t o = strnlen(old, sizeof(old));
		memcpy(err->msg, head, h);
		memcpy(err->msg + h, ": ", 2);
		if (o > sizeof(err->msg) - h - 3)
			o = sizeof(err->msg) - h - 3;
		memcpy(err->msg + h + 2, old, o);
		err->msg[h + 2 + o] = '\0';
	}
	return err->code;
}

void qb_err_clear(struct qb_err *err)
{
	if (!err)
		return;
	err->code = QB_OK;
	err->sys_errno = 0;
	err->msg[0] = '\0';
}
