/*
 * check_s3sig.c - the S3 client's pure parts: Signature Version 4 against
 * the vectors AWS publishes (the S3 examples and the generic test suite),
 * against botocore for a continuation token and an awkward key, the URI
 * encoding, the endpoint settings and the XML answers, malicious ones too.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qb/config.h"
#include "qb/s3.h"

/* ---- Signature Version 4 ---- */

#define S3_AK "AKIAIOSFODNN7EXAMPLE"
#define S3_SK "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define SUITE_AK "AKIDEXAMPLE"
#define SUITE_SK "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct vec {
	const char *method, *path;
	struct qb_sigv4_param params[6];
	size_t np;
	struct qb_sigv4_header headers[6];
	size_t nh;
	const char *payload;
	const char *date, *region, *service, *ak, *sk;
	const char *canonical;     /* NULL: not checked */
	const char *signature;
};

static void check_vec(const struct vec *v)
{
	struct qb_sigv4_req r = {
		.method = v->method, .path = v->path, .params = v->params, .nparams = v->np,
		.headers = v->headers, .nheaders = v->nh, .payload_hash = v->payload,
		.amz_date = v->date, .region = v->region, .service = v->service,
		.access_key = v->ak, .secret_key = v->sk,
	};
	struct qb_buf auth, canon;
	struct qb_err err = { 0 };
	const char *sig;

	qb_buf_init(&auth, 4096);
	qb_buf_init(&canon, 1 << 16);
	ck_assert_int_eq(qb_sigv4_sign(&r, &auth, &canon, &err), QB_OK);
	if (v->canonical)
		ck_assert_str_eq(canon.data, v->canonical);
	sig = strstr(auth.data, "Signature=");
	ck_assert_ptr_nonnull(sig);
	ck_assert_str_eq(sig + 10, v->signature);
	ck_assert_ptr_nonnull(strstr(auth.data, v->ak));
	ck_assert_ptr_null(strstr(auth.data, v->sk));
	qb_buf_release(&canon);
	qb_buf_release(&auth);
}

START_TEST(sig_s3_get_object)
{
	struct vec v = {
		.method = "GET", .path = "/test.txt",
		.headers = { { "Host", "examplebucket.s3.amazonaws.com" }, { "Range", "bytes=0-9" },
			     { "x-amz-content-sha256", EMPTY },
			     { "x-amz-date", "20130524T000000Z" } },
		.nh = 4, .payload = EMPTY, .date = "20130524T000000Z", .region = "us-east-1",
		.service = "s3", .ak = S3_AK, .sk = S3_SK,
		.canonical = "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\n"
			     "range:bytes=0-9\n"
			     "x-amz-content-sha256:" EMPTY "\nx-amz-date:20130524T000000Z\n\n"
			     "host;range;x-amz-content-sha256;x-amz-date\n" EMPTY,
		.signature = "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
	};
	check_vec(&v);
}
END_TEST

START_TEST(sig_s3_put_object)
{
	const char *h = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072";
	struct vec v = {
		.method = "PUT", .path = "/test$file.text",
		.headers = { { "Host", "examplebucket.s3.amazonaws.com" },
			     { "Date", "Fri, 24 May 2013 00:00:00 GMT" },
			     { "x-amz-date", "20130524T000000Z" },
			     { "x-amz-storage-class", "REDUCED_REDUNDANCY" },
			     { "x-amz-content-sha256", h } },
		.nh = 5, .payload = h, .date = "20130524T000000Z", .region = "us-east-1",
		.service = "s3", .ak = S3_AK, .sk = S3_SK,
		.signature = "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
	};
	check_vec(&v);
}
END_TEST

START_TEST(sig_s3_lifecycle_and_list)
{
	struct vec life = {
		.method = "GET", .path = "/", .params = { { "lifecycle", "" } }, .np = 1,
		.headers = { { "Host", "examplebucket.s3.amazonaws.com" },
			     { "x-amz-date", "20130524T000000Z" },
			     { "x-amz-content-sha256", EMPTY } },
		.nh = 3, .payload = EMPTY, .date = "20130524T000000Z", .region = "us-east-1",
		.service = "s3", .ak = S3_AK, .sk = S3_SK,
		.canonical = "GET\n/\nlifecycle=\nhost:examplebucket.s3.amazonaws.com\n"
			     "x-amz-content-sha256:" EMPTY "\nx-amz-date:20130524T000000Z\n\n"
			     "host;x-amz-content-sha256;x-amz-date\n" EMPTY,
		.signature = "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
	};
	struct vec list = life;

	list.params[0] = (struct qb_sigv4_param){ "prefix", "J" };
	list.params[1] = (struct qb_sigv4_param){ "max-keys", "2" };
	list.np = 2;
	list.canonical = NULL;
	list.signature = "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7";
	check_vec(&life);
	check_vec(&list);
}
END_TEST

