/*
 * check_log.c - the log module: the tail kept for alert emails.
 */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "qb/log.h"

static void *request_thread(void *arg)
{
	(void)arg;
	qb_log_tail_thread(false);
	qb_log(QB_LOG_INFO, "GET /health 200 from the admin page");
	qb_log_tail_thread(true);
	qb_log(QB_LOG_INFO, "a line this thread wants in the tail again");
	return NULL;
}

START_TEST(tail_leaves_out_request_threads)
{
	pthread_t t;
	char *tail;

	qb_log_set_sink(NULL, NULL, QB_LOG_INFO);
	qb_log_tail_clear();
	qb_log(QB_LOG_INFO, "step db started");
	ck_assert_int_eq(pthread_create(&t, NULL, request_thread, NULL), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	qb_log(QB_LOG_ERROR, "step db failed");
	qb_log(QB_LOG_DEBUG, "a debug line is never in the tail");
	tail = qb_log_tail();
	ck_assert_ptr_nonnull(tail);
	ck_assert_ptr_nonnull(strstr(tail, "INFO step db started\n"));
	ck_assert_ptr_nonnull(strstr(tail, "ERROR step db failed\n"));
	ck_assert_ptr_nonnull(strstr(tail, "in the tail again"));
	ck_assert_ptr_null(strstr(tail, "/health"));
	ck_assert_ptr_null(strstr(tail, "debug line"));
	free(tail);
}
END_TEST

START_TEST(tail_keeps_the_last_forty)
{
	char *tail;
	int lines = 0;

	qb_log_tail_clear();
	for (int i = 0; i < 100; i++)
		qb_log(QB_LOG_INFO, "line %d", i);
	tail = qb_log_tail();
	ck_assert_ptr_nonnull(tail);
	for (const char *p = tail; (p = strchr(p, '\n')); p++)
		lines++;
	ck_assert_int_eq(lines, 40);
	ck_assert_ptr_null(strstr(tail, "line 59\n"));
	ck_assert_ptr_nonnull(strstr(tail, "line 60\n"));
	ck_assert_ptr_nonnull(strstr(tail, "line 99\n"));
	free(tail);
}
END_TEST

Suite *suite_log(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("tail");

	tcase_add_test(tc, tail_leaves_out_request_threads);
	tcase_add_test(tc, tail_keeps_the_last_forty);
	suite_add_tcase(s, tc);
	return s;
}
