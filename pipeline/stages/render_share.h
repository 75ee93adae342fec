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
 *
 * Renders on other threads (render_par.h) read the copy while the walk
 * (render_share_fill, on the thread that owns the store) still writes
 * it: each reader holds a struct render_share_src and waits for records
 * the walk has not written yet. Readers never touch the store.
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

/* Frees the copy (the scratch file's space with it, once its readers
 * closed their holds). A copy still being written fails its readers. */
void render_share_drop(void);

/* A copy read by other threads while it is written, in three steps on
 * the store's thread: render_share_fill_begin creates the copy (sharing
 * must be on: render_share_run); render_share_src_open gives each reader
 * its hold; render_share_fill walks the store into it (a query with or
 * without location types as with_type says). Later renders of the run
 * replay the completed copy as they would one render_share_positions
 * kept. A failed walk fails the readers (their replay returns -1) and
 * drops the copy. Each 0, or -1 with err. */
int render_share_fill_begin(int with_type, const char *dir, struct err *err);
struct render_share_src;
struct render_share_src *render_share_src_open(struct err *err);
int render_share_fill(struct state *st, struct err *err);

/* On any thread: streams the copy's rows to cb as
 * render_share_positions does, waiting for the walk where it is behind;
 * 0, or -1 with err (cb's -1, or the walk failed). */
int render_share_src_replay(struct render_share_src *s,
			    int (*cb)(void *ud, const struct state_position *p),
			    void *ud, struct err *err);
void render_share_src_close(struct render_share_src *s);

#endif
