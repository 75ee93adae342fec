/* state_txn.h - the txn_id dedupe ledger (issue 20, schema 11): one
 * fixed-size key per txn_id ever loaded, in table txn_digests, written
 * by every load and kept forever (gc folds events, never keys); since
 * schema 15 one key per document for the txn_ids the mapping engine
 * gives by default. How the keys are made, and their false-duplicate
 * odds: state_txn.c.
 */
#ifndef STOCKPIPE_STATE_TXN_H
#define STOCKPIPE_STATE_TXN_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "state.h"

struct db;

#define STATE_TXN_KEY 24

/* stock_events on SQLite since schema 12 (no UNIQUE on txn_id: the
 * ledger is the dedupe; txn_id, source and file NULL where the document
 * gives them, state_lineage.h), as table T; shared by the migration and
 * the fold's rebuild (state_fold.c), which both recreate the indexes.
 * Schema 11's table is schema.c's own. */
#define STATE_EVENTS_SQLITE(T)                                           \
	"CREATE TABLE " T "(id INTEGER PRIMARY KEY,"                     \
	" doc INTEGER NOT NULL, sku TEXT NOT NULL, location TEXT NOT NULL," \
	" state INTEGER NOT NULL, qty INTEGER NOT NULL,"                 \
	" delta INTEGER NOT NULL, as_of INTEGER NOT NULL,"               \
	" txn_id TEXT, source TEXT, file TEXT, line INTEGER,"            \
	" applied INTEGER NOT NULL DEFAULT 1,"                           \
	" arr_file BIGINT NOT NULL DEFAULT 0,"                           \
	" arr_member BIGINT NOT NULL DEFAULT 0,"                         \
	" arr_line BIGINT NOT NULL DEFAULT 0,"                           \
	" txn_seq INTEGER, txn_rec INTEGER);"
/* Schema 12: no index on doc (doc_events holds each document's id
 * range, state_lineage.h). */
#define STATE_EVENTS_INDEXES                                             \
	"CREATE INDEX stock_events_key"                                  \
	" ON stock_events(sku, location, state, as_of);"

/* The last group's digest, so a document's records hash their shared
 * part once; zero-initialised before first use. */
struct state_txn_memo {
	char group[64];
	size_t len;
	unsigned char digest[8];
};

/* The ledger key of txn (NUL-terminated) into key; m may be NULL. 0, or
 * -1 with err. */
int state_txn_key(const char *txn, unsigned char key[STATE_TXN_KEY],
		  struct state_txn_memo *m, struct err *err);

/* The document key (schema 15) of the group of rec, a record's key:
 * the ledger's one key for all the default txn_ids of one document's
 * content (state_txn.c says why it is no record's key). */
void state_txn_doc_key(const unsigned char rec[STATE_TXN_KEY],
		       unsigned char key[STATE_TXN_KEY]);

/* The load's hook: the key of every record of the waiting batch that is
 * not a dupe of an earlier one is added to the ledger, in key order; a
 * record whose key was new gets ins = 1, the others are replays. Inside
 * a transaction the records whose txn_id is their document's default
 * (txn_doc) go as one document key instead, decided by the document's
 * first batch for all of them. */
int state_txn_mark(struct state *s, struct err *err);

/* Document doc, loaded in the open transaction under its document key,
 * lost records on the way (the load rejected some: a unit it cannot
 * convert): the keys of its loaded default txn_ids are added, and the
 * split mark (state_txn.c) that sends a later load of its content the
 * per-record way, so that a replay after the fix loads the records that
 * were rejected. Nothing for a document loaded otherwise. */
int state_txn_doc_split(struct state *s, int64_t doc, struct err *err);

/* Forgets what state_txn_mark decided for the transaction's documents
 * (a new transaction, a rollback). */
void state_txn_docs_reset(struct state *s);

/* Takes the keys of document doc's stock events out of the ledger (its
 * events are about to be deleted: a rerun loads them again), its
 * document key too. */
int state_txn_forget_doc(struct state *s, int64_t doc, struct err *err);

/* Schema 11: the keys of every event in stock_events added to the
 * ledger, in the migration's transaction. */
int state_txn_fill(struct db *d, struct err *err);

#endif
