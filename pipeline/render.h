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

#include "../transforms/outbound.h"
#include "config.h"
#include "err.h"
#include "state.h"

struct render_stats {
	int64_t rows;       /* rows written */
	int64_t negative;   /* rows whose computed value was below zero */
};

/* Writes the snapshot for t through ob into out_path (published
 * atomically) and returns its SHA-256 in sha_hex. */
int render_target(struct state *st, const struct cfg_target *t,
		  const struct outbound *ob, const char *out_path,
		  char *sha_hex, struct render_stats *rs, struct err *err);

/* Computes available-to-sell from per-state sums; exposed for tests. */
dec render_atp(const struct cfg_target *t, const dec *by_state,
	       int *was_negative);

#endif
