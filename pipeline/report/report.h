/* report.h - what a run did, for people (stderr) and machines (JSON).
 *
 * Built from the unit rows of the state store, not from counters kept in
 * memory, so a resumed run reports the whole run, including what the
 * crashed process did before it died.
 */
#ifndef STOCKPIPE_REPORT_H
#define STOCKPIPE_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "pipeline/store/state.h"

#define REPORT_NSTAGES 6

struct report_stage {
	int64_t units[6];        /* by enum unit_state */
	int64_t records_in, records_out, rejects, dupes, stale;
	int64_t held, converted; /* load: held by authority, unit converted */
	int64_t ms;              /* summed unit durations */
};

/* What a source's loads did not apply, and its rejects (map and load). */
struct report_source {
	char name[128];
	int64_t rejects, dupes, stale, held, converted;
};

struct report {
	int64_t run_id;
	char status[16];
	int exit_code;
	struct report_stage stage[REPORT_NSTAGES];
	int64_t rejects, quarantined, dupes, stale, failed, delivered;
	int64_t held, converted;
	struct report_source *src; /* per source, in order of appearance */
	size_t nsrc;
	int oom;                 /* a per-source row could not be added */
	int nothing_to_do;       /* no new input and nothing delivered */
	struct buf notes;        /* human lines: failures, quarantine, files */
	struct buf json_units;   /* JSON array body of notable units */
	int64_t units_omitted;   /* notable units left out of json_units */
};

int report_build(struct state *st, int64_t run_id, struct report *rep,
		 struct err *err);
/* The JSON report (one object, no newline) appended to out; -1 when it
 * does not fit. */
int report_json(const struct report *rep, struct buf *out);
/* Writes state_dir/reports/run-ID.json atomically. */
int report_write(const struct report *rep, const char *state_dir,
		 struct err *err);
void report_print(const struct report *rep, FILE *out);

struct config;
/* The run as one self-contained HTML page (report_html.c): stage timeline,
 * counts per source and target, rejects with locations and reasons,
 * quarantined units, deliveries and the stock sent to each target. */
int report_html(struct state *st, const struct config *cfg,
		const struct state_run *run, struct buf *out, struct err *err);
void report_release(struct report *rep);

#endif
