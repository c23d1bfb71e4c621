/*
 * fuzz_config.c - qb_config_parse() on any text.
 *
 * - The parse succeeds or fails with QB_ECONFIG and a message naming the
 *   origin and a line number that exists.
 * - A secret never shows in a message: for every key of the text whose
 *   name qb_config_key_is_secret() marks, a failing qb_config_get_long() or
 *   qb_config_get_bool() says the same as for a value that is not the one
 *   read (so the message cannot depend on it).
 * - Quoting: every line of the input (and the whole input) written back as
 *   KEY="..." with \\ \" \n \t escapes parses back identical.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qb/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ORIGIN "fz.conf"

static void check_message(const char *msg, int lines)
{
	int line;

	if (!strncmp(msg, "out of memory", 13))
		return;
	if (strncmp(msg, ORIGIN ":", strlen(ORIGIN) + 1) ||
	    sscanf(msg + strlen(ORIGIN) + 1, "%d", &line) != 1 || line < 1 || line > lines) {
		fprintf(stderr, "bad message '%s' (%d lines)\n", msg, lines);
		abort();
	}
}

/* The message for cfg's value of key must equal the one for another value. */
static void check_secret(const struct qb_config *cfg, const char *key)
{
	struct qb_config *other = qb_config_new();
	struct qb_err e1 = { 0 }, e2 = { 0 };
	long l;
	bool b;

	if (!other || qb_config_set(other, key, "\x01\x02", false))
		abort();
	if (qb_config_get_long(cfg, key, 0, -5, 5, &l, &e1) &&
	    qb_config_get_long(other, key, 0, -5, 5, &l, &e2) && strcmp(e1.msg, e2.msg)) {
		fprintf(stderr, "secret %s in '%s'\n", key, e1.msg);
		abort();
	}
	if (qb_config_get_bool(cfg, key, false, &b, &e1) &&
	    qb_config_get_bool(other, key, false, &b, &e2) && strcmp(e1.msg, e2.msg)) {
		fprintf(stderr, "secret %s in '%s'\n", key, e1.msg);
		abort();
	}
	qb_config_free(other);
}

/* Every KEY= at a line's start (after blanks and "export ") that is a secret. */
static void check_secrets(const struct qb_config *cfg, const char *text)
{
	const char *p = text;

	while (p && *p) {
		char key[128];
		size_t n = 0;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!strncmp(p, "export ", 7))
			p += 7;
		while (n < sizeof(key) - 1 && (p[n] == '_' || (p[n] >= 'A' && p[n] <= 'Z') ||
					       (p[n] >= 'a' && p[n] <= 'z') ||
					       (n && p[n] >= '0' && p[n] <= '9')))
			n++;
		if (n && n < sizeof(key) - 1) {
			memcpy(key, p, n);
			key[n] = '\0';
			if (qb_config_key_is_secret(key) && !getenv(key))
				check_secret(cfg, key);
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
}

/* value -> KEY="..." line -> parse -> the same value. */
static void round_trip(const char *value, size_t len)
{
	struct qb_config *cfg;
	struct qb_err err = { 0 };
	char *text, *q;
	const char *got;

	if (len && (value[len - 1] == '\r'))
		return;   /* no escape for a CR, and a trailing one is stripped */
	text = malloc(4 * len + 32);
	if (!text || !(cfg = qb_config_new()))
		abort();
	q = text + snprintf(text, 32, "QBFZ_V=\"");
	for (size_t i = 0; i < len; i++) {
		char c = value[i];
		if (c == '\\' || c == '"') {
			*q++ = '\\';
			*q++ = c;
		} else if (c == '\n') {
			*q++ = '\\';
			*q++ = 'n';
		} else if (c == '\t') {
			*q++ = '\\';
			*q++ = 't';
		} else {
			*q++ = c;
		}
	}
	memcpy(q, "\"\n", 3);
	if (qb_config_parse(cfg, text, ORIGIN, &err)) {
		/* Only a value past the 64 KiB ceiling may be refused. */
		if (len < 60000) {
			fprintf(stderr, "refused %s: %s\n", text, err.msg);
			abort();
		}
	} else {
		got = qb_config_get(cfg, "QBFZ_V", "");
		if (strlen(got) != len || memcmp(got, value, len)) {
			fprintf(stderr, "round trip of '%.*s' gave '%s'\n", (int)len, value, got);
			abort();
		}
	}
	qb_config_free(cfg);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct qb_config *cfg = qb_config_new();
	struct qb_err err = { 0 };
	int rc, lines = 1;
	const char *p, *nl;

	if (!text || !cfg)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	for (size_t i = 0; i < size && text[i]; i++)
		lines += text[i] == '\n';
	rc = qb_config_parse(cfg, text, ORIGIN, &err);
	if (rc != QB_OK && rc != QB_ECONFIG)
		abort();
	if (rc)
		check_message(err.msg, lines);
	check_secrets(cfg, text);
	qb_config_free(cfg);

	round_trip(text, strlen(text));
	for (p = text; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl) {
			round_trip(p, strlen(p));
			break;
		}
		round_trip(p, (size_t)(nl - p));
	}
	free(text);
	return 0;
}
