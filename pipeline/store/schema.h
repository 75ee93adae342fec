/* schema.h - the state store's tables: versions and migrations.
 *
 * The schema is an ordered list of migrations, each written twice (SQLite
 * and PostgreSQL dialects) and applied in its own transaction under the
 * writer lock; table schema_version(version, applied_at) records which
 * ones a store has. Version 1 is the original schema (stores made before
 * schema_version existed carry meta.schema = 1 and count as version 1);
 * version 2 adds the worker columns and tables (units.worker,
 * units.lease_until, leases) and an explicit delivery order (seq) where
 * SQLite's rowid served; version 3 the failure classes of units (parked
 * units); version 4 the arrival keys (issue 15: ties in as_of are decided
 * by arrival), the dropped-data counters of a load and the interchanges a
 * load checks; version 5 the units of measure; version 6 typed unit
 * columns for what units.detail carried as text (sizes, times, flags,
 * control numbers, released-by), detail being a note for people only;
 * version 7 the file ledger keyed by content too; version 8 unit_deps
 * (the mapping files each attempt of a unit was made with), runs.gc_at
 * and runs.clock_s (retention); version 9 the acknowledgments received
 * back from partners (ack_expect, ack_received, ack_received_errors);
 * version 10 the warnings of each map unit (unit_warnings); version 11
 * the one txn_id ledger (txn_digests, every loaded txn_id) and
 * stock_events without UNIQUE(txn_id); version 12 narrower stock
 * events (source and file NULL where they are the document's unit's);
 * version 15 one ledger key per document for the txn_ids the mapping
 * engine gives by default (no table change: state_txn.c); version 16
 * a partial index of the negative positions (positions_negative);
 * version 17 that index on PostgreSQL by a stored column neg (qty < 0),
 * so that a change of a quantity stays a HOT update (schema.c).
 * meta.schema follows the version, so an older
 * stockpipe refuses a newer store instead of writing to it.
 *
 * An empty store gets the latest schema when it is first opened; an
 * older one is upgraded only by `stockpipe db migrate`.
 */
#ifndef STOCKPIPE_SCHEMA_H
#define STOCKPIPE_SCHEMA_H

#include "db.h"
#include "lib/err.h"

#define SCHEMA_LATEST 17

/* Opens the store's database without looking at its tables: db_url NULL
 * or "" = the SQLite file state_dir/state.db (state_dir is created),
 * else a postgres:// URL. */
int schema_open(const char *state_dir, const char *db_url,
		const char *password_env, struct db **out, struct err *err);

/* The store's version: 0 when it has no tables at all. A database with
 * tables but no version is refused (E_CONFIG). */
int schema_version(struct db *d, int *version, struct err *err);

/* Gives an empty store the latest schema in one transaction (a store
 * someone else filled meanwhile is left alone); *version = the store's
 * version afterwards. */
int schema_create(struct db *d, int *version, struct err *err);

/* Applies the migrations after the store's version, one transaction
 * each. *from and *to: the versions before and after. An empty store is
 * created as by schema_create (*from = 0). */
int schema_migrate(struct db *d, int *from, int *to, struct err *err);

/* 0 when the store is at SCHEMA_LATEST (creating an empty one); E_CONFIG
 * for an older ("run 'stockpipe db migrate'") or newer store. */
int schema_check(struct db *d, struct err *err);

/* Version 6's values for the units an older store holds, taken once from
 * their detail text (schema_units.c): the only place that text is read.
 * Inside the migration's transaction. */
int schema_units_fill(struct db *d, struct err *err);

#endif
