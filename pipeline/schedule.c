/* schedule.c - see schedule.h.
 *
 * schedule_next() walks UTC minutes forward and looks at each one's local
 * time in the zone, so DST needs no special arithmetic: a local time that
 * does not exist is never seen, a repeated one is seen twice. The rules
 * for fixed-hour schedules (gap -> end of gap, overlap -> first only) are
 * applied at the minute where the offset changes. Whole days, hours and
 * non-matching minutes are skipped in one step when the offset is the
 * same at both ends of the step, so a transition is never jumped over.
 */
#include "schedule.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "transforms/model/dt.h"
#include "transforms/model/tz.h"

#define ALL_HOURS 0xFFFFFFu
#define HORIZON (INT64_C(10) * 366 * 86400)

static const char *const month_names[] = {"jan", "feb", "mar", "apr",
					  "may", "jun", "jul", "aug",
					  "sep", "oct", "nov", "dec"};
static const char *const day_names[] = {"sun", "mon", "tue", "wed",
					"thu", "fri", "sat"};

struct field_spec {
	const char *what;   /* "minute", ... for messages */
	int min, max;
	const char *const *names; /* 3-letter names for min.. or NULL */
	int nnames;
	int name_base;      /* value of names[0] */
};

static const struct field_spec fields[5] = {
	{"minute", 0, 59, NULL, 0, 0},
	{"hour", 0, 23, NULL, 0, 0},
	{"day-of-month", 1, 31, NULL, 0, 0},
	{"month", 1, 12, month_names, 12, 1},
	{"day-of-week", 0, 7, day_names, 7, 0},
};

struct parser {
	const char *text;
	size_t *errpos;
	struct err *err;
};

