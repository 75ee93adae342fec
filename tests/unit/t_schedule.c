/* t_schedule.c - cron schedules: parsing, errors with positions, next
 * times (steps, weekday ranges, names, the Vixie day rule) and DST in
 * Europe/Berlin (2026-03-29 spring forward, 2026-10-25 fall back), due
 * decisions with missed windows, and the config integration. */
#include <stdlib.h>
#include <string.h>

#include "pipeline/config.h"
#include "pipeline/schedule.h"
#include "transforms/model/dt.h"
#include "t.h"

static int64_t iso(const char *s)
{
	int64_t t = -1;

	dt_parse_iso(s, strlen(s), &t);
	return t;
}

/* The n-th next time after `after` as ISO text (static buffer). */
static const char *nth_next(const char *expr, const char *after, int n)
{
	static char out[DT_ISO_LEN + 16];
	struct schedule *s = NULL;
	struct err e = ERR_INIT;
	size_t pos;
	int64_t t = iso(after);

	if (schedule_parse(expr, &s, &pos, &e) < 0)
		return "parse error";
	while (n-- > 0)
		if (schedule_next(s, t, &t) < 0) {
			schedule_free(s);
			return "none";
		}
	schedule_free(s);
	dt_format_iso(t, out);
	return out;
}

#define NEXT(expr, after, want) T_EQ_STR(nth_next(expr, after, 1), want)

/* Parse error: reason contains why, at byte pos. */
static int bad(const char *expr, size_t want_pos, const char *why)
{
	struct schedule *s = NULL;
	struct err e = ERR_INIT;
	size_t pos = 999;
	int rc = schedule_parse(expr, &s, &pos, &e);

	if (rc != -1 || s || e.code != E_CONFIG || pos != want_pos ||
	    !strstr(e.reason, why)) {
		fprintf(stderr, "    '%s': rc %d pos %zu reason '%s'\n", expr,
			rc, pos, e.reason);
		schedule_free(s);
		return -1;
	}
	return 0;
}

T_TEST(schedule_parse_fields)
{
	struct schedule *s = NULL;
	struct err e = ERR_INIT;
	size_t pos;

	T_OK(schedule_parse("*/15 * * * *", &s, &pos, &e), &e);
	T_EQ_INT(s->minutes, (1ull << 0) | (1ull << 15) | (1ull << 30) |
				     (1ull << 45));
	T_EQ_INT(s->hours, 0xFFFFFF);
	T_EQ_STR(s->zone, "UTC");
	schedule_free(s);
	T_OK(schedule_parse("0,30 8-18/2 1,15 JAN-mar mon-FRI Europe/Berlin",
			    &s, &pos, &e),
	     &e);
	T_EQ_INT(s->minutes, (1ull << 0) | (1ull << 30));
	T_EQ_INT(s->hours, (1u << 8) | (1u << 10) | (1u << 12) | (1u << 14) |
				   (1u << 16) | (1u << 18));
	T_EQ_INT(s->mdays, (1u << 1) | (1u << 15));
	T_EQ_INT(s->months, (1u << 1) | (1u << 2) | (1u << 3));
	T_EQ_INT(s->wdays, 0x3e);
	T_EQ_INT(s->mday_star, 0);
	T_EQ_STR(s->zone, "Europe/Berlin");
	schedule_free(s);
	/* a/n runs from a to the maximum; 7 is Sunday */
	T_OK(schedule_parse("5/20 0 * * 7", &s, &pos, &e), &e);
	T_EQ_INT(s->minutes, (1ull << 5) | (1ull << 25) | (1ull << 45));
	T_EQ_INT(s->wdays, 1);
	T_EQ_INT(s->mday_star, 1);
	schedule_free(s);
	T_OK(schedule_parse("  @daily   America/New_York ", &s, &pos, &e), &e);
	T_EQ_INT(s->minutes, 1);
	T_EQ_INT(s->hours, 1);
	T_EQ_STR(s->zone, "America/New_York");
	schedule_free(s);
}

