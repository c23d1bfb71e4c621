/*
 * error.h - the library's error model.
 *
 * Every function that can fail returns an int: QB_OK (0) on success, one of
 * the QB_E* codes below otherwise, and fills the caller-owned struct qb_err
 * with a message that says what failed and on what (lower case, no full
 * stop).  The library never prints, exits or aborts; front ends turn a
 * qb_err into text and an exit status.
 *
 *	struct qb_err err = {0};
 *	if (qb_something(..., &err) != QB_OK)
 *		fprintf(stderr, "qbackup: %s\n", err.msg);
 *
 * The table of codes is defined once, here (an X-macro list).
 */
#ifndef QB_ERROR_H
#define QB_ERROR_H

#include <stdarg.h>

#define QB_ERROR_LIST(X)                                        \
	X(QB_OK,          "success")                            \
	X(QB_ENOMEM,      "out of memory")                      \
	X(QB_EIO,         "input/output error")                 \
	X(QB_EARG,        "invalid argument")                   \
	X(QB_ECONFIG,     "configuration error")                \
	X(QB_EDB,         "database error")                     \
	X(QB_EFORMAT,     "malformed input")                    \
	X(QB_ECORRUPT,    "corrupt or truncated backup")        \
	X(QB_EUNSUPPORTED,"unsupported object")                 \
	X(QB_EREFUSED,    "refused")                            \
	X(QB_ENOTFOUND,   "not found")                          \
	X(QB_ELOCKED,     "another run holds the lock")         \
	X(QB_ENET,        "network error")                      \
	X(QB_EREMOTE,     "remote server error")                \
	X(QB_ECANCELLED,  "cancelled")                          \
	X(QB_EINTERNAL,   "internal error")

enum qb_code {
#define QB_X_ENUM(name, text) name,
	QB_ERROR_LIST(QB_X_ENUM)
#undef QB_X_ENUM
	QB_ERROR_COUNT
};

#define QB_ERRMSG_MAX 1024

struct qb_err {
	int code;              /* enum qb_code */
	int sys_errno;         /* errno when a system call failed, else 0 */
	char msg[QB_ERRMSG_MAX];
};

/* Name ("QB_EIO") and generic text of a code. */
const char *qb_code_name(int code);
const char *qb_code_text(int code);

/* Fill err (which may be NULL) and return code. */
int qb_err_set(struct qb_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Same, appending ": strerror(errnum)" and recording errnum. */
int qb_err_sys(struct qb_err *err, int code, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Prefix the current message with context: "while X: <old message>". */
int qb_err_prefix(struct qb_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void qb_err_clear(struct qb_err *err);

#endif
