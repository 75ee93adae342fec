/* stock.h - stock states and the rules of a stock position, as pure
 * functions over plain structs: no SQL, no I/O, no allocation.
 *
 * A position is one (sku, location, state). Its quantity is, by
 * definition, its latest snapshot (greatest as_of, then the latest
 * arrival, then the greatest txn_id when the arrival keys are equal:
 * records loaded without one) plus every delta after that snapshot
 * (as_of, then arrival). An event older than the snapshot is stale: it
 * is kept in the ledger and counted, never applied. A txn_id the ledger
 * already holds is a duplicate: a replay never counts twice.
 *
 * The state store (pipeline/store/state_load.c) reads a position and the
 * ledger's sums, asks these functions what an event does, and writes
 * the result; the render stage asks stock_atp() what a row may sell.
 * Quantities are in base units: a unit of measure (cases, packs) has
 * been converted before an event gets here (uom.h).
 */
#ifndef STOCKPIPE_STOCK_H
#define STOCKPIPE_STOCK_H

#include <stdint.h>

#include "dec.h"

/* The stock states, in the order the store keeps them (the positions
 * table's state column holds these numbers: never reorder). */
enum stock_state {
	STOCK_ST_ON_HAND,
	STOCK_ST_RESERVED,
	STOCK_ST_IN_TRANSIT,
	STOCK_ST_DAMAGED,
	STOCK_ST_QUARANTINED,
	STOCK_ST_RETURN_PENDING,
	STOCK_ST_AVAILABLE,
	STOCK_NSTATES
};

/* The names of the states in enum order, '|'-separated: the text the
 * canonical field table lists as the state's values and error messages
 * print. Never scanned: stock_state_from_name() looks names up. */
#define STOCK_STATE_NAMES \
	"on_hand|reserved|in_transit|damaged|quarantined|return_pending|available"

/* The name of state s ("on_hand"), or "?" when s is not a state. */
const char *stock_state_name(enum stock_state s);
/* The state named name (exact, case-sensitive), or -1. */
int stock_state_from_name(const char *name);

/* A set of states: bit STOCK_SET(s) for state s. Parsed once (config),
 * tested per row. */
#define STOCK_SET(s) (1u << (s))
#define STOCK_SET_ALL (STOCK_SET(STOCK_NSTATES) - 1u)
/* Damaged, quarantined and returned stock is never sellable, whatever a
 * target's config says: publishing it is how retailers oversell. */
#define STOCK_SET_NEVER_SELLABLE                                   \
	(STOCK_SET(STOCK_ST_DAMAGED) | STOCK_SET(STOCK_ST_QUARANTINED) | \
	 STOCK_SET(STOCK_ST_RETURN_PENDING))

/* 1 when state s is in set. */
int stock_set_has(unsigned set, enum stock_state s);

/* A snapshot replaces the position's quantity; a delta adds to it. */
enum stock_mode { STOCK_SNAPSHOT, STOCK_DELTA };

/* The mode of a canonical record's mode field: "delta" is a delta;
 * anything else, absent included, is a snapshot (the field's default). */
enum stock_mode stock_mode_of(const char *mode);

/* Where an event arrived: the file's fetch sequence, the member of its
 * archive, the record's ordinal in the document (state_arrival.h). Later
 * arrival breaks ties between events of equal as_of. */
struct stock_arrival {
	int64_t file, member, line;
};

/* <0, 0, >0 as a arrived before, with, after b. */
int stock_arrival_cmp(const struct stock_arrival *a,
		      const struct stock_arrival *b);

/* The order in which two files one listing found arrived at their
 * source, <0, 0, >0: by mtime, then by name (the fetch sequence of an
 * arrival key numbers them so). */
int stock_file_order(int64_t mtime_a, const char *name_a, int64_t mtime_b,
		     const char *name_b);

/* "No such time": no snapshot, no delta. */
#define STOCK_NONE INT64_MIN
/* A position keeps its snapshot's txn_id cut to STOCK_TXN_MAX - 1 bytes
 * (the store's column was always written cut so): the tie-break compares
 * an event's full txn_id with the kept cut one. */
#define STOCK_TXN_MAX 256

