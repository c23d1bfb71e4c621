/*
 * ops.c - the S3 operations, one request each (or a loop of them), run
 * synchronously on the client's handle.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qb/hash.h"
#include "qb/log.h"
#include "s3/s3_int.h"

#define MAX_PARTS 10000

int qb_s3_list_buckets(struct qb_s3 *s3, qb_s3_bucket_fn fn, void *ud, struct qb_err *err)
{
	struct s3_req r;
	struct qb_buf body;
	int rc;

	qb_buf_init(&body, S3_XML_MAX);
	rc = s3_req_init(&r, "GET", "list buckets", NULL, NULL, err);
	r.sink_kind = S3_SINK_BUF;
	r.sink_buf = &body;
	r.total_timeout = true;
	if (!rc)
		rc = s3_exec(s3, &r, err);
	if (!rc)
		rc = qb_s3_parse_list_buckets(body.data, body.len, fn, ud, err);
	s3_req_release(&r);
	qb_buf_release(&body);
	return rc;
}

int qb_s3_head_object(struct qb_s3 *s3, const char *bucket, const char *key,
		      struct qb_s3_result *res, struct qb_err *err)
{
	struct s3_req r;
	int rc = s3_req_init(&r, "HEAD", "look up", bucket, key, err);

	r.nobody = true;
	r.total_timeout = true;
	if (!rc)
		rc = s3_exec(s3, &r, err);
	if (!rc && res)
		s3_req_result(&r, res);
	s3_req_release(&r);
	return rc;
}

int qb_s3_bucket_exists(struct qb_s3 *s3, const char *bucket, bool *exists, struct qb_err *err)
{
	struct s3_req r;
	int rc = s3_req_init(&r, "HEAD", "look up bucket", bucket, NULL, err);

	r.nobody = true;
	r.total_timeout = true;
	if (!rc)
		rc = s3_exec(s3, &r, err);
	s3_req_release(&r);
	*exists = rc == QB_OK;
	if (rc == QB_ENOTFOUND) {
		qb_err_clear(err);
		rc = QB_OK;
	}
	return rc;
}

int qb_s3_create_bucket(struct qb_s3 *s3, const char *bucket, struct qb_err *err)
{
	struct s3_req r;
	char *xml = NULL;
	int rc = s3_req_init(&r, "PUT", "create bucket", bucket, NULL, err);

	r.total_timeout = true;
	/* us-east-1 is the default location; naming it is an error on AWS. */
	if (!rc && strcmp(s3->conf.region, "us-east-1")) {
		xml = qb_asprintf("<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/"
				  "2006-03-01/\"><LocationConstraint>%s</LocationConstraint>"
				  "</CreateBucketConfiguration>", s3->conf.region);
		if (!xml)
			rc = qb_err_set(err, QB_ENOMEM, "out of memory");
		else {
			r.body_kind = S3_BODY_MEM;
			r.body_mem = xml;
			r.body_len = strlen(xml);
			qb_sha256_hex(xml, r.body_len, r.payload_hash);
		}
	}
	if (!rc)
		rc = s3_exec(s3, &r, err);
	if (rc && r.status == 409 && r.errbody.len) {
		struct qb_s3_error se;
		if (!qb_s3_parse_error(r.errbody.data, r.errbody.len, &se, NULL) &&
		    !strcmp(se.code, "BucketAlreadyOwnedByYou")) {
			qb_err_clear(err);
			rc = QB_OK;
		}
	}
	s3_req_release(&r);
	free(xml);
	return rc;
}

int qb_s3_delete_object(struct qb_s3 *s3, const char *bucket, const char *key, struct qb_err *err)
{
	struct s3_req r;
	int rc = s3_req_init(&r, "DELETE", "delete", bucket, key, err);

	r.total_timeout = true;
	if (!rc)
		rc = s3_exec(s3, &r, err);
	s3_req_release(&r);
	if (rc == QB_ENOTFOUND) {
		qb_err_clear(err);
		rc = QB_OK;
	}
	return rc;
}

int qb_s3_get_file(struct qb_s3 *s3, const char *bucket, const char *key, int fd,
		   struct qb_s3_result *res, struct qb_err *err)
{
	struct s3_req r;
	int rc = s3_req_init(&r, "GET", "fetch", bucket, key, err);

	r.sink_kind = S3_SINK_FD;
	r.sink_fd = fd;
	r.verify_md5 = true;
	if (!rc)
		rc = s3_exec(s3, &r, err);
	if (!rc && res)
		s3_req_result(&r, res);
	s3_req_release(&r);
	return rc;
}

int qb_s3_put_buffer(struct qb_s3 *s3, const char *bucket, const char *key, const void *p,
		     size_t n, const char *content_type, struct qb_s3_result *res,
		     struct qb_err *err)
{
	struct s3_req r;
	char md5[QB_HASH_HEX_MAX];
	struct qb_hash *h = qb_hash_new(QB_MD5);
	int rc = s3_req_init(&r, "PUT", "upload", bucket, key, err);

