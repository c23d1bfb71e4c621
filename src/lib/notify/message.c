/*
 * message.c - what an alert says, and Brevo's JSON body for it.
 *
 * The text is built from error messages and log lines, which could in
 * theory carry anything: it is made valid UTF-8 (Brevo rejects a body that
 * is not) without control characters (an ESC would reach the terminal of an
 * admin reading mail there), each refused byte shown as "\xHH" as in
 * qb_printable(), and the API key is blanked out of it, belt and braces,
 * since no log line should ever hold it.  The body goes out as Brevo's
 * textContent, plain text: never htmlContent, so a '<' in an error message
 * or an S3 key is a character, not markup, and nothing needs HTML escaping.
 */
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "notify/notify_int.h"
#include "qb/buf.h"
#include "qb/log.h"

#define TAIL_LINES 40
#define TAIL_BYTES (32u << 10)
#define TEXT_MAX (1u << 20)

char *ntf_clean_text(const char *s, const char *secret, bool lines)
{
	size_t slen = secret ? strlen(secret) : 0;
	struct qb_buf b;
	struct qb_err err;
	int rc = QB_OK;

	qb_buf_init(&b, TEXT_MAX);
	rc = qb_buf_append(&b, "", 0, &err);
	while (!rc && s && *s) {
		size_t n;
		if (slen && !strncmp(s, secret, slen)) {
			rc = qb_buf_puts(&b, "[redacted]", &err);
			s += slen;
			continue;
		}
		n = qb_printable_len(s);
		if (n || (lines && *s == '\n')) {
			rc = qb_buf_append(&b, s, n ? n : 1, &err);
			s += n ? n : 1;
		} else {
			rc = qb_buf_printf(&b, &err, "\\x%02x", (unsigned char)*s);
			s++;
		}
	}
	if (rc) {
		qb_buf_release(&b);
		return NULL;
	}
	return qb_buf_detach(&b);
}

char *ntf_json_body(const struct qb_notify_cfg *nc, const char *subject, const char *text)
{
	cJSON *root = cJSON_CreateObject(), *sender, *to, *rcpt = NULL;
	char *out = NULL;

	if (!root || !(sender = cJSON_AddObjectToObject(root, "sender")) ||
	    !cJSON_AddStringToObject(sender, "email", nc->sender_email) ||
	    !cJSON_AddStringToObject(sender, "name", "qbackup") ||
	    !(to = cJSON_AddArrayToObject(root, "to")) || !(rcpt = cJSON_CreateObject()) ||
	    !cJSON_AddStringToObject(rcpt, "email", nc->admin_email))
		goto out;
	if (!cJSON_AddItemToArray(to, rcpt))
		goto out;
	rcpt = NULL;
	if (!cJSON_AddStringToObject(root, "subject", subject) ||
	    !cJSON_AddStringToObject(root, "textContent", text))
		goto out;
	out = cJSON_PrintUnformatted(root);
out:
	cJSON_Delete(rcpt);
	cJSON_Delete(root);
	return out;
}

/* The last TAIL_LINES lines (at most TAIL_BYTES) of a log. */
static const char *tail_of(const char *log)
{
	const char *end = log + strlen(log);
	const char *p = end;
	int lines = 0;

	while (p > log && p[-1] == '\n')
		p--;
	while (p > log && (size_t)(end - p) < TAIL_BYTES) {
		if (p[-1] == '\n' && ++lines == TAIL_LINES)
			break;
		p--;
	}
	return p;
}

static int compose(const struct qb_alert *a, const char *host_raw, struct qb_buf *subj,
		   struct qb_buf *text, struct qb_err *err)
{
	/* One line each: a line break in an error message must not start a
	 * line of its own in the body (a forged "Step:" or log line). */
	char host[1024], what[1024], step[1024], error[4 * QB_ERRMSG_MAX];
	int rc;

	qb_printable(host, sizeof(host), host_raw);
	qb_printable(what, sizeof(what), a->what && a->what[0] ? a->what : "backup problem");
	qb_printable(step, sizeof(step), a->step ? a->step : "");
	qb_printable(error, sizeof(error), a->error ? a->error : "");
	rc = qb_buf_printf(subj, err, "[qbackup] %s: %s", host, what);
	if (!rc)
		rc = qb_buf_printf(text, err, "qbackup on %s: %s\n\n", host, what);
	if (!rc && step[0])
		rc = qb_buf_printf(text, err, "%s: %s\n", a->step_label ? a->step_label : "Step",
				   step);
	if (!rc && error[0])
		rc = qb_buf_printf(text, err, "Error: %s\n", error);
	if (!rc && a->log_tail && a->log_tail[0])
		rc = qb_buf_printf(text, err, "\nLast lines of the log:\n%s\n",
				   tail_of(a->log_tail));
	if (!rc)
		rc = qb_buf_printf(text, err, "\n-- \nqbackup %s\n", QB_VERSION);
	return rc;
}

int qb_notify_alert(const struct qb_notify_cfg *nc, const struct qb_alert *a,
		    struct qb_err *err)
{
	char host[256] = "unknown host";
	struct qb_buf subj, text;
	int rc;

	if (a->host && a->host[0]) {
		size_t n = strlen(a->host) < sizeof(host) - 1 ? strlen(a->host) : sizeof(host) - 1;
		memcpy(host, a->host, n);
		host[n] = '\0';
	} else if (gethostname(host, sizeof(host) - 1) < 0) {
		memcpy(host, "unknown host", sizeof("unknown host"));
	}
	host[sizeof(host) - 1] = '\0';
	qb_buf_init(&subj, 4096);
	qb_buf_init(&text, TEXT_MAX);
	rc = compose(a, host, &subj, &text, err);
	if (!rc)
		rc = qb_notify_send(nc, subj.data, text.data, err);
	qb_buf_release(&text);
	qb_buf_release(&subj);
	return rc;
}

int qb_notify_cfg_load(struct qb_notify_cfg *nc, const struct qb_config *cfg, struct qb_err *err)
{
	static const char *const required[] = {
		"BREVO_API_KEY", "BREVO_SENDER_EMAIL", "ADMIN_EMAIL",
	};
	struct qb_buf missing;
	int rc = QB_OK;

	memset(nc, 0, sizeof(*nc));
	nc->api_url = qb_config_get(cfg, "BREVO_API_URL", QB_BREVO_DEFAULT_URL);
	nc->api_key = qb_config_get(cfg, "BREVO_API_KEY", NULL);
	nc->sender_email = qb_config_get(cfg, "BREVO_SENDER_EMAIL", NULL);
	nc->admin_email = qb_config_get(cfg, "ADMIN_EMAIL", NULL);
	qb_buf_init(&missing, 256);
	for (size_t i = 0; !rc && i < sizeof(required) / sizeof(required[0]); i++) {
		if (!qb_config_get(cfg, required[i], NULL))
			rc = qb_buf_printf(&missing, err, "%s%s", missing.len ? ", " : "",
					   required[i]);
	}
	if (!rc && missing.len)
		rc = qb_err_set(err, QB_ECONFIG, "alerts need %s", missing.data);
	qb_buf_release(&missing);
	return rc;
}
