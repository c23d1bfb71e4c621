/*
 * req.c - one S3 request: its description, the libcurl callbacks that move
 * its body, and the setup of a curl handle for one attempt (signed anew, so
 * a retry never reuses a stale date).
 *
 * Bodies stream: a GET goes straight to a file descriptor with pwrite() and
 * an MD5 computed on the way; a PUT is read with pread() from its file, so
 * parallel parts of one file share the descriptor safely.  XML answers and
 * error bodies land in capped buffers.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "qb/fsutil.h"
#include "qb/log.h"
#include "s3/s3_int.h"

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

int s3_req_init(struct s3_req *r, const char *method, const char *what, const char *bucket,
		const char *key, struct qb_err *err)
{
	memset(r, 0, sizeof(*r));
	r->method = method;
	r->what = what;
	r->body_fd = -1;
	r->sink_fd = -1;
	r->content_length = -1;
	qb_buf_init(&r->errbody, S3_ERRBODY_MAX);
	memcpy(r->payload_hash, EMPTY_SHA256, sizeof(EMPTY_SHA256));
	if (bucket && !(r->bucket = qb_strdup(bucket)))
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	if (key && !(r->key = qb_strdup(key)))
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	return QB_OK;
}

int s3_req_param(struct s3_req *r, const char *name, const char *value, struct qb_err *err)
{
	char *v;

	if (r->nparams == S3_MAX_PARAMS)
		return qb_err_set(err, QB_EINTERNAL, "too many query parameters");
	v = qb_strdup(value ? value : "");
	if (!v)
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	r->param_values[r->nparams] = v;
	r->params[r->nparams].name = name;
	r->params[r->nparams].value = v;
	r->nparams++;
	return QB_OK;
}

void s3_req_release(struct s3_req *r)
{
	if (!r)
		return;
	for (unsigned i = 0; i < r->nparams; i++)
		free(r->param_values[i]);
	free(r->bucket);
	free(r->key);
	free(r->content_type);
	curl_slist_free_all(r->headers);
	qb_hash_free(r->md5);
	qb_buf_release(&r->errbody);
	r->headers = NULL;
	r->md5 = NULL;
	r->bucket = r->key = r->content_type = NULL;
	r->nparams = 0;
}

int s3_req_set_md5(struct s3_req *r, const char *md5hex, struct qb_err *err)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char d[18] = { 0 };
	size_t o = 0;

	if (!qb_s3_etag_is_md5(md5hex))
		return qb_err_set(err, QB_EARG, "bad MD5 '%.40s'", md5hex);
	for (int i = 0; i < 16; i++) {
		char hx[3] = { md5hex[2 * i], md5hex[2 * i + 1], '\0' };
		d[i] = (unsigned char)strtoul(hx, NULL, 16);
	}
	for (int i = 0; i < 18; i += 3) {
		unsigned v = (unsigned)d[i] << 16 | (unsigned)d[i + 1] << 8 | d[i + 2];
		r->content_md5[o++] = b64[(v >> 18) & 63];
		r->content_md5[o++] = b64[(v >> 12) & 63];
		r->content_md5[o++] = b64[(v >> 6) & 63];
		r->content_md5[o++] = b64[v & 63];
	}
	/* 16 bytes make 22 characters and two '=' of padding. */
	r->content_md5[22] = '=';
	r->content_md5[23] = '=';
	r->content_md5[24] = '\0';
	memcpy(r->expect_md5, md5hex, 33);
	return QB_OK;
}

char *s3_req_name(const struct s3_req *r)
{
	if (r->bucket && r->key)
		return qb_asprintf("'%s/%s'", r->bucket, r->key);
	if (r->bucket)
		return qb_asprintf("'%s'", r->bucket);
	return qb_strdup("");
}

/* ---- libcurl callbacks ---- */

static size_t on_write(char *p, size_t size, size_t nmemb, void *ud)
{
	struct s3_req *r = ud;
	size_t n = size * nmemb;

	if (!r->status)
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->status);
	if (r->status < 200 || r->status > 299) {
		/* Keep the start of an error body; the rest is read and dropped. */
		size_t room = r->errbody.max - r->errbody.len;
		qb_buf_append(&r->errbody, p, n < room ? n : room, NULL);
		return n;
	}
	if (r->sink_kind == S3_SINK_BUF) {
		r->cb_rc = qb_buf_append(r->sink_buf, p, n, &r->cb_err);
		if (r->cb_rc)
			return 0;
	} else if (r->sink_kind == S3_SINK_FD) {
		size_t done = 0;
		while (done < n) {
			ssize_t w = pwrite(r->sink_fd, p + done, n - done,
					   (off_t)(r->received + done));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				r->cb_rc = qb_err_sys(&r->cb_err, QB_EIO, errno, "unable to write");
				return 0;
			}
			done += (size_t)w;
		}
	}
	if (r->md5 && r->body_kind == S3_BODY_NONE)
		qb_hash_update(r->md5, p, n);
	r->received += n;
	if (r->counter)
		*r->counter += n;
	return n;
}

