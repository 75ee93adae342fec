/* filepat.h - a source's file-name patterns: shell globs with named
 * captures (docs/configuration.md "pattern", docs/mapping.md "$file.*").
 *
 *     stock_*.csv                          a glob, matched by fnmatch(3)
 *                                          exactly as conn_glob_match()
 *     stock_{store}_{date:%Y%m%d}.csv      captures: store, date
 *
 * {name} matches like * but never across '/', taking the shortest text
 * that lets the rest of the pattern match. {name:FORMAT} matches the text
 * FORMAT describes, with fixed widths: %Y four digits, %y %m %d %H %M %S
 * two digits, %b a three-letter English month name, %% a percent sign,
 * any other character itself. Its value is that time as ISO-8601 UTC
 * ("2026-11-20T00:00:00Z"), the form of canonical times (dt.h).
 * Outside a character class `{` always starts a capture; `\{` is a
 * literal brace. Names match the shape only: a date capture whose digits
 * are no date (month 13) still matches, and filepat_match() reports it,
 * so such a file is fetched and quarantined with the reason instead of
 * being left behind unseen.
 */
#ifndef STOCKPIPE_FILEPAT_H
#define STOCKPIPE_FILEPAT_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

#define FILEPAT_MAX_CAPS 8
#define FILEPAT_NAME_MAX 32   /* capture name, with its NUL */
#define FILEPAT_VALUE_MAX 256 /* capture value, with its NUL */

/* The captures of one match, in pattern order. */
struct filepat_caps {
	size_t n;
	char name[FILEPAT_MAX_CAPS][FILEPAT_NAME_MAX];
	char value[FILEPAT_MAX_CAPS][FILEPAT_VALUE_MAX];
};

/* Checks pat's syntax: well-formed captures, known directives, a year
 * in every date format, no name twice, no reserved name (name, mtime,
 * fetched_at are facts of every file). Returns 0, or -1 with err
 * (E_CONFIG, reason only: the caller locates it). */
int filepat_check(const char *pat, struct err *err);

/* Copies the capture names of a checked pattern into names (at most max),
 * in order; returns how many there are. */
size_t filepat_names(const char *pat, char names[][FILEPAT_NAME_MAX],
		     size_t max);

/* Matches name against a checked pattern. Returns 1 when it matches
 * (caps filled when not NULL), 0 when not, -1 when it matches but a
 * capture cannot be given (a date capture that is no date, a value past
 * FILEPAT_VALUE_MAX bytes) with err (E_PARSE) naming the file and why. */
int filepat_match(const char *pat, const char *name,
		  struct filepat_caps *caps, struct err *err);

/* ---- target file-name templates --------------------------------------
 * A target's `filename`: literal text with {target}, {run_id},
 * {utc:FORMAT} (dt_format directives) and {ext}. */

/* Expands tmpl with these values into out (n bytes, NUL-terminated).
 * E_CONFIG for an unclosed '{', an unknown placeholder or a bad time
 * format; E_TOOBIG when the name does not fit n. */
int filepat_name_expand(const char *tmpl, const char *target, int64_t run_id,
			int64_t now, const char *ext, char *out, size_t n,
			struct err *err);

/* Checks tmpl against every value it can take, so `check` refuses what
 * the run would only find at render, after loading: every placeholder
 * known and well-formed, and every name it can give a plain file name -
 * not empty, not "." or "..", no '/' or '\', no control character, and
 * at most 255 bytes even with the largest run id, the widest time and
 * the "_NNNN" a rerun may add to keep names unique. E_CONFIG with the
 * reason (the caller locates it). */
int filepat_name_check(const char *tmpl, const char *target, const char *ext,
		       struct err *err);

#endif
