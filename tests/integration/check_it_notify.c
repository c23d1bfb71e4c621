/* check_it_notify.c - alert emails against the harness's HTTP recorder (notify.h). */
#include <arpa/inet.h>
#include <check.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "qb/buf.h"
#include "qb/config.h"
#include "qb/notify.h"
#include "testutil.h"

#define KEY "xkeysib-0123456789abcdef-SECRETKEY"

/* Highest NNNN of the recorder's NNNN.json files. */
static int last_record(void)
{
	DIR *d = opendir(tu_env("QB_TEST_RECORDER_DIR"));
	struct dirent *de;
	int max = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d))) {
		int n;
		char tail[8];
		if (sscanf(de->d_name, "%d.%7s", &n, tail) == 2 && !strcmp(tail, "json") && n > max)
			max = n;
	}
	closedir(d);
	return max;
}

static cJSON *record(int n)
{
	char *path = qb_asprintf("%s/%04d.json", tu_env("QB_TEST_RECORDER_DIR"), n);
	char *text = tu_read_file(path, NULL);
	cJSON *j;

	ck_assert_msg(text != NULL, "no record %s", path);
	j = cJSON_Parse(text);
	ck_assert_ptr_nonnull(j);
	free(text);
	free(path);
	return j;
}

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	ck_assert_msg(cJSON_IsString(v), "%s is not a string", key);
	return v->valuestring;
}

static void set_status(const char *code)
{
	char *path = qb_asprintf("%s/status", tu_env("QB_TEST_RECORDER_DIR"));

	if (code)
		ck_assert_int_eq(tu_write_file(path, code, strlen(code)), 0);
	else
		unlink(path);
	free(path);
}

/* Runs in the runner process: a failed test must not leave the recorder answering 500. */
static void reset_status(void)
{
	const char *dir = getenv("QB_TEST_RECORDER_DIR");
	char *path = dir ? qb_asprintf("%s/status", dir) : NULL;

	if (path)
		unlink(path);
	free(path);
}

static struct qb_notify_cfg cfg_for(char **url)
{
	struct qb_notify_cfg nc = { 0 };

	*url = qb_asprintf("%s/v3/smtp/email", tu_env("QB_TEST_RECORDER_URL"));
	nc.api_url = *url;
	nc.api_key = KEY;
	nc.sender_email = "notifications@qadhya.tn";
	nc.admin_email = "admin@qadhya.tn";
	nc.retry_delay_ms = 50;
	return nc;
}

START_TEST(test_alert_is_well_formed)
{
	char *url;
	struct qb_notify_cfg nc = cfg_for(&url);
	struct qb_buf log;
	struct qb_err err = { 0 };
	struct qb_alert a = { .host = "web1.qadhya.tn", .what = "backup failed (db)", .step = "db",
			      .error = "unable to connect to the database 'app' on 'db:5432'" };
	cJSON *rec, *hdr, *body, *to;
	const char *text;
	int before = last_record();

	qb_buf_init(&log, 1 << 20);
	for (int i = 1; i <= 50; i++)
		ck_assert_int_eq(qb_buf_printf(&log, &err, "2026-02-06T03:00:%02d INFO line %d\n",
					       i, i), 0);
	ck_assert_int_eq(qb_buf_puts(&log, "accent: d\xc3\xa9j\xc3\xa0, bad byte: \xff, "
				     "key: " KEY "\n", &err), 0);
	a.log_tail = log.data;
	ck_assert_int_eq(qb_notify_alert(&nc, &a, &err), QB_OK);
	ck_assert_int_eq(last_record(), before + 1);

	rec = record(before + 1);
	ck_assert_str_eq(str(rec, "method"), "POST");
	ck_assert_str_eq(str(rec, "path"), "/v3/smtp/email");
	hdr = cJSON_GetObjectItemCaseSensitive(rec, "headers");
	ck_assert_str_eq(str(hdr, "api-key"), KEY);
	ck_assert_str_eq(str(hdr, "content-type"), "application/json");
	ck_assert_str_eq(str(hdr, "accept"), "application/json");
	body = cJSON_Parse(str(rec, "body"));
	ck_assert_ptr_nonnull(body);
	ck_assert_str_eq(str(cJSON_GetObjectItemCaseSensitive(body, "sender"), "email"),
			 "notifications@qadhya.tn");
	ck_assert_str_eq(str(cJSON_GetObjectItemCaseSensitive(body, "sender"), "name"), "qbackup");
	to = cJSON_GetObjectItemCaseSensitive(body, "to");
	ck_assert_int_eq(cJSON_GetArraySize(to), 1);
	ck_assert_str_eq(str(cJSON_GetArrayItem(to, 0), "email"), "admin@qadhya.tn");
	ck_assert_str_eq(str(body, "subject"), "[qbackup] web1.qadhya.tn: backup failed (db)");
	text = str(body, "textContent");
	ck_assert_ptr_nonnull(strstr(text, "Step: db\n"));
	ck_assert_ptr_nonnull(strstr(text, "Error: unable to connect to the database 'app' "
				   "on 'db:5432'\n"));
	ck_assert_ptr_nonnull(strstr(text, "INFO line 50\n"));
	ck_assert_ptr_nonnull(strstr(text, "INFO line 12\n"));       /* the last 40 lines */
	ck_assert_ptr_null(strstr(text, "INFO line 11\n"));
	ck_assert_ptr_nonnull(strstr(text, "accent: d\xc3\xa9j\xc3\xa0, bad byte: \\xff,"));
	ck_assert_ptr_null(strstr(text, KEY));
	ck_assert_ptr_null(strstr(str(rec, "body"), KEY));
	ck_assert_ptr_nonnull(strstr(text, "key: [redacted]"));
	cJSON_Delete(body);
	cJSON_Delete(rec);

	/* Without a host, this machine's name. */
	a.host = NULL;
	a.log_tail = NULL;
	ck_assert_int_eq(qb_notify_alert(&nc, &a, &err), QB_OK);
	rec = record(before + 2);
	body = cJSON_Parse(str(rec, "body"));
	{
		char host[256] = "";
		char *want;
		ck_assert_int_eq(gethostname(host, sizeof(host) - 1), 0);
		want = qb_asprintf("[qbackup] %s: backup failed (db)", host);
		ck_assert_str_eq(str(body, "subject"), want);
		free(want);
	}
	ck_assert_ptr_null(strstr(str(body, "textContent"), "Last lines"));
	cJSON_Delete(body);
	cJSON_Delete(rec);
	qb_buf_release(&log);
	free(url);
}
END_TEST

