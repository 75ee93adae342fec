/* state_arrival.h - arrival keys of fetched files and their documents
 * (issue 15, "stock truth"; struct state_arrival in state.h).
 *
 * A file gets its fetch sequence when it is planned for fetching: the
 * files one listing found are numbered in the order they arrived at the
 * source (mtime, then name), after every file numbered before (counter
 * 'arrival:fetch', so a file of a later run always gets a later number,
 * whenever it is loaded). A document's member index is its place among
 * the map units of its archive (created in member order; 0 for a plain
 * file). The load stage reads both for each document and gives every
 * record its ordinal in the document's canonical output.
 */
#ifndef STOCKPIPE_STATE_ARRIVAL_H
#define STOCKPIPE_STATE_ARRIVAL_H

#include <stdint.h>

#include "lib/err.h"
#include "state.h"

/* Gives fetch unit `unit` the next fetch sequence unless it has one.
 * Inside a transaction. */
int state_arrival_fetch(struct state *s, int64_t unit, struct err *err);

/* The arrival key of document doc (its map unit id): file and member,
 * line 0. A document whose fetch unit has no sequence yet (planned by an
 * older stockpipe) gets one first, so call it inside a transaction. A
 * document without a fetch unit (none in the store) gets file 0. */
int state_arrival_doc(struct state *s, int64_t doc, struct state_arrival *a,
		      struct err *err);

/* The files one listing planned, numbered together when it ends. */
struct state_arrival_plan {
	struct state_arrival_file {
		int64_t unit, mtime;
		char *name;
	} *a;
	size_t n, cap;
};
/* Remembers fetch unit `unit` of a file named name with mtime. */
int state_arrival_plan_add(struct state_arrival_plan *p, int64_t unit,
			   int64_t mtime, const char *name, struct err *err);
/* Numbers the remembered units by (mtime, name) with state_arrival_fetch,
 * inside the listing's transaction. */
int state_arrival_plan_assign(struct state_arrival_plan *p, struct state *s,
			      struct err *err);
void state_arrival_plan_free(struct state_arrival_plan *p);

#endif