static int perr(struct parser *p, const char *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int perr(struct parser *p, const char *at, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	*p->errpos = (size_t)(at - p->text);
	return err_set(p->err, E_CONFIG, "schedule: %s", msg);
}

/* A number or a name at s (end e); *out the value, *next after it. */
static int value(struct parser *p, const struct field_spec *f, const char *s,
		 const char *e, int *out, const char **next)
{
	long v = 0;
	const char *q = s;
	int i;

	if (q < e && *q >= '0' && *q <= '9') {
		while (q < e && *q >= '0' && *q <= '9' && v < 1000)
			v = v * 10 + (*q++ - '0');
		if (v < f->min || v > f->max)
			return perr(p, s, "%s %ld is out of range %d-%d",
				    f->what, v, f->min, f->max);
		*out = (int)v;
		*next = q;
		return 0;
	}
	for (i = 0; f->names && i < f->nnames; i++)
		if (e - s >= 3 && !strncasecmp(s, f->names[i], 3) &&
		    (e - s == 3 || s[3] == '-' || s[3] == '/' ||
		     s[3] == ',')) {
			*out = f->name_base + i;
			*next = s + 3;
			return 0;
		}
	for (q = s; q < e && *q != ',' && *q != '-' && *q != '/'; q++)
		;
	return perr(p, s, "%s field: '%.*s' is not a number%s", f->what,
		    (int)(q - s), s, f->names ? " or a name" : "");
}

/* One field [s, e) into *mask; *star when it starts with '*'. */
static int field(struct parser *p, const struct field_spec *f, const char *s,
		 const char *e, uint64_t *mask, int *star)
{
	const char *q = s;

	*mask = 0;
	*star = *s == '*';
	for (;;) {
		int a, b, step = 1, v, ranged = 0;

		if (q < e && *q == '*') {
			a = f->min;
			b = f->max;
			q++;
			ranged = 1;
		} else {
			if (value(p, f, q, e, &a, &q) < 0)
				return -1;
			b = a;
			if (q < e && *q == '-') {
				const char *at = ++q;

				ranged = 1;
				if (value(p, f, q, e, &b, &q) < 0)
					return -1;
				if (b < a)
					return perr(p, at,
						    "%s range %d-%d runs "
						    "backwards",
						    f->what, a, b);
			}
		}
		if (q < e && *q == '/') {
			const char *at = ++q;
			long n = 0;

			if (q >= e || *q < '0' || *q > '9')
				return perr(p, at, "%s field: a step needs "
						   "a number after '/'",
					    f->what);
			while (q < e && *q >= '0' && *q <= '9' && n < 1000)
				n = n * 10 + (*q++ - '0');
			if (n < 1 || n > f->max)
				return perr(p, at, "%s step %ld is out of "
						   "range 1-%d",
					    f->what, n, f->max);
			step = (int)n;
			/* "a/n" means a, a+n, ... up to the maximum; in
			 * "a-b/n" (even "3-3/5") the range is the bound. */
			if (!ranged)
				b = f->max;
		}
		for (v = a; v <= b; v += step)
			*mask |= UINT64_C(1) << v;
		if (q == e)
			break;
		if (*q != ',')
			return perr(p, q, "%s field: unexpected '%c'",
				    f->what, *q);
		if (++q == e)
			return perr(p, q, "%s field ends in ','", f->what);
	}
	return 0;
}

static const struct {
	const char *name, *expr;
} aliases[] = {
	{"@hourly", "0 * * * *"},   {"@daily", "0 0 * * *"},
	{"@midnight", "0 0 * * *"}, {"@weekly", "0 0 * * 0"},
	{"@monthly", "0 0 1 * *"},  {"@yearly", "0 0 1 1 *"},
	{"@annually", "0 0 1 1 *"},
};

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Splits s into up to max tokens; returns the count (max + 1 = more). */
static int tokens(const char *s, const char **tb, const char **te, int max)
{
	int n = 0;

	while (*s) {
		while (is_blank(*s))
			s++;
		if (!*s)
			break;
		if (n == max)
			return max + 1;
		tb[n] = s;
		while (*s && !is_blank(*s))
			s++;
		te[n++] = s;
	}
	return n;
}

int schedule_parse(const char *text, struct schedule **out, size_t *errpos,
		   struct err *err)
{
	struct parser p = {text, errpos, err};
	struct schedule *s;
	const char *tb[7], *te[7];
	const char *ab[5], *ae[5];
	const char *zone = NULL, *zone_at = NULL;
	uint64_t m;
	int n, i, star;
	struct err ze = ERR_INIT;

	*out = NULL;
	*errpos = 0;
	if (strlen(text) >= sizeof(s->text))
		return perr(&p, text, "expression too long");
	n = tokens(text, tb, te, 7);
	if (n >= 1 && tb[0][0] == '@') {
		for (i = 0; i < (int)(sizeof(aliases) / sizeof(aliases[0]));
		     i++)
			if ((size_t)(te[0] - tb[0]) == strlen(aliases[i].name) &&
			    !strncasecmp(tb[0], aliases[i].name,
					 strlen(aliases[i].name)))
				break;
		if (i == (int)(sizeof(aliases) / sizeof(aliases[0])))
			return perr(&p, tb[0],
				    "unknown shorthand '%.*s' (@hourly, "
				    "@daily, @weekly, @monthly, @yearly)",
				    (int)(te[0] - tb[0]), tb[0]);
		if (n > 2)
			return perr(&p, tb[2], "unexpected '%.*s' after the "
					       "time zone",
				    (int)(te[2] - tb[2]), tb[2]);
		if (n == 2) {
			zone = tb[1];
			zone_at = tb[1];
		}
		tokens(aliases[i].expr, ab, ae, 5);
		p.text = aliases[i].expr; /* errors cannot happen in these */
	} else {
		if (n < 5)
			return perr(&p, text,
				    "schedule must be 'always', 'every "
				    "DURATION' (e.g. every 15m) or a cron "
				    "expression 'MINUTE HOUR DAY MONTH "
				    "WEEKDAY [ZONE]' (found %d field%s)",
				    n, n == 1 ? "" : "s");
		if (n > 6)
			return perr(&p, tb[6], "unexpected '%.*s' after the "
					       "time zone",
				    (int)(te[6] - tb[6]), tb[6]);
		for (i = 0; i < 5; i++) {
			ab[i] = tb[i];
			ae[i] = te[i];
		}
		if (n == 6) {
			zone = tb[5];
			zone_at = tb[5];
		}
	}
	if (!(s = calloc(1, sizeof(*s))))
		return err_set(err, E_NOMEM, "out of memory");
	snprintf(s->text, sizeof(s->text), "%s", text);
	for (i = 0; i < 5; i++) {
		if (field(&p, &fields[i], ab[i], ae[i], &m, &star) < 0)
			goto fail;
		switch (i) {
		case 0: s->minutes = m; break;
		case 1: s->hours = (uint32_t)m; break;
		case 2: s->mdays = (uint32_t)m; s->mday_star = star; break;
		case 3: s->months = (uint32_t)m; break;
		default:
			/* 7 is Sunday as well as 0. */
			s->wdays = (uint32_t)((m | (m >> 7)) & 0x7f);
			s->wday_star = star;
		}
	}
	p.text = text;
	snprintf(s->zone, sizeof(s->zone), "%.*s",
		 zone ? (int)strcspn(zone, " \t") : 3, zone ? zone : "UTC");
	if (tz_load(s->zone, &s->tz, &ze) < 0) {
		if (ze.code == E_NOMEM) {
			err_set(err, E_NOMEM, "out of memory");
			goto fail;
		}
		perr(&p, zone_at, "unknown time zone '%s' (an IANA name like "
				  "Europe/Berlin)",
		     s->zone);
		goto fail;
	}
	{
		int64_t probe, next;

		/* "0 0 30 2 *" parses but never happens. */
		dt_from_civil(2026, 1, 1, 0, 0, 0, &probe);
		if (schedule_next(s, probe, &next) < 0) {
			perr(&p, text, "'%s' never matches a date", text);
			goto fail;
		}
	}
	*out = s;
	return 0;
fail:
	schedule_free(s);
	return -1;
}

void schedule_free(struct schedule *s)
{
	if (!s)
		return;
	tz_free(s->tz);
	free(s);
}

struct civil {
	int y, mo, d, h, mi, s, wd;
};

static void to_civil(int64_t local, struct civil *c)
{
	int64_t days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);

	dt_to_civil(local, &c->y, &c->mo, &c->d, &c->h, &c->mi, &c->s);
	c->wd = (int)(((days % 7) + 11) % 7); /* 1970-01-01: Thursday */
}

