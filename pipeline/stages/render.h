/* render.h - turns consolidated state into one target's snapshot file.
 *
 * Available-to-sell per row = (sum of the target's sellable states) minus
 * (sum of its subtracted states), over the target's locations, then the
 * safety stock is held back (absolute units, or a percentage), then the
 * channel's allocation percentage applied, rounded down to whole units and
 * never below zero. Damaged, quarantined and return_pending stock is never
 * in the sellable set (config.c refuses it).
 */
#ifndef STOCKPIPE_RENDER_H
#define STOCKPIPE_RENDER_H

#include <stdint.h>
#include <stdio.h>

#include "transforms/outbound/outbound.h"
#include "pipeline/config.h"
#include "lib/err.h"
#include "pipeline/store/state.h"

struct render_stats {
	int64_t rows;       /* rows written */
	int64_t negative;   /* rows whose computed value was below zero */
	int64_t rejects;    /* rows left out (on_bad_row: reject) */
	char first_reject[700]; /* the first: "FIELD: row sku 'S'...: why" */
};

/* Called once the rows are rendered, with their content key (SHA-256 of
 * the outbound mapping and the rows, not of envelopes that carry times
 * and control numbers). Set *skip to stop here (the target already has
 * this content); otherwise fill env->control if the format needs one. */
typedef int (*render_ready_fn)(void *ud, const char *key_hex,
			       struct outbound_env *env, int *skip,
			       struct err *err);

/* Renders the snapshot for t through ob into out_path (published
 * atomically: header, rows, footer) unless ready() skips it.
 *
 * A row holding a value the format cannot carry (an X12 delimiter, a
 * control character, bytes the EDIFACT character set lacks, invalid
 * UTF-8, a number column that is not a number, a row over the length
 * bound: outbound_row() errors E_MAP, E_VALIDATE, E_PARSE or E_TOOBIG) is
 * a bad row. With t->bad_row_fail the render stops with E_VALIDATE naming
 * the target, the row (sku, location), the field and the reason. Else it
 * is left out of the file, of the counts the envelope carries and of the
 * published picture, counted in rs->rejects and, when reject_path is not
 * NULL, written there (atomically, one JSON object a line: kind "reject",
 * target, _file/_line/_col of the mapping's template, sku, location,
 * field, reason, values); with no bad row, an old reject_path from an
 * earlier attempt is removed. Stock
 * targets also write out_path + ".pub", the full published picture (key,
 * value per row); a delta target (t->delta) given prev_pub, the picture of
 * its last delivery, writes only rows whose value changed, plus a 0 row
 * for each key that disappeared. key_hex
 * receives the content key, sha_hex the file's SHA-256 (untouched when
 * skipped). env->target and env->now must be set; env->rows is filled. */
int render_target(struct state *st, const struct cfg_target *t,
		  const struct outbound *ob, struct outbound_env *env,
		  const char *out_path, const char *prev_pub,
		  const char *reject_path, render_ready_fn ready, void *ud,
		  char *key_hex, char *sha_hex, struct render_stats *rs,
		  struct err *err);

/* render_target in two halves, for renders on threads of their own
 * (render_par.h). render_part_rows, on any thread and without the store,
 * renders the rows of stock target t (render_part_ok) from src, a copy
 * of the positions (render_share.h), into out_path's temporary files:
 * the file, its picture, its rejects; nothing is published. env->target
 * and env->now must be set. 0 with *part, or -1 with err (E_BUSY: a row
 * needs the store, such as a sku longer than 511 bytes: render the
 * target with render_target instead). render_part_publish, on the
 * store's thread, does the rest as render_target does (the picture and
 * rejects, ready(), the envelope, the file) and frees part: the same
 * bytes, return values as render_target's, and 1 when rows were left out
 * of a file whose header counted them (publish nothing more: render the
 * target again with render_target). render_part_free takes back an
 * unpublished part. */
struct render_part;
struct render_share_src;
int render_part_ok(const struct cfg_target *t, const struct outbound *ob);
int render_part_rows(struct render_share_src *src, const struct cfg_target *t,
		     const struct outbound *ob, struct outbound_env *env,
		     const char *out_path, const char *reject_path,
		     struct render_part **part, struct err *err);
int render_part_publish(struct render_part *part, struct outbound_env *env,
			render_ready_fn ready, void *ud, char *key_hex,
			char *sha_hex, struct render_stats *rs,
			struct err *err);
void render_part_free(struct render_part *part);

/* Available-to-sell from per-state sums with the row's extra safety stock
 * (per category or location) and the item's pack size (0 = unknown), then
 * the target's cap and rounding (whole units, or whole packs). */
dec render_atp_ex(const struct cfg_target *t, const dec *by_state,
		  dec extra_abs, int extra_pct, dec pack, int *was_negative);
/* Computes available-to-sell from per-state sums; exposed for tests. */
dec render_atp(const struct cfg_target *t, const dec *by_state,
	       int *was_negative);

/* Reads the next row of a published picture (out_path + ".pub": escaped
 * sku TAB location TAB available, in sku/location order). Returns 1 with
 * the row, 0 at the end, -1 with err on a malformed line. */
int render_pub_next(FILE *f, char *sku, size_t nsku, char *loc, size_t nloc,
		    dec *qty, struct err *err);

/* The stale-source rule: *stale = 1 when a source that owns one of t's
 * states (authority) has not delivered within t->stale_after of now; why
 * names the first such source. */
int render_source_stale(struct state *st, const struct config *cfg,
			const struct cfg_target *t, int64_t now, int *stale,
			char *why, size_t n, struct err *err);

/* What the stale-source rule does to a render of t at now (the one
 * policy of the render stage and `deliver --dry-run`): RENDER_FRESH;
 * RENDER_STALE_BUFFER, when a source is stale and t holds back an extra
 * stale_buffer_pct (added to tt->safety_pct, at most 100); or
 * RENDER_STALE_HOLD, when t says stale_hold: nothing is rendered and the
 * target keeps its last values. tt is the caller's copy of t; why names
 * the stale source. 0, or -1 with err. */
enum render_stale { RENDER_FRESH, RENDER_STALE_BUFFER, RENDER_STALE_HOLD };
int render_stale_rule(struct state *st, const struct config *cfg,
		      const struct cfg_target *t, int64_t now,
		      struct cfg_target *tt, enum render_stale *verdict,
		      char *why, size_t n, struct err *err);

#endif
