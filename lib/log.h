/* log.h - the human lines stockpipe prints on stderr, as text or as JSON
 * lines (one object a line, for Airflow task logs and log shippers).
 *
 * main.c sets the format once (--log-format text|json); everything that
 * talks to the operator during a run goes through log_msg(), so the same
 * events come out either way:
 *
 *   text: "  stores: 2 new files"
 *   json: {"ts":"2026-11-20T06:00:00.123Z","level":"info","run_id":3,
 *          "msg":"stores: 2 new files"}
 *
 * JSON lines also carry structured fields, each only when known, so a log
 * shipper can filter without parsing msg:
 *   "stage", "source" (source or target name), "unit" (the unit's key):
 *       the unit being worked on (log_set_unit; the engine sets it for
 *       the time a unit runs);
 *   "file", "line", "col", "field": where the line's finding is (an input
 *       or config file), from a struct err (log_err) or given (log_at);
 *   "class" (transient, data, config, internal) and "code" (io, parse,
 *       config, ...): what kind of failure, from err_class/err_code_name.
 *
 * Levels: "info", "warn" (rejects, quarantine), "error" (unit failures).
 * Text mode prints the message as given (indentation included) except
 * that control characters, C1 controls and bytes that are not UTF-8 are
 * written as \xNN (utf8_put_term: a file name with an ESC in it cannot
 * reach the terminal raw); JSON mode trims leading blanks and writes
 * bytes that are not UTF-8 as U+FFFD (buf_add_json_str), so every line is
 * valid UTF-8 and valid JSON whatever the input. Nothing here allocates, so it works when memory
 * is exhausted.
 */
#ifndef STOCKPIPE_LOG_H
#define STOCKPIPE_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum log_format { LOG_TEXT, LOG_JSON };

/* "text" or "json" -> 0, anything else -> -1. */
int log_set_format_name(const char *name);
void log_set_format(enum log_format f);
enum log_format log_get_format(void);
/* The run the following lines belong to (0 = none); added to JSON lines. */
void log_set_run(int64_t run_id);

/* The unit the following lines are about, until the next call; NULLs
 * clear it. The strings are copied (the same bounds as a store unit's:
 * stage 16, scope 128, key 512 bytes), so u may go away. */
void log_set_unit(const char *stage, const char *scope, const char *ukey);

/* Where a line's finding is: the JSON fields file, line, col, field,
 * class and code (empty/0 = left out). Text lines are unchanged. */
struct log_at {
	const char *file;
	unsigned long line;
	unsigned col;
	const char *field;
	int cls;  /* enum err_class, EC_NONE = none */
	int code; /* enum err_code, E_NONE = none */
};

void log_at(const char *level, const struct log_at *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* log_at with the location, class and code of e. */
void log_err(const char *level, const struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

void log_msg(const char *level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void log_vmsg(const char *level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* A block of lines (e.g. the run summary): text mode prints it verbatim,
 * JSON mode one line per non-empty line. */
void log_block(const char *level, const char *text);
/* JSON mode only: one line {"ts":...,"level":...,"event":EVENT,
 * "run_id":...,KEY:<json>} where json is an already encoded JSON value. */
void log_json_event(const char *level, const char *event, const char *key,
		    const char *json, size_t len);

#endif
