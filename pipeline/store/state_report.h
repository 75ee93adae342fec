/* state_report.h - the state store's reads for the run's HTML page
 * (report_html.c): what a run's deliveries are compared with, how old
 * the stock in them was, and when each source last sent a file as of a
 * run. Read-only; no table of its own. See state.h for the store.
 */
#ifndef STOCKPIPE_STATE_REPORT_H
#define STOCKPIPE_STATE_REPORT_H

#include <stdint.h>

#include "lib/err.h"
#include "state.h"

/* The delivery to target just before the one named file_name (by the
 * ledger's order, seq); *found = 0 when file_name was the first (or is
 * not in the ledger). */
int state_report_prev_delivery(struct state *s, const char *target,
			       const char *file_name,
			       struct state_delivery *out, int *found,
			       struct err *err);

/* Per (sku, location, state), the newest as_of among the applied stock
 * events of documents mapped in runs up to run_id: a position's as_of as
 * it stood after that run (documents of later runs left out), ordered by
 * sku, location, state. Streamed (one row per position). The strings are
 * valid during the callback only; a non-zero return stops the walk. */
int state_report_ages_each(struct state *s, int64_t run_id,
			   int (*cb)(void *ud, const char *sku,
				     const char *location, int state,
				     int64_t as_of),
			   void *ud, struct err *err);

/* The newest run up to run_id that fetched a file of source (*last_run,
 * 0 when none did). */
int state_report_source_last_run(struct state *s, const char *source,
				 int64_t run_id, int64_t *last_run,
				 struct err *err);

#endif
