/* schedule.h - cron schedules for targets, evaluated in a time zone.
 *
 * A target's `schedule:` is `always`, `every DURATION` (config.c) or a
 * five-field cron expression with an optional IANA zone after it:
 *
 *     minute hour day-of-month month day-of-week [ZONE]
 *     "*\/15 * * * *"   "0 2 * * 1-5 Europe/Berlin"   "30 6 1,15 * *"
 *
 * Fields take `*`, numbers, ranges `a-b`, steps `*\/n` `a-b/n` `a/n`, and
 * lists of those; months JAN-DEC and days SUN-SAT (7 is Sunday too) may
 * be named. @hourly, @daily (@midnight), @weekly, @monthly and @yearly
 * (@annually) stand for their usual expressions. Without a zone, UTC.
 * As in Vixie cron, when both day fields are restricted a day matches if
 * either does.
 *
 * Daylight saving time (ISC cron's rules): a schedule whose hour field
 * covers every hour ("*", "*\/1", "0-23") follows the wall clock: local
 * times that do not exist are skipped and a repeated hour runs twice. A
 * schedule with fixed hours runs once per local time: a time inside the
 * spring-forward gap runs when the gap ends, and in the repeated autumn
 * hour only the first occurrence counts.
 */
#ifndef STOCKPIPE_SCHEDULE_H
#define STOCKPIPE_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

struct tz;

struct schedule {
	uint64_t minutes;  /* bit m: minute m (0-59) */
	uint32_t hours;    /* bit h: hour h (0-23) */
	uint32_t mdays;    /* bit d: day of month d (1-31) */
	uint32_t months;   /* bit m: month m (1-12) */
	uint32_t wdays;    /* bit w: weekday w (0 = Sunday .. 6) */
	int mday_star;     /* day-of-month field started with '*' */
	int wday_star;     /* day-of-week field started with '*' */
	struct tz *tz;     /* the zone (UTC when none was given) */
	char zone[128];    /* zone name as written, or "UTC" */
	char text[256];    /* the expression as written */
};

/* Parses a cron expression (with optional zone). Returns 0 and a schedule
 * to free with schedule_free(), or -1 with err (E_CONFIG) and *errpos the
 * byte offset in text where the problem starts. */
int schedule_parse(const char *text, struct schedule **out, size_t *errpos,
		   struct err *err);
void schedule_free(struct schedule *s);

/* The first scheduled instant strictly after `after` (UTC seconds).
 * Returns 0, or -1 when nothing matches within ten years. */
int schedule_next(const struct schedule *s, int64_t after, int64_t *next);

/* Whether a scheduled instant has passed since last: some t with
 * last < t <= now. last = 0 (never delivered or considered) is due. A
 * window missed while the job did not run makes it due once, not once per
 * missed window. */
int schedule_due(const struct schedule *s, int64_t last, int64_t now);

/* Formats t as local time in the schedule's zone:
 * "2026-03-30 02:30 +02:00 Europe/Berlin". */
void schedule_format_local(const struct schedule *s, int64_t t, char *out,
			   size_t n);

/* The run clock: $STOCKPIPE_NOW (ISO 8601, for tests) or the system time. */
int64_t schedule_clock(void);

#endif
