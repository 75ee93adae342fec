/* progress.c - see progress.h. */
#include "progress.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/log.h"

#define PROGRESS_FIRST_MS 1000   /* a unit shorter than this shows nothing */
#define PROGRESS_REDRAW_MS 250

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void progress_begin(struct progress *p, const char *stage, const char *unit,
		    int64_t total_bytes, int quiet)
{
	memset(p, 0, sizeof(*p));
	/* the names are for display only: a long one is shown cut */
	snprintf(p->stage, sizeof(p->stage), "%s", stage);
	snprintf(p->unit, sizeof(p->unit), "%s", unit);
	p->total_bytes = total_bytes;
	if (quiet)
		p->mode = PROGRESS_OFF;
	else if (log_get_format() == LOG_JSON)
		p->mode = PROGRESS_JSON;
	else if (isatty(STDERR_FILENO))
		p->mode = PROGRESS_TTY;
	else
		p->mode = PROGRESS_OFF;
	if (p->mode == PROGRESS_OFF)
		return;
	p->start_ms = mono_ms();
	p->phase_ms = p->start_ms;
	p->next_ms = p->start_ms + PROGRESS_FIRST_MS;
}

void progress_phase(struct progress *p, int64_t total_records)
{
	if (p->mode == PROGRESS_OFF)
		return;
	p->total_records = total_records > 0 ? total_records : 1;
	p->records = 0;
	p->bytes = 0;
	p->total_bytes = 0;
	p->phase_ms = mono_ms();
}

/* Rates per second and the ETA in seconds (-1 = unknown). */
static void rates(const struct progress *p, int64_t now, double *rbytes,
		  double *rrecs, int64_t *eta)
{
	double s = (double)(now - p->phase_ms) / 1000.0;

	if (s <= 0)
		s = 0.001;
	*rbytes = (double)p->bytes / s;
	*rrecs = (double)p->records / s;
	*eta = -1;
	if (p->total_bytes > 0 && p->bytes > 0 && *rbytes > 0 &&
	    p->bytes <= p->total_bytes)
		*eta = (int64_t)((double)(p->total_bytes - p->bytes) /
				 *rbytes + 0.5);
	else if (p->total_records > 0 && p->records > 0 && *rrecs > 0 &&
		 p->records <= p->total_records)
		*eta = (int64_t)((double)(p->total_records - p->records) /
				 *rrecs + 0.5);
}

/* The terminal line is not a log line: it is redrawn in place with "\r"
 * and erased at the end, so it goes to the terminal directly. */
static void draw(struct progress *p, int64_t now)
{
	char line[400], part[80];
	double rb, rr;
	int64_t eta;
	size_t n;

	rates(p, now, &rb, &rr, &eta);
	n = (size_t)snprintf(line, sizeof(line), "\r%-6s %.60s ", p->stage,
			     p->unit);
	if (p->total_bytes > 0)
		snprintf(part, sizeof(part), " %.1f/%.1f MB",
			 (double)p->bytes / 1e6,
			 (double)p->total_bytes / 1e6);
	else if (p->bytes > 0)
		snprintf(part, sizeof(part), " %.1f MB",
			 (double)p->bytes / 1e6);
	else
		part[0] = '\0';
	if (p->total_records > 0)
		n += (size_t)snprintf(line + n, sizeof(line) - n,
				      " applied %lld/%lld records",
				      (long long)p->records,
				      (long long)p->total_records);
	else
		n += (size_t)snprintf(line + n, sizeof(line) - n,
				      "%s  %lld records", part,
				      (long long)p->records);
	if (p->bytes > 0)
		n += (size_t)snprintf(line + n, sizeof(line) - n,
				      "  %.1f MB/s", rb / 1e6);
	else
		n += (size_t)snprintf(line + n, sizeof(line) - n,
				      "  %.0f records/s", rr);
	if (eta >= 0)
		n += (size_t)snprintf(line + n, sizeof(line) - n,
				      "  ETA %llds", (long long)eta);
	n += (size_t)snprintf(line + n, sizeof(line) - n, "\033[K");
	/* a short or failed write only loses one frame of a display */
	if (write(STDERR_FILENO, line, n) < 0)
		return;
	p->drawn = 1;
}

static void event(const struct progress *p, int64_t now)
{
	struct buf b = BUF_INIT(4096);
	double rb, rr;
	int64_t eta;

	rates(p, now, &rb, &rr, &eta);
	/* stage and unit are source/document names from the config and the
	 * fetched listing: written by lib/buf's JSON string writer, like
	 * every other JSON line (escaped, always valid UTF-8, never cut) */
	buf_adds(&b, "{\"stage\":");
	buf_add_json_str(&b, p->stage, strlen(p->stage));
	buf_adds(&b, ",\"unit\":");
	buf_add_json_str(&b, p->unit, strlen(p->unit));
	if (p->total_records > 0)
		buf_addf(&b, ",\"phase\":\"apply\",\"total_records\":%lld",
			 (long long)p->total_records);
	buf_addf(&b, ",\"records\":%lld,\"bytes\":%lld,\"total_bytes\":%lld,"
		 "\"rate_bytes\":%.0f,\"rate_records\":%.0f,"
		 "\"elapsed_ms\":%lld,\"eta_s\":%lld}",
		 (long long)p->records, (long long)p->bytes,
		 (long long)p->total_bytes, rb, rr,
		 (long long)(now - p->start_ms), (long long)eta);
	/* A progress event is advice: one that cannot be built is left out
	 * (the next comes 5 s later), never written cut. */
	if (!b.err)
		log_json_event("info", "progress", "progress", b.ptr, b.len);
	buf_release(&b);
}

void progress_update(struct progress *p)
{
	int64_t now = mono_ms();

	if (now < p->next_ms)
		return;
	if (p->mode == PROGRESS_TTY) {
		draw(p, now);
		p->next_ms = now + PROGRESS_REDRAW_MS;
	} else if (p->mode == PROGRESS_JSON) {
		event(p, now);
		p->next_ms = now + PROGRESS_EVENT_MS;
	}
}

void progress_clear(struct progress *p)
{
	static const char erase[] = "\r\033[K";

	if (!p->drawn)
		return;
	p->drawn = 0;
	if (write(STDERR_FILENO, erase, sizeof(erase) - 1) < 0)
		return;
}

void progress_end(struct progress *p)
{
	progress_clear(p);
	p->mode = PROGRESS_OFF;
}
