/*
 * conf.c - the MINIO_* settings and the endpoint they name.
 *
 * The endpoint is accepted in the two spellings the application's env
 * already uses: a URL, or the minio-js triple (bare host, MINIO_PORT,
 * MINIO_USE_SSL).  A URL with a user name or a path is refused: credentials
 * belong in MINIO_ACCESS_KEY/MINIO_SECRET_KEY and path-style addressing
 * needs the bucket right after the host.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "qb/buf.h"
#include "qb/s3.h"

static bool host_ok(const char *h, size_t n)
{
	if (n == 0)
		return false;
	if (h[0] == '[')
		return n > 2 && h[n - 1] == ']' &&
		       strspn(h + 1, "0123456789abcdefABCDEF:.") == n - 2;
	for (size_t i = 0; i < n; i++) {
		char c = h[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '-' || c == '_'))
			return false;
	}
	return true;
}

static bool parse_port(const char *s, size_t n, long *port)
{
	long v = 0;

	if (n == 0 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return false;
	*port = v;
	return true;
}

int qb_s3_conf_endpoint(struct qb_s3_conf *conf, const char *endpoint, long port, bool use_ssl,
			struct qb_err *err)
{
	const char *auth = endpoint, *sep, *end, *colon = NULL;
	bool https = use_ssl;
	size_t hlen;
	long p = 0, def;

	sep = strstr(endpoint, "://");
	if (sep) {
		size_t slen = (size_t)(sep - endpoint);
		if (slen == 5 && !strncasecmp(endpoint, "https", 5))
			https = true;
		else if (slen == 4 && !strncasecmp(endpoint, "http", 4))
			https = false;
		else
			return qb_err_set(err, QB_ECONFIG,
					  "MINIO_ENDPOINT must be an http or https URL");
		auth = sep + 3;
	}
	end = auth + strcspn(auth, "/?#");
	if (memchr(auth, '@', (size_t)(end - auth)))
		return qb_err_set(err, QB_ECONFIG,
				  "MINIO_ENDPOINT must not hold a user name or password: use "
				  "MINIO_ACCESS_KEY and MINIO_SECRET_KEY");
	if (*end && strcmp(end, "/"))
		return qb_err_set(err, QB_ECONFIG, "MINIO_ENDPOINT '%s' must not have a path",
				  endpoint);
	if (*auth == '[') {
		const char *rb = memchr(auth, ']', (size_t)(end - auth));
		if (rb && rb + 1 < end && rb[1] == ':')
			colon = rb + 1;
	} else {
		colon = memchr(auth, ':', (size_t)(end - auth));
	}
	hlen = colon ? (size_t)(colon - auth) : (size_t)(end - auth);
	if (!host_ok(auth, hlen))
		return qb_err_set(err, QB_ECONFIG, "MINIO_ENDPOINT '%s' has no valid host name",
				  endpoint);
	if (colon && !parse_port(colon + 1, (size_t)(end - colon - 1), &p))
		return qb_err_set(err, QB_ECONFIG, "MINIO_ENDPOINT '%s' has a bad port", endpoint);
	if (!p)
		p = port;
	def = https ? 443 : 80;
	if (!p)
		p = def;
	free(conf->url);
	free(conf->host);
	conf->url = qb_asprintf("%s://%.*s:%ld", https ? "https" : "http", (int)hlen, auth, p);
	conf->host = p == def ? qb_strndup(auth, hlen)
			      : qb_asprintf("%.*s:%ld", (int)hlen, auth, p);
	if (!conf->url || !conf->host)
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	return QB_OK;
}

static int get_uint(const struct qb_config *cfg, const char *key, long def, long min, long max,
		    unsigned *out, struct qb_err *err)
{
	long v;
	int rc = qb_config_get_long(cfg, key, def, min, max, &v, err);

	if (!rc)
		*out = (unsigned)v;
	return rc;
}

int qb_s3_conf_load(struct qb_s3_conf *conf, const struct qb_config *cfg, struct qb_err *err)
{
	const char *endpoint = qb_config_get(cfg, "MINIO_ENDPOINT", NULL);
	const char *access = qb_config_get(cfg, "MINIO_ACCESS_KEY", NULL);
	const char *secret = qb_config_get(cfg, "MINIO_SECRET_KEY", NULL);
	const char *ca = qb_config_get(cfg, "CURL_CA_BUNDLE", NULL);
	unsigned part_mb;
	long port;
	bool ssl;
	int rc;

	memset(conf, 0, sizeof(*conf));
	conf->retry_base_ms = 200;
	if (!endpoint)
		return qb_err_set(err, QB_ECONFIG, "MINIO_ENDPOINT is not set");
	if (!access || !secret)
		return qb_err_set(err, QB_ECONFIG,
				  "MINIO_ACCESS_KEY and MINIO_SECRET_KEY must be set");
	if ((rc = qb_config_get_long(cfg, "MINIO_PORT", 0, 1, 65535, &port, err)) ||
	    (rc = qb_config_get_bool(cfg, "MINIO_USE_SSL", true, &ssl, err)) ||
	    (rc = qb_config_get_bool(cfg, "MINIO_INSECURE", false, &conf->insecure, err)) ||
	    (rc = get_uint(cfg, "MINIO_PARALLEL", 8, 1, 64, &conf->parallel, err)) ||
	    (rc = get_uint(cfg, "MINIO_PART_SIZE_MB", 16, 5, 5120, &part_mb, err)) ||
	    (rc = get_uint(cfg, "MINIO_RETRIES", 5, 0, 20, &conf->retries, err)) ||
	    (rc = get_uint(cfg, "MINIO_TIMEOUT", 60, 1, 3600, &conf->timeout, err)))
		return rc;
	conf->part_size = (uint64_t)part_mb * QB_S3_MIB;
	if ((rc = qb_s3_conf_endpoint(conf, endpoint, port, ssl, err)))
		return rc;
	if (!ca)
		ca = qb_config_get(cfg, "AWS_CA_BUNDLE", NULL);
	conf->access_key = qb_strdup(access);
	conf->secret_key = qb_strdup(secret);
	conf->region = qb_strdup(qb_config_get(cfg, "MINIO_REGION", "us-east-1"));
	conf->ca_file = ca ? qb_strdup(ca) : NULL;
	if (!conf->access_key || !conf->secret_key || !conf->region || (ca && !conf->ca_file))
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	return QB_OK;
}

void qb_s3_conf_release(struct qb_s3_conf *conf)
{
	if (!conf)
		return;
	if (conf->secret_key)
		explicit_bzero(conf->secret_key, strlen(conf->secret_key));
	free(conf->url);
	free(conf->host);
	free(conf->access_key);
	free(conf->secret_key);
	free(conf->region);
	free(conf->ca_file);
	memset(conf, 0, sizeof(*conf));
}