struct stock_pos {
	int found;                 /* the position has applied events */
	dec qty;                   /* base units */
	int64_t snap_as_of;        /* the snapshot's as_of, STOCK_NONE */
	char snap_txn[STOCK_TXN_MAX]; /* its txn_id (cut), "" when none */
	struct stock_arrival snap_arr; /* its arrival key, zeros when none */
	int64_t last_as_of;        /* newest as_of of an applied event */
	int64_t delta_as_of;       /* newest delta's as_of, STOCK_NONE */
};

/* One stock event, units already converted. */
struct stock_event {
	enum stock_mode mode;
	dec qty;                   /* base units */
	int64_t as_of;             /* seconds since the epoch, UTC */
	struct stock_arrival arr;
	const char *txn;           /* txn_id, not NULL */
	int replay;                /* the ledger holds this txn_id already */
};

/* What an event did to its position. */
enum stock_outcome {
	STOCK_APPLIED,             /* the position changed */
	STOCK_STALE,               /* older than the snapshot: ignored */
	STOCK_DUPLICATE,           /* a replayed txn_id: ignored */
	STOCK_OVERFLOW             /* the quantity would overflow: ignored,
				    * and the load must fail */
};

/* A position that does not exist (found 0, no snapshot, no delta). */
void stock_pos_init(struct stock_pos *p);

/* What applying e to p would do, without doing it (p is not read when
 * e->replay). Never STOCK_OVERFLOW. */
enum stock_outcome stock_judge(const struct stock_pos *p,
			       const struct stock_event *e);

/* 1 when applying snapshot e to p needs `later`, the sum of the
 * position's applied deltas after e (as_of, then arrival): p has a delta
 * as new as e. Most feeds send snapshots only, so the store asks the
 * ledger only then. 0 for a delta and for an event that is not applied. */
int stock_needs_later(const struct stock_pos *p, const struct stock_event *e);

/* Applies e to p: a snapshot sets the quantity to e->qty + later (pass
 * 0 unless stock_needs_later) and becomes the position's snapshot; a
 * delta adds e->qty. p changes only when STOCK_APPLIED is returned. */
enum stock_outcome stock_apply(struct stock_pos *p,
			       const struct stock_event *e, dec later);

/* What the ledger holds of one position's applied events, for
 * rebuilding it after events were taken out (a document unloaded). */
struct stock_ledger {
	int64_t count;             /* applied events */
	int64_t last_as_of;        /* newest as_of (when count > 0) */
	int64_t delta_as_of;       /* newest delta's as_of, STOCK_NONE */
	int has_snap;              /* snap holds the latest snapshot */
	struct stock_event snap;   /* by as_of, arrival, then txn_id */
	dec later;                 /* sum of the deltas after snap (all
				    * deltas when there is none) */
};

/* The position the ledger l describes, into p. Returns 1, or 0 when l
 * has no events: the position does not exist (p is then a
 * stock_pos_init one). */
int stock_rebuild(const struct stock_ledger *l, struct stock_pos *p);

/* A target's available-to-sell rule (the target's config, parsed). */
struct stock_atp {
	unsigned sellable;         /* states added (STOCK_SET bits) */
	unsigned subtract;         /* states subtracted */
	dec safety_abs;            /* units held back per row */
	int safety_pct;            /* percent held back per row */
	int allocation_pct;        /* percent of the rest offered */
	dec cap;                   /* most published per row, when has_cap */
	int has_cap;
	int round_pack;            /* round down to whole packs */
};

/* The sum of the sellable states of by_state minus the subtracted ones.
 * A state of STOCK_SET_NEVER_SELLABLE is never added. */
dec stock_sellable(const dec by_state[STOCK_NSTATES], unsigned sellable,
		   unsigned subtract);

/* Available-to-sell of one row from its per-state sums: stock_sellable,
 * then the safety stock (the rule's plus extra_abs and extra_pct, the
 * percentage at most 100), the allocation percentage, the cap, and
 * rounding down to whole units, or to whole packs of `pack` (> 0) when
 * the rule rounds to packs. Never below 0; *was_negative = 1 when the
 * sellable sum was. */
dec stock_atp(const struct stock_atp *r, const dec by_state[STOCK_NSTATES],
	      dec extra_abs, int extra_pct, dec pack, int *was_negative);

#endif