	if (!h && !rc)
		rc = qb_err_set(err, QB_ENOMEM, "out of memory");
	if (!rc) {
		qb_hash_update(h, p, n);
		qb_hash_final_hex(h, md5);
		rc = s3_req_set_md5(&r, md5, err);
	}
	if (!rc && content_type && !(r.content_type = qb_strdup(content_type)))
		rc = qb_err_set(err, QB_ENOMEM, "out of memory");
	r.body_kind = S3_BODY_MEM;
	r.body_mem = p;
	r.body_len = n;
	r.verify_md5 = true;
	r.total_timeout = true;
	qb_sha256_hex(p, n, r.payload_hash);
	if (!rc)
		rc = s3_exec(s3, &r, err);
	if (!rc && res)
		s3_req_result(&r, res);
	s3_req_release(&r);
	qb_hash_free(h);
	return rc;
}

/* One PUT of [off, off + len) of fd: a whole object, or a part when upload_id is set. */
static int put_range(struct qb_s3 *s3, const char *bucket, const char *key, int fd, uint64_t off,
		     uint64_t len, const char *content_type, const char *md5hex,
		     const char *upload_id, unsigned part, struct qb_s3_result *res,
		     struct qb_err *err)
{
	struct s3_req r;
	char num[16];
	int rc = s3_req_init(&r, "PUT", upload_id ? "upload part of" : "upload", bucket, key, err);

	if (!rc && upload_id) {
		snprintf(num, sizeof(num), "%u", part);
		rc = s3_req_param(&r, "partNumber", num, err);
		if (!rc)
			rc = s3_req_param(&r, "uploadId", upload_id, err);
	}
	if (!rc && md5hex)
		rc = s3_req_set_md5(&r, md5hex, err);
	if (!rc && content_type && !upload_id && !(r.content_type = qb_strdup(content_type)))
		rc = qb_err_set(err, QB_ENOMEM, "out of memory");
	r.body_kind = S3_BODY_FD;
	r.body_fd = fd;
	r.body_off = off;
	r.body_len = len;
	r.verify_md5 = true;
	memcpy(r.payload_hash, "UNSIGNED-PAYLOAD", sizeof("UNSIGNED-PAYLOAD"));
	if (!rc)
		rc = s3_exec(s3, &r, err);
	if (!rc && res)
		s3_req_result(&r, res);
	s3_req_release(&r);
	return rc;
}

uint64_t qb_s3_part_size(const struct qb_s3 *s3, uint64_t size)
{
	uint64_t ps = s3->conf.part_size;
	uint64_t need = (size + MAX_PARTS - 1) / MAX_PARTS;

	if (need > ps)
		ps = (need + QB_S3_MIB - 1) / QB_S3_MIB * QB_S3_MIB;
	return ps;
}

static int put_multipart(struct qb_s3 *s3, const char *bucket, const char *key, int fd,
			 uint64_t size, const char *content_type, struct qb_s3_result *res,
			 struct qb_err *err)
{
	uint64_t ps = qb_s3_part_size(s3, size);
	unsigned nparts = (unsigned)((size + ps - 1) / ps);
	char **etags = calloc(nparts, sizeof(*etags));
	char *id = NULL;
	int rc;

	if (!etags)
		return qb_err_set(err, QB_ENOMEM, "out of memory");
	rc = qb_s3_mpu_create(s3, bucket, key, content_type, &id, err);
	for (unsigned i = 0; i < nparts && !rc; i++) {
		struct qb_s3_result pr;
		uint64_t off = (uint64_t)i * ps;
		uint64_t len = size - off < ps ? size - off : ps;

		rc = put_range(s3, bucket, key, fd, off, len, NULL, NULL, id, i + 1, &pr, err);
		if (!rc && !pr.etag[0])
			rc = qb_err_set(err, QB_EREMOTE, "no ETag for part %u of '%s/%s'", i + 1,
					bucket, key);
		if (!rc && !(etags[i] = qb_strdup(pr.etag)))
			rc = qb_err_set(err, QB_ENOMEM, "out of memory");
	}
	if (!rc)
		rc = qb_s3_mpu_complete(s3, bucket, key, id, etags, nparts, res, err);
	if (rc && id) {
		struct qb_err e2 = { 0 };
		if (qb_s3_mpu_abort(s3, bucket, key, id, &e2))
			qb_log(QB_LOG_WARN, "%s", e2.msg);
	}
	if (!rc && res)
		res->size = size;
	for (unsigned i = 0; i < nparts; i++)
		free(etags[i]);
	free(etags);
	free(id);
	return rc;
}

