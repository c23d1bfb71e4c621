/*
 * client.c - the S3 client object: a copy of the settings, a curl handle
 * for synchronous requests (its connection is kept alive between them) and
 * the jitter generator.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "qb/log.h"
#include "s3/s3_int.h"

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int copy_conf(struct qb_s3_conf *dst, const struct qb_s3_conf *src, struct qb_err *err)
{
	*dst = *src;
	dst->url = qb_strdup(src->url);
	dst->host = qb_strdup(src->host);
	dst->access_key = qb_strdup(src->access_key);
	dst->secret_key = qb_strdup(src->secret_key);
	dst->region = qb_strdup(src->region ? src->region : "us-east-1");
	dst->ca_file = qb_strdup(src->ca_file);
	if (!dst->url || !dst->host || !dst->access_key || !dst->secret_key || !dst->region ||
	    (src->ca_file && !dst->ca_file))
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	if (!dst->parallel)
		dst->parallel = 8;
	if (!dst->part_size)
		dst->part_size = 16 * QB_S3_MIB;
	if (!dst->timeout)
		dst->timeout = 60;
	return QB_OK;
}

int qb_s3_new(struct qb_s3 **out, const struct qb_s3_conf *conf, struct qb_err *err)
{
	struct qb_s3 *s3;
	struct timespec ts;
	int rc;

	*out = NULL;
	if (!conf->url || !conf->host || !conf->access_key || !conf->secret_key)
		return qb_err_set(err, QB_ECONFIG, "incomplete S3 settings");
	pthread_once(&global_once, global_init);
	if (global_rc)
		return qb_err_set(err, QB_EINTERNAL, "unable to initialise libcurl: %s",
				  curl_easy_strerror(global_rc));
	s3 = calloc(1, sizeof(*s3));
	if (!s3)
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	if ((rc = copy_conf(&s3->conf, conf, err))) {
		qb_s3_free(s3);
		return rc;
	}
	s3->easy = curl_easy_init();
	if (!s3->easy) {
		qb_s3_free(s3);
		return qb_err_set(err, QB_ENOMEM, "unable to create a curl handle");
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	s3->rng = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ ((uint64_t)getpid() << 40) ^
		  (uint64_t)(uintptr_t)s3;
	if (!s3->rng)
		s3->rng = 0x9e3779b97f4a7c15ull;
	if (s3->conf.insecure)
		qb_log(QB_LOG_WARN, "MINIO_INSECURE is set: the TLS certificate of %s is not "
		       "verified", s3->conf.url);
	*out = s3;
	return QB_OK;
}

void qb_s3_free(struct qb_s3 *s3)
{
	if (!s3)
		return;
	if (s3->easy)
		curl_easy_cleanup(s3->easy);
	qb_s3_conf_release(&s3->conf);
	free(s3);
}

const struct qb_s3_conf *qb_s3_conf_of(const struct qb_s3 *s3)
{
	return &s3->conf;
}
