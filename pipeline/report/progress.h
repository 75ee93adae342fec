/* progress.h - what a long stage is doing, while it does it.
 *
 * On a terminal (stderr is a TTY, text log format, no --quiet) one line
 * is redrawn in place, at most four times a second:
 *
 *   load  stores/3.jsonl  41.2/100.0 MB  412000 records  20.5 MB/s  ETA 3s
 *
 * and erased when the unit ends. With --log-format json (and no --quiet)
 * a progress event goes out every PROGRESS_EVENT_MS instead, through
 * log_json_event():
 *
 *   {"ts":...,"level":"info","event":"progress","run_id":3,"progress":
 *    {"stage":"load","unit":"stores/3.jsonl","records":412000,
 *     "bytes":43200000,"total_bytes":104857600,"rate_bytes":21500000,
 *     "rate_records":205000,"eta_s":3}}
 *
 * Anywhere else (stderr is a file or a pipe) nothing is printed. A unit
 * that ends within the first second prints nothing either.
 *
 * A unit with a second pass over its records (a large document's load:
 * read and sorted, then applied in one merged pass) goes on with
 * progress_phase(): the line then counts that pass's records against
 * their total, with the ETA from the record rate, e.g.
 *
 *   load  stores/3.jsonl  applied 120000/400000 records  250000 records/s  ETA 1s
 *
 * and the JSON event carries "phase":"apply" and "total_records".
 *
 * Cost per record: progress_tick() is an increment and a mask test; the
 * clock is read once every PROGRESS_EVERY records.
 */
#ifndef STOCKPIPE_PROGRESS_H
#define STOCKPIPE_PROGRESS_H

#include <stdint.h>

#define PROGRESS_EVERY 1024      /* records between clock reads (2^n) */
#define PROGRESS_EVENT_MS 5000   /* JSON: one event this often */

enum progress_mode { PROGRESS_OFF, PROGRESS_TTY, PROGRESS_JSON };

struct progress {
	enum progress_mode mode;
	char stage[16];
	char unit[96];
	int64_t total_bytes;   /* 0 = unknown: no ETA */
	int64_t records, bytes;
	int64_t total_records; /* > 0: the second pass (progress_phase) */
	int64_t start_ms, next_ms;
	int64_t phase_ms;      /* the rates' start: the unit's or the pass's */
	int drawn;             /* a line is on the terminal */
};

/* Starts progress for one unit of a stage. quiet: --quiet was given.
 * total_bytes: the input's size when known, else 0. Never fails. */
void progress_begin(struct progress *p, const char *stage, const char *unit,
		    int64_t total_bytes, int quiet);

/* Slow path of progress_tick(); call that instead. */
void progress_update(struct progress *p);

/* One record done; bytes: the bytes consumed so far (0 if unknown). */
static inline void progress_tick(struct progress *p, int64_t bytes)
{
	p->records++;
	p->bytes = bytes;
	if (p->mode != PROGRESS_OFF && !(p->records & (PROGRESS_EVERY - 1)))
		progress_update(p);
}

/* The unit's second pass over total_records records begins: records
 * count from 0 again (progress_tick(p, 0) per record), rates and ETA from
 * now. The first line still waits for the unit's first second. */
void progress_phase(struct progress *p, int64_t total_records);

/* Erases the terminal line (if drawn), e.g. before a log line. The next
 * update draws it again. */
void progress_clear(struct progress *p);

/* The unit is over: erases the line; nothing more is printed. */
void progress_end(struct progress *p);

#endif