T_TEST(schedule_parse_errors)
{
	T_EQ_INT(bad("hourly", 0, "schedule must be"), 0);
	T_EQ_INT(bad("* * * *", 0, "found 4 fields"), 0);
	T_EQ_INT(bad("61 * * * *", 0, "minute 61 is out of range 0-59"), 0);
	T_EQ_INT(bad("0 24 * * *", 2, "hour 24 is out of range 0-23"), 0);
	T_EQ_INT(bad("0 2 * * 1-9", 10, "day-of-week 9 is out of range 0-7"),
		 0);
	T_EQ_INT(bad("0 2 0 * *", 4, "day-of-month 0 is out of range 1-31"), 0);
	T_EQ_INT(bad("0 2 * 13 *", 6, "month 13 is out of range 1-12"), 0);
	T_EQ_INT(bad("0 2 * foo *", 6, "month field: 'foo' is not a number "
				       "or a name"),
		 0);
	T_EQ_INT(bad("*/0 * * * *", 2, "minute step 0 is out of range"), 0);
	T_EQ_INT(bad("* */ * * *", 4, "a step needs a number"), 0);
	T_EQ_INT(bad("30-10 * * * *", 3, "minute range 30-10 runs backwards"),
		 0);
	T_EQ_INT(bad("1, * * * *", 2, "minute field ends in ','"), 0);
	T_EQ_INT(bad("1;2 * * * *", 1, "minute field: unexpected ';'"), 0);
	T_EQ_INT(bad("0 2 * * 1-5 Europe/Berln", 12,
		     "unknown time zone 'Europe/Berln'"),
		 0);
	T_EQ_INT(bad("0 2 * * 1-5 UTC now", 16, "unexpected 'now'"), 0);
	T_EQ_INT(bad("0 0 30 2 *", 0, "never matches"), 0);
	T_EQ_INT(bad("@often", 0, "unknown shorthand '@often'"), 0);
	T_EQ_INT(bad("@daily UTC x", 11, "unexpected 'x'"), 0);
}

T_TEST(schedule_next_steps_and_lists)
{
	NEXT("*/15 * * * *", "2026-11-20T06:07:00Z", "2026-11-20T06:15:00Z");
	/* strictly after: a run exactly at a scheduled time looks ahead */
	NEXT("*/15 * * * *", "2026-11-20T06:15:00Z", "2026-11-20T06:30:00Z");
	NEXT("*/15 * * * *", "2026-11-20T06:14:59Z", "2026-11-20T06:15:00Z");
	NEXT("*/15 * * * *", "2026-11-20T23:50:00Z", "2026-11-21T00:00:00Z");
	NEXT("0,30 8-18/2 * * *", "2026-11-20T18:30:00Z",
	     "2026-11-21T08:00:00Z");
	NEXT("0,30 8-18/2 * * *", "2026-11-20T08:00:00Z",
	     "2026-11-20T08:30:00Z");
	NEXT("0,30 8-18/2 * * *", "2026-11-20T08:30:00Z",
	     "2026-11-20T10:00:00Z");
	NEXT("0 0 1 * *", "2026-12-15T00:00:00Z", "2027-01-01T00:00:00Z");
	NEXT("0 0 29 feb *", "2026-03-01T00:00:00Z", "2028-02-29T00:00:00Z");
	NEXT("@hourly", "2026-11-20T06:00:00Z", "2026-11-20T07:00:00Z");
	T_EQ_STR(nth_next("*/15 * * * *", "2026-11-20T06:00:00Z", 96),
		 "2026-11-21T06:00:00Z");
}