/* The generic test suite (service "service", 2015-08-30): only the cases whose path
 * needs no normalisation, which S3 does not do. */
static void suite_case(const char *method, const char *path, const char *pname,
		       const char *pvalue, const char *hname, const char *hvalue,
		       const char *payload, const char *signature)
{
	struct vec v = {
		.method = method, .path = path,
		.headers = { { "Host", "example.amazonaws.com" },
			     { "X-Amz-Date", "20150830T123600Z" } },
		.nh = 2, .payload = payload ? payload : EMPTY, .date = "20150830T123600Z",
		.region = "us-east-1", .service = "service", .ak = SUITE_AK, .sk = SUITE_SK,
		.signature = signature,
	};

	if (pname) {
		v.params[0] = (struct qb_sigv4_param){ pname, pvalue };
		v.np = 1;
	}
	if (hname) {
		v.headers[2] = (struct qb_sigv4_header){ hname, hvalue };
		v.nh = 3;
	}
	check_vec(&v);
}

START_TEST(sig_generic_suite)
{
	const char *unres = "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

	suite_case("GET", "/", NULL, NULL, NULL, NULL, NULL,
		   "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
	suite_case("GET", "/", unres, unres, NULL, NULL, NULL,
		   "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197");
	suite_case("GET", "/\xe1\x88\xb4", NULL, NULL, NULL, NULL, NULL,
		   "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85");
	suite_case("GET", "/", "\xe1\x88\xb4", "bar", NULL, NULL, NULL,
		   "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04");
	suite_case("GET", "/example space/", NULL, NULL, NULL, NULL, NULL,
		   "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741");
	suite_case("GET", "/example/$delete", NULL, NULL, NULL, NULL, NULL,
		   "a853c9b21b528b19643d00910d35b83a10c366a10833ceefb45edd6c80e40f27");
	suite_case("GET", "/", NULL, NULL, "My-Header1", "value4,value1,value3,value2", NULL,
		   "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01");
	suite_case("POST", "/", "Param1", "value1", NULL, NULL, NULL,
		   "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11");
	suite_case("POST", "/", NULL, NULL, "Content-Type", "application/x-www-form-urlencoded",
		   "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
		   "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a");
}
END_TEST

START_TEST(sig_generic_order_and_trim)
{
	/* get-vanilla-query-order-key-case: parameters sorted by name. */
	struct vec v = {
		.method = "GET", .path = "/",
		.params = { { "Param2", "value2" }, { "Param1", "value1" } }, .np = 2,
		.headers = { { "Host", "example.amazonaws.com" },
			     { "X-Amz-Date", "20150830T123600Z" } },
		.nh = 2, .payload = EMPTY, .date = "20150830T123600Z", .region = "us-east-1",
		.service = "service", .ak = SUITE_AK, .sk = SUITE_SK,
		.canonical = "GET\n/\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\n"
			     "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" EMPTY,
		.signature = "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
	};
	/* get-header-value-trim: values trimmed, inner runs of spaces folded. */
	struct vec t = {
		.method = "GET", .path = "/",
		.headers = { { "Host", "example.amazonaws.com" }, { "My-Header1", " value1" },
			     { "My-Header2", " \"a   b   c\"" },
			     { "X-Amz-Date", "20150830T123600Z" } },
		.nh = 4, .payload = EMPTY, .date = "20150830T123600Z", .region = "us-east-1",
		.service = "service", .ak = SUITE_AK, .sk = SUITE_SK,
		.signature = "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
	};
	/* get-header-key-duplicate: repeated headers joined with commas, in order. */
	struct vec d = {
		.method = "GET", .path = "/",
		.headers = { { "Host", "example.amazonaws.com" }, { "My-Header1", "value2" },
			     { "My-Header1", "value2" }, { "My-Header1", "value1" },
			     { "X-Amz-Date", "20150830T123600Z" } },
		.nh = 5, .payload = EMPTY, .date = "20150830T123600Z", .region = "us-east-1",
		.service = "service", .ak = SUITE_AK, .sk = SUITE_SK,
		.signature = "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea",
	};
	check_vec(&v);
	check_vec(&t);
	check_vec(&d);
}
END_TEST

/* Cross-checked with botocore's S3SigV4Auth (awscli's signer) for the same request. */
START_TEST(sig_continuation_token_and_escaped_key)
{
	struct vec list = {
		.method = "GET", .path = "/my-bucket",
		.params = { { "list-type", "2" },
			    { "continuation-token",
			      "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=+" },
			    { "encoding-type", "url" }, { "max-keys", "1000" },
			    { "prefix", "docs/\xc3\xa9 x" } },
		.np = 5,
		.headers = { { "host", "127.0.0.1:9000" }, { "x-amz-content-sha256", EMPTY },
			     { "x-amz-date", "20130524T000000Z" } },
		.nh = 3, .payload = EMPTY, .date = "20130524T000000Z", .region = "us-east-1",
		.service = "s3", .ak = S3_AK, .sk = S3_SK,
		.canonical = "GET\n/my-bucket\n"
			     "continuation-token="
			     "1ueGcxLPRx1Tr%2FXYExHnhbYLgveDs2J%2Fwm36Hy4vbOwM%3D%2B"
			     "&encoding-type=url&list-type=2&max-keys=1000"
			     "&prefix=docs%2F%C3%A9%20x\n"
			     "host:127.0.0.1:9000\nx-amz-content-sha256:" EMPTY "\n"
			     "x-amz-date:20130524T000000Z\n\n"
			     "host;x-amz-content-sha256;x-amz-date\n" EMPTY,
		.signature = "9f84a0e59de0b0deffa301c3cc7da9504c9c5ffa40a241f12c9181dad3f921ba",
	};
	struct vec get = {
		.method = "GET",
		.path = "/my-bucket/dossiers/\xc3\x89milie & Co/contrat +v2 = final%?#.pdf",
		.headers = { { "host", "127.0.0.1:9000" }, { "x-amz-content-sha256", EMPTY },
			     { "x-amz-date", "20130524T000000Z" } },
		.nh = 3, .payload = EMPTY, .date = "20130524T000000Z", .region = "us-east-1",
		.service = "s3", .ak = S3_AK, .sk = S3_SK,
		.canonical = "GET\n/my-bucket/dossiers/%C3%89milie%20%26%20Co/"
			     "contrat%20%2Bv2%20%3D%20final%25%3F%23.pdf\n\n"
			     "host:127.0.0.1:9000\nx-amz-content-sha256:" EMPTY "\n"
			     "x-amz-date:20130524T000000Z\n\n"
			     "host;x-amz-content-sha256;x-amz-date\n" EMPTY,
		.signature = "a5f54c115dc2e22b24f98a9456af75f0c67cbecf4a378dad27aef12753a34f57",
	};
	check_vec(&list);
	check_vec(&get);
}
END_TEST

START_TEST(sig_rejects_bad_input)
{
	struct qb_sigv4_header h[1] = { { "host", "x" } };
	struct qb_sigv4_req r = {
		.method = "GET", .path = "/", .headers = h, .nheaders = 1, .payload_hash = EMPTY,
		.amz_date = "2013", .region = "us-east-1", .service = "s3", .access_key = "a",
		.secret_key = "b",
	};
	struct qb_buf auth;
	struct qb_err err = { 0 };

	qb_buf_init(&auth, 4096);
	ck_assert_int_eq(qb_sigv4_sign(&r, &auth, NULL, &err), QB_EARG);
	qb_buf_release(&auth);
}
END_TEST

/* ---- URI encoding ---- */

static char *enc(const char *s, bool slash)
{
	struct qb_buf b;
	struct qb_err err = { 0 };

	qb_buf_init(&b, 1 << 16);
	ck_assert_int_eq(qb_s3_uri_encode(&b, s, strlen(s), slash, &err), QB_OK);
	return qb_buf_detach(&b);
}

START_TEST(uri_encoding)
{
	char *s;

	s = enc("a b+c=d&e%f?g#h/i~j.k_l-m", true);
	ck_assert_str_eq(s, "a%20b%2Bc%3Dd%26e%25f%3Fg%23h/i~j.k_l-m");
	free(s);
	s = enc("a/b", false);
	ck_assert_str_eq(s, "a%2Fb");
	free(s);
	s = enc("\xc3\xa9t\xc3\xa9 \xe2\x82\xac", true);
	ck_assert_str_eq(s, "%C3%A9t%C3%A9%20%E2%82%AC");
	free(s);
	s = enc("../a//b/./", true);
	ck_assert_str_eq(s, "../a//b/./");
	free(s);
	s = enc("\x01\x7f\xff", true);
	ck_assert_str_eq(s, "%01%7F%FF");
	free(s);
	s = enc("", true);
	ck_assert_str_eq(s, "");
	free(s);
}
END_TEST

START_TEST(query_sorted_and_escaped)
{
	struct qb_sigv4_param p[] = { { "uploadId", "x/y+z" }, { "partNumber", "10" },
				      { "uploads", "" } };
	struct qb_buf b;
	struct qb_err err = { 0 };

	qb_buf_init(&b, 4096);
	ck_assert_int_eq(qb_sigv4_query(&b, p, 3, &err), QB_OK);
	ck_assert_str_eq(b.data, "partNumber=10&uploadId=x%2Fy%2Bz&uploads=");
	qb_buf_release(&b);
}
END_TEST

START_TEST(url_decoding)
{
	struct qb_buf b;
	struct qb_err err = { 0 };

	qb_buf_init(&b, 4096);
	ck_assert_int_eq(qb_s3_url_decode(&b, "a+b%2Bc%20%C3%A9%2f", 19, &err), QB_OK);
	ck_assert_str_eq(b.data, "a b+c \xc3\xa9/");
	qb_buf_reset(&b);
	ck_assert_int_eq(qb_s3_url_decode(&b, "bad%2", 5, &err), QB_EFORMAT);
	qb_buf_reset(&b);
	ck_assert_int_eq(qb_s3_url_decode(&b, "bad%zz", 6, &err), QB_EFORMAT);
	qb_buf_release(&b);
}
END_TEST

START_TEST(etag_helpers)
{
	char out[QB_S3_ETAG_MAX];

	ck_assert(qb_s3_etag_unquote("\"d41d8cd98f00b204e9800998ecf8427e\"", 34, out, sizeof(out)));
	ck_assert_str_eq(out, "d41d8cd98f00b204e9800998ecf8427e");
	ck_assert(qb_s3_etag_is_md5(out));
	ck_assert(!qb_s3_etag_is_md5("d41d8cd98f00b204e9800998ecf8427e-3"));
	ck_assert(!qb_s3_etag_is_md5("d41d8cd98f00b204e9800998ecf8427"));
	ck_assert(!qb_s3_etag_unquote("\"0123456789\"", 12, out, 5));
}
END_TEST

/* ---- Endpoint settings ---- */

START_TEST(endpoint_forms)
{
	struct qb_s3_conf c;
	struct qb_err err = { 0 };

	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(qb_s3_conf_endpoint(&c, "http://127.0.0.1:9000", 0, true, &err), QB_OK);
	ck_assert_str_eq(c.url, "http://127.0.0.1:9000");
	ck_assert_str_eq(c.host, "127.0.0.1:9000");
	ck_assert_int_eq(qb_s3_conf_endpoint(&c, "https://s3.example.com/", 0, false, &err), QB_OK);
	ck_assert_str_eq(c.url, "https://s3.example.com:443");
	ck_assert_str_eq(c.host, "s3.example.com");
	ck_assert_int_eq(qb_s3_conf_endpoint(&c, "minio.local", 9000, false, &err), QB_OK);
	ck_assert_str_eq(c.url, "http://minio.local:9000");
	ck_assert_str_eq(c.host, "minio.local:9000");
	ck_assert_int_eq(qb_s3_conf_endpoint(&c, "minio.local", 0, true, &err), QB_OK);
	ck_assert_str_eq(c.url, "https://minio.local:443");
	ck_assert_int_eq(qb_s3_conf_endpoint(&c, "http://[::1]:9000", 0, true, &err), QB_OK);
	ck_assert_str_eq(c.host, "[::1]:9000");
	ck_assert_int_eq(qb_s3_conf_endpoint(&c, "http://user:pw@host:9000", 0, true, &err),
			 QB_ECONFIG);
	ck_assert_ptr_null(strstr(err.msg, "pw"));
	ck_assert_int_eq(qb_s3_conf_endpoint(&c, "http://host/bucket", 0, true, &err), QB_ECONFIG);
	ck_assert_int_eq(qb_s3_conf_endpoint(&c, "ftp://host", 0, true, &err), QB_ECONFIG);
	ck_assert_int_eq(qb_s3_conf_endpoint(&c, "http://host:99999", 0, true, &err), QB_ECONFIG);
	ck_assert_int_eq(qb_s3_conf_endpoint(&c, "http://ho st", 0, true, &err), QB_ECONFIG);
	qb_s3_conf_release(&c);
}
END_TEST

START_TEST(settings_from_config)
{
	struct qb_config *cfg = qb_config_new();
	struct qb_s3_conf c;
	struct qb_err err = { 0 };

	ck_assert_ptr_nonnull(cfg);
	ck_assert_int_eq(qb_s3_conf_load(&c, cfg, &err), QB_ECONFIG);
	qb_s3_conf_release(&c);
	qb_config_set(cfg, "MINIO_ENDPOINT", "files.example.com", true);
	qb_config_set(cfg, "MINIO_PORT", "9000", true);
	qb_config_set(cfg, "MINIO_USE_SSL", "false", true);
	qb_config_set(cfg, "MINIO_ACCESS_KEY", "AK", true);
	qb_config_set(cfg, "MINIO_SECRET_KEY", "very-secret-value", true);
	qb_config_set(cfg, "MINIO_PART_SIZE_MB", "8", true);
	qb_config_set(cfg, "MINIO_PARALLEL", "3", true);
	ck_assert_int_eq(qb_s3_conf_load(&c, cfg, &err), QB_OK);
	ck_assert_str_eq(c.url, "http://files.example.com:9000");
	ck_assert_str_eq(c.region, "us-east-1");
	ck_assert_uint_eq(c.part_size, 8 * QB_S3_MIB);
	ck_assert_uint_eq(c.parallel, 3);
	ck_assert_uint_eq(c.retries, 5);
	ck_assert(!c.insecure);
	qb_s3_conf_release(&c);
	qb_config_set(cfg, "MINIO_PARALLEL", "0", true);
	ck_assert_int_eq(qb_s3_conf_load(&c, cfg, &err), QB_ECONFIG);
	ck_assert_ptr_null(strstr(err.msg, "very-secret-value"));
	qb_s3_conf_release(&c);
	qb_config_free(cfg);
}
END_TEST

/* ---- XML answers ---- */

static int count_bucket(void *ud, const char *name, struct qb_err *err)
{
	(void)err;
	ck_assert(name[0]);
	(*(int *)ud)++;
	return QB_OK;
}

START_TEST(xml_list_buckets)
{
	const char *xml =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<ListAllMyBucketsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
		"<Owner><ID>x</ID><DisplayName>webfile</DisplayName></Owner><Buckets>"
		"<Bucket><Name>docs</Name>"
		"<CreationDate>2024-01-01T00:00:00.000Z</CreationDate></Bucket>"
		"<Bucket><Name>scans</Name>"
		"<CreationDate>2024-01-01T00:00:00.000Z</CreationDate></Bucket>"
		"</Buckets></ListAllMyBucketsResult>";
	struct qb_err err = { 0 };
	int n = 0;

	ck_assert_int_eq(qb_s3_parse_list_buckets(xml, strlen(xml), count_bucket, &n, &err), QB_OK);
	ck_assert_int_eq(n, 2);
}
END_TEST

struct seen {
	int n;
	char keys[8][64];
	uint64_t sizes[8];
	char etags[8][64];
};

static int on_obj(void *ud, const struct qb_s3_object *o, struct qb_err *err)
{
	struct seen *s = ud;

	(void)err;
	ck_assert_int_lt(s->n, 8);
	snprintf(s->keys[s->n], 64, "%s", o->key);
	snprintf(s->etags[s->n], 64, "%s", o->etag);
	s->sizes[s->n] = o->size;
	s->n++;
	return QB_OK;
}

START_TEST(xml_list_objects_v2)
{
	/* EncodingType after Contents, as moto writes it; keys URL-encoded. */
	const char *xml =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
		"<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
		"<Name>docs</Name><Prefix></Prefix><MaxKeys>1000</MaxKeys><KeyCount>3</KeyCount>"
		"<IsTruncated>true</IsTruncated>"
		"<Contents><Key>a%2Bb+c.pdf</Key>"
		"<LastModified>2024-05-01T10:00:00.000Z</LastModified>"
		"<ETag>&quot;d41d8cd98f00b204e9800998ecf8427e&quot;</ETag><Size>0</Size>"
		"<StorageClass>STANDARD</StorageClass></Contents>"
		"<Contents><Key>dossier/%C3%A9t%C3%A9%3F%23.pdf</Key>"
		"<LastModified>2024-05-01T10:00:00.000Z</LastModified>"
		"<ETag>\"0123456789abcdef0123456789abcdef-3\"</ETag>"
		"<Size>31457280</Size></Contents>"
		"<Contents><Key>z</Key><Size>18446744073709551615</Size><ETag>x</ETag></Contents>"
		"<NextContinuationToken>tok/+=</NextContinuationToken>"
		"<EncodingType>url</EncodingType></ListBucketResult>";
	struct qb_s3_page page;
	struct qb_err err = { 0 };
	struct seen s = { 0 };

	ck_assert_int_eq(qb_s3_parse_list_objects(xml, strlen(xml), on_obj, &s, &page, &err),
			 QB_OK);
	ck_assert_int_eq(s.n, 3);
	ck_assert_str_eq(s.keys[0], "a+b c.pdf");
	ck_assert_str_eq(s.etags[0], "d41d8cd98f00b204e9800998ecf8427e");
	ck_assert_uint_eq(s.sizes[0], 0);
	ck_assert_str_eq(s.keys[1], "dossier/\xc3\xa9t\xc3\xa9?#.pdf");
	ck_assert_str_eq(s.etags[1], "0123456789abcdef0123456789abcdef-3");
	ck_assert_uint_eq(s.sizes[1], 31457280);
	ck_assert_uint_eq(s.sizes[2], UINT64_MAX);
	ck_assert(page.truncated);
	ck_assert_str_eq(page.next_token, "tok/+=");
	ck_assert_uint_eq(page.count, 3);
	qb_s3_page_release(&page);
}
END_TEST

START_TEST(xml_list_objects_plain_keys)
{
	/* A server that ignores encoding-type: keys are taken as written. */
	const char *xml =
		"<ListBucketResult><IsTruncated>false</IsTruncated>"
		"<Contents><Key>100%25 a+b</Key><Size>5</Size><ETag>\"e\"</ETag></Contents>"
		"</ListBucketResult>";
	struct qb_s3_page page;
	struct qb_err err = { 0 };
	struct seen s = { 0 };

	ck_assert_int_eq(qb_s3_parse_list_objects(xml, strlen(xml), on_obj, &s, &page, &err),
			 QB_OK);
	ck_assert_str_eq(s.keys[0], "100%25 a+b");
	ck_assert(!page.truncated);
	ck_assert_ptr_null(page.next_token);
	qb_s3_page_release(&page);
}
END_TEST

static int stop_at_second(void *ud, const struct qb_s3_object *o, struct qb_err *err)
{
	struct seen *s = ud;

	on_obj(ud, o, err);
	return s->n == 2 ? qb_err_set(err, QB_EIO, "stop at '%s'", o->key) : QB_OK;
}

START_TEST(xml_page_parse_then_each)
{
	/* The pooled listing needs the next token before any object is handed out. */
	const char *xml =
		"<ListBucketResult><IsTruncated>true</IsTruncated>"
		"<Contents><Key>a%20b</Key><Size>1</Size><ETag>\"e1\"</ETag></Contents>"
		"<Contents><Key>c%2Fd</Key><Size>2</Size><ETag>\"e2\"</ETag></Contents>"
		"<Contents><Key>e</Key><Size>3</Size><ETag>\"e3\"</ETag></Contents>"
		"<NextContinuationToken>next</NextContinuationToken>"
		"<EncodingType>url</EncodingType></ListBucketResult>";
	struct qb_s3_page page, zero = { 0 };
	struct qb_err err = { 0 };
	struct seen s = { 0 };

	ck_assert_int_eq(qb_s3_page_parse(xml, strlen(xml), &page, &err), QB_OK);
	ck_assert(page.truncated);
	ck_assert_str_eq(page.next_token, "next");
	ck_assert_uint_eq(page.count, 3);
	/* A callback's error stops the walk and is returned as it is. */
	ck_assert_int_eq(qb_s3_page_each(&page, stop_at_second, &s, &err), QB_EIO);
	ck_assert_str_eq(err.msg, "stop at 'c/d'");
	ck_assert_int_eq(s.n, 2);
	/* The page is left as it was: a second walk sees every object, decoded. */
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(qb_s3_page_each(&page, on_obj, &s, &err), QB_OK);
	ck_assert_int_eq(s.n, 3);
	ck_assert_str_eq(s.keys[0], "a b");
	ck_assert_str_eq(s.keys[1], "c/d");
	ck_assert_str_eq(s.etags[2], "e3");
	ck_assert_uint_eq(s.sizes[1], 2);
	qb_s3_page_release(&page);
	ck_assert_ptr_null(page.next_token);
	ck_assert_uint_eq(page.count, 0);
	qb_s3_page_release(&page);      /* twice, and on a zeroed page: nothing to free */
	qb_s3_page_release(&zero);
	/* A damaged page leaves nothing behind. */
	xml = "<ListBucketResult><Contents><Key>a</Key>";
	ck_assert_int_eq(qb_s3_page_parse(xml, strlen(xml), &page, &err), QB_EFORMAT);
	ck_assert_uint_eq(page.count, 0);
	ck_assert_ptr_null(page.entries);
}
END_TEST

static int parse_list(const char *xml, struct qb_err *err)
{
	struct qb_s3_page page;
	struct seen s = { 0 };
	int rc = qb_s3_parse_list_objects(xml, strlen(xml), on_obj, &s, &page, err);

	if (!rc)
		qb_s3_page_release(&page);
	return rc;
}

START_TEST(xml_truncated_and_malicious)
{
	struct qb_err err = { 0 };
	struct qb_buf b;

	/* Cut in the middle. */
	ck_assert_int_eq(parse_list("<ListBucketResult><Contents><Key>a</Key><Si", &err),
			 QB_EFORMAT);
	ck_assert_int_eq(parse_list("", &err), QB_EFORMAT);
	ck_assert_int_eq(parse_list("not xml at all", &err), QB_EFORMAT);
	/* Billion laughs: the DOCTYPE is refused before any expansion. */
	ck_assert_int_eq(parse_list("<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
				    "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">]>"
				    "<ListBucketResult><Name>&lol2;</Name></ListBucketResult>",
				    &err), QB_EFORMAT);
	ck_assert_ptr_nonnull(strstr(err.msg, "document type"));
	/* External entity. */
	ck_assert_int_eq(parse_list("<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>"
				    "<ListBucketResult><Name>&e;</Name></ListBucketResult>", &err),
			 QB_EFORMAT);
	/* Too deep. */
	qb_buf_init(&b, 1 << 20);
	ck_assert_int_eq(qb_buf_puts(&b, "<ListBucketResult>", &err), QB_OK);
	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(qb_buf_puts(&b, "<a>", &err), QB_OK);
	ck_assert_int_eq(parse_list(b.data, &err), QB_EFORMAT);
	ck_assert_ptr_nonnull(strstr(err.msg, "deeper"));
	/* A text node past the bound. */
	qb_buf_reset(&b);
	ck_assert_int_eq(qb_buf_puts(&b, "<ListBucketResult><Contents><Key>", &err), QB_OK);
	for (int i = 0; i < 600; i++)
		ck_assert_int_eq(qb_buf_puts(&b, "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
					     "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
					     "kkkkkkkk", &err), QB_OK);
	ck_assert_int_eq(qb_buf_puts(&b, "</Key></Contents></ListBucketResult>", &err), QB_OK);
	ck_assert_int_eq(parse_list(b.data, &err), QB_EFORMAT);
	ck_assert_ptr_nonnull(strstr(err.msg, "text longer"));
	qb_buf_release(&b);
	/* Bad values. */
	ck_assert_int_eq(parse_list("<ListBucketResult><Contents><Key>a</Key><Size>-1</Size>"
				    "</Contents></ListBucketResult>", &err), QB_EFORMAT);
	ck_assert_int_eq(parse_list("<ListBucketResult><Contents><Size>1</Size></Contents>"
				    "</ListBucketResult>", &err), QB_EFORMAT);
	ck_assert_int_eq(parse_list("<ListBucketResult><IsTruncated>maybe</IsTruncated>"
				    "</ListBucketResult>", &err), QB_EFORMAT);
	ck_assert_int_eq(parse_list("<ListBucketResult><EncodingType>url</EncodingType><Contents>"
				    "<Key>%zz</Key><Size>1</Size></Contents></ListBucketResult>",
				    &err), QB_EFORMAT);
	/* A key that decodes to a NUL byte. */
	ck_assert_int_eq(parse_list("<ListBucketResult><EncodingType>url</EncodingType><Contents>"
				    "<Key>a%00b</Key><Size>1</Size></Contents></ListBucketResult>",
				    &err), QB_EFORMAT);
	/* Wrong document, and an S3 error where a listing was expected. */
	ck_assert_int_eq(parse_list("<ListAllMyBucketsResult/>", &err), QB_EFORMAT);
	ck_assert_int_eq(parse_list("<Error><Code>AccessDenied</Code><Message>Access Denied"
				    "</Message></Error>", &err), QB_EREMOTE);
	ck_assert_ptr_nonnull(strstr(err.msg, "AccessDenied"));
}
END_TEST

