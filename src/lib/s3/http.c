/*
 * http.c - what an attempt's outcome means, and the synchronous runner.
 *
 * One judge decides for both runners (this one and the pool): done, retry
 * after a delay, or fail with a message that names the operation, the
 * bucket and key, the HTTP status and S3 code, and how many attempts were
 * made.  Retries are bounded (MINIO_RETRIES) and spaced by exponential
 * backoff with jitter, so parallel transfers hitting the same 503 do not
 * come back in lockstep.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "qb/log.h"
#include "s3/s3_int.h"

#define BACKOFF_CAP_MS 20000
#define RETRY_AFTER_CAP_MS 30000

uint64_t s3_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t rnd(struct qb_s3 *s3)
{
	uint64_t x = s3->rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	s3->rng = x;
	return x;
}

static long backoff_ms(struct qb_s3 *s3, unsigned attempt, long retry_after)
{
	uint64_t d = s3->conf.retry_base_ms ? s3->conf.retry_base_ms : 1;

	for (unsigned i = 1; i < attempt && d < BACKOFF_CAP_MS; i++)
		d *= 2;
	if (d > BACKOFF_CAP_MS)
		d = BACKOFF_CAP_MS;
	/* "Equal jitter": half the delay fixed, half random. */
	d = d / 2 + rnd(s3) % (d / 2 + 1);
	if (retry_after > 0) {
		uint64_t ra = (uint64_t)retry_after * 1000u;
		if (ra > RETRY_AFTER_CAP_MS)
			ra = RETRY_AFTER_CAP_MS;
		if (ra > d)
			d = ra;
	}
	return (long)d;
}

static bool retryable_curl(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_WEIRD_SERVER_REPLY:
		return true;
	default:
		return false;
	}
}

static bool retryable_code(const char *code)
{
	static const char *const codes[] = {
		"RequestTimeout", "SlowDown", "InternalError", "ServiceUnavailable", "Throttling",
		"XMinioServerNotInitialized", NULL,
	};

	for (int i = 0; codes[i]; i++)
		if (!strcmp(code, codes[i]))
			return true;
	return false;
}

static const char *status_text(long status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 409: return "Conflict";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "";
	}
}