START_TEST(test_alert_text_is_inert)
{
	/* An S3 key in an error: markup, terminal escapes, a line break that
	 * would forge a line of the body. */
	char *url;
	struct qb_notify_cfg nc = cfg_for(&url);
	struct qb_err err = { 0 };
	struct qb_alert a = { .host = "web1", .what = "backup failed\n(minio)\033[2J", .step = "minio",
			      .error = "unable to copy 'docs/<b>x</b>&amp;\033]0;owned\007\nStep: forged.pdf'",
			      .log_tail = "2026-02-06T03:00:01 WARN skipping '<script>alert(1)</script>'\n" };
	cJSON *rec, *body;
	const char *text, *subject;
	int before = last_record();

	ck_assert_int_eq(qb_notify_alert(&nc, &a, &err), QB_OK);
	rec = record(before + 1);
	body = cJSON_Parse(str(rec, "body"));
	ck_assert_ptr_nonnull(body);
	/* Plain text only: what looks like markup is shown as it is. */
	ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(body, "htmlContent"));
	text = str(body, "textContent");
	subject = str(body, "subject");
	ck_assert_str_eq(subject, "[qbackup] web1: backup failed\\x0a(minio)\\x1b[2J");
	ck_assert_ptr_nonnull(strstr(text, "Error: unable to copy 'docs/<b>x</b>&amp;\\x1b]0;owned"
				   "\\x07\\x0aStep: forged.pdf'\n"));
	ck_assert_ptr_null(strstr(text, "\nStep: forged"));
	ck_assert_ptr_nonnull(strstr(text, "skipping '<script>alert(1)</script>'\n"));
	ck_assert_ptr_null(strchr(text, '\033'));
	ck_assert_ptr_null(strchr(text, '\007'));
	cJSON_Delete(body);
	cJSON_Delete(rec);
	free(url);
}
END_TEST

START_TEST(test_500_retried_once)
{
	char *url;
	struct qb_notify_cfg nc = cfg_for(&url);
	struct qb_err err = { 0 };
	int before = last_record();

	set_status("500");
	ck_assert_int_eq(qb_notify_send(&nc, "s", "t", &err), QB_EREMOTE);
	set_status(NULL);
	ck_assert_int_eq(last_record(), before + 2);
	ck_assert_ptr_nonnull(strstr(err.msg, "HTTP 500"));
	ck_assert_ptr_nonnull(strstr(err.msg, "2 attempts"));
	ck_assert_ptr_null(strstr(err.msg, KEY));
	ck_assert_ptr_null(strstr(err.msg, "SECRETKEY"));

	/* A client error is final: one request. */
	before = last_record();
	set_status("401");
	ck_assert_int_eq(qb_notify_send(&nc, "s", "t", &err), QB_EREMOTE);
	set_status(NULL);
	ck_assert_int_eq(last_record(), before + 1);
	ck_assert_ptr_nonnull(strstr(err.msg, "HTTP 401"));
	ck_assert_ptr_nonnull(strstr(err.msg, "messageId"));           /* the answer's start */
	ck_assert_ptr_null(strstr(err.msg, KEY));

	/* And the recorder's normal 201 is success again. */
	ck_assert_int_eq(qb_notify_send(&nc, "s", "t", &err), QB_OK);
	free(url);
}
END_TEST