START_TEST(xml_error_and_multipart)
{
	const char *e = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code>"
			"<Message>Please reduce your request rate.</Message>"
			"<Resource>/b/k</Resource>"
			"<RequestId>4442587FB7D0A2F9</RequestId></Error>";
	const char *init = "<InitiateMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/"
			   "2006-03-01/\"><Bucket>b</Bucket><Key>k</Key><UploadId>VXBsb2FkIElE"
			   "</UploadId></InitiateMultipartUploadResult>";
	const char *done = "<CompleteMultipartUploadResult><Location>http://x/b/k</Location>"
			   "<Bucket>b</Bucket><Key>k</Key>"
			   "<ETag>\"3858f62230ac3c915f300c664312c11f-9\"</ETag>"
			   "</CompleteMultipartUploadResult>";
	const char *done_err = "<Error><Code>InternalError</Code><Message>We encountered an "
			       "internal error.</Message></Error>";
	struct qb_s3_error se;
	struct qb_err err = { 0 };
	char etag[QB_S3_ETAG_MAX];
	char *id = NULL;

	ck_assert_int_eq(qb_s3_parse_error(e, strlen(e), &se, &err), QB_OK);
	ck_assert_str_eq(se.code, "SlowDown");
	ck_assert_str_eq(se.message, "Please reduce your request rate.");
	ck_assert_str_eq(se.request_id, "4442587FB7D0A2F9");
	ck_assert_int_eq(qb_s3_parse_initiate(init, strlen(init), &id, &err), QB_OK);
	ck_assert_str_eq(id, "VXBsb2FkIElE");
	free(id);
	ck_assert_int_eq(qb_s3_parse_initiate("<InitiateMultipartUploadResult/>", 32, &id, &err),
			 QB_EFORMAT);
	ck_assert_int_eq(qb_s3_parse_complete(done, strlen(done), etag, sizeof(etag), &se, &err),
			 QB_OK);
	ck_assert_str_eq(etag, "3858f62230ac3c915f300c664312c11f-9");
	ck_assert_int_eq(qb_s3_parse_complete(done_err, strlen(done_err), etag, sizeof(etag), &se,
					      &err), QB_EREMOTE);
	ck_assert_str_eq(se.code, "InternalError");
}
END_TEST

