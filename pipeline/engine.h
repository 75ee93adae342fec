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
};

/* One unit of any stage, with the retries of transient failures. */
struct eng_call {
	struct run *r;
	int (*fn)(void *ud, struct state_unit *u);
	void *ud;
	/* Retrying an older run's parked units in place: its failed units
	 * that are not due for a retry are left alone. */
	int parked_only;
};

/* ---- signals ---------------------------------------------------------- */

/* Installs the SIGTERM/SIGINT handler: it only sets a flag, and each
 * stage stops at its next safe point (eng_stopping). */
void eng_signals_install(void);

/* True once SIGTERM/SIGINT asked us to stop at the next safe point. */
int eng_stopping(void);

/* ---- transactions ------------------------------------------------------- */

/* The one shape of a store transaction in the engine and the stages:
 *
 *	if (eng_tx_begin(st, err) < 0 ||
 *	    eng_tx_end(st, step_one(...) < 0 || step_two(...) < 0, err) < 0)
 *		return -1;
 *
 * The steps run between the two (C evaluates eng_tx_end's arguments
 * first); eng_tx_end commits when rc is 0 and rolls back otherwise (err
 * then holds what the failed step said). Returns 0, or -1 with err (the
 * step's error, or the commit's: a failed commit is rolled back). */
int eng_tx_begin(struct state *st, struct err *err);
/* Without the store's writer lock on PostgreSQL (state_begin_rows): a
 * load. */
int eng_tx_begin_rows(struct state *st, struct err *err);
int eng_tx_end(struct state *st, int rc, struct err *err);

/* ---- the unit state machine --------------------------------------------- */

/* Copies src into the unit field dst of size n; when it does not fit,
 * E_TOOBIG naming what (e.g. "output path") and the limit, so a long
 * path or key fails its unit instead of being cut silently. */
int eng_field(char *dst, size_t n, const char *src, const char *what,
	      struct err *err) __attribute__((warn_unused_result));

/* A pending unit of stage (ST_*) for scope (source or target) and ukey. */
void eng_unit_init(struct state_unit *u, const struct run *r, int stage,
		   const char *scope, const char *ukey);

/* pending -> running: counts the attempt, in its own transaction, so that
 * `runs`/`show` tell which unit a dead process was working on. */
int eng_unit_start(struct run *r, struct state_unit *u, struct err *err);

/* running -> done, and its successor next (may be NULL) pending, in one
 * transaction: the chain of units never has a gap. */
int eng_unit_finish(struct run *r, struct state_unit *u,
		    struct state_unit *next, struct err *err);
/* eng_unit_finish that also runs also(ud, err) in its transaction, before
 * the units are saved: a write the successor needs (the map's txn_own)
 * commits with it, not in a transaction (a commit) of its own. */
int eng_unit_finish_with(struct run *r, struct state_unit *u,
			 struct state_unit *next,
			 int (*also)(void *ud, struct err *err), void *ud,
			 struct err *err);

/* Commits the open transaction that saved u done with its finish time
 * (a stage's own, as the load's: its rows and the unit together). That
 * time cannot count the commit, which on a large document writes the
 * rest of its pages and fsyncs them (0.4 s of a 100 MB CSV load): with
 * again, u's finish time is saved again after it, in a transaction of
 * its own (an fsync more), so the unit's duration is what it cost. The
 * caller decides from the work, not from the time the commit took: the
 * number of durable operations of a run must not depend on timing
 * (crash tests number them). 0, or -1 with err when the commit failed
 * (rolled back); a failure of the second save is logged, as the unit is
 * done whatever its finish time says. */
int eng_unit_commit(struct run *r, struct state_unit *u, int again,
		    struct err *err);

/* running -> failed with e and its class (err_class): the run goes on
 * with other scopes; eng_unit_call retries a transient failure, and a
 * unit still failed after that is parked (state_park.h). Returns 0, what
 * a stage returns for a unit failure it recorded. */
int eng_unit_fail(struct run *r, struct state_unit *u, const struct err *e);

/* running -> quarantined with why (no class: an operator releases it).
 * Returns 0, as eng_unit_fail. */
int eng_unit_quarantine(struct run *r, struct state_unit *u,
			const struct err *why);

/* running -> pending after a signal: nothing of it was published, and the
 * resumed run redoes it from the start. Returns 1 (interrupted). */
int eng_unit_interrupted(struct run *r, struct state_unit *u);

/* Counts u's final outcome in this invocation (was: its state before): a
 * unit left failed after its retries is parked, and its error may become
 * the run's exit code. */
void eng_unit_outcome(struct run *r, const struct state_unit *u, int was);

/* A state_units_each callback (ud: struct eng_call): does one unit with
 * c->fn, retrying transient failures with backoff, then counts its
 * outcome. 0, 1 when a signal interrupted it, -1 when the store failed. */
int eng_unit_call(void *ud, struct state_unit *u);

/* The wait before retry number k (1-based): retry_backoff, twice that,
 * ... at most 10 minutes; and the wait itself, in short slices so that a
 * signal ends it at once. */
int64_t eng_backoff_ms(const struct run *r, int k);
void eng_backoff_wait(int64_t ms);

/* Wall clock in milliseconds (unit start and finish times). */
int64_t eng_now_ms(void);

/* ---- runs and their conclusion ------------------------------------------ */

/* Creates a new run, its id in r->run_id: eng_run_create inside the
 * caller's transaction, eng_run_new in its own. */
int eng_run_create(struct run *r, struct err *err);
int eng_run_new(struct run *r, struct err *err);

/* The last stage this invocation runs (--until; default deliver). */
int eng_until_stage(const struct run *r);

/* A run invocation limited to part of the work (per-stage scheduler
 * tasks): it does not finish the run. */
int eng_partial(const struct run *r);

/* Builds and writes the run's report, records its final state, writes
 * metrics and prints the summary. Returns the process exit code (by the
 * error classes of what is parked), or -1 with err. */
int eng_conclude(struct run *r, struct err *err);

/* After its parked units were retried by a later run: run_id's report
 * and exit code again. */
int eng_reconclude(struct run *r, int64_t run_id, struct err *err);

/* Logs err as the reason the command stopped and returns its exit code
 * (never 0 or 1: the work was not done). */
int eng_fail(const struct err *err);

/* Exit codes of two runs one invocation concluded: the graver one. */
int eng_code_combine(int a, int b);

/* Clears what one invocation counted, before a second run (chain). */
void eng_reset(struct run *r);

#endif
