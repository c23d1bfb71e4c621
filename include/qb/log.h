/*
 * log.h - how the library reports events without printing.
 *
 * The library calls qb_log(); the message goes to the sink the front end
 * installed with qb_log_set_sink(), or nowhere.  Messages never contain
 * secrets: callers pass connection strings through qb_redact() first.
 *
 * A message may quote anything (a line of a script, an S3 key, a server's
 * answer): what reaches the sink and the tail has been through
 * qb_printable(), so it cannot drive the terminal it is shown on.  A front
 * end that prints an error message (struct qb_err) does the same.
 */
#ifndef QB_LOG_H
#define QB_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum qb_level { QB_LOG_ERROR, QB_LOG_WARN, QB_LOG_INFO, QB_LOG_DEBUG };

typedef void (*qb_log_sink)(void *ud, enum qb_level level, const char *msg);

/* Install the process-wide sink (NULL to discard) and the most verbose level kept. */
void qb_log_set_sink(qb_log_sink sink, void *ud, enum qb_level max_level);
enum qb_level qb_log_level(void);
void qb_log(enum qb_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *qb_level_name(enum qb_level level);
/* The last messages logged at INFO or above (kept whatever the sink), one
 * per line, oldest first: for alert emails.  Caller frees; NULL on no memory. */
char *qb_log_tail(void);
void qb_log_tail_clear(void);
/* Keep the calling thread's messages out of the tail (false) or in it (the
 * default): the HTTP server's request threads, so that an alert about a run
 * shows the run's lines, not the admin page's polling. */
void qb_log_tail_thread(bool keep);

/* The length (1 to 4) of the character s starts when it may be shown as it is:
 * valid UTF-8 and no control character (C0, DEL, C1 U+0080..U+009F); 0 when the
 * byte s[0] must be escaped.  s[0] is not '\0'. */
size_t qb_printable_len(const char *s);
/* in copied into out (cap bytes, terminated when cap > 0) with every byte that
 * qb_printable_len() refuses written as "\xHH" (ESC is "\x1b"): the C0 controls
 * (newline and tab too: a message is one line), DEL, the C1 controls and each
 * byte that is not part of valid UTF-8.  Valid UTF-8 ("été") is kept, and so is
 * a backslash: cleaning twice changes nothing.  Cut at a character (or escape)
 * boundary when out is too short.  Returns strlen(out). */
size_t qb_printable(char *out, size_t cap, const char *in);

#endif