int qb_s3_put_file(struct qb_s3 *s3, const char *bucket, const char *key, int fd,
		   uint64_t size, const char *content_type, const char *md5hex,
		   struct qb_s3_result *res, struct qb_err *err)
{
	if (size > s3->conf.part_size)
		return put_multipart(s3, bucket, key, fd, size, content_type, res, err);
	return put_range(s3, bucket, key, fd, 0, size, content_type, md5hex, NULL, 0, res, err);
}

int qb_s3_mpu_create(struct qb_s3 *s3, const char *bucket, const char *key,
		     const char *content_type, char **upload_id, struct qb_err *err)
{
	struct s3_req r;
	struct qb_buf body;
	int rc = s3_req_init(&r, "POST", "start a multipart upload of", bucket, key, err);

	qb_buf_init(&body, S3_XML_MAX);
	if (!rc)
		rc = s3_req_param(&r, "uploads", "", err);
	if (!rc && content_type && !(r.content_type = qb_strdup(content_type)))
		rc = qb_err_set(err, QB_ENOMEM, "out of memory");
	r.sink_kind = S3_SINK_BUF;
	r.sink_buf = &body;
	r.total_timeout = true;
	if (!rc)
		rc = s3_exec(s3, &r, err);
	if (!rc)
		rc = qb_s3_parse_initiate(body.data, body.len, upload_id, err);
	s3_req_release(&r);
	qb_buf_release(&body);
	return rc;
}

int qb_s3_mpu_complete(struct qb_s3 *s3, const char *bucket, const char *key,
		       const char *upload_id, char *const *etags, unsigned nparts,
		       struct qb_s3_result *res, struct qb_err *err)
{
	struct qb_buf xml, body;
	int rc;

	qb_buf_init(&xml, S3_XML_MAX);
	qb_buf_init(&body, S3_XML_MAX);
	rc = qb_buf_puts(&xml, "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/"
			 "2006-03-01/\">", err);
	for (unsigned i = 0; i < nparts && !rc; i++)
		rc = qb_buf_printf(&xml, err, "<Part><PartNumber>%u</PartNumber>"
				   "<ETag>\"%s\"</ETag></Part>", i + 1, etags[i]);
	if (!rc)
		rc = qb_buf_puts(&xml, "</CompleteMultipartUpload>", err);
	/* S3 may answer 200 and then an <Error> in the body: that is retried here. */
	for (unsigned attempt = 0; !rc; attempt++) {
		struct s3_req r;
		struct qb_s3_error se;
		char etag[QB_S3_ETAG_MAX];

		memset(&se, 0, sizeof(se));
		rc = s3_req_init(&r, "POST", "complete the multipart upload of", bucket, key, err);
		if (!rc)
			rc = s3_req_param(&r, "uploadId", upload_id, err);
		if (!rc && !(r.content_type = qb_strdup("application/xml")))
			rc = qb_err_set(err, QB_ENOMEM, "out of memory");
		r.body_kind = S3_BODY_MEM;
		r.body_mem = xml.data;
		r.body_len = xml.len;
		r.sink_kind = S3_SINK_BUF;
		r.sink_buf = &body;
		r.total_timeout = true;
		qb_sha256_hex(xml.data, xml.len, r.payload_hash);
		if (!rc)
			rc = s3_exec(s3, &r, err);
		if (!rc) {
			rc = qb_s3_parse_complete(body.data, body.len, etag, sizeof(etag), &se,
						  err);
			if (!rc && res) {
				s3_req_result(&r, res);
				memcpy(res->etag, etag, sizeof(res->etag));
				res->md5[0] = '\0';
				res->verified = false;
			}
		}
		s3_req_release(&r);
		if (rc == QB_EREMOTE && attempt < s3->conf.retries &&
		    (!strcmp(se.code, "InternalError") || !strcmp(se.code, "SlowDown"))) {
			qb_log(QB_LOG_INFO, "retrying the completion of '%s/%s': %s", bucket, key,
			       se.code);
			rc = QB_OK;
			continue;
		}
		if (rc == QB_EREMOTE)
			qb_err_prefix(err, "completing the multipart upload of '%s/%s'", bucket,
				      key);
		break;
	}
	qb_buf_release(&body);
	qb_buf_release(&xml);
	return rc;
}

int qb_s3_mpu_abort(struct qb_s3 *s3, const char *bucket, const char *key,
		    const char *upload_id, struct qb_err *err)
{
	struct s3_req r;
	int rc = s3_req_init(&r, "DELETE", "abort the multipart upload of", bucket, key, err);

	if (!rc)
		rc = s3_req_param(&r, "uploadId", upload_id, err);
	r.total_timeout = true;
	if (!rc)
		rc = s3_exec(s3, &r, err);
	s3_req_release(&r);
	return rc;
}
