/* notify_int.h - what the notify module's files share; not part of the public API. */
#ifndef QB_NOTIFY_INT_H
#define QB_NOTIFY_INT_H

#include <stdbool.h>

#include "qb/notify.h"

/* s with every byte qb_printable_len() refuses (invalid UTF-8, control
 * characters; newlines too unless lines) written "\xHH", and every occurrence
 * of secret (when not empty) replaced by "[redacted]".  Caller frees; NULL
 * without memory. */
char *ntf_clean_text(const char *s, const char *secret, bool lines);
/* Brevo's JSON body for subject and text (already clean).  Caller frees. */
char *ntf_json_body(const struct qb_notify_cfg *nc, const char *subject, const char *text);

#endif