START_TEST(test_network_errors)
{
	struct qb_notify_cfg nc = { .api_key = KEY, .sender_email = "a@b.c", .admin_email = "d@e.f",
				    .retry_delay_ms = -1, .timeout = 1, .connect_timeout = 1 };
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	struct qb_err err = { 0 };
	char *url;
	int s;

	/* Nothing listening; credentials in the URL stay out of the message. */
	nc.api_url = "http://user:URLPASSWORD@127.0.0.1:1/v3/smtp/email?token=QUERYSECRET";
	ck_assert_int_eq(qb_notify_send(&nc, "s", "t", &err), QB_ENET);
	ck_assert_ptr_nonnull(strstr(err.msg, "'http://127.0.0.1:1/v3/smtp/email'"));
	ck_assert_ptr_nonnull(strstr(err.msg, "2 attempts"));
	ck_assert_ptr_null(strstr(err.msg, "URLPASSWORD"));
	ck_assert_ptr_null(strstr(err.msg, "QUERYSECRET"));
	ck_assert_ptr_null(strstr(err.msg, KEY));

	/* A server that accepts and never answers: the timeout, then one retry. */
	s = socket(AF_INET, SOCK_STREAM, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(s, 8), 0);
	ck_assert_int_eq(getsockname(s, (struct sockaddr *)&sa, &len), 0);
	url = qb_asprintf("http://127.0.0.1:%d/v3/smtp/email", ntohs(sa.sin_port));
	nc.api_url = url;
	{
		time_t t0 = time(NULL);
		ck_assert_int_eq(qb_notify_send(&nc, "s", "t", &err), QB_ENET);
		ck_assert_int_ge(time(NULL) - t0, 1);
		ck_assert_int_le(time(NULL) - t0, 6);
	}
	ck_assert_ptr_nonnull(strstr(err.msg, "2 attempts"));
	ck_assert_ptr_null(strstr(err.msg, KEY));
	close(s);
	free(url);

	/* A key that would inject a header is refused without being echoed. */
	nc.api_key = KEY "\r\nx-evil: 1";
	ck_assert_int_eq(qb_notify_send(&nc, "s", "t", &err), QB_ECONFIG);
	ck_assert_ptr_null(strstr(err.msg, "SECRETKEY"));
}
END_TEST

START_TEST(test_config)
{
	struct qb_config *cfg = qb_config_new();
	struct qb_notify_cfg nc;
	struct qb_err err = { 0 };

	ck_assert_ptr_nonnull(cfg);
	unsetenv("BREVO_API_KEY");
	unsetenv("BREVO_SENDER_EMAIL");
	unsetenv("ADMIN_EMAIL");
	unsetenv("BREVO_API_URL");
	ck_assert_int_eq(qb_notify_cfg_load(&nc, cfg, &err), QB_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err.msg, "BREVO_API_KEY, BREVO_SENDER_EMAIL, ADMIN_EMAIL"));
	ck_assert_int_eq(qb_config_set(cfg, "BREVO_API_KEY", KEY, true), 0);
	ck_assert_int_eq(qb_config_set(cfg, "BREVO_SENDER_EMAIL", "n@q.tn", true), 0);
	ck_assert_int_eq(qb_notify_cfg_load(&nc, cfg, &err), QB_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err.msg, "ADMIN_EMAIL"));
	ck_assert_ptr_null(strstr(err.msg, KEY));
	ck_assert_int_eq(qb_config_set(cfg, "ADMIN_EMAIL", "a@q.tn", true), 0);
	ck_assert_int_eq(qb_notify_cfg_load(&nc, cfg, &err), QB_OK);
	ck_assert_str_eq(nc.api_url, QB_BREVO_DEFAULT_URL);
	ck_assert_str_eq(nc.api_key, KEY);
	ck_assert_str_eq(nc.admin_email, "a@q.tn");
	qb_config_free(cfg);
}
END_TEST

extern Suite *suite_it_notify(void);

Suite *suite_it_notify(void)
{
	Suite *s = suite_create("it_notify");
	TCase *tc = tcase_create("notify");

	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, NULL, reset_status);
	tcase_add_test(tc, test_alert_is_well_formed);
	tcase_add_test(tc, test_alert_text_is_inert);
	tcase_add_test(tc, test_500_retried_once);
	tcase_add_test(tc, test_network_errors);
	tcase_add_test(tc, test_config);
	suite_add_tcase(s, tc);
	return s;
}
