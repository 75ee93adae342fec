/* render_par.h - the rows of a run's due targets rendered on threads of
 * their own, while the targets are still worked one after another.
 *
 * The render stage works target after target (run.c): plan, render,
 * deliver, and the next target. Most of a render is formatting the rows
 * (about a second each for a 100 MB input), which needs no store: only
 * the positions, and they are the same for every target of a run
 * (render_share.h). So before the first target, the run adds each due
 * stock target it will render (render_par_add, with the inputs the
 * render unit computes: the target as rendered, its outbound mapping,
 * its file and reject paths) and starts (render_par_start): threads
 * render the jobs' rows (render_part_rows) from the positions' shared
 * copy while the store's thread walks the store into that copy. Nothing
 * is published: each job's file, picture and rejects wait as temporary
 * files. Then the render unit of each target, in the usual order, takes
 * its job (render_par_take) and publishes it (render_part_publish) with
 * the same transactions, checks and crash points as a render of its own:
 * the run's checkpoints, report lines and delivered bytes are what they
 * were.
 *
 * A job is only ever a head start: when the unit's inputs differ from the
 * job's, or the job failed (a row needing the store, a bad row, a full
 * disk), render_par_take returns NULL and the unit renders the target
 * itself as before, so a target's failure is its own and is reported as
 * before; the others' jobs are untouched. The threads never touch the
 * store, the run or the log; one store connection stays on one thread.
 */
#ifndef STOCKPIPE_RENDER_PAR_H
#define STOCKPIPE_RENDER_PAR_H

#include "lib/err.h"
#include "pipeline/config.h"
#include "pipeline/store/state.h"
#include "transforms/outbound/outbound.h"

/* At most this many render threads, whatever is asked for. */
#define RENDER_PAR_MAX 8

/* The render threads a run may use: $STOCKPIPE_RENDER_THREADS when set
 * (0 or 1: none, renders one after another), else the cores online;
 * at most RENDER_PAR_MAX. */
int render_par_threads(void);

/* Adds a job: the rows of tt (kept by value; its strings must outlive
 * the jobs) through ob into path, rejects to rpath, with env's target
 * and now. Takes ob (freed by render_par_end) when it returns 0; 1 when
 * the job is not for a thread (render_part_ok says no, or its positions
 * query differs from the first job's: with or without location types);
 * -1 with err. */
int render_par_add(const struct cfg_target *tt, struct outbound *ob,
		   const struct outbound_env *env, const char *path,
		   const char *rpath, struct err *err);

/* Starts up to nthreads threads on the jobs added, then walks st into
 * the positions' shared copy (in dir) on this thread, the store's: the
 * run's sharing must be on (render_share_run). 0, or -1 with err (every
 * job dropped: the units render as before). */
int render_par_start(struct state *st, int nthreads, const char *dir,
		     struct err *err);

/* The rows of target tt rendered by its job, waiting for them if need be
 * (or rendering them on this thread when no thread took the job yet),
 * when the job exists and its inputs are these (ob's content, path,
 * rpath, the target's stale buffer); the caller publishes or frees the
 * part. NULL otherwise, or when the job failed: render tt yourself. */
struct render_part *render_par_take(const struct cfg_target *tt,
				    const struct outbound *ob,
				    const char *path, const char *rpath);

/* Stops the threads (a job under way is finished first), drops every
 * job not taken (its temporary files removed). Safe to call any time
 * on the store's thread; the next run starts again with render_par_add. */
void render_par_end(void);

/* Jobs added and not ended; for tests. */
size_t render_par_jobs(void);

#endif
