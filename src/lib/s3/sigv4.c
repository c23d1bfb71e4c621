/*
 * sigv4.c - AWS Signature Version 4 for S3 requests.
 *
 * S3 differs from the other services in one place: the path is encoded once
 * and never normalised ("a/../b" and "a//b" are keys, not paths), so the
 * canonical URI is simply the encoded path.  The same encoded query string
 * is used for signing and on the wire, so the two cannot disagree.
 */
#include <stdlib.h>
#include <string.h>

#include "qb/hash.h"
#include "qb/s3.h"

#define MAX_HEADERS 24

static bool unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

int qb_s3_uri_encode(struct qb_buf *out, const char *s, size_t n, bool keep_slash,
		     struct qb_err *err)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t start = 0;
	int rc;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[3];

		if (unreserved(c) || (keep_slash && c == '/'))
			continue;
		if (i > start && (rc = qb_buf_append(out, s + start, i - start, err)))
			return rc;
		esc[0] = '%';
		esc[1] = hex[c >> 4];
		esc[2] = hex[c & 15];
		if ((rc = qb_buf_append(out, esc, 3, err)))
			return rc;
		start = i + 1;
	}
	if (n > start)
		return qb_buf_append(out, s + start, n - start, err);
	return qb_buf_append(out, "", 0, err);
}

struct enc_param {
	char *name;
	char *value;
};

static int cmp_param(const void *a, const void *b)
{
	const struct enc_param *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : strcmp(x->value, y->value);
}

static int encode_dup(const char *s, char **out, struct qb_err *err)
{
	struct qb_buf b;
	int rc;

	qb_buf_init(&b, 64 * 1024);
	rc = qb_s3_uri_encode(&b, s, strlen(s), false, err);
	if (rc) {
		qb_buf_release(&b);
		return rc;
	}
	*out = qb_buf_detach(&b);
	return *out ? QB_OK : qb_err_set(err, QB_ENOMEM, "out of memory");
}

int qb_sigv4_query(struct qb_buf *out, const struct qb_sigv4_param *params, size_t n,
		   struct qb_err *err)
{
	struct enc_param *enc;
	int rc = QB_OK;

	if (n == 0)
		return qb_buf_append(out, "", 0, err);
	enc = calloc(n, sizeof(*enc));
	if (!enc)
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	for (size_t i = 0; i < n && !rc; i++) {
		rc = encode_dup(params[i].name, &enc[i].name, err);
		if (!rc)
			rc = encode_dup(params[i].value ? params[i].value : "", &enc[i].value, err);
	}
	if (!rc) {
		/* Sorting the encoded names is what the specification asks for. */
		qsort(enc, n, sizeof(*enc), cmp_param);
		for (size_t i = 0; i < n && !rc; i++)
			rc = qb_buf_printf(out, err, "%s%s=%s", i ? "&" : "", enc[i].name,
					   enc[i].value);
	}
	for (size_t i = 0; i < n; i++) {
		free(enc[i].name);
		free(enc[i].value);
	}
	free(enc);
	return rc;
}

struct canon_header {
	char name[64];
	struct qb_buf value;
};