T_TEST(schedule_next_weekdays)
{
	/* 2026-11-20 is a Friday. 02:00 Berlin is 01:00Z in winter. */
	NEXT("0 2 * * 1-5 Europe/Berlin", "2026-11-20T01:00:00Z",
	     "2026-11-23T01:00:00Z");
	NEXT("0 2 * * 1-5 Europe/Berlin", "2026-11-19T12:00:00Z",
	     "2026-11-20T01:00:00Z");
	NEXT("0 2 * * mon-fri Europe/Berlin", "2026-11-20T01:00:00Z",
	     "2026-11-23T01:00:00Z");
	NEXT("0 9 * * sat,sun", "2026-11-20T01:00:00Z",
	     "2026-11-21T09:00:00Z");
	NEXT("0 9 * * 0", "2026-11-21T09:00:00Z", "2026-11-22T09:00:00Z");
	NEXT("0 12 * * */2", "2026-11-20T12:00:00Z", "2026-11-21T12:00:00Z");
	/* Both day fields restricted: the 13th OR a Friday (Vixie). */
	NEXT("0 0 13 * 5", "2026-11-10T00:00:00Z", "2026-11-13T00:00:00Z");
	NEXT("0 0 13 * 5", "2026-11-13T00:00:00Z", "2026-11-20T00:00:00Z");
	NEXT("0 0 13 * 1", "2026-11-13T00:00:00Z", "2026-11-16T00:00:00Z");
	NEXT("0 0 13 * 1", "2026-12-07T00:00:00Z", "2026-12-13T00:00:00Z");
	/* One restricted: only it counts. */
	NEXT("0 0 13 * *", "2026-11-13T00:00:00Z", "2026-12-13T00:00:00Z");
}

T_TEST(schedule_dst_spring_berlin)
{
	/* 2026-03-29: 02:00 CET jumps to 03:00 CEST at 01:00Z. */
	NEXT("30 2 * * * Europe/Berlin", "2026-03-27T12:00:00Z",
	     "2026-03-28T01:30:00Z");
	/* 02:30 does not exist: a fixed-hour job runs once, at the end of
	 * the gap (03:00 CEST), then at 02:30 CEST the day after. */
	NEXT("30 2 * * * Europe/Berlin", "2026-03-28T01:30:00Z",
	     "2026-03-29T01:00:00Z");
	NEXT("30 2 * * * Europe/Berlin", "2026-03-29T01:00:00Z",
	     "2026-03-30T00:30:00Z");
	NEXT("0 2 * * 1-5,0 Europe/Berlin", "2026-03-28T23:00:00Z",
	     "2026-03-29T01:00:00Z");
	/* A job at 03:00 is not doubled by the gap rule. */
	NEXT("0 3 * * * Europe/Berlin", "2026-03-28T23:00:00Z",
	     "2026-03-29T01:00:00Z");
	NEXT("0 3 * * * Europe/Berlin", "2026-03-29T01:00:00Z",
	     "2026-03-30T01:00:00Z");
	/* Wildcard hours follow the wall clock: 02:xx is skipped. */
	NEXT("30 * * * * Europe/Berlin", "2026-03-29T00:30:00Z",
	     "2026-03-29T01:30:00Z");
	NEXT("0 * * * * Europe/Berlin", "2026-03-29T00:00:00Z",
	     "2026-03-29T01:00:00Z");
	T_EQ_STR(nth_next("*/15 * * * * Europe/Berlin", "2026-03-29T00:00:00Z",
			  8),
		 "2026-03-29T02:00:00Z");
	/* 06:00 local is 05:00Z before and 04:00Z after the change. */
	NEXT("0 6 * * * Europe/Berlin", "2026-03-28T06:00:00Z",
	     "2026-03-29T04:00:00Z");
}

T_TEST(schedule_dst_autumn_berlin)
{
	/* 2026-10-25: 03:00 CEST falls back to 02:00 CET at 01:00Z, so
	 * local 02:00-02:59 happens twice. */
	NEXT("30 2 * * * Europe/Berlin", "2026-10-24T12:00:00Z",
	     "2026-10-25T00:30:00Z");
	/* fixed hour: only the first 02:30 */
	NEXT("30 2 * * * Europe/Berlin", "2026-10-25T00:30:00Z",
	     "2026-10-26T01:30:00Z");
	/* wildcard hours: the repeated hour runs again */
	T_EQ_STR(nth_next("*/30 * * * * Europe/Berlin", "2026-10-25T00:00:00Z",
			  1),
		 "2026-10-25T00:30:00Z");
	T_EQ_STR(nth_next("*/30 * * * * Europe/Berlin", "2026-10-25T00:00:00Z",
			  2),
		 "2026-10-25T01:00:00Z");
	T_EQ_STR(nth_next("*/30 * * * * Europe/Berlin", "2026-10-25T00:00:00Z",
			  3),
		 "2026-10-25T01:30:00Z");
	T_EQ_STR(nth_next("0 * * * * Europe/Berlin", "2026-10-24T23:30:00Z", 3),
		 "2026-10-25T02:00:00Z");
	NEXT("0 1 * * * Europe/Berlin", "2026-10-24T12:00:00Z",
	     "2026-10-24T23:00:00Z");
	NEXT("0 6 * * * Europe/Berlin", "2026-10-24T12:00:00Z",
	     "2026-10-25T05:00:00Z");
	/* America/New_York changes on 2026-11-01 at 06:00Z */
	NEXT("30 1 * * * America/New_York", "2026-11-01T05:00:00Z",
	     "2026-11-01T05:30:00Z");
	NEXT("30 1 * * * America/New_York", "2026-11-01T05:30:00Z",
	     "2026-11-02T06:30:00Z");
}