/* Found by fuzz/fuzz_s3xml.c: bucket names were handed out while parsing a document whose
 * root was another one (refused only at its end), or from inside an <Error>. */
START_TEST(xml_no_callback_for_other_roots)
{
	static const char *const docs[] = {
		"<ListAllMyBucketsResul><Buckets><Bucket><Name>docs</Name></Bucket></Buckets>"
		"</ListAllMyBucketsResul>",
		"<ListBucketResult><Buckets><Bucket><Name>docs</Name></Bucket></Buckets>"
		"</ListBucketResult>",
		"<Error><Code>X</Code><Buckets><Bucket><Name>docs</Name></Bucket></Buckets></Error>",
		NULL,
	};
	static const int want[] = { QB_EFORMAT, QB_EFORMAT, QB_EREMOTE };
	struct qb_err err = { 0 };

	for (int i = 0; docs[i]; i++) {
		int n = 0;
		ck_assert_int_eq(qb_s3_parse_list_buckets(docs[i], strlen(docs[i]), count_bucket,
							  &n, &err), want[i]);
		ck_assert_msg(n == 0, "case %d: %d bucket names handed out", i, n);
	}
}
END_TEST

/* Declared with extern so that the runner's generator sees one definition. */
extern Suite *suite_s3sig(void);