/* Trim and fold runs of white space to one space. */
static int fold_value(struct qb_buf *b, const char *v, struct qb_err *err)
{
	bool space = false;
	int rc;

	while (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r')
		v++;
	for (; *v; v++) {
		if (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r') {
			space = true;
			continue;
		}
		if (space && (rc = qb_buf_append(b, " ", 1, err)))
			return rc;
		space = false;
		if ((rc = qb_buf_append(b, v, 1, err)))
			return rc;
	}
	return qb_buf_append(b, "", 0, err);
}

static int canon_headers(const struct qb_sigv4_req *r, struct canon_header *h, size_t *count,
			 struct qb_err *err)
{
	size_t n = 0;
	int rc;

	if (r->nheaders > MAX_HEADERS)
		return qb_err_set(err, QB_EARG, "too many headers to sign");
	for (size_t i = 0; i < r->nheaders; i++) {
		char lname[64];
		size_t len = strlen(r->headers[i].name), j;

		if (len == 0 || len >= sizeof(lname))
			return qb_err_set(err, QB_EARG, "bad header name to sign");
		for (j = 0; j < len; j++) {
			char c = r->headers[i].name[j];
			lname[j] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
		}
		lname[len] = '\0';
		for (j = 0; j < n && strcmp(h[j].name, lname); j++)
			;
		if (j == n) {
			/* Insertion keeps the array sorted by name. */
			size_t at = n;
			while (at > 0 && strcmp(h[at - 1].name, lname) > 0)
				at--;
			memmove(&h[at + 1], &h[at], (n - at) * sizeof(*h));
			memcpy(h[at].name, lname, len + 1);
			qb_buf_init(&h[at].value, 16 * 1024);
			n++;
			j = at;
		} else if ((rc = qb_buf_append(&h[j].value, ",", 1, err))) {
			*count = n;
			return rc;
		}
		if ((rc = fold_value(&h[j].value, r->headers[i].value, err))) {
			*count = n;
			return rc;
		}
	}
	*count = n;
	return QB_OK;
}

static void hmac(const unsigned char *key, size_t klen, const char *msg, unsigned char out[32])
{
	qb_hmac_sha256(key, klen, msg, strlen(msg), out);
}

int qb_sigv4_sign(const struct qb_sigv4_req *r, struct qb_buf *auth, struct qb_buf *canonical,
		  struct qb_err *err)
{
	struct canon_header h[MAX_HEADERS];
	struct qb_buf creq, sts, signed_names;
	size_t nh = 0;
	char date[9], creq_hash[QB_HASH_HEX_MAX], sig_hex[QB_HASH_HEX_MAX];
	unsigned char k[32], k2[32], sig[32];
	char secret[256];
	int rc;

	qb_buf_init(&creq, 1 << 20);
	qb_buf_init(&sts, 4096);
	qb_buf_init(&signed_names, 4096);
	if (strlen(r->amz_date) != 16 || strlen(r->secret_key) + 5 > sizeof(secret)) {
		rc = qb_err_set(err, QB_EARG, "bad date or secret key length for signing");
		goto out;
	}
	memcpy(date, r->amz_date, 8);
	date[8] = '\0';

	rc = canon_headers(r, h, &nh, err);
	if (!rc)
		rc = qb_buf_printf(&creq, err, "%s\n", r->method);
	if (!rc)
		rc = qb_s3_uri_encode(&creq, r->path, strlen(r->path), true, err);
	if (!rc)
		rc = qb_buf_append(&creq, "\n", 1, err);
	if (!rc)
		rc = qb_sigv4_query(&creq, r->params, r->nparams, err);
	if (!rc)
		rc = qb_buf_append(&creq, "\n", 1, err);
	for (size_t i = 0; i < nh && !rc; i++) {
		rc = qb_buf_printf(&creq, err, "%s:%s\n", h[i].name, h[i].value.data);
		if (!rc)
			rc = qb_buf_printf(&signed_names, err, "%s%s", i ? ";" : "", h[i].name);
	}
	if (!rc)
		rc = qb_buf_printf(&creq, err, "\n%s\n%s",
				   signed_names.data ? signed_names.data : "", r->payload_hash);
	if (rc)
		goto out;
	qb_sha256_hex(creq.data, creq.len, creq_hash);
	rc = qb_buf_printf(&sts, err, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s",
			   r->amz_date, date, r->region, r->service, creq_hash);
	if (rc)
		goto out;

	/* The signing key chain: secret -> date -> region -> service -> "aws4_request". */
	memcpy(secret, "AWS4", 4);
	memcpy(secret + 4, r->secret_key, strlen(r->secret_key) + 1);
	hmac((const unsigned char *)secret, strlen(secret), date, k);
	hmac(k, 32, r->region, k2);
	hmac(k2, 32, r->service, k);
	hmac(k, 32, "aws4_request", k2);
	qb_hmac_sha256(k2, 32, sts.data, sts.len, sig);
	qb_hex(sig, 32, sig_hex);

	rc = qb_buf_printf(auth, err,
			   "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, "
			   "SignedHeaders=%s, Signature=%s",
			   r->access_key, date, r->region, r->service, signed_names.data, sig_hex);
	if (!rc && canonical)
		rc = qb_buf_append(canonical, creq.data, creq.len, err);
out:
	explicit_bzero(secret, sizeof(secret));
	explicit_bzero(k, sizeof(k));
	explicit_bzero(k2, sizeof(k2));
	for (size_t i = 0; i < nh; i++)
		qb_buf_release(&h[i].value);
	qb_buf_release(&signed_names);
	qb_buf_release(&sts);
	qb_buf_release(&creq);
	return rc;
}
