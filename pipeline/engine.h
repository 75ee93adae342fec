/* engine.h - the unit state machine under both schedulers: run.c (one
 * process works a run) and work.c (several worker processes share one).
 * A unit goes pending -> running -> done (with its successor), failed
 * (retried while transient, then parked), quarantined, or back to
 * pending when a signal stops it. Not a public interface: the schedulers
 * and the stages include it (through run_int.h).
 */
#ifndef STOCKPIPE_ENGINE_H
#define STOCKPIPE_ENGINE_H

#include <stdint.h>

#include "pipeline/cli/cli.h"
#include "config.h"
#include "lib/err.h"
#include "run.h"
#include "pipeline/store/state.h"

enum { ST_FETCH, ST_UNPACK, ST_MAP, ST_LOAD, ST_RENDER, ST_DELIVER };

struct run {
	const struct cli_global *g;
	const struct run_opts *o;
	struct config *cfg;
	struct state *st;
	int64_t run_id;
	int64_t now;              /* run clock, seconds (STOCKPIPE_NOW) */
	int failed_units;         /* units left failed by this invocation */
	struct err first;         /* the first unit failure */
	struct err last;          /* the latest unit failure (retries) */
	int interrupted;
	int held;                 /* targets held: sources not done yet */
	int worked;               /* units started in this invocation */
	int advanced;             /* units this invocation finished */
	int advanced_in[6];       /* the same, by stage */
	int64_t retried_parked;   /* parked units of older runs it retried */
};

/* One unit of any stage, with the retries of transient failures. */
struct unit_call {
	struct run *r;
	int (*fn)(void *ud, struct state_unit *u);
	void *ud;
	/* Retrying an older run's parked units in place: its failed units
	 * that are not due for a retry are left alone. */
	int parked_only;
};

/* Logs err as the reason the command stopped and returns its exit code
 * (never 0 or 1: the work was not done). */
int run_fail(const struct err *err);


/* True once SIGTERM/SIGINT asked us to stop at the next safe point. */
int run_stopping(void);


/* Builds and writes the run's report, records its final state, writes
 * metrics and prints the summary. Returns the process exit code. */
int run_conclude(struct run *r, struct err *err);


int64_t run_now_ms(void);

int run_unit_begin(struct run *r, struct state_unit *u, struct err *err);
int run_unit_fail(struct run *r, struct state_unit *u, const struct err *e,
		  int quarantine);
int run_unit_interrupted(struct run *r, struct state_unit *u);

int run_unit_done(struct run *r, struct state_unit *u,
		  struct state_unit *next, struct err *err);

void run_unit_init(struct state_unit *u, const struct run *r, int stage,
		   const char *scope, const char *ukey);

int run_until_stage(const struct run *r);

void backoff_wait(int64_t ms);
int64_t backoff_ms(const struct run *r, int k);
void unit_outcome(struct run *r, const struct state_unit *u, int was);
int unit_call(void *ud, struct state_unit *u);
int run_partial(const struct run *r);
int reconclude(struct run *r, int64_t run_id, struct err *err);
int code_combine(int a, int b);
void run_reset(struct run *r);
void on_signal(int sig);
int run_new(struct run *r, struct err *err);

#endif