static size_t on_read(char *p, size_t size, size_t nmemb, void *ud)
{
	struct s3_req *r = ud;
	size_t want = size * nmemb;
	uint64_t left = r->body_len - r->body_pos;
	size_t n = want < left ? want : (size_t)left;

	if (n == 0)
		return 0;
	if (r->body_kind == S3_BODY_MEM) {
		memcpy(p, r->body_mem + r->body_pos, n);
	} else {
		ssize_t got;
		do
			got = pread(r->body_fd, p, n, (off_t)(r->body_off + r->body_pos));
		while (got < 0 && errno == EINTR);
		if (got <= 0) {
			if (got < 0)
				r->cb_rc = qb_err_sys(&r->cb_err, QB_EIO, errno, "unable to read");
			else {
				r->shrank = true;
				r->cb_rc = qb_err_set(&r->cb_err, QB_EIO,
						      "file shrank while uploading");
			}
			return CURL_READFUNC_ABORT;
		}
		n = (size_t)got;
	}
	if (r->md5)
		qb_hash_update(r->md5, p, n);
	r->body_pos += n;
	/* The last bytes of an upload that carries a Content-MD5: a file that no longer
	 * matches is stopped here, before the server has the whole body, so that a
	 * server which does not check Content-MD5 never stores it either. */
	if (r->md5 && r->expect_md5[0] && r->body_pos == r->body_len) {
		qb_hash_final_hex(r->md5, r->md5_hex);
		qb_hash_free(r->md5);
		r->md5 = NULL;
		if (strcasecmp(r->md5_hex, r->expect_md5)) {
			r->cb_rc = qb_err_set(&r->cb_err, QB_ECORRUPT, "the data has MD5 %s, not "
					      "the expected %s: the local file does not match",
					      r->md5_hex, r->expect_md5);
			return CURL_READFUNC_ABORT;
		}
	}
	if (r->counter)
		*r->counter += n;
	return n;
}

/* libcurl rewinds an upload before resending it on a reused connection that failed. */
static int on_seek(void *ud, curl_off_t offset, int origin)
{
	struct s3_req *r = ud;

	if (origin != SEEK_SET || offset != 0)
		return CURL_SEEKFUNC_CANTSEEK;
	if (r->counter)
		*r->counter -= r->body_pos < *r->counter ? r->body_pos : *r->counter;
	r->body_pos = 0;
	/* Every upload hashes what it sends (the hash may be finished already). */
	qb_hash_free(r->md5);
	r->md5_hex[0] = '\0';
	r->md5 = qb_hash_new(QB_MD5);
	if (!r->md5)
		return CURL_SEEKFUNC_FAIL;
	return CURL_SEEKFUNC_OK;
}

static bool header_is(const char *line, size_t n, const char *name, const char **value,
		      size_t *vlen)
{
	size_t l = strlen(name);

	if (n <= l || line[l] != ':' || strncasecmp(line, name, l))
		return false;
	line += l + 1;
	n -= l + 1;
	while (n > 0 && (*line == ' ' || *line == '\t')) {
		line++;
		n--;
	}
	while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == '\n' || line[n - 1] == ' '))
		n--;
	*value = line;
	*vlen = n;
	return true;
}

