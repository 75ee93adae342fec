/* state_ic.h - EDI interchanges checked again inside the serialized load
 * (issue 15; docs/scaling.md).
 *
 * The map stage skips an interchange the ledger (edi_interchanges) says
 * was loaded before. Two workers mapping two copies of one interchange at
 * the same moment both miss the other's copy; so every mapped document
 * also lists its interchanges with the range of its canonical records
 * (doc_interchanges), and the load, which runs one document at a time
 * under the writer lock, claims each of them in loaded_interchanges: an
 * interchange another document claimed first is not loaded again, its
 * records count as duplicates, whatever their txn_ids.
 */
#ifndef STOCKPIPE_STATE_IC_H
#define STOCKPIPE_STATE_IC_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "state.h"

/* Replaces document doc's list of interchanges (first_rec, last_rec
 * set). Inside a transaction. */
int state_ic_doc_set(struct state *s, int64_t doc,
		     const struct state_interchange *ics, size_t n,
		     struct err *err);

/* An interchange of the document being loaded that another document
 * loaded first. */
struct state_ic_dup {
	char format[12], sender[40], receiver[40], control[16];
	char prev_doc[512];      /* the document that loaded it */
	int64_t prev_run;
	int same;                /* the same bytes (else other content) */
	int64_t first_rec, last_rec;
};

/* Inside the load's transaction: claims every interchange of document doc
 * (named name, of source, loaded in run_id) that no other document
 * claimed; the others are returned in *dups (*n of them, by first_rec;
 * free(*dups)). A document loaded again keeps its own claims. */
int state_ic_load_claim(struct state *s, int64_t doc, const char *source,
			const char *name, int64_t run_id,
			struct state_ic_dup **dups, size_t *n,
			struct err *err);

/* Gives up document doc's claims (its load is taken back). */
int state_ic_unload(struct state *s, int64_t doc, struct err *err);

#endif
