/* run.h - the stage engine: fetch -> unpack -> map -> load -> render ->
 * deliver, one unit at a time, every unit checkpointed in the state store.
 *
 * The rules that make a crash at any instant harmless:
 *  - a unit's outputs are published (tmp + fsync + rename) before the
 *    transaction that marks it done, and that transaction also creates the
 *    next stage's unit, so the chain never has a gap;
 *  - a unit found "running" belonged to a dead process and is redone; its
 *    outputs have deterministic names, so redoing overwrites, not adds;
 *  - load applies a document and marks it done in one transaction, and
 *    takes back an earlier load of the same document first;
 *  - delivery consults the delivery ledger (target, content hash) first.
 */
#ifndef STOCKPIPE_RUN_H
#define STOCKPIPE_RUN_H

#include <stdint.h>

#include "pipeline/cli/cli.h"

/* RUN_DELIVER: `deliver --now`, one target (only_target, targets_only)
 * rendered and delivered in a new run whatever its schedule. */
/* RUN_WORK: one of several worker processes sharing a run (work.c). */
enum run_mode { RUN_NEW, RUN_RESUME, RUN_RERUN, RUN_REPLAY, RUN_DELIVER,
		RUN_WORK };

struct run_opts {
	enum run_mode mode;
	int64_t run_id;           /* for resume/rerun; 0 = latest unfinished */
	const char *from_stage;   /* rerun: unpack map load render deliver */
	const char *only_source;  /* rerun, run, replay: limit to one source */
	const char *only_target;  /* rerun, run: limit to one target */
	/* run only (scheduler tasks, e.g. one Airflow task per stage):
	 * until_stage stops after that stage; with only_source the targets
	 * are not rendered, with only_target or targets_only the sources are
	 * not touched. Such a "partial" invocation leaves the run open
	 * (status "partial") for the next task; an invocation without
	 * --source/--target/--until finishes it. */
	const char *until_stage;  /* NULL = deliver (everything) */
	int targets_only;
	const char *replay_file;  /* replay: the raw file */
	/* retry: before the new run, ask for a retry of this parked unit, or
	 * of every parked unit of this run (state_park.h) */
	int64_t retry_unit, retry_run;
};

/* Shown in a released map unit's detail: `quarantine release --accept`
 * waived the reject threshold for that document (the flag the map stage
 * reads is the unit's accept_rejects). */
#define QUARANTINE_ACCEPT_TAG "[accept-rejects]"

/* Runs the pipeline as o says and returns the process exit code. Prints
 * the human summary on stderr and writes the JSON report. */
int run_pipeline(const struct cli_global *g, const struct run_opts *o);

/* Index of a stage name, or -1. */
int run_stage_index(const char *name);

/* The stage names, in order (fetch ... deliver). */
extern const char *const run_stage_names[];

/* Parses "map" or "fetch,unpack,map" into a bit per stage index; -1 when
 * the list is empty or names something that is not a stage. */
int run_stage_mask(const char *list, unsigned *mask);

#endif