static void copy_header(char *dst, size_t cap, const char *v, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

static size_t on_header(char *p, size_t size, size_t nitems, void *ud)
{
	struct s3_req *r = ud;
	size_t n = size * nitems;
	const char *v;
	size_t vl;

	if (n >= 5 && !memcmp(p, "HTTP/", 5)) {
		/* A new answer (after a 100 Continue, say): forget the previous headers. */
		r->status = 0;
		r->content_length = -1;
		r->etag[0] = r->resp_type[0] = r->last_modified[0] = '\0';
		r->sse_opaque = false;
		r->retry_after = 0;
		return n;
	}
	if (header_is(p, n, "content-length", &v, &vl)) {
		char num[24];
		char *end;
		copy_header(num, sizeof(num), v, vl);
		long long cl = strtoll(num, &end, 10);
		r->content_length = (*num && !*end && cl >= 0) ? cl : -1;
	} else if (header_is(p, n, "etag", &v, &vl)) {
		if (!qb_s3_etag_unquote(v, vl, r->etag, sizeof(r->etag)))
			r->etag[0] = '\0';
	} else if (header_is(p, n, "content-type", &v, &vl)) {
		copy_header(r->resp_type, sizeof(r->resp_type), v, vl);
	} else if (header_is(p, n, "last-modified", &v, &vl)) {
		copy_header(r->last_modified, sizeof(r->last_modified), v, vl);
	} else if (header_is(p, n, "x-amz-server-side-encryption", &v, &vl)) {
		if (vl >= 7 && !strncasecmp(v, "aws:kms", 7))
			r->sse_opaque = true;
	} else if (header_is(p, n, "x-amz-server-side-encryption-customer-algorithm", &v, &vl)) {
		r->sse_opaque = true;
	} else if (header_is(p, n, "retry-after", &v, &vl)) {
		char num[16];
		char *end;
		copy_header(num, sizeof(num), v, vl);
		long s = strtol(num, &end, 10);
		r->retry_after = (*num && !*end && s > 0) ? s : 0;
	}
	return n;
}

/* ---- One attempt ---- */

static int add_header(struct s3_req *r, struct qb_err *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int add_header(struct s3_req *r, struct qb_err *err, const char *fmt, ...)
{
	struct curl_slist *l;
	va_list ap;
	char *line;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (n < 0)
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	l = curl_slist_append(r->headers, line);
	free(line);
	if (!l)
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	r->headers = l;
	return QB_OK;
}

static int reset_attempt(struct s3_req *r, struct qb_err *err)
{
	r->status = 0;
	r->content_length = -1;
	r->etag[0] = r->resp_type[0] = r->last_modified[0] = r->md5_hex[0] = '\0';
	r->sse_opaque = false;
	r->shrank = false;
	r->retry_after = 0;
	r->received = 0;
	r->body_pos = 0;
	r->cb_rc = 0;
	r->curl_msg[0] = '\0';
	qb_err_clear(&r->cb_err);
	qb_buf_reset(&r->errbody);
	curl_slist_free_all(r->headers);
	r->headers = NULL;
	qb_hash_free(r->md5);
	r->md5 = NULL;
	if (r->sink_kind == S3_SINK_BUF)
		qb_buf_reset(r->sink_buf);
	if (r->sink_kind == S3_SINK_FD && r->attempt > 1 && ftruncate(r->sink_fd, 0) < 0)
		return qb_err_sys(err, QB_EIO, errno, "unable to truncate a download");
	if ((r->sink_kind == S3_SINK_FD || r->body_kind != S3_BODY_NONE) &&
	    !(r->md5 = qb_hash_new(QB_MD5)))
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	return QB_OK;
}

static int sign(struct qb_s3 *s3, struct s3_req *r, const char *path, const char *date,
		struct qb_buf *auth, struct qb_err *err)
{
	struct qb_sigv4_header h[6];
	size_t nh = 0;
	struct qb_sigv4_req sr;

	h[nh++] = (struct qb_sigv4_header){ "host", s3->conf.host };
	h[nh++] = (struct qb_sigv4_header){ "x-amz-content-sha256", r->payload_hash };
	h[nh++] = (struct qb_sigv4_header){ "x-amz-date", date };
	if (r->content_md5[0])
		h[nh++] = (struct qb_sigv4_header){ "content-md5", r->content_md5 };
	if (r->content_type)
		h[nh++] = (struct qb_sigv4_header){ "content-type", r->content_type };
	memset(&sr, 0, sizeof(sr));
	sr.method = r->method;
	sr.path = path;
	sr.params = r->params;
	sr.nparams = r->nparams;
	sr.headers = h;
	sr.nheaders = nh;
	sr.payload_hash = r->payload_hash;
	sr.amz_date = date;
	sr.region = s3->conf.region;
	sr.service = "s3";
	sr.access_key = s3->conf.access_key;
	sr.secret_key = s3->conf.secret_key;
	return qb_sigv4_sign(&sr, auth, NULL, err);
}

static int set_options(struct qb_s3 *s3, struct s3_req *r, const char *url)
{
	CURL *h = r->easy;
	long t = (long)s3->conf.timeout;
	CURLcode c = CURLE_OK;

#define SET(opt, val) do { if (!c) c = curl_easy_setopt(h, opt, val); } while (0)
	SET(CURLOPT_URL, url);
	SET(CURLOPT_PATH_AS_IS, 1L);       /* keys like "a/../b" are sent as they are */
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_HTTPHEADER, r->headers);
	SET(CURLOPT_USERAGENT, "qbackup/" QB_VERSION);
	SET(CURLOPT_ERRORBUFFER, r->curl_msg);
	SET(CURLOPT_WRITEFUNCTION, on_write);
	SET(CURLOPT_WRITEDATA, r);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, r);
	SET(CURLOPT_CONNECTTIMEOUT, t);
	SET(CURLOPT_LOW_SPEED_LIMIT, 1L);
	SET(CURLOPT_LOW_SPEED_TIME, t);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	/* Read the socket 256 KiB at a time rather than 16: a seventh of the recv and poll
	 * calls on a download (libcurl still hands the body over in 16 KiB pieces). */
	SET(CURLOPT_BUFFERSIZE, 256L * 1024);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	if (r->total_timeout)
		SET(CURLOPT_TIMEOUT, 2 * t);
	if (s3->conf.insecure) {
		SET(CURLOPT_SSL_VERIFYPEER, 0L);
		SET(CURLOPT_SSL_VERIFYHOST, 0L);
	} else if (s3->conf.ca_file) {
		SET(CURLOPT_CAINFO, s3->conf.ca_file);
	}
	if (r->nobody) {
		SET(CURLOPT_NOBODY, 1L);
	} else if (!strcmp(r->method, "PUT")) {
		SET(CURLOPT_UPLOAD, 1L);
		SET(CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->body_len);
	} else if (!strcmp(r->method, "POST")) {
		SET(CURLOPT_POST, 1L);
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
	} else if (strcmp(r->method, "GET")) {
		SET(CURLOPT_CUSTOMREQUEST, r->method);
	}
	if (r->body_kind != S3_BODY_NONE || !strcmp(r->method, "PUT") ||
	    !strcmp(r->method, "POST")) {
		SET(CURLOPT_READFUNCTION, on_read);
		SET(CURLOPT_READDATA, r);
		SET(CURLOPT_SEEKFUNCTION, on_seek);
		SET(CURLOPT_SEEKDATA, r);
	}
#undef SET
	return c;
}