T_TEST(schedule_due_missed_windows)
{
	struct schedule *s = NULL;
	struct err e = ERR_INIT;
	size_t pos;

	T_OK(schedule_parse("0 * * * *", &s, &pos, &e), &e);
	T_EQ_INT(schedule_due(s, 0, iso("2026-11-20T06:10:00Z")), 1);
	T_EQ_INT(schedule_due(s, iso("2026-11-20T06:00:00Z"),
			      iso("2026-11-20T06:59:00Z")),
		 0);
	T_EQ_INT(schedule_due(s, iso("2026-11-20T06:00:00Z"),
			      iso("2026-11-20T07:00:00Z")),
		 1);
	/* three windows missed: due once; considered at 09:40 it is not
	 * due again until 10:00 */
	T_EQ_INT(schedule_due(s, iso("2026-11-20T06:00:00Z"),
			      iso("2026-11-20T09:40:00Z")),
		 1);
	T_EQ_INT(schedule_due(s, iso("2026-11-20T09:40:00Z"),
			      iso("2026-11-20T09:55:00Z")),
		 0);
	T_EQ_INT(schedule_due(s, iso("2026-11-20T09:40:00Z"),
			      iso("2026-11-20T10:00:00Z")),
		 1);
	schedule_free(s);
}

T_TEST(schedule_format_local_time)
{
	struct schedule *s = NULL;
	struct err e = ERR_INIT;
	size_t pos;
	char out[128];

	T_OK(schedule_parse("0 2 * * * Europe/Berlin", &s, &pos, &e), &e);
	schedule_format_local(s, iso("2026-03-30T00:30:00Z"), out, sizeof(out));
	T_EQ_STR(out, "2026-03-30 02:30 +02:00 Europe/Berlin");
	schedule_format_local(s, iso("2026-11-23T01:00:00Z"), out, sizeof(out));
	T_EQ_STR(out, "2026-11-23 02:00 +01:00 Europe/Berlin");
	schedule_free(s);
	T_OK(schedule_parse("0 2 * * * America/New_York", &s, &pos, &e), &e);
	schedule_format_local(s, iso("2026-11-23T07:00:00Z"), out, sizeof(out));
	T_EQ_STR(out, "2026-11-23 02:00 -05:00 America/New_York");
	schedule_free(s);
}

#define CFG_HEAD                                                           \
	"sources:\n"                                 /* 1 */               \
	"  - name: stores\n"                         /* 2 */               \
	"    path: drop\n"                           /* 3 */               \
	"    mapping: m.yaml\n"                      /* 4 */               \
	"targets:\n"                                 /* 5 */               \
	"  - name: shop\n"                           /* 6 */               \
	"    path: out\n"                            /* 7 */               \
	"    mapping: o.yaml\n"                      /* 8 */