Suite *suite_s3sig(void)
{
	Suite *s = suite_create("s3sig");
	TCase *sig = tcase_create("sigv4");
	TCase *enc_tc = tcase_create("encoding");
	TCase *conf = tcase_create("settings");
	TCase *xml = tcase_create("xml");

	tcase_add_test(sig, sig_s3_get_object);
	tcase_add_test(sig, sig_s3_put_object);
	tcase_add_test(sig, sig_s3_lifecycle_and_list);
	tcase_add_test(sig, sig_generic_suite);
	tcase_add_test(sig, sig_generic_order_and_trim);
	tcase_add_test(sig, sig_continuation_token_and_escaped_key);
	tcase_add_test(sig, sig_rejects_bad_input);
	tcase_add_test(enc_tc, uri_encoding);
	tcase_add_test(enc_tc, query_sorted_and_escaped);
	tcase_add_test(enc_tc, url_decoding);
	tcase_add_test(enc_tc, etag_helpers);
	tcase_add_test(conf, endpoint_forms);
	tcase_add_test(conf, settings_from_config);
	tcase_add_test(xml, xml_list_buckets);
	tcase_add_test(xml, xml_list_objects_v2);
	tcase_add_test(xml, xml_list_objects_plain_keys);
	tcase_add_test(xml, xml_page_parse_then_each);
	tcase_add_test(xml, xml_truncated_and_malicious);
	tcase_add_test(xml, xml_error_and_multipart);
	tcase_add_test(xml, xml_no_callback_for_other_roots);
	suite_add_tcase(s, sig);
	suite_add_tcase(s, enc_tc);
	suite_add_tcase(s, conf);
	suite_add_tcase(s, xml);
	return s;
}
