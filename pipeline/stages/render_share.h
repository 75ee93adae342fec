/* render_share.h - one read of the positions for all the targets of a run.
 *
 * Every stock target reads the same rows (state_positions_items_each):
 * the positions in sku, location, state order with their item fields.
 * The first render of a run keeps a copy of that stream in an unlinked
 * scratch file (about 60 bytes a position); the run's later renders with
 * the same query replay it instead of asking the store again. The rows,
 * and so every output, are the same byte for byte.
 *
 * Why the copy stays valid: the renders of a run start once every source
 * unit of the run is done (run_plan_target), so no load writes positions
 * while they run; a later run, another process or another query (with or
 * without location types) reads the store again. The copy lives only in
 * this process: a crash leaves nothing behind.
 */
#ifndef STOCKPIPE_RENDER_SHARE_H
#define STOCKPIPE_RENDER_SHARE_H

#include <stdint.h>

#include "lib/err.h"
#include "pipeline/store/state.h"

/* The run whose renders follow (stage_render.c); another run_id than the
 * copy's drops it. 0 turns sharing off (`deliver --dry-run`, tests). */
void render_share_run(int64_t run_id);

/* Streams the positions with their items to cb, as
 * state_positions_items_each(st, with_type, ...) does: from the run's
 * copy when a complete one of the same query exists, else from the store,
 * keeping a copy (in a scratch file in dir) when sharing is on. A copy is
 * kept only when the whole stream reached cb. 0, or -1 with err (cb's
 * -1 included). */
int render_share_positions(struct state *st, int with_type, const char *dir,
			   int (*cb)(void *ud, const struct state_position *p),
			   void *ud, struct err *err);

/* 1 when the renders of a run share (render_share_run with a run id):
 * a second pass over the positions then replays the copy instead of
 * asking the store again. */
int render_share_on(void);

/* Frees the copy (the scratch file's space with it). */
void render_share_drop(void);

#endif