T_TEST(schedule_in_config)
{
	struct config *c = NULL;
	struct err e = ERR_INIT;
	char msg[1200];

	T_ASSERT(t_write_file("a.yaml", CFG_HEAD "    schedule: \"0 2 * * 1-5 "
						 "Europe/Berlin\"\n") == 0);
	T_OK(config_load("a.yaml", NULL, &c, &e), &e);
	T_EQ_INT(c->targets[0].schedule, CFG_SCHED_CRON);
	T_ASSERT(c->targets[0].cron != NULL);
	T_EQ_STR(c->targets[0].cron->zone, "Europe/Berlin");
	T_EQ_STR(c->targets[0].schedule_text, "0 2 * * 1-5 Europe/Berlin");
	config_free(c);
	c = NULL;
	T_ASSERT(t_write_file("b.yaml", CFG_HEAD "    schedule: every 15m\n") ==
		 0);
	T_OK(config_load("b.yaml", NULL, &c, &e), &e);
	T_EQ_INT(c->targets[0].schedule, CFG_SCHED_EVERY);
	T_EQ_INT(c->targets[0].every, 900);
	config_free(c);
	c = NULL;
	/* errors point into the expression: line 9, the value starts at
	 * column 15 (the quote), the bad '9' is 10 bytes into it */
	T_ASSERT(t_write_file("c.yaml", CFG_HEAD "    schedule: \"0 2 * * 1-9 "
						 "Europe/Berlin\"\n") == 0);
	T_EQ_INT(config_load("c.yaml", NULL, &c, &e), -1);
	err_format(&e, msg, sizeof(msg));
	T_EQ_STR(msg, "c.yaml:9:26: schedule: day-of-week 9 is out of range "
		      "0-7");
	err_clear(&e);
	T_ASSERT(t_write_file("d.yaml", CFG_HEAD "    schedule: 0 2 * * * "
						 "Mars/Olympus\n") == 0);
	T_EQ_INT(config_load("d.yaml", NULL, &c, &e), -1);
	T_EQ_INT(e.line, 9);
	T_EQ_INT(e.col, 25);
	T_ASSERT(strstr(e.reason, "unknown time zone 'Mars/Olympus'") != NULL);
	T_EQ_INT(e.code, E_CONFIG);
}

/* ---- schedule_next against a reference evaluator ------------------------
 * The reference reads each cron item on its own, straight from the rule:
 * "*" is min-max, "a" is a, "a-b" is a..b, and "/n" keeps every n-th value
 * from the start of that range ("a/n": a..max). It then walks the calendar
 * minute by minute. Random expressions (fixed seed) must give the same
 * fire times from schedule_next over the span. */

struct ref_field {
	int min, max;
	int set[61];
	int star;
};

/* Parses "x" or "x-y" or "*" with an optional "/n" into f->set. */
static void ref_item(struct ref_field *f, const char *s)
{
	int lo, hi, step = 1;
	char *end;

	if (*s == '*') {
		lo = f->min;
		hi = f->max;
		end = (char *)s + 1;
	} else {
		lo = hi = (int)strtol(s, &end, 10);
		if (*end == '-')
			hi = (int)strtol(end + 1, &end, 10);
		else if (*end == '/')
			hi = f->max;
	}
	if (*end == '/')
		step = (int)strtol(end + 1, &end, 10);
	for (int v = lo; v <= hi; v++)
		if ((v - lo) % step == 0)
			f->set[v == 7 && f->max == 7 ? 0 : v] = 1;
}

static void ref_field_parse(struct ref_field *f, int min, int max,
			    const char *text)
{
	char item[32];
	const char *p = text;

	memset(f, 0, sizeof(*f));
	f->min = min;
	f->max = max;
	f->star = *text == '*';
	while (*p) {
		size_t n = strcspn(p, ",");

		snprintf(item, sizeof(item), "%.*s", (int)n, p);
		ref_item(f, item);
		p += n + (p[n] == ',');
	}
}

