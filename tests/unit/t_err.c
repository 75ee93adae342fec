/* t_err.c - struct err: first error wins, locations, formatting, exit codes. */
#include <errno.h>
#include <string.h>

#include "lib/err.h"
#include "t.h"

T_TEST(err_first_error_wins)
{
	struct err e = ERR_INIT;

	T_EQ_INT(err_set(&e, E_PARSE, "inner %d", 1), -1);
	T_EQ_INT(err_set(&e, E_IO, "outer"), -1);
	T_EQ_INT(err_at(&e, E_CONFIG, "x.yaml", 3, 4, "outer too"), -1);
	errno = EIO;
	T_EQ_INT(err_sys(&e, "outer sys"), -1);
	T_EQ_INT(e.code, E_PARSE);
	T_EQ_STR(e.reason, "inner 1");
	T_EQ_STR(e.file, "");
	T_EQ_INT(e.line, 0);
	T_EQ_INT(e.os_code, 0);
	/* A NULL error is allowed and still reports failure. */
	T_EQ_INT(err_set(NULL, E_IO, "ignored"), -1);
	T_EQ_INT(err_sys(NULL, "ignored"), -1);
	T_EQ_INT(err_at(NULL, E_IO, "f", 1, 1, "ignored"), -1);
	err_locate(NULL, "f", 1, 1, "x");
	err_clear(NULL);
}

T_TEST(err_sys_records_errno)
{
	struct err e = ERR_INIT;
	char want[600];

	errno = ENOENT;
	err_sys(&e, "cannot open '%s'", "a.csv");
	T_EQ_INT(e.code, E_IO);
	T_EQ_INT(e.os_code, ENOENT);
	snprintf(want, sizeof(want), "cannot open 'a.csv': %s",
		 strerror(ENOENT));
	T_EQ_STR(e.reason, want);
	T_ASSERT(err_is_temporary(&e));

	err_clear(&e);
	T_EQ_INT(e.code, E_NONE);
	T_EQ_STR(e.reason, "");
	errno = ENOSPC;
	err_sys(&e, "write");
	T_EQ_INT(e.code, E_NOSPACE);
	T_EQ_INT(e.os_code, ENOSPC);
	err_clear(&e);
	errno = EDQUOT;
	err_sys(&e, "write");
	T_EQ_INT(e.code, E_NOSPACE);
}

