/* ack_view.h - what the partners' acknowledgments said (state_acks.h),
 * for people and monitoring: the lines of `stockpipe show RUN`, its
 * `--json` field, the metrics lines and the HTML table. Each lists the
 * EDI sets a run delivered to targets with `acks_in:` with the status of
 * their acknowledgment (accepted, accepted with errors, partially
 * accepted, rejected with the partner's AK3/AK4/IK3/IK4/UCS/UCD details,
 * or none yet, "overdue" once the target's `after` has passed), then what
 * the run read that matched no delivery and the files it could not read.
 *
 * "now" for overdue is the run clock's: STOCKPIPE_NOW when set, else the
 * time.
 */
#ifndef STOCKPIPE_ACK_VIEW_H
#define STOCKPIPE_ACK_VIEW_H

#include <stdint.h>
#include <stdio.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "pipeline/config.h"
#include "pipeline/store/state.h"

/* 1 when a target of cfg has acks_in: (show --json adds its fields). */
int ack_view_any(const struct config *cfg);

/* Prints an "acknowledgments:" section for run_id to out; nothing when
 * the run has nothing to show. 0, or -1 with err. */
int ack_view_show_text(struct state *st, const struct config *cfg,
		       int64_t run_id, FILE *out, struct err *err);

/* `show RUN --json`: the saved report of run_id (STATE_DIR/reports/
 * run-ID.json, one JSON object) to out with the field "acks" added: an
 * array of {target, file, run_id, format, interchange, group, set_type,
 * set, status, overdue, ack_file, ack_type, ack_line, reasons[]} and
 * "acks_unmatched": [{target, file, line, ack_type, status, interchange,
 * group, set_type, set, error}]. 0, or -1 with err. */
int ack_view_show_json(struct state *st, const struct config *cfg,
		       int64_t run_id, FILE *out, struct err *err);

/* Appends an <h2>Acknowledgments</h2> section with a table for run_id
 * (nothing when the run has nothing to show). 0, or -1 with err. */
int ack_view_html(struct buf *b, struct state *st, const struct config *cfg,
		  int64_t run_id, struct err *err);

#endif
