/* work.h - several worker processes sharing one run (`stockpipe plan`,
 * `stockpipe work`), coordinated only through the state store.
 *
 * `plan` opens a run and lists every source once. Any number of `work`
 * processes, on one machine or several (PostgreSQL state, a shared
 * state_dir), then claim the run's units with leases (state_work.h):
 *  - fetch, unpack and map units in parallel, oldest first;
 *  - the load phase by one worker at a time (named lease "load"): every
 *    source's documents in the order one process would load them, then
 *    the sources' acknowledgments and after_load handling, then the
 *    targets' render units;
 *  - render and deliver units in parallel (targets are independent);
 *  - the run's conclusion (report, final state) by one worker.
 * A worker that dies leaves its units running under a lease; once the
 * lease expires another worker claims and redoes them. A worker whose
 * lease was taken over cannot commit a unit's completion (the store
 * refuses: state_set_worker).
 */
#ifndef STOCKPIPE_WORK_H
#define STOCKPIPE_WORK_H

#include <stdint.h>

#include "pipeline/cli/cli.h"

struct work_opts {
	int64_t run_id;
	const char *stage;   /* only this stage; NULL = every stage */
	const char *source;  /* fetch..map of this source only; NULL = all */
	const char *worker;  /* name in the store; NULL = HOST:PID */
	int lease_s;         /* lease length, seconds */
	int poll_ms;         /* idle wait between looks for work */
	int retry;           /* failed units back to pending first */
};

/* `stockpipe plan`: opens a new run (or the unfinished one), lists every
 * source and prints the run id on stdout. Returns the exit code. */
int work_plan(const struct cli_global *g);

/* `stockpipe work`: works run o->run_id until it is finished (or, with
 * --stage, until that stage has nothing left). Returns the exit code. */
int work_main(const struct cli_global *g, const struct work_opts *o);

#endif