T_TEST(err_sys_long_reason_truncates_safely)
{
	struct err e = ERR_INIT;
	char big[2000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	errno = EIO;
	err_sys(&e, "%s", big);
	T_EQ_INT(strlen(e.reason), sizeof(e.reason) - 1);
	T_EQ_INT(e.code, E_IO);
	/* the cut says so */
	T_EQ_STR(e.reason + sizeof(e.reason) - 4, "\xe2\x80\xa6");
}

/* A cut never splits a UTF-8 character and always ends in "…"; a reason
 * that fits is left as it is. */
T_TEST(err_long_reason_marks_the_cut)
{
	struct err e = ERR_INIT;
	char big[1200];
	size_t i, n;

	for (i = 0; i + 2 < sizeof(big); i += 2)
		memcpy(big + i, "\xc3\xa9", 2); /* é */
	big[i] = '\0';
	err_set(&e, E_PARSE, "x%s", big);
	n = strlen(e.reason);
	T_ASSERT(n <= sizeof(e.reason) - 1 && n >= sizeof(e.reason) - 4);
	T_EQ_STR(e.reason + n - 3, "\xe2\x80\xa6");
	/* before the mark: whole characters only ('x' then pairs of é) */
	T_EQ_INT((int)((n - 3 - 1) % 2), 0);
	T_EQ_INT((unsigned char)e.reason[n - 4], 0xa9);
	err_clear(&e);
	memset(big, 'y', 510);
	big[510] = '\0';
	err_set(&e, E_PARSE, "%s", big); /* 510 bytes: fits */
	T_EQ_INT(strlen(e.reason), 510);
	T_EQ_INT(e.reason[509], 'y');
}

T_TEST(err_at_and_format)
{
	struct err e = ERR_INIT;
	char out[1200];

	err_at(&e, E_CONFIG, "conf/stockpipe.yaml", 12, 5, "unknown key '%s'",
	       "sourcez");
	err_format(&e, out, sizeof(out));
	T_EQ_STR(out, "conf/stockpipe.yaml:12:5: unknown key 'sourcez'");

	/* Unknown parts are left out. */
	e.col = 0;
	err_format(&e, out, sizeof(out));
	T_EQ_STR(out, "conf/stockpipe.yaml:12: unknown key 'sourcez'");
	e.line = 0;
	e.col = 7; /* a column without a line means nothing */
	err_format(&e, out, sizeof(out));
	T_EQ_STR(out, "conf/stockpipe.yaml: unknown key 'sourcez'");
	e.file[0] = '\0';
	snprintf(e.field, sizeof(e.field), "qty");
	err_format(&e, out, sizeof(out));
	T_EQ_STR(out, "qty: unknown key 'sourcez'");
	/* No reason: the code name stands in. */
	e.reason[0] = '\0';
	e.field[0] = '\0';
	err_format(&e, out, sizeof(out));
	T_EQ_STR(out, "config");

	/* err_at with a NULL file keeps the line. */
	err_clear(&e);
	err_at(&e, E_PARSE, NULL, 9, 2, "bad");
	T_EQ_STR(e.file, "");
	T_EQ_INT(e.line, 9);
	err_format(&e, out, sizeof(out));
	T_EQ_STR(out, "bad");
}

T_TEST(err_format_truncates)
{
	struct err e = ERR_INIT;
	char out[16];

	err_at(&e, E_PARSE, "a-rather-long-file-name.csv", 123456, 78,
	       "something long went wrong");
	memset(out, '#', sizeof(out));
	err_format(&e, out, 10);
	T_EQ_STR(out, "a-rather-");
	T_EQ_INT(out[10], '#'); /* nothing written past n */
	err_format(&e, out, 1);
	T_EQ_STR(out, "");
	out[0] = '#';
	err_format(&e, out, 0);
	T_EQ_INT(out[0], '#');
}

T_TEST(err_locate_fills_only_gaps)
{
	struct err e = ERR_INIT;
	char out[1200];

	err_set(&e, E_MAP, "not a number");
	err_locate(&e, "in.csv", 4, 9, "qty");
	err_locate(&e, "outer.csv", 99, 99, "other");
	T_EQ_STR(e.file, "in.csv");
	T_EQ_INT(e.line, 4);
	T_EQ_INT(e.col, 9);
	T_EQ_STR(e.field, "qty");
	err_format(&e, out, sizeof(out));
	T_EQ_STR(out, "in.csv:4:9: qty: not a number");

	/* A known line keeps its column gap: a column from an outer layer
	 * belongs to a different line. */
	err_clear(&e);
	err_at(&e, E_MAP, "f", 5, 0, "x");
	err_locate(&e, NULL, 6, 3, NULL);
	T_EQ_INT(e.line, 5);
	T_EQ_INT(e.col, 0);
}

T_TEST(err_exit_codes)
{
	static const struct {
		int code, exit, temp;
	} cases[] = {
		{E_NONE, EXIT_DONE, 0},	       {E_NOMEM, EXIT_TEMPFAIL, 1},
		{E_TOOBIG, EXIT_REJECTS, 0},   {E_IO, EXIT_TEMPFAIL, 1},
		{E_NOSPACE, EXIT_TEMPFAIL, 1}, {E_BUSY, EXIT_TEMPFAIL, 1},
		{E_PARSE, EXIT_REJECTS, 0},    {E_MAP, EXIT_REJECTS, 0},
		{E_VALIDATE, EXIT_REJECTS, 0}, {E_CONFIG, EXIT_CONFIG, 0},
		{E_USAGE, EXIT_USAGE, 0},      {E_NOTFOUND, EXIT_CONFIG, 0},
		{E_EXISTS, EXIT_CONFIG, 0},   {E_NET, EXIT_TEMPFAIL, 1},
		{E_AUTH, EXIT_CONFIG, 0},
		{E_INTERRUPT, EXIT_TEMPFAIL, 1}, {E_INTERNAL, EXIT_INTERNAL, 0},
		{999, EXIT_INTERNAL, 0},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct err e = ERR_INIT;

		e.code = cases[i].code;
		if (err_exit_code(&e) != cases[i].exit)
			T_FAIL("code %d: exit %d, expected %d", cases[i].code,
			       err_exit_code(&e), cases[i].exit);
		if (!!err_is_temporary(&e) != cases[i].temp)
			T_FAIL("code %d: temporary %d", cases[i].code,
			       err_is_temporary(&e));
	}
}

T_TEST(err_code_names)
{
	int i, j;

	T_EQ_STR(err_code_name(E_NONE), "none");
	T_EQ_STR(err_code_name(E_IO), "io");
	T_EQ_STR(err_code_name(E_CONFIG), "config");
	T_EQ_STR(err_code_name(E_INTERNAL), "internal");
	T_EQ_STR(err_code_name(-1), "unknown");
	T_EQ_STR(err_code_name(E_INTERNAL + 1), "unknown");
	/* Names are stable identifiers: all distinct. */
	for (i = E_NONE; i <= E_INTERNAL; i++)
		for (j = i + 1; j <= E_INTERNAL; j++)
			if (!strcmp(err_code_name(i), err_code_name(j)))
				T_FAIL("codes %d and %d share a name", i, j);
}

/* The classification table (docs/operations.md, "What stops what"):
 * every code has a class, and the class decides whether a run retries the
 * unit by itself and what a run that could not advance exits with. */
T_TEST(err_class_table)
{
	static const struct {
		int code, cls, exit_code;
	} rows[] = {
		{E_NOMEM, EC_TRANSIENT, 75},  {E_IO, EC_TRANSIENT, 75},
		{E_NOSPACE, EC_TRANSIENT, 75}, {E_BUSY, EC_TRANSIENT, 75},
		{E_NET, EC_TRANSIENT, 75},    {E_INTERRUPT, EC_TRANSIENT, 75},
		{E_PARSE, EC_DATA, 78},       {E_MAP, EC_DATA, 78},
		{E_VALIDATE, EC_DATA, 78},    {E_TOOBIG, EC_DATA, 78},
		{E_CONFIG, EC_CONFIG, 78},    {E_AUTH, EC_CONFIG, 78},
		{E_USAGE, EC_CONFIG, 78},     {E_NOTFOUND, EC_CONFIG, 78},
		{E_EXISTS, EC_CONFIG, 78},    {E_INTERNAL, EC_INTERNAL, 70},
	};
	struct err e = ERR_INIT;
	size_t i;

	T_EQ_INT(err_class(&e), EC_NONE);
	T_EQ_INT(err_class_exit_code(EC_NONE), 0);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		e.code = rows[i].code;
		T_EQ_INT(err_class(&e), rows[i].cls);
		T_EQ_INT(err_class_exit_code(err_class(&e)), rows[i].exit_code);
		/* A transient class is exactly what a scheduler may retry. */
		T_EQ_INT(rows[i].cls == EC_TRANSIENT, err_is_temporary(&e));
	}
	/* Every code is in the table: none falls through to internal by
	 * accident. */
	for (e.code = E_NOMEM; e.code < E_INTERNAL; e.code++)
		T_ASSERT(err_class(&e) != EC_INTERNAL);
	/* A code out of range is a bug, not a retry. */
	e.code = 999;
	T_EQ_INT(err_class(&e), EC_INTERNAL);
	T_EQ_STR(err_class_name(EC_TRANSIENT), "transient");
	T_EQ_STR(err_class_name(EC_DATA), "data");
	T_EQ_STR(err_class_name(EC_CONFIG), "config");
	T_EQ_STR(err_class_name(EC_INTERNAL), "internal");
}
