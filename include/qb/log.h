/*
 * log.h - how the library reports events without printing.
 *
 * The library calls qb_log(); the message goes to the sink the front end
 * installed with qb_log_set_sink(), or nowhere.  Messages never contain
 * secrets: callers pass connection strings through qb_redact() first.
 */
#ifndef QB_LOG_H
#define QB_LOG_H

#include <stdbool.h>

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

#endif
