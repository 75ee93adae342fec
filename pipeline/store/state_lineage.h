/* state_lineage.h - what a stock event leaves to its document (schema
 * 12, issue 20): an event's source and file are its map unit's (scope,
 * ukey) and are stored NULL when they are; readers take them back from
 * the unit, joined on stock_events.doc.
 */
#ifndef STOCKPIPE_STATE_LINEAGE_H
#define STOCKPIPE_STATE_LINEAGE_H

#include "lib/err.h"
#include "state.h"

/* An event's source and file in SQL, for event E joined to its
 * document's unit U (LEFT JOIN units U ON U.id = E.doc): the stored
 * text, else the unit's. */
#define STATE_EV_SOURCE(E, U) "coalesce(" E ".source, " U ".scope)"
#define STATE_EV_FILE(E, U) "coalesce(" E ".file, " U ".ukey)"

struct lb_rec;

/* Sets e->src_doc and e->file_doc: whether e's source and file are
 * those of its document's unit (read once per document and
 * transaction). 0, or -1 with err. */
int state_lineage_derive(struct state *s, struct lb_rec *e, struct err *err);

/* Forgets the unit read last (a transaction begins: units may have
 * changed); state_lineage_free also releases its strings. */
void state_lineage_forget(struct state *s);
void state_lineage_free(struct state *s);

#endif