/* Days since 1970-01-01 to y-m-d (Howard Hinnant's civil_from_days). */
static void ref_civil(int64_t z, int *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

/* Random item for a field: *, * /n, a, a-b, a-b/n, a/n. */
static int ref_rand_item(unsigned *seed, int min, int max, char *out,
			 size_t n)
{
	int span = max - min + 1, a = min + rand_r(seed) % span;
	int b = a + rand_r(seed) % (max - a + 1), st = 1 + rand_r(seed) % 7;

	switch (rand_r(seed) % 6) {
	case 0: return snprintf(out, n, "*");
	case 1: return snprintf(out, n, "*/%d", st);
	case 2: return snprintf(out, n, "%d", a);
	case 3: return snprintf(out, n, "%d-%d", a, b);
	case 4: return snprintf(out, n, "%d-%d/%d", a, b, st);
	default: return snprintf(out, n, "%d/%d", a, st);
	}
}

static void ref_rand_field(unsigned *seed, int min, int max, char *out,
			   size_t n)
{
	int items = 1 + rand_r(seed) % 3, used = 0;

	for (int i = 0; i < items; i++) {
		if (i)
			used += snprintf(out + used, n - (size_t)used, ",");
		used += ref_rand_item(seed, min, max, out + used,
				      n - (size_t)used);
	}
}

/* 1 when minute t (UTC) matches the reference fields. */
static int ref_match(const struct ref_field *f, int64_t t)
{
	int64_t days = t / 86400;
	int y, mo, d, h = (int)(t % 86400 / 3600), mi = (int)(t % 3600 / 60);
	int wd = (int)((days + 4) % 7), dm, dw;

	ref_civil(days, &y, &mo, &d);
	(void)y;
	if (!f[0].set[mi] || !f[1].set[h] || !f[3].set[mo])
		return 0;
	dm = f[2].set[d];
	dw = f[4].set[wd];
	if (!f[2].star && !f[4].star)
		return dm || dw;
	return dm && dw;
}

T_TEST(schedule_next_matches_reference)
{
	static const int lo[5] = {0, 0, 1, 1, 0}, hi[5] = {59, 23, 31, 12, 7};
	unsigned seed = 19;
	int64_t start = iso("2026-01-01T00:00:00Z");
	int64_t span = 100 * 86400;
	int nexpr = 400, checked = 0;

	for (int k = 0; k < nexpr; k++) {
		char fields[5][64], expr[400];
		struct ref_field rf[5];
		struct schedule *s = NULL;
		struct err e = ERR_INIT;
		size_t pos;
		int64_t t, want;

		for (int i = 0; i < 5; i++)
			ref_rand_field(&seed, lo[i], hi[i], fields[i],
				       sizeof(fields[i]));
		/* the first one carries the range-with-step case of #19 */
		if (k == 0)
			snprintf(fields[1], sizeof(fields[1]), "3-3/5");
		snprintf(expr, sizeof(expr), "%s %s %s %s %s", fields[0],
			 fields[1], fields[2], fields[3], fields[4]);
		for (int i = 0; i < 5; i++)
			ref_field_parse(&rf[i], lo[i], hi[i], fields[i]);
		if (schedule_parse(expr, &s, &pos, &e) < 0)
			T_FAIL("'%s' does not parse: %s", expr, e.reason);
		t = start - 60;
		want = start - 60;
		for (;;) {
			int64_t got = 0;
			int rc = schedule_next(s, t, &got);

			/* the reference's next match within the span */
			for (want += 60; want < start + span; want += 60)
				if (ref_match(rf, want))
					break;
			if (want >= start + span) {
				if (rc == 0 && got < start + span) {
					schedule_free(s);
					T_FAIL("'%s': fires at %lld, the "
					       "reference does not",
					       expr, (long long)got);
				}
				break;
			}
			if (rc < 0 || got != want) {
				schedule_free(s);
				T_FAIL("'%s' after %lld: got %lld, reference "
				       "%lld",
				       expr, (long long)t,
				       rc < 0 ? -1LL : (long long)got,
				       (long long)want);
			}
			t = got;
			checked++;
		}
		schedule_free(s);
	}
	/* the comparison must have compared something */
	T_ASSERT(checked > 1000);
}

T_TEST(schedule_range_with_step_stays_inside)
{
	NEXT("0 3-3/5 * * *", "2026-11-20T03:00:00Z", "2026-11-21T03:00:00Z");
	NEXT("0 3-14/5 * * *", "2026-11-20T13:00:00Z", "2026-11-21T03:00:00Z");
	NEXT("0 3/5 * * *", "2026-11-20T19:00:00Z", "2026-11-20T23:00:00Z");
}