static int day_matches(const struct schedule *s, const struct civil *c)
{
	int md = (s->mdays >> c->d) & 1, wd = (s->wdays >> c->wd) & 1;

	if (!((s->months >> c->mo) & 1))
		return 0;
	if (s->mday_star || s->wday_star)
		return md && wd;
	return md || wd;
}

static int matches(const struct schedule *s, int64_t local)
{
	struct civil c;

	to_civil(local, &c);
	return day_matches(s, &c) && ((s->hours >> c.h) & 1) &&
	       ((s->minutes >> c.mi) & 1);
}

/* Step from t to j when the offset is the same there (no transition in
 * between), else one minute. */
static int64_t step_to(const struct schedule *s, int64_t t, long off,
		       int64_t j)
{
	return tz_offset_at(s->tz, j) == off ? j : t + 60;
}

int schedule_next(const struct schedule *s, int64_t after, int64_t *next)
{
	int64_t t, limit = after + HORIZON;
	int fixed_hours = (s->hours & ALL_HOURS) != ALL_HOURS;

	/* The first whole minute strictly after `after`. */
	t = after - ((after % 60) + 60) % 60 + 60;
	while (t <= limit) {
		long off = tz_offset_at(s->tz, t), prev = tz_offset_at(s->tz, t - 60);
		int64_t local = t + off, l;
		struct civil c;

		if (fixed_hours && off > prev) {
			/* Spring forward at t: the local minutes in
			 * [t-60+prev+60, t+off) were skipped; one of them
			 * scheduled runs now, at the end of the gap. */
			for (l = t + prev; l < local; l += 60)
				if (matches(s, l)) {
					*next = t;
					return 0;
				}
		}
		to_civil(local, &c);
		if (!day_matches(s, &c)) {
			t = step_to(s, t, off,
				    t + 86400 - (c.h * 3600 + c.mi * 60 + c.s));
			continue;
		}
		if (!((s->hours >> c.h) & 1)) {
			t = step_to(s, t, off, t + 3600 - (c.mi * 60 + c.s));
			continue;
		}
		if (!((s->minutes >> c.mi) & 1)) {
			int m = c.mi;

			while (m < 60 && !((s->minutes >> m) & 1))
				m++;
			t = step_to(s, t, off, t + (m - c.mi) * 60 - c.s);
			continue;
		}
		if (fixed_hours) {
			int64_t first;

			/* The second occurrence of a repeated local time
			 * does not run a fixed-hour schedule again. */
			if (tz_local_to_utc(s->tz, local, TZ_EARLIER, &first) ==
				    1 &&
			    first < t) {
				t += 60;
				continue;
			}
		}
		*next = t;
		return 0;
	}
	return -1;
}

int schedule_due(const struct schedule *s, int64_t last, int64_t now)
{
	int64_t next;

	if (last <= 0)
		return 1;
	if (schedule_next(s, last, &next) < 0)
		return 0;
	return next <= now;
}

void schedule_format_local(const struct schedule *s, int64_t t, char *out,
			   size_t n)
{
	long off = tz_offset_at(s->tz, t);
	struct civil c;
	long a = off < 0 ? -off : off;

	to_civil(t + off, &c);
	snprintf(out, n, "%04d-%02d-%02d %02d:%02d %c%02ld:%02ld %s", c.y,
		 c.mo, c.d, c.h, c.mi, off < 0 ? '-' : '+', a / 3600,
		 a % 3600 / 60, s->zone);
}

int64_t schedule_clock(void)
{
	const char *v = getenv("STOCKPIPE_NOW");
	int64_t t;

	if (v && *v && dt_parse_iso(v, strlen(v), &t) == 0)
		return t;
	return (int64_t)time(NULL);
}
