/* log.c - see log.h. */
#include "log.h"
#include "buf.h"
#include "utf8.h"

#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static enum log_format fmt_now = LOG_TEXT;
static int64_t run_now;
/* The unit being worked on (log_set_unit); "" = none. */
static char unit_stage[16], unit_scope[128], unit_key[512];

int log_set_format_name(const char *name)
{
	if (!strcmp(name, "text"))
		fmt_now = LOG_TEXT;
	else if (!strcmp(name, "json"))
		fmt_now = LOG_JSON;
	else
		return -1;
	return 0;
}

void log_set_format(enum log_format f)
{
	fmt_now = f;
}

enum log_format log_get_format(void)
{
	return fmt_now;
}

void log_set_run(int64_t run_id)
{
	run_now = run_id;
}

/* Copies s into a field of n bytes; a longer string is marked cut with
 * "..." rather than cut silently (scope and key never are: their bounds
 * are the store's). */
static void field_copy(char *dst, size_t n, const char *s)
{
	size_t len = s ? strlen(s) : 0;

	if (len >= n) {
		memcpy(dst, s, n - 4);
		memcpy(dst + n - 4, "...", 4);
		return;
	}
	memcpy(dst, s ? s : "", len);
	dst[len] = '\0';
}

void log_set_unit(const char *stage, const char *scope, const char *ukey)
{
	field_copy(unit_stage, sizeof(unit_stage), stage);
	field_copy(unit_scope, sizeof(unit_scope), scope);
	field_copy(unit_key, sizeof(unit_key), ukey);
}

static void stamp(char *out, size_t n)
{
	struct timeval tv;
	struct tm tm;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (int)(tv.tv_usec / 1000));
}

/* ,"key":"value" for a non-empty value, written as a JSON string. */
static void json_field(const char *key, const char *v)
{
	/* 512-byte values at most (the unit key, err.file): 6 bytes of
	 * escape per byte, the quotes and a NUL. */
	char out[6 * 512 + 3];
	size_t k;

	if (!v || !*v)
		return;
	k = json_str_fit(v, strlen(v), 6 * 512);
	*json_str_put(out, v, k, json_str_len(v, k)) = '\0';
	fprintf(stderr, ",\"%s\":%s", key, out);
}

static void json_line(const char *level, const struct log_at *at,
		      const char *msg, size_t n)
{
	/* The body as a JSON literal, quotes included: at most 6000 bytes
	 * of escapes (the fit's room) plus the two quotes and a NUL. */
	char ts[96], body[6000 + 3];
	size_t k;

	while (n && (*msg == ' ' || *msg == '\t'))
		msg++, n--;
	stamp(ts, sizeof(ts));
	k = json_str_fit(msg, n, 6000);
	*json_str_put(body, msg, k, json_str_len(msg, k)) = '\0';
	fprintf(stderr, "{\"ts\":\"%s\",\"level\":\"%s\"", ts, level);
	if (run_now)
		fprintf(stderr, ",\"run_id\":%lld", (long long)run_now);
	json_field("stage", unit_stage);
	json_field("source", unit_scope);
	json_field("unit", unit_key);
	if (at) {
		json_field("file", at->file);
		if (at->line)
			fprintf(stderr, ",\"line\":%lu", at->line);
		if (at->col)
			fprintf(stderr, ",\"col\":%u", at->col);
		json_field("field", at->field);
		json_field("class", err_class_name(at->cls));
		if (at->code)
			json_field("code", err_code_name(at->code));
	}
	fprintf(stderr, ",\"msg\":%s}\n", body);
}

/* format(printf): a caller's format is checked where it is written. */
__attribute__((format(printf, 3, 0)))
static void vmsg_at(const char *level, const struct log_at *at,
		    const char *fmt, va_list ap)
{
	char line[4096];
	int w = vsnprintf(line, sizeof(line), fmt, ap);

	if (w < 0)
		return;
	if ((size_t)w >= sizeof(line))
		memcpy(line + sizeof(line) - 4, "...", 4);
	if (fmt_now == LOG_JSON)
		json_line(level, at, line, strlen(line));
	else if (utf8_put_term(stderr, line, strlen(line), 0) == 0)
		fputc('\n', stderr);
}

void log_vmsg(const char *level, const char *fmt, va_list ap)
{
	vmsg_at(level, NULL, fmt, ap);
}

void log_at(const char *level, const struct log_at *at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg_at(level, at, fmt, ap);
	va_end(ap);
}

void log_err(const char *level, const struct err *e, const char *fmt, ...)
{
	struct log_at at = {e->file, e->line, e->col, e->field, err_class(e),
			     e->code};
	va_list ap;

	va_start(ap, fmt);
	vmsg_at(level, &at, fmt, ap);
	va_end(ap);
}

void log_msg(const char *level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

void log_block(const char *level, const char *text)
{
	const char *p = text, *nl;

	if (fmt_now == LOG_TEXT) {
		utf8_put_term(stderr, text, strlen(text), 1);
		return;
	}
	while (*p) {
		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p);
		if (nl > p)
			json_line(level, NULL, p, (size_t)(nl - p));
		p = *nl ? nl + 1 : nl;
	}
}

void log_json_event(const char *level, const char *event, const char *key,
		    const char *json, size_t len)
{
	char ts[96];

	if (fmt_now != LOG_JSON)
		return;
	stamp(ts, sizeof(ts));
	fprintf(stderr, "{\"ts\":\"%s\",\"level\":\"%s\",\"event\":\"%s\"", ts,
		level, event);
	if (run_now)
		fprintf(stderr, ",\"run_id\":%lld", (long long)run_now);
	json_field("stage", unit_stage);
	json_field("source", unit_scope);
	json_field("unit", unit_key);
	fprintf(stderr, ",\"%s\":", key);
	fwrite(json, 1, len, stderr);
	fputs("}\n", stderr);
}
