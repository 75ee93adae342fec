/* stage.h - the stages of the pipeline as one table, each a struct
 * stage_ops registered by name (the shape of curl's scheme table and
 * libarchive's format table). The two schedulers (run.c: one process;
 * work.c: several workers) walk the table; a stage does one unit at a
 * time over the engine (engine.h) and reaches connectors only through
 * conn_* (connectors/connector.h).
 *
 * In pipeline order: fetch, unpack, map, load, acks, post, render,
 * deliver. acks and post have no units of their own: acks sends a
 * source's acknowledgments once its loads are done, post works the
 * source's fetch units (after_load) once every document is loaded.
 */
#ifndef STOCKPIPE_STAGE_H
#define STOCKPIPE_STAGE_H

struct err;
struct run;
struct src_ctx;
struct state_unit;

/* Whose units a stage works: what its unit function gets as ud. */
enum stage_scope {
	STAGE_SOURCE, /* struct src_ctx */
	STAGE_TARGET  /* struct tgt_ctx */
};

struct stage_ops {
	const char *name;       /* as in the store's units and --until/--from */
	int stage;              /* ST_* of the units it works */
	enum stage_scope scope;
	/* One unit: 0 when done or its failure is recorded on the unit
	 * (engine.h), 1 when a signal interrupted it, -1 only when the state
	 * store fails. NULL: no units (acks). */
	int (*unit)(void *ud, struct state_unit *u);
	/* Once per source after its loads; NULL for the others. 0, or -1
	 * with err. */
	int (*source_done)(struct run *r, struct src_ctx *sc, struct err *err);
};

extern const struct stage_ops stage_fetch, stage_unpack, stage_map,
	stage_load, stage_acks, stage_post, stage_render, stage_deliver;

/* The stage named name, or NULL. */
const struct stage_ops *stage_find(const char *name);

/* The stage whose units are of ST_* st (fetch ... deliver), or NULL. */
const struct stage_ops *stage_of(int st);

#endif
