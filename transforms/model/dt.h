/* dt.h - UTC timestamps as the canonical model stores them.
 *
 * Canonical times are seconds since the epoch, UTC, written as
 * "YYYY-MM-DDTHH:MM:SSZ". Civil-date arithmetic is done here (days from
 * civil), not with mktime/timegm, so results do not depend on the process
 * time zone and the hot path makes no library calls.
 */
#ifndef STOCKPIPE_DT_H
#define STOCKPIPE_DT_H

#include <stddef.h>
#include <stdint.h>

#define DT_ISO_LEN 21 /* "2026-11-23T20:00:00Z" plus NUL */

/* Seconds since epoch for a proleptic Gregorian civil time (UTC). Returns
 * 0 and sets *out, or -1 when a field is out of range (month 13, Feb 30,
 * hour 24 ...). */
int dt_from_civil(int year, int mon, int day, int hour, int min, int sec,
		  int64_t *out);
void dt_to_civil(int64_t t, int *year, int *mon, int *day, int *hour,
		 int *min, int *sec);
/* Parses ISO 8601 forms: YYYY-MM-DD, YYYY-MM-DDTHH:MM, YYYY-MM-DDTHH:MM:SS,
 * each optionally followed by Z or +hh:mm / -hh:mm (a space may replace T;
 * fractional seconds are dropped). A time without a zone is taken as UTC.
 * Returns 0 or -1. */
int dt_parse_iso(const char *s, size_t n, int64_t *out);
/* 1 when s is exactly what dt_format_iso() writes for some instant
 * (so dt_parse_iso() then dt_format_iso() would give s back), else 0:
 * a check of the shape and ranges, without the conversion. */
int dt_is_canonical(const char *s);
/* Writes "YYYY-MM-DDTHH:MM:SSZ" into out (DT_ISO_LEN bytes). */
void dt_format_iso(int64_t t, char *out);
/* strftime-like formatting of a UTC time with %Y %m %d %H %M %S %j %%
 * only; returns the length, or -1 if out is too small or a directive is
 * unknown. */
int dt_format(int64_t t, const char *fmt, char *out, size_t n);

#endif
