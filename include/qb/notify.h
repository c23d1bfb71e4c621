/*
 * notify.h - alert emails through Brevo's transactional API.
 *
 *	struct qb_notify_cfg nc;
 *	if (qb_notify_cfg_load(&nc, cfg, &err)) ...            // QB_ECONFIG: keys missing
 *	struct qb_alert a = { .what = "backup failed (db)", .step = "db",
 *			      .error = err_of_step.msg, .log_tail = last_lines };
 *	if (qb_notify_alert(&nc, &a, &err))
 *		qb_log(QB_LOG_ERROR, "alert not sent: %s", err.msg);
 *
 * One POST to BREVO_API_URL with headers `api-key`, `content-type:
 * application/json`, `accept: application/json` and the body
 *	{"sender":{"email":SENDER,"name":"qbackup"},"to":[{"email":ADMIN}],
 *	 "subject":"[qbackup] HOST: WHAT","textContent":"..."}
 * Timeouts: 10 s to connect, 30 s in all.  A network error or a 5xx answer
 * is retried once; any 2xx is success.  The API key never appears in an
 * error message or a log line, and is blanked out of the text sent.
 * Sending changes nothing else: the caller logs a failure and carries on.
 */
#ifndef QB_NOTIFY_H
#define QB_NOTIFY_H

#include "qb/config.h"
#include "qb/error.h"

#define QB_BREVO_DEFAULT_URL "https://api.brevo.com/v3/smtp/email"

/* Strings are borrowed. */
struct qb_notify_cfg {
	const char *api_url;        /* BREVO_API_URL; NULL: QB_BREVO_DEFAULT_URL */
	const char *api_key;        /* BREVO_API_KEY (a secret) */
	const char *sender_email;   /* BREVO_SENDER_EMAIL */
	const char *admin_email;    /* ADMIN_EMAIL */
	long connect_timeout;       /* seconds; 0: 10 */
	long timeout;               /* seconds for the whole request; 0: 30 */
	long retry_delay_ms;        /* pause before the retry; 0: 1000, < 0: none */
};

/* Fill nc from the configuration (strings stay owned by cfg). */
int qb_notify_cfg_load(struct qb_notify_cfg *nc, const struct qb_config *cfg, struct qb_err *err);

struct qb_alert {
	const char *host;       /* NULL: this machine's name */
	const char *what;       /* what went wrong, for the subject: "backup failed (db)" */
	const char *step;       /* the failing step(s), or NULL */
	const char *step_label; /* the name of step's line in the body; NULL: "Step" */
	const char *error;      /* the error message, or NULL */
	const char *log_tail;   /* the run's last log lines, or NULL; only the last 40 are sent */
};

/* Subject "[qbackup] HOST: WHAT"; body with step, error and log tail. */
int qb_notify_alert(const struct qb_notify_cfg *nc, const struct qb_alert *alert,
		    struct qb_err *err);
/* Send a message as is (subject and text content). */
int qb_notify_send(const struct qb_notify_cfg *nc, const char *subject, const char *text,
		   struct qb_err *err);

#endif
