/* log.c - the library's event sink (see log.h). */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "qb/log.h"

static qb_log_sink log_sink;
static void *log_ud;
static enum qb_level log_max = QB_LOG_INFO;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

#define TAIL_LINES 40
#define TAIL_WIDTH 300
static char tail[TAIL_LINES][TAIL_WIDTH];
static unsigned tail_next, tail_count;
static _Thread_local bool tail_off;

void qb_log_tail_thread(bool keep)
{
	tail_off = !keep;
}

void qb_log_set_sink(qb_log_sink sink, void *ud, enum qb_level max_level)
{
	pthread_mutex_lock(&log_lock);
	log_sink = sink;
	log_ud = ud;
	log_max = max_level;
	pthread_mutex_unlock(&log_lock);
}

enum qb_level qb_log_level(void)
{
	return log_max;
}

void qb_log(enum qb_level level, const char *fmt, ...)
{
	char raw[2048], msg[2048];
	va_list ap;

	if (level > log_max && level > QB_LOG_INFO)
		return;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	/* Here once rather than in every sink: the tail goes out in alert emails. */
	qb_printable(msg, sizeof(msg), raw);
	/* One lock so lines from worker threads never interleave. */
	pthread_mutex_lock(&log_lock);
	if (level <= QB_LOG_INFO && !tail_off) {
		char when[32];
		time_t now = time(NULL);
		struct tm tm;
		localtime_r(&now, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(tail[tail_next], TAIL_WIDTH, "%s %s %s", when, qb_level_name(level), msg);
		tail_next = (tail_next + 1) % TAIL_LINES;
		if (tail_count < TAIL_LINES)
			tail_count++;
	}
	if (log_sink && level <= log_max)
		log_sink(log_ud, level, msg);
	pthread_mutex_unlock(&log_lock);
}

const char *qb_level_name(enum qb_level level)
{
	switch (level) {
	case QB_LOG_ERROR: return "ERROR";
	case QB_LOG_WARN:  return "WARN";
	case QB_LOG_INFO:  return "INFO";
	case QB_LOG_DEBUG: return "DEBUG";
	}
	return "?";
}

char *qb_log_tail(void)
{
	char *out;
	size_t len = 0;

	pthread_mutex_lock(&log_lock);
	out = malloc((size_t)tail_count * (TAIL_WIDTH + 1) + 1);
	if (out) {
		for (unsigned i = 0; i < tail_count; i++) {
			const char *line = tail[(tail_next + TAIL_LINES - tail_count + i) % TAIL_LINES];
			size_t n = strlen(line);
			memcpy(out + len, line, n);
			len += n;
			out[len++] = '\n';
		}
		out[len] = '\0';
	}
	pthread_mutex_unlock(&log_lock);
	return out;
}

void qb_log_tail_clear(void)
{
	pthread_mutex_lock(&log_lock);
	tail_next = tail_count = 0;
	pthread_mutex_unlock(&log_lock);
}
