/* report_html_int.h - what the parts of the run's HTML page share:
 * report_html.c (header, stages, timeline, sources, failures and their
 * next steps), report_html_rejects.c (rejected records) and
 * report_html_target.c (deliveries and one panel per target).
 */
#ifndef STOCKPIPE_REPORT_HTML_INT_H
#define STOCKPIPE_REPORT_HTML_INT_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "pipeline/store/state.h"
#include "report.h"

struct config;
struct cfg_target;

/* Stage indexes, as report.c counts them. */
enum { HS_FETCH, HS_UNPACK, HS_MAP, HS_LOAD, HS_RENDER, HS_DELIVER };
extern const char *const html_stage_names[REPORT_NSTAGES];

/* One unit of the run, copied for the page (cells cut on purpose). */
struct unit_row {
	int stage, state, err_class, outcome;
	int64_t id, start, end, in, out, rejects, dupes, retried_in;
	int64_t stale, held, converted;
	char scope[128], key[256], detail[512], output[4096];
};

struct collect {
	struct unit_row *rows;
	size_t n, cap;
	int stage;
};

/* The page being written. */
struct html_ctx {
	struct buf *b;
	struct state *st;
	const struct config *cfg;
	const struct state_run *run;
	const struct report *rep;
	const struct collect *c;
	/* The run's clock (STOCKPIPE_NOW or the time it started, as the
	 * stages saw it): the time of its deliveries; 0 when it delivered
	 * nothing (runs.started_at is the wall clock). */
	int64_t run_clock;
	char cmd[8400];         /* "stockpipe -c CONFIG --state-dir DIR" */
};

/* HTML-escapes s (all five special characters). */
void html_esc(struct buf *b, const char *s, size_t n);
void html_escs(struct buf *b, const char *s);
/* A header row of n columns (names are literals, not escaped). */
void html_th(struct buf *b, const char *const *cols, size_t n);
/* <code>stockpipe -c CONFIG --state-dir DIR ARGS</code>, escaped; args
 * is a printf format. */
void html_cmd(const struct html_ctx *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The next step that fits a failed or quarantined unit r: what to fix
 * and the exact command to run. */
void html_next_step(const struct html_ctx *h, const struct unit_row *r);
/* The CSV record raw as <td> cells (in a <table class="cells"> row when
 * wrap), split by libcsv as the CSV reader splits it (csv_reader.c); -1
 * with nothing written when it is not one well-formed record. */
int html_csv_cells(struct buf *out, const char *raw, char delim, char quote,
		   int trim, int wrap);
/* The inbound mapping of document doc of source name: the route whose
 * pattern matches it, else the source's mapping; NULL when unknown. */
const char *html_source_mapping(const struct config *cfg, const char *name,
				const char *doc);
/* report_html_rejects.c: the rejected records, with the next steps. */
void html_rejects(const struct html_ctx *h);
/* "3 h 05 min" for a duration in seconds (>= 0). */
void html_duration(struct buf *b, int64_t secs);

/* report_html_warn.c: the run's warnings, located; nothing when it has
 * none. */
int html_warnings(const struct html_ctx *h, struct err *err);

/* report_html_target.c: the run's deliveries (published and failed told
 * apart) and a panel per configured target: what was published, the
 * changes against the previous delivery to it, the age of its data and
 * the stale sources held back. */
int html_targets(struct html_ctx *h, struct err *err);

#endif
