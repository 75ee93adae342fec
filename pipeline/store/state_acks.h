/* state_acks.h - acknowledgments back (schema 8): the tables ack_expect
 * (per delivered EDI set: its control numbers and the status the partner
 * gave it), ack_received (each acknowledged unit read from the partner's
 * files, matched or not, and the files that could not be read) and
 * ack_received_errors (the partner's error details). Written by the
 * ackin step (pipeline/stages/stage_ackin.c), read by show, the metrics
 * and the HTML report (pipeline/report/ack_view.c). The outgoing acks of
 * sources are another family (state_edi.c, edi_acks).
 *
 * Control numbers are matched as keys without zero padding ("0042" and
 * "42" are one number; ack_key()), compared as text so no backend has to
 * cast a partner's value to a number.
 */
#ifndef STOCKPIPE_STATE_ACKS_H
#define STOCKPIPE_STATE_ACKS_H

#include <stddef.h>
#include <stdint.h>

#include "state.h"
#include "transforms/formats/ack_read.h"

/* The key of a control number: leading zeros dropped ("0" stays). */
void state_acks_key(const char *control, char *out, size_t n);

/* One delivered set waiting for its acknowledgment. */
struct state_acks_expect {
	const char *target, *file_name, *format;
	const char *ic_control, *grp_control, *set_type, *set_control;
	int64_t run_id, delivered_at;
};
/* Records x (again: nothing changes). */
int state_acks_expect_add(struct state *s, const struct state_acks_expect *x,
			  struct err *err);
/* *found = 1 when target's delivery file_name has its sets recorded. */
int state_acks_expected(struct state *s, const char *target,
			const char *file_name, int *found, struct err *err);

/* One acknowledged unit read back (ack_read.h), or a file that could not
 * be read (a == NULL: level 0, error = why). */
struct state_acks_in {
	const char *target, *file;
	int64_t run_id, read_at;
	const struct ack_read_ack *a;
	const char *error;
	unsigned long line;       /* of a bad file's error */
};
/* Adds it with its details (errs[i].ack == index) and returns its id. */
int state_acks_in_add(struct state *s, const struct state_acks_in *in,
		      size_t index, const struct ack_read_result *res,
		      int64_t *id, struct err *err);

/* Gives the deliveries of target that acknowledged unit a (of format)
 * answers the status a->status from ack id, at `at`: an interchange
 * (ic_control), a group (grp_control) or a set (grp and set control, or
 * for EDIFACT ic and set). A TA1 that accepts never replaces an answer
 * already there (the 997 that follows it says more). *n = sets matched;
 * the ack is marked matched when n > 0. */
int state_acks_match(struct state *s, const char *target,
		     const struct ack_read_ack *a, int64_t id, int64_t at,
		     int64_t *n, struct err *err);

/* A delivered set and its answer, for show and the report. */
struct state_acks_row {
	char target[128], file_name[256], format[8];
	char ic_control[16], grp_control[16], set_type[8], set_control[16];
	int64_t run_id, delivered_at, status, ack_id, acked_at;
	char ack_file[256], ack_type[8], code[4];
	int64_t ack_line;
};
/* The sets delivered by run_id (run_id 0: every run of target; target
 * NULL: every target), in target, delivery order. cb returns nonzero to
 * stop (< 0: an error with err set). */
int state_acks_deliveries_each(struct state *s, int64_t run_id,
			       const char *target,
			       int (*cb)(void *ud,
					 const struct state_acks_row *r),
			       void *ud, struct err *err);

/* An acknowledged unit read back by a run. */
struct state_acks_recv {
	int64_t id, line, level, status, matched;
	char target[128], file[256], ack_type[8], sender[40];
	char ic_control[16], grp_control[16], set_type[8], set_control[16];
	char code[4], error[512];
};
/* What run_id read that matched nothing, and the files it could not
 * read (level 0). */
int state_acks_unmatched_each(struct state *s, int64_t run_id,
			      int (*cb)(void *ud,
					const struct state_acks_recv *r),
			      void *ud, struct err *err);

/* The partner's error details of ack id, in order. */
int state_acks_errors_each(struct state *s, int64_t id,
			   int (*cb)(void *ud, const struct ack_read_err *e),
			   void *ud, struct err *err);

/* target's deliveries (files) without an answer delivered before
 * `before` (overdue), and those whose answer is a rejection. */
int state_acks_counts(struct state *s, const char *target, int64_t before,
		      int64_t *overdue, int64_t *rejected, struct err *err);

/* *n = files run_id read from an acks_in folder that were no readable
 * acknowledgment (set aside): the run ends with exit 1 like one with a
 * quarantined document. */
int state_acks_unreadable(struct state *s, int64_t run_id, int64_t *n,
			  struct err *err);

#endif
