/*
 * brevo.c - one POST to Brevo's transactional email API, retried once.
 *
 * The API key travels only in the api-key header.  curl never sees a
 * verbose flag and its error buffer only ever describes the transfer, but
 * every message we build is still passed through ntf_clean_text() with the
 * key as the secret, so a future change cannot leak it by accident.  URLs
 * in messages lose their user:password@ part and query string.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "notify/notify_int.h"
#include "qb/buf.h"
#include "qb/log.h"

#define ANSWER_MAX (64u << 10)
#define SNIPPET 200

struct attempt {
	CURLcode cc;
	long status;
	char curl_err[CURL_ERROR_SIZE];
	struct qb_buf body;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void init_curl(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct qb_buf *b = ud;
	struct qb_err ignored;
	size_t room = b->max - b->len;

	/* Keep the start of an oversized answer for the error message; drop the rest. */
	if (room)
		qb_buf_append(b, p, size * n < room ? size * n : room, &ignored);
	return size * n;
}

/* scheme://host[:port]/path, without credentials or query, for messages. */
static char *safe_url(const char *url)
{
	const char *start = strstr(url, "://");
	const char *host = start ? start + 3 : url;
	const char *end = host + strcspn(host, "/?#");
	const char *at = memchr(host, '@', (size_t)(end - host));
	const char *path_end;

	if (at)
		host = at + 1;
	path_end = end + strcspn(end, "?#");
	return qb_asprintf("%.*s%.*s", start ? (int)(start + 3 - url) : 0, url,
			   (int)(path_end - host), host);
}

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	if (ms > 0)
		nanosleep(&ts, NULL);
}

static struct curl_slist *headers(const char *key)
{
	struct curl_slist *h = NULL, *t;
	char *line = qb_asprintf("api-key: %s", key);

	if (!line)
		return NULL;
	t = curl_slist_append(h, line);
	/* curl copied it; do not leave the key lying in freed memory. */
	explicit_bzero(line, strlen(line));
	free(line);
	if (!t)
		return NULL;
	h = t;
	if (!(t = curl_slist_append(h, "content-type: application/json")) ||
	    !(t = curl_slist_append(h, "accept: application/json")) ||
	    !(t = curl_slist_append(h, "expect:"))) {
		curl_slist_free_all(h);
		return NULL;
	}
	return t;
}

static void post(CURL *c, const struct qb_notify_cfg *nc, struct curl_slist *h,
		 const char *body, struct attempt *at)
{
	long ct = nc->connect_timeout > 0 ? nc->connect_timeout : 10;
	long to = nc->timeout > 0 ? nc->timeout : 30;

	curl_easy_reset(c);
	qb_buf_reset(&at->body);
	at->curl_err[0] = '\0';
	at->status = 0;
	curl_easy_setopt(c, CURLOPT_URL, nc->api_url ? nc->api_url : QB_BREVO_DEFAULT_URL);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_VERBOSE, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, ct);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, to);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "qbackup/" QB_VERSION);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, at->curl_err);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &at->body);
	at->cc = curl_easy_perform(c);
	if (at->cc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &at->status);
}

static bool worth_retrying(const struct attempt *at)
{
	return at->cc != CURLE_OK || at->status >= 500;
}

/* The final error, cleaned of the key. */
static int report(const struct qb_notify_cfg *nc, const struct attempt *at, int tries,
		  struct qb_err *err)
{
	char *url = safe_url(nc->api_url ? nc->api_url : QB_BREVO_DEFAULT_URL);
	char *raw, *msg;
	int code;

	if (at->cc != CURLE_OK) {
		code = QB_ENET;
		raw = qb_asprintf("unable to reach the mail API at '%s' (%d attempt%s): %s",
				  url ? url : "?", tries, tries > 1 ? "s" : "",
				  at->curl_err[0] ? at->curl_err : curl_easy_strerror(at->cc));
	} else {
		code = QB_EREMOTE;
		raw = qb_asprintf("the mail API at '%s' answered HTTP %ld (%d attempt%s): %.*s",
				  url ? url : "?", at->status, tries, tries > 1 ? "s" : "",
				  SNIPPET, at->body.data ? at->body.data : "");
	}
	msg = raw ? ntf_clean_text(raw, nc->api_key, false) : NULL;
	qb_err_set(err, code, "%s", msg ? msg : "unable to send the alert email");
	free(msg);
	free(raw);
	free(url);
	return code;
}

static int check_cfg(const struct qb_notify_cfg *nc, struct qb_err *err)
{
	if (!nc->api_key || !nc->api_key[0])
		return qb_err_set(err, QB_ECONFIG, "BREVO_API_KEY is not set");
	/* A line break in the key would let it inject headers; say so without echoing it. */
	if (strpbrk(nc->api_key, "\r\n"))
		return qb_err_set(err, QB_ECONFIG, "BREVO_API_KEY contains a line break");
	if (!nc->sender_email || !nc->sender_email[0])
		return qb_err_set(err, QB_ECONFIG, "BREVO_SENDER_EMAIL is not set");
	if (!nc->admin_email || !nc->admin_email[0])
		return qb_err_set(err, QB_ECONFIG, "ADMIN_EMAIL is not set");
	return QB_OK;
}

int qb_notify_send(const struct qb_notify_cfg *nc, const char *subject, const char *text,
		   struct qb_err *err)
{
	struct attempt at = { .cc = CURLE_OK };
	struct curl_slist *h = NULL;
	char *subj = NULL, *body_text = NULL, *json = NULL;
	CURL *c = NULL;
	int rc = check_cfg(nc, err), tries = 0;

	if (rc)
		return rc;
	pthread_once(&curl_once, init_curl);
	if (curl_init_rc != CURLE_OK)
		return qb_err_set(err, QB_EINTERNAL, "unable to initialise libcurl");
	qb_buf_init(&at.body, ANSWER_MAX);
	subj = ntf_clean_text(subject ? subject : "", nc->api_key, false);
	body_text = ntf_clean_text(text ? text : "", nc->api_key, true);
	json = subj && body_text ? ntf_json_body(nc, subj, body_text) : NULL;
	h = json ? headers(nc->api_key) : NULL;
	c = h ? curl_easy_init() : NULL;
	if (!c) {
		rc = qb_err_set(err, QB_ENOMEM, "out of memory preparing the alert email");
		goto out;
	}
	do {
		if (tries)
			nap_ms(nc->retry_delay_ms ? nc->retry_delay_ms : 1000);
		post(c, nc, h, json, &at);
		tries++;
	} while (tries < 2 && worth_retrying(&at));
	if (at.cc != CURLE_OK || at.status < 200 || at.status > 299)
		rc = report(nc, &at, tries, err);
	else
		qb_log(QB_LOG_INFO, "alert email sent to %s", nc->admin_email);
out:
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	free(json);
	free(body_text);
	free(subj);
	qb_buf_release(&at.body);
	return rc;
}