enum s3_verdict s3_req_judge(struct qb_s3 *s3, struct s3_req *r, CURLcode cc, long *delay_ms,
			     int *rc, struct qb_err *err)
{
	char reason[512];
	bool retry = false;
	int code = QB_EREMOTE;
	char *name;

	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->status);
	if (r->md5 && !r->md5_hex[0]) {
		qb_hash_final_hex(r->md5, r->md5_hex);
		qb_hash_free(r->md5);
		r->md5 = NULL;
	}
	if (r->cb_rc) {
		code = r->cb_rc;
		snprintf(reason, sizeof(reason), "%.400s", r->cb_err.msg);
	} else if (cc != CURLE_OK) {
		code = QB_ENET;
		retry = retryable_curl(cc);
		snprintf(reason, sizeof(reason), "%s", r->curl_msg[0] ? r->curl_msg
								    : curl_easy_strerror(cc));
	} else if (r->status >= 200 && r->status <= 299) {
		if (!r->nobody && r->content_length >= 0 &&
		    r->received != (uint64_t)r->content_length) {
			code = QB_ECORRUPT;
			retry = true;
			snprintf(reason, sizeof(reason), "body of %llu bytes, Content-Length %lld",
				 (unsigned long long)r->received, (long long)r->content_length);
		} else if (r->expect_md5[0] && r->body_kind != S3_BODY_NONE &&
			   strcasecmp(r->md5_hex, r->expect_md5)) {
			/* The server should have refused it (BadDigest); not all do. */
			code = QB_ECORRUPT;
			snprintf(reason, sizeof(reason), "the data sent has MD5 %s, not the "
				 "expected %s: the local file does not match", r->md5_hex,
				 r->expect_md5);
		} else if (r->verify_md5 && r->md5_hex[0] && qb_s3_etag_is_md5(r->etag) &&
			   !r->sse_opaque && strcasecmp(r->md5_hex, r->etag)) {
			code = QB_ECORRUPT;
			retry = true;
			snprintf(reason, sizeof(reason), "MD5 %s does not match the ETag %s",
				 r->md5_hex, r->etag);
		} else {
			return S3_DONE;
		}
	} else {
		struct qb_s3_error se;
		memset(&se, 0, sizeof(se));
		if (r->errbody.len)
			qb_s3_parse_error(r->errbody.data, r->errbody.len, &se, NULL);
		retry = (r->status >= 500 && r->status != 501) || r->status == 429 ||
			r->status == 408 || retryable_code(se.code);
		code = r->status == 404 ? QB_ENOTFOUND
		     : r->status == 403 ? QB_EREFUSED : QB_EREMOTE;
		if (!se.code[0])
			snprintf(se.code, sizeof(se.code), "%s", status_text(r->status));
		snprintf(reason, sizeof(reason), "HTTP %ld%s%s%s%s%s", r->status,
			 se.code[0] ? " " : "", se.code, se.message[0] ? " (" : "", se.message,
			 se.message[0] ? ")" : "");
	}
	name = s3_req_name(r);
	if (retry && r->attempt <= s3->conf.retries) {
		*delay_ms = backoff_ms(s3, r->attempt, r->retry_after);
		qb_log(QB_LOG_INFO, "retrying %s%s%s in %ld ms: %s (attempt %u of %u)", r->what,
		       name && name[0] ? " " : "", name ? name : "", *delay_ms, reason,
		       r->attempt + 1, s3->conf.retries + 1);
		free(name);
		return S3_RETRY;
	}
	{
		const char *on = code == QB_ENET ? " on " : "";
		const char *url = code == QB_ENET ? s3->conf.url : "";
		char tries[48] = "";

		if (r->attempt > 1)
			snprintf(tries, sizeof(tries), ", after %u attempts", r->attempt);
		*rc = qb_err_set(err, code, "unable to %s%s%s%s%s: %s%s", r->what,
				 name && name[0] ? " " : "", name ? name : "", on, url, reason,
				 tries);
	}
	free(name);
	return S3_FAIL;
}

void s3_req_result(struct s3_req *r, struct qb_s3_result *res)
{
	memset(res, 0, sizeof(*res));
	res->status = r->status;
	if (r->nobody)
		res->size = r->content_length >= 0 ? (uint64_t)r->content_length : 0;
	else
		res->size = r->body_kind != S3_BODY_NONE ? r->body_pos : r->received;
	memcpy(res->etag, r->etag, sizeof(res->etag));
	memcpy(res->md5, r->md5_hex, sizeof(res->md5));
	memcpy(res->content_type, r->resp_type, sizeof(res->content_type));
	memcpy(res->last_modified, r->last_modified, sizeof(res->last_modified));
	res->verified = r->verify_md5 && r->md5_hex[0] && qb_s3_etag_is_md5(r->etag) &&
			!r->sse_opaque;
	/* Only a whole body's hash says anything of the file. */
	res->file_changed = r->shrank ||
			    (r->expect_md5[0] && r->body_kind != S3_BODY_NONE && r->md5_hex[0] &&
			     r->body_pos == r->body_len && strcasecmp(r->md5_hex, r->expect_md5) != 0);
	res->attempts = r->attempt;
}

int s3_exec(struct qb_s3 *s3, struct s3_req *r, struct qb_err *err)
{
	for (;;) {
		long delay = 0;
		int rc = QB_OK;
		CURLcode cc;
		struct timespec ts;

		r->attempt++;
		r->easy = s3->easy;
		if ((rc = s3_req_prepare(s3, r, err)))
			return rc;
		cc = curl_easy_perform(s3->easy);
		switch (s3_req_judge(s3, r, cc, &delay, &rc, err)) {
		case S3_DONE:
			return QB_OK;
		case S3_FAIL:
			return rc;
		case S3_RETRY:
			break;
		}
		ts.tv_sec = delay / 1000;
		ts.tv_nsec = (delay % 1000) * 1000000L;
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
}
