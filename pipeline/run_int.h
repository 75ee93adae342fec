/* run_int.h - what the two schedulers (run.c: one process works a run;
 * work.c: several worker processes share one run) and the stages
 * (pipeline/stages/stage_*.c, run_facts.c, load_uom.c) share over the
 * engine (engine.h). Not a public interface: only these files include it.
 */
#ifndef STOCKPIPE_RUN_INT_H
#define STOCKPIPE_RUN_INT_H

#include <stdint.h>

#include "pipeline/cli/cli.h"
#include "config.h"
#include "engine.h"
#include "lib/err.h"
#include "run.h"
#include "pipeline/store/state.h"

#include "transforms/model/dt.h"
#include "transforms/mapping/mapping.h"

struct conn;
struct mapping;
struct edi_ack_coll;

/* Per source: its connection and the mappings compiled so far. */
struct src_ctx {
	struct run *r;
	const struct cfg_source *src;
	struct conn *conn;
	/* Mappings compiled so far in this run, by path (routes can pick a
	 * different one per document). */
	struct mapping *maps[16];
	const char *map_paths[16];
	int nmaps;
	struct err *err;
	/* acks on: the verdicts of the document being mapped */
	struct edi_ack_coll *acks;
};

struct tgt_ctx {
	struct run *r;
	const struct cfg_target *t;
	struct err *err;
};

/* Loads the config, takes the state directory's lock (exclusive for one
 * process, shared for workers: work.c), opens the store, makes the work
 * areas and installs the SIGTERM/SIGINT handler. On failure the caller
 * still calls run_teardown. */
int run_setup(struct run *r, const struct cli_global *g,
	      const struct run_opts *o, int shared_lock, int *lock_fd,
	      struct err *err);
void run_teardown(struct run *r, int lock_fd);

/* The mapping for document doc of sc (its routes; input, the document's
 * inbox copy, is sniffed when a route names a format), compiled once per
 * run. NULL with err (E_NOTFOUND: no route matches). */
const struct mapping *run_mapping_for(struct src_ctx *sc, const char *doc,
				      const char *input, struct err *err);

/* Opens sc's connection (when not open yet); 0, or -1 with err. */
int run_src_open(struct src_ctx *sc, struct err *err);
void run_src_close(struct src_ctx *sc);

/* Lists a source and records its fetch units (once per run). 0 done;
 * 1 when the connection or the listing failed (recorded as a failed
 * "(list)" unit); -1 only when the state store fails. */
int run_plan_source(struct run *r, struct src_ctx *sc, struct err *err);

/* Does one unit of a source stage (fetch, unpack, map, load) with sc, or
 * of a target stage (render, deliver) with tc. A unit failure is
 * recorded on the unit and returns 0; -1 only when the state store fails;
 * 1 when a signal interrupted it. */
int run_do_unit(struct run *r, struct src_ctx *sc, struct tgt_ctx *tc,
		struct state_unit *u);

/* After a source's loads: its acknowledgments, then (when every document
 * of the source is loaded or deliberately set aside) the after_load
 * handling of its files. */
int run_source_tail(struct run *r, struct src_ctx *sc, struct err *err);

/* Decides whether target t is due and records its render unit (once per
 * run). */
int run_plan_target(struct run *r, const struct cfg_target *t,
		    struct err *err);

/* Before the run's first target (one process working the run, not
 * workers): at its first render unit, the rows of its due targets are
 * rendered ahead on threads (render_par.h) when the machine has cores to
 * spare; the render units then publish them in their usual order.
 * Nothing more is recorded; anything that goes wrong leaves the units to
 * render as before. render_par_end drops what no unit took
 * (eng_conclude, run_teardown). */
void run_render_ahead(struct run *r);

/* The file facts of the document of map unit u of source src for mapping
 * m (run_facts.c). Checks first that src's patterns give every capture m
 * reads (E_CONFIG at the mapping's line). Returns 0, or -1 with err:
 * E_PARSE when the name has a capture that is no valid value (a date
 * capture with month 13: the document is quarantined), else a store or
 * configuration error. out->f is what struct mapping_doc's facts point
 * to; it points into out. */
struct run_facts {
	struct mapping_facts f;
	struct filepat_caps caps;
	char name[512];
	char mtime[DT_ISO_LEN], fetched[DT_ISO_LEN], started[DT_ISO_LEN];
};
int run_doc_facts(struct run *r, const struct cfg_source *src,
		  const struct mapping *m, const struct state_unit *u,
		  struct run_facts *out, struct err *err);

/* Helpers shared with the stages. eng_now_ms: wall
 * clock in ms. run_say: an info line unless quiet. run_notef: a unit note
 * ("..." when cut). eng_unit_start/fail/interrupted: mark a unit running
 * (own transaction), failed (the run goes on; returns -1, 0 for
 * quarantine) or back to pending after a signal (returns 1). */
void run_say(const struct run *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void run_notef(char *dst, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));



/* Shared by the stage files (pipeline/stages/stage_*.c): see each
 * definition for its contract. */
void run_path_in(const struct run *r, char *out, size_t n, const char *area,
		 const char *scope, const char *name);
int run_quarantine(struct run *r, struct state_unit *u,
		   const struct err *why);
int run_send_acks(struct run *r, const struct cfg_source *src);
int run_record_acks(struct run *r, const struct cfg_source *src,
		    const struct state_unit *u, const struct edi_ack_coll *c,
		    struct err *err);

int run_plan_fetch(struct run *r, const struct cfg_source *src,
		   struct conn *c, struct err *err);
const char *run_now_iso(char *buf);

#endif
