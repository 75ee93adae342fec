/* state_lineage.h - what a stock event leaves to its document (schema
 * 12, issue 20): an event's source and file are its map unit's (scope,
 * ukey) and are stored NULL when they are; its txn_id, when it is the
 * mapping engine's default for the document ("<document SHA-256, 16
 * hex>:<scope seq>:<record>"), is stored NULL with the two numbers in
 * txn_seq and txn_rec. Readers take them back from the unit, joined on
 * stock_events.doc, with the macros below.
 */
#ifndef STOCKPIPE_STATE_LINEAGE_H
#define STOCKPIPE_STATE_LINEAGE_H

#include <stdint.h>

#include "lib/err.h"
#include "state.h"

struct db;

/* An event's source and file in SQL, for event E joined to its
 * document's unit U (LEFT JOIN units U ON U.id = E.doc): the stored
 * text, else the unit's. */
#define STATE_EV_SOURCE(E, U) "coalesce(" E ".source, " U ".scope)"
#define STATE_EV_FILE(E, U) "coalesce(" E ".file, " U ".ukey)"
/* Its txn_id: the stored text, else the default one rebuilt (SQLite and
 * PostgreSQL both write an integer in decimal without leading zeros, as
 * the mapping engine does). */
#define STATE_EV_TXN(E, U)                                               \
	"coalesce(" E ".txn_id, substr(" U ".input_sha, 1, 16) || ':' || " \
	E ".txn_seq || ':' || " E ".txn_rec)"

struct lb_rec;

/* Sets e->src_doc and e->file_doc: whether e's source and file are
 * those of its document's unit (read once per document and
 * transaction); and e->txn_doc, e->txn_seq, e->txn_rec
 * (state_txn_default with the unit's SHA-256). 0, or -1 with err. */
int state_lineage_derive(struct state *s, struct lb_rec *e, struct err *err);

/* 1 when txn is the mapping engine's default txn_id of a document
 * whose SHA-256 is sha (hex): the first 16 characters of sha, ':', the
 * scope's sequence number, ':', the record's entry, both numbers in
 * decimal without leading zeros (transforms/mapping/mapping.c map_one);
 * *seq and *rec are them. 0 for anything else (a txn_id the mapping
 * names, or one from another document), which is stored as it is. */
int state_txn_default(const char *txn, const char *sha, int64_t *seq,
		      int64_t *rec);

/* Schema 12's step for the events already loaded (the columns exist):
 * the source, file and txn_id each event leaves to its unit set NULL,
 * in the migration's transaction. */
int state_lineage_fill(struct db *d, struct err *err);

/* The events of document DOC (an SQL expression, e.g. "?1") among
 * stock_events E (a prefix: "" or "e."): through the document's id
 * range in doc_events (schema 12: no index on stock_events.doc), then
 * its doc column, as the range may hold other documents' events. */
#define STATE_EV_OF_DOC(E, DOC)                                          \
	E "id BETWEEN (SELECT lo FROM doc_events WHERE doc = " DOC ")"   \
	" AND (SELECT hi FROM doc_events WHERE doc = " DOC ") AND " E    \
	"doc = " DOC

/* Before a batch is applied: *floor = the greatest event id so far. */
int state_lineage_floor(struct state *s, int64_t *floor, struct err *err);
/* After it: the id range of every document queued since the last apply
 * widened to its events above floor. 0, or -1 with err. */
int state_lineage_ranges(struct state *s, int64_t floor, struct err *err);
/* Document doc's events are gone (unloaded): its range too. */
int state_lineage_range_drop(struct state *s, int64_t doc, struct err *err);

/* Forgets the unit read last and the documents queued (a transaction
 * begins or is rolled back: units may have changed);
 * state_lineage_free also releases its memory. */
void state_lineage_forget(struct state *s);
void state_lineage_free(struct state *s);

#endif
