/* err.c - see err.h. */
#include "err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void set_reason(struct err *e, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* A reason longer than its buffer ends in "…", cut on a UTF-8 character
 * boundary: a cut message must say it was cut (no silent truncation),
 * and must stay valid UTF-8 for the JSON log and reject files. */
static void mark_cut(char *s, size_t size)
{
	static const char ell[] = "\xe2\x80\xa6"; /* U+2026 */
	size_t p = size - sizeof(ell);

	while (p > 0 && ((unsigned char)s[p] & 0xC0) == 0x80)
		p--;
	memcpy(s + p, ell, sizeof(ell));
}

static void set_reason(struct err *e, const char *fmt, va_list ap)
{
	int n = vsnprintf(e->reason, sizeof(e->reason), fmt, ap);

	if (n >= (int)sizeof(e->reason))
		mark_cut(e->reason, sizeof(e->reason));
}

int err_set(struct err *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (!e || e->code != E_NONE)
		return -1;
	e->code = code;
	va_start(ap, fmt);
	set_reason(e, fmt, ap);
	va_end(ap);
	return -1;
}

int err_sys(struct err *e, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	size_t n;

	if (!e || e->code != E_NONE)
		return -1;
	e->code = (saved == ENOSPC || saved == EDQUOT) ? E_NOSPACE : E_IO;
	e->os_code = saved;
	va_start(ap, fmt);
	set_reason(e, fmt, ap);
	va_end(ap);
	n = strlen(e->reason);
	if (snprintf(e->reason + n, sizeof(e->reason) - n, ": %s",
		     strerror(saved)) >= (int)(sizeof(e->reason) - n))
		mark_cut(e->reason, sizeof(e->reason));
	return -1;
}

int err_at(struct err *e, int code, const char *file, unsigned long line,
	   unsigned col, const char *fmt, ...)
{
	va_list ap;

	if (!e || e->code != E_NONE)
		return -1;
	e->code = code;
	if (file)
		snprintf(e->file, sizeof(e->file), "%s", file);
	e->line = line;
	e->col = col;
	va_start(ap, fmt);
	set_reason(e, fmt, ap);
	va_end(ap);
	return -1;
}

void err_locate(struct err *e, const char *file, unsigned long line,
		unsigned col, const char *field)
{
	if (!e)
		return;
	if (file && !e->file[0])
		snprintf(e->file, sizeof(e->file), "%s", file);
	if (line && !e->line) {
		e->line = line;
		if (col && !e->col)
			e->col = col;
	}
	if (field && !e->field[0])
		snprintf(e->field, sizeof(e->field), "%s", field);
}

void err_clear(struct err *e)
{
	if (e)
		memset(e, 0, sizeof(*e));
}

void err_format(const struct err *e, char *out, size_t n)
{
	size_t len = 0;

#define ADD(...)                                                              \
	do {                                                                  \
		if (len < n)                                                  \
			len += (size_t)snprintf(out + len, n - len, __VA_ARGS__); \
	} while (0)
	if (!n)
		return;
	out[0] = '\0';
	if (e->file[0]) {
		ADD("%s", e->file);
		if (e->line) {
			ADD(":%lu", e->line);
			if (e->col)
				ADD(":%u", e->col);
		}
		ADD(": ");
	}
	if (e->field[0])
		ADD("%s: ", e->field);
	ADD("%s", e->reason[0] ? e->reason : err_code_name(e->code));
#undef ADD
}

int err_exit_code(const struct err *e)
{
	switch (e->code) {
	case E_NONE:
		return EXIT_DONE;
	case E_PARSE:
	case E_MAP:
	case E_VALIDATE:
	case E_TOOBIG:
		return EXIT_REJECTS;
	case E_CONFIG:
	case E_AUTH:
	case E_NOTFOUND:
	/* A target file of that name with other content: a person has to
	 * look; retrying would fail the same way. */
	case E_EXISTS:
		return EXIT_CONFIG;
	case E_USAGE:
		return EXIT_USAGE;
	case E_NOMEM:
	case E_IO:
	case E_NOSPACE:
	case E_BUSY:
	case E_NET:
	case E_INTERRUPT:
		return EXIT_TEMPFAIL;
	default:
		return EXIT_INTERNAL;
	}
}

int err_is_temporary(const struct err *e)
{
	return err_exit_code(e) == EXIT_TEMPFAIL;
}

int err_class(const struct err *e)
{
	/* One row per code; a data error in a row is a reject, not a unit
	 * failure, so a unit that fails with a data class carried its data
	 * error to the unit level on purpose (a whole document or name). */
	static const signed char cls[] = {
		[E_NONE] = EC_NONE,	     [E_NOMEM] = EC_TRANSIENT,
		[E_TOOBIG] = EC_DATA,	     [E_IO] = EC_TRANSIENT,
		[E_NOSPACE] = EC_TRANSIENT,  [E_BUSY] = EC_TRANSIENT,
		[E_PARSE] = EC_DATA,	     [E_MAP] = EC_DATA,
		[E_VALIDATE] = EC_DATA,	     [E_CONFIG] = EC_CONFIG,
		[E_USAGE] = EC_CONFIG,	     [E_NOTFOUND] = EC_CONFIG,
		[E_EXISTS] = EC_CONFIG,	     [E_NET] = EC_TRANSIENT,
		[E_AUTH] = EC_CONFIG,	     [E_INTERRUPT] = EC_TRANSIENT,
		[E_INTERNAL] = EC_INTERNAL,
	};

	if (e->code < 0 || (size_t)e->code >= sizeof(cls) / sizeof(cls[0]))
		return EC_INTERNAL;
	return cls[e->code];
}

const char *err_class_name(int c)
{
	static const char *names[] = {"", "transient", "data", "config",
				      "internal"};

	if (c < 0 || (size_t)c >= sizeof(names) / sizeof(names[0]))
		return "internal";
	return names[c];
}

int err_class_exit_code(int c)
{
	switch (c) {
	case EC_NONE:
		return EXIT_DONE;
	case EC_TRANSIENT:
		return EXIT_TEMPFAIL;
	case EC_DATA:
	case EC_CONFIG:
		return EXIT_CONFIG;
	default:
		return EXIT_INTERNAL;
	}
}

const char *err_code_name(int code)
{
	static const char *names[] = {
		"none", "nomem", "toobig", "io", "nospace", "busy",
		"parse", "map", "validate", "config", "usage", "notfound",
		"exists", "net", "auth", "interrupt", "internal"};

	if (code < 0 || (size_t)code >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[code];
}
