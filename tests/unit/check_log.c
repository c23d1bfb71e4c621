/*
 * check_log.c - the log module: the tail kept for alert emails, and the
 * escaping of what a message quotes (qb_printable).
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qb/buf.h"
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

/* qb_printable(in) with room for everything. */
static const char *clean(const char *in)
{
	static char out[1024];

	qb_printable(out, sizeof(out), in);
	return out;
}

START_TEST(printable_escapes_controls)
{
	/* The audit's reproduction: clear screen, window title, bell. */
	ck_assert_str_eq(clean("meta-command '\\\033[2J\033]0;owned\007x'"),
			 "meta-command '\\\\x1b[2J\\x1b]0;owned\\x07x'");
	ck_assert_str_eq(clean("a\nb\tc\rd"), "a\\x0ab\\x09c\\x0dd");
	ck_assert_str_eq(clean("\001\037"), "\\x01\\x1f");
	ck_assert_str_eq(clean("del\177"), "del\\x7f");
	/* C1 controls: CSI as UTF-8 (U+009B) and U+0080, then U+00A0, the first kept. */
	ck_assert_str_eq(clean("\xc2\x9b" "2J \xc2\x80 \xc2\xa0"), "\\xc2\\x9b2J \\xc2\\x80 \xc2\xa0");
	ck_assert_str_eq(clean(""), "");
}
END_TEST

START_TEST(printable_keeps_utf8)
{
	static const char *const kept[] = {
		"dossier \xc3\xa9t\xc3\xa9.pdf",            /* dossier été.pdf */
		"\xe2\x82\xac 12",                          /* € */
		"\xf0\x9f\x93\x81 \xe4\xb8\xad",            /* a folder emoji, a CJK character */
		"C:\\temp\\x1b and \\connect",              /* backslashes stay */
		" !~",
	};

	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		ck_assert_str_eq(clean(kept[i]), kept[i]);
}
END_TEST

START_TEST(printable_escapes_invalid_utf8)
{
	/* Each byte that is not part of valid UTF-8 is escaped on its own: the
	 * output is always valid UTF-8, and shows what the bytes were. */
	ck_assert_str_eq(clean("a\xff" "b"), "a\\xffb");
	ck_assert_str_eq(clean("\x9b" "2J"), "\\x9b2J");                  /* a lone 8-bit CSI */
	ck_assert_str_eq(clean("caf\xe9"), "caf\\xe9");                   /* Latin-1 */
	ck_assert_str_eq(clean("\xc3"), "\\xc3");                         /* cut short */
	ck_assert_str_eq(clean("\xe2\x82"), "\\xe2\\x82");
	ck_assert_str_eq(clean("\xc0\xaf"), "\\xc0\\xaf");                /* overlong '/' */
	ck_assert_str_eq(clean("\xe0\x80\xaf"), "\\xe0\\x80\\xaf");
	ck_assert_str_eq(clean("\xed\xa0\x80"), "\\xed\\xa0\\x80");       /* a surrogate */
	ck_assert_str_eq(clean("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80"); /* past U+10FFFF */
	ck_assert_str_eq(clean("\xc3\x1b[2J"), "\\xc3\\x1b[2J");
}
END_TEST

START_TEST(printable_twice_and_short)
{
	const char *in = "\033[31m\xc3\xa9t\xc3\xa9\177\xff";
	char once[64], twice[64], small[8];

	qb_printable(once, sizeof(once), in);
	qb_printable(twice, sizeof(twice), once);
	ck_assert_str_eq(once, twice);
	/* Cut where a whole character or escape still fits. */
	ck_assert_uint_eq(qb_printable(small, 6, "ab\033c"), 2);
	ck_assert_str_eq(small, "ab");
	ck_assert_uint_eq(qb_printable(small, 7, "ab\033c"), 6);
	ck_assert_str_eq(small, "ab\\x1b");
	ck_assert_uint_eq(qb_printable(small, 5, "abcd\xc3\xa9"), 4);
	ck_assert_str_eq(small, "abcd");
	ck_assert_uint_eq(qb_printable(small, 1, "abc"), 0);
	ck_assert_str_eq(small, "");
	ck_assert_uint_eq(qb_printable_len("\xc3\xa9"), 2);
	ck_assert_uint_eq(qb_printable_len("\033"), 0);
}
END_TEST

static char sunk[4096];

static void keep_sink(void *ud, enum qb_level level, const char *msg)
{
	(void)ud;
	(void)level;
	snprintf(sunk, sizeof(sunk), "%s", msg);
}

/* The words of the commands a message offers: quoted for a shell, never cut short into
 * another word. */
START_TEST(shell_word_quotes_and_refuses_to_cut)
{
	char w[32];

	ck_assert(qb_shell_word("docs/d'Arc/ $HOME", w, sizeof(w)));
	ck_assert_str_eq(w, "'docs/d'\\''Arc/ $HOME'");
	ck_assert(qb_shell_word("", w, sizeof(w)));
	ck_assert_str_eq(w, "''");
	ck_assert(!qb_shell_word("0123456789012345678901234567890123", w, sizeof(w)));
	ck_assert_uint_lt(strlen(w), sizeof(w));
	ck_assert(!qb_shell_word("x", w, 2));
	ck_assert_str_eq(w, "");
}
END_TEST

START_TEST(log_lines_are_printable)
{
	/* An S3 key, say: any bytes.  The sink and the tail get it escaped. */
	const char *key = "dossier \xc3\xa9t\xc3\xa9/\033]0;owned\007\n\x9b" "2J.pdf";
	const char *want = "skipping 'dossier \xc3\xa9t\xc3\xa9/\\x1b]0;owned\\x07\\x0a\\x9b2J.pdf'";
	char *tail;

	qb_log_tail_clear();
	qb_log_set_sink(keep_sink, NULL, QB_LOG_INFO);
	qb_log(QB_LOG_WARN, "skipping '%s'", key);
	qb_log_set_sink(NULL, NULL, QB_LOG_INFO);
	ck_assert_str_eq(sunk, want);
	tail = qb_log_tail();
	ck_assert_ptr_nonnull(tail);
	ck_assert_ptr_nonnull(strstr(tail, want));
	ck_assert_ptr_null(strchr(tail, '\033'));
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
	tc = tcase_create("printable");
	tcase_add_test(tc, printable_escapes_controls);
	tcase_add_test(tc, printable_keeps_utf8);
	tcase_add_test(tc, printable_escapes_invalid_utf8);
	tcase_add_test(tc, printable_twice_and_short);
	tcase_add_test(tc, log_lines_are_printable);
	tcase_add_test(tc, shell_word_quotes_and_refuses_to_cut);
	suite_add_tcase(s, tc);
	return s;
}