int s3_req_prepare(struct qb_s3 *s3, struct s3_req *r, struct qb_err *err)
{
	struct qb_buf path, enc, url, auth;
	char date[20];
	struct tm tm;
	time_t now = time(NULL);
	CURLcode cc;
	int rc;

	qb_buf_init(&path, 4 * QB_S3_KEY_MAX);
	qb_buf_init(&enc, 16 * QB_S3_KEY_MAX);
	qb_buf_init(&url, 32 * QB_S3_KEY_MAX);
	qb_buf_init(&auth, 4096);
	if ((rc = reset_attempt(r, err)))
		goto out;
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%Y%m%dT%H%M%SZ", &tm);

	rc = qb_buf_printf(&path, err, "/%s%s%s", r->bucket ? r->bucket : "", r->key ? "/" : "",
			   r->key ? r->key : "");
	if (!rc)
		rc = qb_s3_uri_encode(&enc, path.data, path.len, true, err);
	if (!rc)
		rc = qb_buf_printf(&url, err, "%s%s", s3->conf.url, enc.data);
	if (!rc && r->nparams) {
		rc = qb_buf_append(&url, "?", 1, err);
		if (!rc)
			rc = qb_sigv4_query(&url, r->params, r->nparams, err);
	}
	if (!rc)
		rc = sign(s3, r, path.data, date, &auth, err);
	if (!rc)
		rc = add_header(r, err, "Host: %s", s3->conf.host);
	if (!rc)
		rc = add_header(r, err, "x-amz-date: %s", date);
	if (!rc)
		rc = add_header(r, err, "x-amz-content-sha256: %s", r->payload_hash);
	if (!rc)
		rc = add_header(r, err, "Authorization: %s", auth.data);
	if (!rc && r->content_md5[0])
		rc = add_header(r, err, "Content-MD5: %s", r->content_md5);
	if (!rc && r->content_type)
		rc = add_header(r, err, "Content-Type: %s", r->content_type);
	else if (!rc && !strcmp(r->method, "POST"))
		rc = add_header(r, err, "Content-Type:");
	if (!rc)
		rc = add_header(r, err, "Expect:");   /* no 100-continue round trip */
	if (rc)
		goto out;
	curl_easy_reset(r->easy);
	cc = set_options(s3, r, url.data);
	if (cc)
		rc = qb_err_set(err, QB_EINTERNAL, "unable to set up a request: %s",
				curl_easy_strerror(cc));
out:
	qb_buf_release(&auth);
	qb_buf_release(&url);
	qb_buf_release(&enc);
	qb_buf_release(&path);
	return rc;
}
