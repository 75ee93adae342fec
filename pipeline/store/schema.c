/* schema.c - versions and migrations of the state store; see schema.h.
 *
 * Each migration is written once per dialect. The PostgreSQL texts follow
 * the SQLite ones column for column with three rules: integers are BIGINT
 * (INTEGER is 32-bit there), an INTEGER PRIMARY KEY (SQLite's rowid) is
 * an identity column, BLOB is BYTEA; and every text column is COLLATE "C",
 * so comparisons and ORDER BY are byte-wise like SQLite's BINARY collation
 * and both backends deliver byte-identical files.
 */
#include "schema.h"
#include "lib/io.h"
#include "state_lineage.h"
#include "state_txn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "transforms/model/dt.h"

/* Version 1, SQLite: the original schema, word for word (IF NOT EXISTS
 * included), so a store it made and one made here are the same. */
static const char v1_sqlite[] =
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);"
	"CREATE TABLE IF NOT EXISTS runs(run_id INTEGER PRIMARY KEY,"
	" started_at TEXT NOT NULL, finished_at TEXT, status TEXT NOT NULL,"
	" exit_code INTEGER, config_sha TEXT);"
	"CREATE TABLE IF NOT EXISTS plans(run_id INTEGER, stage TEXT,"
	" scope TEXT, PRIMARY KEY(run_id, stage, scope));"
	"CREATE TABLE IF NOT EXISTS units(id INTEGER PRIMARY KEY,"
	" run_id INTEGER NOT NULL, stage TEXT NOT NULL, scope TEXT NOT NULL,"
	" ukey TEXT NOT NULL, parent INTEGER, state INTEGER NOT NULL,"
	" attempts INTEGER NOT NULL DEFAULT 0, input_path TEXT,"
	" input_sha TEXT, output_path TEXT, output_sha TEXT,"
	" records_in INTEGER DEFAULT 0, records_out INTEGER DEFAULT 0,"
	" rejects INTEGER DEFAULT 0, dupes INTEGER DEFAULT 0,"
	" stale INTEGER DEFAULT 0, started_ms INTEGER DEFAULT 0,"
	" finished_ms INTEGER DEFAULT 0, error TEXT, detail TEXT,"
	" UNIQUE(run_id, stage, scope, ukey));"
	"CREATE TABLE IF NOT EXISTS files(source TEXT NOT NULL,"
	" name TEXT NOT NULL, size INTEGER NOT NULL, mtime INTEGER NOT NULL,"
	" sha256 TEXT NOT NULL, run_id INTEGER, post_state TEXT,"
	" PRIMARY KEY(source, name, size, mtime));"
	"CREATE INDEX IF NOT EXISTS files_sha ON files(source, sha256);"
	"CREATE TABLE IF NOT EXISTS run_deps(run_id INTEGER, path TEXT,"
	" sha256 TEXT, PRIMARY KEY(run_id, path));"
	"CREATE TABLE IF NOT EXISTS items(sku TEXT PRIMARY KEY, gtin TEXT,"
	" description TEXT, brand TEXT, category TEXT, base_uom TEXT,"
	" pack_size TEXT, status TEXT, supplier_id TEXT, supplier_sku TEXT,"
	" as_of TEXT, txn_id TEXT, doc INTEGER);"
	"CREATE TABLE IF NOT EXISTS locations(location_id TEXT PRIMARY KEY,"
	" type TEXT, name TEXT, region TEXT, timezone TEXT, as_of TEXT,"
	" txn_id TEXT, doc INTEGER);"
	"CREATE TABLE IF NOT EXISTS prices(sku TEXT, price_list TEXT,"
	" currency TEXT, amount TEXT, valid_from TEXT, valid_to TEXT,"
	" kind TEXT, as_of TEXT, txn_id TEXT, doc INTEGER,"
	" PRIMARY KEY(sku, price_list, currency, valid_from, kind));"
	"CREATE TABLE IF NOT EXISTS stock_events(id INTEGER PRIMARY KEY,"
	" doc INTEGER NOT NULL, sku TEXT NOT NULL, location TEXT NOT NULL,"
	" state INTEGER NOT NULL, qty INTEGER NOT NULL, delta INTEGER NOT NULL,"
	" as_of INTEGER NOT NULL, txn_id TEXT NOT NULL UNIQUE,"
	" source TEXT, file TEXT, line INTEGER,"
	" applied INTEGER NOT NULL DEFAULT 1);"
	"CREATE INDEX IF NOT EXISTS stock_events_key"
	" ON stock_events(sku, location, state, as_of);"
	"CREATE INDEX IF NOT EXISTS stock_events_doc ON stock_events(doc);"
	"CREATE TABLE IF NOT EXISTS positions(sku TEXT, location TEXT,"
	" state INTEGER, qty INTEGER NOT NULL, snap_as_of INTEGER,"
	" snap_txn TEXT, last_as_of INTEGER NOT NULL, delta_as_of INTEGER,"
	" PRIMARY KEY(sku, location, state)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS deliveries(target TEXT, sha256 TEXT,"
	" run_id INTEGER, file_name TEXT, delivered_at INTEGER,"
	" PRIMARY KEY(target, file_name));"
	"CREATE INDEX IF NOT EXISTS deliveries_key"
	" ON deliveries(target, sha256);"
	"CREATE TABLE IF NOT EXISTS counters(name TEXT PRIMARY KEY,"
	" value INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS source_fetches(source TEXT PRIMARY KEY,"
	" last_at INTEGER NOT NULL);"
	/* When each target was last considered due by its schedule (run
	 * clock), so a missed window delivers once, not once per window. */
	"CREATE TABLE IF NOT EXISTS target_checks(target TEXT PRIMARY KEY,"
	" last_due_at INTEGER NOT NULL);"
	/* EDI interchanges seen, for duplicate detection (state.h). */
	"CREATE TABLE IF NOT EXISTS edi_interchanges(format TEXT NOT NULL,"
	" sender TEXT NOT NULL, receiver TEXT NOT NULL, control TEXT NOT NULL,"
	" sha256 TEXT NOT NULL, source TEXT, doc TEXT, doc_sha TEXT,"
	" run_id INTEGER, PRIMARY KEY(format, sender, receiver, control));"
	/* EDI acknowledgments: one per (source, interchange, group), with
	 * the file's bytes, so a resend is byte-identical (state.h). */
	"CREATE TABLE IF NOT EXISTS edi_acks(source TEXT NOT NULL,"
	" format TEXT NOT NULL, sender TEXT NOT NULL, receiver TEXT NOT NULL,"
	" control TEXT NOT NULL, grp TEXT NOT NULL, doc TEXT, run_id INTEGER,"
	" ack_type TEXT NOT NULL, ack_control INTEGER NOT NULL,"
	" file_name TEXT NOT NULL, content BLOB NOT NULL,"
	" sent_at INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY(source, format, sender, receiver, control, grp));"
	"INSERT INTO meta VALUES('schema', '1');";

/* Version 1, PostgreSQL. */
#define C " COLLATE \"C\""
static const char v1_pg[] =
	"CREATE TABLE meta(key TEXT" C " PRIMARY KEY, value TEXT" C ");"
	"CREATE TABLE runs(run_id BIGINT GENERATED BY DEFAULT AS IDENTITY"
	" PRIMARY KEY, started_at TEXT" C " NOT NULL, finished_at TEXT" C ","
	" status TEXT" C " NOT NULL, exit_code BIGINT, config_sha TEXT" C ");"
	"CREATE TABLE plans(run_id BIGINT, stage TEXT" C ", scope TEXT" C ","
	" PRIMARY KEY(run_id, stage, scope));"
	"CREATE TABLE units(id BIGINT GENERATED BY DEFAULT AS IDENTITY"
	" PRIMARY KEY, run_id BIGINT NOT NULL, stage TEXT" C " NOT NULL,"
	" scope TEXT" C " NOT NULL, ukey TEXT" C " NOT NULL, parent BIGINT,"
	" state BIGINT NOT NULL, attempts BIGINT NOT NULL DEFAULT 0,"
	" input_path TEXT" C ", input_sha TEXT" C ", output_path TEXT" C ","
	" output_sha TEXT" C ", records_in BIGINT DEFAULT 0,"
	" records_out BIGINT DEFAULT 0, rejects BIGINT DEFAULT 0,"
	" dupes BIGINT DEFAULT 0, stale BIGINT DEFAULT 0,"
	" started_ms BIGINT DEFAULT 0, finished_ms BIGINT DEFAULT 0,"
	" error TEXT" C ", detail TEXT" C ","
	" UNIQUE(run_id, stage, scope, ukey));"
	"CREATE TABLE files(source TEXT" C " NOT NULL, name TEXT" C " NOT NULL,"
	" size BIGINT NOT NULL, mtime BIGINT NOT NULL,"
	" sha256 TEXT" C " NOT NULL, run_id BIGINT, post_state TEXT" C ","
	" PRIMARY KEY(source, name, size, mtime));"
	"CREATE INDEX files_sha ON files(source, sha256);"
	"CREATE TABLE run_deps(run_id BIGINT, path TEXT" C ", sha256 TEXT" C ","
	" PRIMARY KEY(run_id, path));"
	"CREATE TABLE items(sku TEXT" C " PRIMARY KEY, gtin TEXT" C ","
	" description TEXT" C ", brand TEXT" C ", category TEXT" C ","
	" base_uom TEXT" C ", pack_size TEXT" C ", status TEXT" C ","
	" supplier_id TEXT" C ", supplier_sku TEXT" C ", as_of TEXT" C ","
	" txn_id TEXT" C ", doc BIGINT);"
	"CREATE TABLE locations(location_id TEXT" C " PRIMARY KEY,"
	" type TEXT" C ", name TEXT" C ", region TEXT" C ", timezone TEXT" C ","
	" as_of TEXT" C ", txn_id TEXT" C ", doc BIGINT);"
	"CREATE TABLE prices(sku TEXT" C ", price_list TEXT" C ","
	" currency TEXT" C ", amount TEXT" C ", valid_from TEXT" C ","
	" valid_to TEXT" C ", kind TEXT" C ", as_of TEXT" C ","
	" txn_id TEXT" C ", doc BIGINT,"
	" PRIMARY KEY(sku, price_list, currency, valid_from, kind));"
	"CREATE TABLE stock_events(id BIGINT GENERATED BY DEFAULT AS IDENTITY"
	" PRIMARY KEY, doc BIGINT NOT NULL, sku TEXT" C " NOT NULL,"
	" location TEXT" C " NOT NULL, state BIGINT NOT NULL,"
	" qty BIGINT NOT NULL, delta BIGINT NOT NULL, as_of BIGINT NOT NULL,"
	" txn_id TEXT" C " NOT NULL UNIQUE, source TEXT" C ", file TEXT" C ","
	" line BIGINT, applied BIGINT NOT NULL DEFAULT 1);"
	"CREATE INDEX stock_events_key"
	" ON stock_events(sku, location, state, as_of);"
	"CREATE INDEX stock_events_doc ON stock_events(doc);"
	"CREATE TABLE positions(sku TEXT" C ", location TEXT" C ","
	" state BIGINT, qty BIGINT NOT NULL, snap_as_of BIGINT,"
	" snap_txn TEXT" C ", last_as_of BIGINT NOT NULL, delta_as_of BIGINT,"
	" PRIMARY KEY(sku, location, state));"
	"CREATE TABLE deliveries(target TEXT" C ", sha256 TEXT" C ","
	" run_id BIGINT, file_name TEXT" C ", delivered_at BIGINT,"
	" PRIMARY KEY(target, file_name));"
	"CREATE INDEX deliveries_key ON deliveries(target, sha256);"
	"CREATE TABLE counters(name TEXT" C " PRIMARY KEY,"
	" value BIGINT NOT NULL);"
	"CREATE TABLE source_fetches(source TEXT" C " PRIMARY KEY,"
	" last_at BIGINT NOT NULL);"
	"CREATE TABLE target_checks(target TEXT" C " PRIMARY KEY,"
	" last_due_at BIGINT NOT NULL);"
	"CREATE TABLE edi_interchanges(format TEXT" C " NOT NULL,"
	" sender TEXT" C " NOT NULL, receiver TEXT" C " NOT NULL,"
	" control TEXT" C " NOT NULL, sha256 TEXT" C " NOT NULL,"
	" source TEXT" C ", doc TEXT" C ", doc_sha TEXT" C ", run_id BIGINT,"
	" PRIMARY KEY(format, sender, receiver, control));"
	"CREATE TABLE edi_acks(source TEXT" C " NOT NULL,"
	" format TEXT" C " NOT NULL, sender TEXT" C " NOT NULL,"
	" receiver TEXT" C " NOT NULL, control TEXT" C " NOT NULL,"
	" grp TEXT" C " NOT NULL, doc TEXT" C ", run_id BIGINT,"
	" ack_type TEXT" C " NOT NULL, ack_control BIGINT NOT NULL,"
	" file_name TEXT" C " NOT NULL, content BYTEA NOT NULL,"
	" sent_at BIGINT NOT NULL DEFAULT 0,"
	" PRIMARY KEY(source, format, sender, receiver, control, grp));"
	"INSERT INTO meta VALUES('schema', '1');";

/* Version 2: what `stockpipe work` needs (a worker and lease per unit,
 * named leases per run, an index to find a run's pending units of a
 * stage) and an explicit order of deliveries and acknowledgments, which
 * came from SQLite's rowid (PostgreSQL has none). Existing rows keep
 * their rowid order; a new row gets max(seq) + 1 (writers hold the writer
 * lock, so no two take the same). */
static const char v2_sqlite[] =
	"ALTER TABLE units ADD COLUMN worker TEXT;"
	"ALTER TABLE units ADD COLUMN lease_until INTEGER;"
	"CREATE INDEX units_run_stage_state ON units(run_id, stage, state);"
	"CREATE TABLE leases(run_id INTEGER NOT NULL, name TEXT NOT NULL,"
	" worker TEXT, lease_until INTEGER NOT NULL DEFAULT 0,"
	" done INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(run_id, name));"
	"ALTER TABLE deliveries ADD COLUMN seq INTEGER;"
	"UPDATE deliveries SET seq = rowid;"
	"CREATE INDEX deliveries_seq ON deliveries(target, seq);"
	"ALTER TABLE edi_acks ADD COLUMN seq INTEGER;"
	"UPDATE edi_acks SET seq = rowid;"
	"UPDATE meta SET value = '2' WHERE key = 'schema';";

/* PostgreSQL has no rowid: rows of a version 1 store (there are none in
 * practice: the backend came with version 2) are numbered by time. */
static const char v2_pg[] =
	"ALTER TABLE units ADD COLUMN worker TEXT" C ";"
	"ALTER TABLE units ADD COLUMN lease_until BIGINT;"
	"CREATE INDEX units_run_stage_state ON units(run_id, stage, state);"
	"CREATE TABLE leases(run_id BIGINT NOT NULL, name TEXT" C " NOT NULL,"
	" worker TEXT" C ", lease_until BIGINT NOT NULL DEFAULT 0,"
	" done BIGINT NOT NULL DEFAULT 0, PRIMARY KEY(run_id, name));"
	"ALTER TABLE deliveries ADD COLUMN seq BIGINT;"
	"UPDATE deliveries SET seq = n.seq FROM (SELECT target, file_name,"
	" row_number() OVER (ORDER BY delivered_at, run_id, target, file_name)"
	" AS seq FROM deliveries) n"
	" WHERE deliveries.target = n.target"
	" AND deliveries.file_name = n.file_name;"
	"CREATE INDEX deliveries_seq ON deliveries(target, seq);"
	"ALTER TABLE edi_acks ADD COLUMN seq BIGINT;"
	"UPDATE edi_acks SET seq = n.seq FROM (SELECT source, format, sender,"
	" receiver, control, grp, row_number() OVER (ORDER BY run_id,"
	" ack_control, file_name) AS seq FROM edi_acks) n"
	" WHERE edi_acks.source = n.source AND edi_acks.format = n.format"
	" AND edi_acks.sender = n.sender AND edi_acks.receiver = n.receiver"
	" AND edi_acks.control = n.control AND edi_acks.grp = n.grp;"
	"UPDATE meta SET value = '2' WHERE key = 'schema';";
/* Version 3: failure isolation. A failed unit records the class of its
 * failure (enum err_class: 1 transient, 2 data, 3 config, 4 internal) in
 * err_class; a failed unit of a concluded run is "parked" until a later
 * run takes it over (retried_in = that run) or an operator asks for it
 * (retry_requested = 1). Failed units of older stores were all retried by
 * `resume`: they become transient, so the next run retries them. A run
 * whose status is 'failed' is concluded from now on (only 'running',
 * 'interrupted' and 'partial' runs are resumed). */
static const char v3_sqlite[] =
	"ALTER TABLE units ADD COLUMN err_class INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE units ADD COLUMN retried_in INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE units ADD COLUMN retry_requested INTEGER NOT NULL"
	" DEFAULT 0;"
	"UPDATE units SET err_class = 1 WHERE state = 3;"
	"CREATE INDEX units_parked ON units(state, retried_in);"
	"UPDATE meta SET value = '3' WHERE key = 'schema';";
static const char v3_pg[] =
	"ALTER TABLE units ADD COLUMN err_class BIGINT NOT NULL DEFAULT 0;"
	"ALTER TABLE units ADD COLUMN retried_in BIGINT NOT NULL DEFAULT 0;"
	"ALTER TABLE units ADD COLUMN retry_requested BIGINT NOT NULL"
	" DEFAULT 0;"
	"UPDATE units SET err_class = 1 WHERE state = 3;"
	"CREATE INDEX units_parked ON units(state, retried_in);"
	"UPDATE meta SET value = '3' WHERE key = 'schema';";

/* Version 4: arrival (issue 15, "stock truth"): every loaded record carries its
 * arrival key, (fetch sequence of its file, member of the archive, ordinal
 * in the document), and ties in as_of are decided by it, never by txn_id.
 * units.arr_file is the fetch sequence, given to a fetch unit when its
 * file is planned (counter 'arrival:fetch'); stock events, the snapshot
 * of a position and master-data rows keep the key of the record they
 * hold. units.held and units.converted count a load's records held by
 * authority and converted to the item's unit. doc_interchanges lists the
 * EDI interchanges of each mapped document with the range of its
 * canonical records; loaded_interchanges records which document loaded
 * each interchange, checked again inside the serialized load.
 *
 * Old rows get sensible keys: a fetch unit its id (the counter continues
 * after the greatest), a document's rows their file's fetch unit, the
 * document's map unit id as member (units are numbered in member order)
 * and their order in the document (source line, then id); a position's
 * snapshot the key of the event it came from. */
static const char v4_common[] =
	"UPDATE units SET arr_file = id WHERE stage = 'fetch';"
	"INSERT INTO counters(name, value) VALUES('arrival:fetch',"
	" (SELECT coalesce(max(id), 0) FROM units))"
	" ON CONFLICT(name) DO NOTHING;"
	"UPDATE stock_events SET arr_member = doc, arr_file = coalesce("
	" (SELECT f.id FROM units m JOIN units p ON p.id = m.parent"
	" JOIN units f ON f.id = p.parent WHERE m.id = stock_events.doc), 0);"
	"UPDATE stock_events SET arr_line = n.rn FROM (SELECT id, row_number()"
	" OVER (PARTITION BY doc ORDER BY line, id) AS rn FROM stock_events) n"
	" WHERE n.id = stock_events.id;"
	"UPDATE positions SET (snap_arr_file, snap_arr_member, snap_arr_line) ="
	" (SELECT e.arr_file, e.arr_member, e.arr_line FROM stock_events e"
	" WHERE e.sku = positions.sku AND e.location = positions.location"
	" AND e.state = positions.state AND e.delta = 0 AND e.applied = 1"
	" AND e.as_of = positions.snap_as_of ORDER BY e.txn_id DESC LIMIT 1)"
	" WHERE snap_as_of IS NOT NULL AND EXISTS (SELECT 1 FROM stock_events e"
	" WHERE e.sku = positions.sku AND e.location = positions.location"
	" AND e.state = positions.state AND e.delta = 0 AND e.applied = 1"
	" AND e.as_of = positions.snap_as_of);"
	"UPDATE items SET arr_member = coalesce(doc, 0), arr_file = coalesce("
	" (SELECT f.id FROM units m JOIN units p ON p.id = m.parent"
	" JOIN units f ON f.id = p.parent WHERE m.id = items.doc), 0);"
	"UPDATE locations SET arr_member = coalesce(doc, 0), arr_file = coalesce("
	" (SELECT f.id FROM units m JOIN units p ON p.id = m.parent"
	" JOIN units f ON f.id = p.parent WHERE m.id = locations.doc), 0);"
	"UPDATE prices SET arr_member = coalesce(doc, 0), arr_file = coalesce("
	" (SELECT f.id FROM units m JOIN units p ON p.id = m.parent"
	" JOIN units f ON f.id = p.parent WHERE m.id = prices.doc), 0);"
	"UPDATE meta SET value = '4' WHERE key = 'schema';";

#define ARR(T) "ALTER TABLE " T " ADD COLUMN arr_file BIGINT NOT NULL DEFAULT 0;" \
	"ALTER TABLE " T " ADD COLUMN arr_member BIGINT NOT NULL DEFAULT 0;" \
	"ALTER TABLE " T " ADD COLUMN arr_line BIGINT NOT NULL DEFAULT 0;"
#define V4_TABLES(T)                                                        \
	"ALTER TABLE units ADD COLUMN arr_file BIGINT NOT NULL DEFAULT 0;"  \
	"ALTER TABLE units ADD COLUMN held BIGINT NOT NULL DEFAULT 0;"      \
	"ALTER TABLE units ADD COLUMN converted BIGINT NOT NULL DEFAULT 0;" \
	ARR("stock_events") ARR("items") ARR("locations") ARR("prices")     \
	"ALTER TABLE positions ADD COLUMN snap_arr_file BIGINT NOT NULL"    \
	" DEFAULT 0;"                                                       \
	"ALTER TABLE positions ADD COLUMN snap_arr_member BIGINT NOT NULL"  \
	" DEFAULT 0;"                                                       \
	"ALTER TABLE positions ADD COLUMN snap_arr_line BIGINT NOT NULL"    \
	" DEFAULT 0;"                                                       \
	"CREATE TABLE doc_interchanges(doc BIGINT NOT NULL,"                \
	" format TEXT" T " NOT NULL, sender TEXT" T " NOT NULL,"            \
	" receiver TEXT" T " NOT NULL, control TEXT" T " NOT NULL,"         \
	" sha256 TEXT" T " NOT NULL, first_rec BIGINT NOT NULL,"            \
	" last_rec BIGINT NOT NULL,"                                        \
	" PRIMARY KEY(doc, format, sender, receiver, control));"            \
	"CREATE TABLE loaded_interchanges(format TEXT" T " NOT NULL,"       \
	" sender TEXT" T " NOT NULL, receiver TEXT" T " NOT NULL,"          \
	" control TEXT" T " NOT NULL, sha256 TEXT" T " NOT NULL,"           \
	" doc BIGINT NOT NULL, source TEXT" T ", name TEXT" T ","           \
	" run_id BIGINT, PRIMARY KEY(format, sender, receiver, control));"  \
	"CREATE INDEX loaded_interchanges_doc ON loaded_interchanges(doc);"

static const char v4_sqlite[] = V4_TABLES("");
static const char v4_pg[] = V4_TABLES(C);
#undef V4_TABLES
#undef ARR
/* Units of measure (issue 15, docs/mapping.md "Units of measure"): the
 * item master's pack sizes as typed rows, the unit of every stock event a
 * load converted (the event's qty is in base units), and the converted
 * count of a load unit. Self-contained: its version is its place in
 * migrations[] (meta.schema is set from schema_version, so renumbering
 * at a merge changes nothing here). */
static const char uom_sqlite[] =
	"CREATE TABLE item_units(sku TEXT NOT NULL, uom TEXT NOT NULL,"
	" factor INTEGER NOT NULL, as_of TEXT, doc INTEGER,"
	" PRIMARY KEY(sku, uom));"
	"CREATE TABLE stock_event_units(txn_id TEXT PRIMARY KEY,"
	" doc INTEGER NOT NULL, sku TEXT NOT NULL, uom TEXT NOT NULL,"
	" in_uom TEXT NOT NULL, in_qty INTEGER NOT NULL,"
	" factor INTEGER NOT NULL, origin TEXT NOT NULL);"
	"CREATE INDEX stock_event_units_doc ON stock_event_units(doc);"
	"UPDATE meta SET value = CAST((SELECT max(version) FROM"
	" schema_version) + 1 AS TEXT) WHERE key = 'schema';";
static const char uom_pg[] =
	"CREATE TABLE item_units(sku TEXT" C " NOT NULL, uom TEXT" C " NOT NULL,"
	" factor BIGINT NOT NULL, as_of TEXT" C ", doc BIGINT,"
	" PRIMARY KEY(sku, uom));"
	"CREATE TABLE stock_event_units(txn_id TEXT" C " PRIMARY KEY,"
	" doc BIGINT NOT NULL, sku TEXT" C " NOT NULL, uom TEXT" C " NOT NULL,"
	" in_uom TEXT" C " NOT NULL, in_qty BIGINT NOT NULL,"
	" factor BIGINT NOT NULL, origin TEXT" C " NOT NULL);"
	"CREATE INDEX stock_event_units_doc ON stock_event_units(doc);"
	"UPDATE meta SET value = CAST((SELECT max(version) FROM"
	" schema_version) + 1 AS TEXT) WHERE key = 'schema';";

/* Version 6: typed unit columns (issue 16, "a typed store"). What the
 * stages used to write into units.detail and read back from it gets a
 * column of its own; detail stays a note for people, never read by code.
 * fetch: file_size and file_mtime as listed (listed = 1 when known; a
 * replayed file has none), posted (after_load done), list_standin (the
 * "(list)" unit standing in for a failed listing); map: accept_rejects
 * (`quarantine release --accept`), released_by and release_note (who
 * released it, and the note kept next to the new outcome), ic_conflicts
 * (interchanges rejected for a reused control number); map and render:
 * rejects_path (the unit's reject file); render: control_no (its
 * envelope control number, reused when the unit is redone); render and
 * deliver: outcome (enum unit_outcome: held back, delivered). Old rows
 * get them from their detail text once (schema_units.c). */
#define V6_COLUMNS(T, I)                                                    \
	"ALTER TABLE units ADD COLUMN listed " I " NOT NULL DEFAULT 0;"     \
	"ALTER TABLE units ADD COLUMN file_size " I " NOT NULL DEFAULT 0;"  \
	"ALTER TABLE units ADD COLUMN file_mtime " I " NOT NULL DEFAULT 0;" \
	"ALTER TABLE units ADD COLUMN posted " I " NOT NULL DEFAULT 0;"     \
	"ALTER TABLE units ADD COLUMN list_standin " I " NOT NULL"          \
	" DEFAULT 0;"                                                       \
	"ALTER TABLE units ADD COLUMN accept_rejects " I " NOT NULL"        \
	" DEFAULT 0;"                                                       \
	"ALTER TABLE units ADD COLUMN released_by TEXT" T ";"               \
	"ALTER TABLE units ADD COLUMN release_note TEXT" T ";"              \
	"ALTER TABLE units ADD COLUMN ic_conflicts " I " NOT NULL"          \
	" DEFAULT 0;"                                                       \
	"ALTER TABLE units ADD COLUMN rejects_path TEXT" T ";"              \
	"ALTER TABLE units ADD COLUMN control_no " I " NOT NULL DEFAULT 0;" \
	"ALTER TABLE units ADD COLUMN outcome " I " NOT NULL DEFAULT 0;"
static const char v6_sqlite[] = V6_COLUMNS("", "INTEGER");
static const char v6_pg[] = V6_COLUMNS(C, "BIGINT");
#undef V6_COLUMNS

/* Version 7: the file ledger holds every version of a file, its SHA-256
 * in the key (issue 18, `detect_changes: content`): a file replaced by
 * one of the same size and mtime is a row of its own, not a conflict
 * with the first. SQLite cannot change a primary key in place: the table
 * is built again (same columns, same order, same index). */
static const char v7_sqlite[] =
	"CREATE TABLE files_v7(source TEXT NOT NULL, name TEXT NOT NULL,"
	" size INTEGER NOT NULL, mtime INTEGER NOT NULL,"
	" sha256 TEXT NOT NULL, run_id INTEGER, post_state TEXT,"
	" PRIMARY KEY(source, name, size, mtime, sha256));"
	"INSERT INTO files_v7 SELECT source, name, size, mtime, sha256,"
	" run_id, post_state FROM files;"
	"DROP TABLE files;"
	"ALTER TABLE files_v7 RENAME TO files;"
	"CREATE INDEX files_sha ON files(source, sha256);"
	"UPDATE meta SET value = CAST((SELECT max(version) FROM"
	" schema_version) + 1 AS TEXT) WHERE key = 'schema';";
static const char v7_pg[] =
	"ALTER TABLE files DROP CONSTRAINT files_pkey;"
	"ALTER TABLE files ADD PRIMARY KEY(source, name, size, mtime, sha256);"
	"UPDATE meta SET value = CAST((SELECT max(version) FROM"
	" schema_version) + 1 AS TEXT) WHERE key = 'schema';";
/* Version 8: unit_deps, what each attempt of a unit was made with, and
 * runs.gc_at, when gc removed a run's files (gc.h). */
static const char v8_udeps_sqlite[] =
	"CREATE TABLE unit_deps(run_id INTEGER NOT NULL, stage TEXT NOT NULL,"
	" scope TEXT NOT NULL, ukey TEXT NOT NULL, path TEXT NOT NULL,"
	" sha256 TEXT NOT NULL, attempt INTEGER NOT NULL, at_ms INTEGER"
	" NOT NULL, PRIMARY KEY(run_id, stage, scope, ukey, path, sha256));"
	"ALTER TABLE runs ADD COLUMN gc_at TEXT;"
	"ALTER TABLE runs ADD COLUMN clock_s INTEGER;"
	"UPDATE meta SET value = CAST((SELECT max(version) FROM"
	" schema_version) + 1 AS TEXT) WHERE key = 'schema';";
static const char v8_udeps_pg[] =
	"CREATE TABLE unit_deps(run_id BIGINT NOT NULL, stage TEXT" C
	" NOT NULL, scope TEXT" C " NOT NULL, ukey TEXT" C " NOT NULL,"
	" path TEXT" C " NOT NULL, sha256 TEXT" C " NOT NULL, attempt BIGINT"
	" NOT NULL, at_ms BIGINT NOT NULL, PRIMARY KEY(run_id, stage, scope,"
	" ukey, path, sha256));"
	"ALTER TABLE runs ADD COLUMN gc_at TEXT" C ";"
	"ALTER TABLE runs ADD COLUMN clock_s BIGINT;"
	"UPDATE meta SET value = CAST((SELECT max(version) FROM"
	" schema_version) + 1 AS TEXT) WHERE key = 'schema';";
/* Version 9 (acknowledgments back, issue 19): what a partner's 997/999/
 * CONTRL said about each delivery. ack_expect: per delivered EDI set, its
 * control numbers (raw as sent, and as keys without zero padding for the
 * match) and the status of the acknowledgment that last answered it (0
 * none yet); ack_received: every acknowledged unit read back (level 0 and
 * error set: a file that could not be read), matched or not;
 * ack_received_errors: the partner's error details of each. Self-contained
 * so it can be renumbered at a merge; IF NOT EXISTS because the schema
 * tests take a new store back to an older version and migrate again. */
#define V_ACKS(T, I, ID)                                                \
	"CREATE TABLE IF NOT EXISTS ack_expect(target TEXT" T " NOT NULL," \
	" file_name TEXT" T " NOT NULL, run_id " I " NOT NULL,"         \
	" delivered_at " I " NOT NULL, format TEXT" T " NOT NULL,"      \
	" ic_control TEXT" T " NOT NULL, grp_control TEXT" T " NOT NULL," \
	" set_type TEXT" T " NOT NULL, set_control TEXT" T " NOT NULL," \
	" ic_key TEXT" T " NOT NULL, grp_key TEXT" T " NOT NULL,"       \
	" set_key TEXT" T " NOT NULL, status " I " NOT NULL DEFAULT 0," \
	" ack_id " I ", acked_at " I ","                                \
	" PRIMARY KEY(target, file_name, ic_key, grp_key, set_key));"   \
	"CREATE INDEX IF NOT EXISTS ack_expect_run ON ack_expect(run_id);" \
	"CREATE TABLE IF NOT EXISTS ack_received(id " ID ","             \
	" target TEXT" T " NOT NULL, file TEXT" T " NOT NULL,"          \
	" line " I " NOT NULL DEFAULT 0,"                                \
	" run_id " I " NOT NULL, read_at " I " NOT NULL,"               \
	" ack_type TEXT" T " NOT NULL, level " I " NOT NULL,"           \
	" sender TEXT" T ", ic_control TEXT" T ", grp_control TEXT" T "," \
	" set_type TEXT" T ", set_control TEXT" T ","                   \
	" status " I " NOT NULL, code TEXT" T ","                       \
	" matched " I " NOT NULL DEFAULT 0, error TEXT" T ");"          \
	"CREATE INDEX IF NOT EXISTS ack_received_run ON ack_received(run_id);" \
	"CREATE TABLE IF NOT EXISTS ack_received_errors(ack_id " I " NOT NULL," \
	" n " I " NOT NULL, kind TEXT" T " NOT NULL, seg_id TEXT" T "," \
	" seg_pos " I ", loop_id TEXT" T ", elem " I ", comp " I ","    \
	" rep " I ", elem_ref TEXT" T ", code TEXT" T ", value TEXT" T "," \
	" line " I ", PRIMARY KEY(ack_id, n));"                         \
	"UPDATE meta SET value = CAST((SELECT max(version) FROM"        \
	" schema_version) + 1 AS TEXT) WHERE key = 'schema';"
static const char v_acks_sqlite[] =
	V_ACKS("", "INTEGER", "INTEGER PRIMARY KEY");
static const char v_acks_pg[] =
	V_ACKS(C, "BIGINT", "BIGINT GENERATED BY DEFAULT AS IDENTITY"
			    " PRIMARY KEY");
#undef V_ACKS

/* Version 10 (w-errors, issue 17: warnings that do not stop work): the
 * warnings a map unit's document gave, in order, each with its place
 * (physical line and column, EDI segment and byte offset; 0 unknown),
 * for `show`. Written by state_warn.c only. */
#define V10_WARN(C, I)                                                     \
	"CREATE TABLE IF NOT EXISTS unit_warnings(unit_id " I " NOT NULL," \
	" seq " I " NOT NULL, code TEXT" C " NOT NULL,"                     \
	" file TEXT" C " NOT NULL, line " I " NOT NULL,"                    \
	" col " I " NOT NULL, seg " I " NOT NULL, byte_off " I " NOT NULL," \
	" message TEXT" C " NOT NULL, PRIMARY KEY(unit_id, seq));"          \
	"UPDATE meta SET value = CAST((SELECT max(version) FROM"            \
	" schema_version) + 1 AS TEXT) WHERE key = 'schema';"
static const char v10_warn_sqlite[] = V10_WARN("", "INTEGER");
static const char v10_warn_pg[] = V10_WARN(C, "BIGINT");
#undef V10_WARN
#undef C

/* Version 11 (issue 20): one txn_id dedupe ledger. Every loaded stock
 * event's txn_id is a 24-byte key in txn_digests (state_txn.c: how the
 * key is made), written at load time and kept when gc folds the event
 * away (state_fold.c), so a replay years later is still a duplicate;
 * stock_events loses its UNIQUE index on txn_id (the second b-tree of
 * every load, in an order of its own). SQLite rebuilds the table (ids
 * kept), PostgreSQL drops the constraint; the txn_ids already loaded go
 * into the ledger (state_txn_fill). Self-contained (renumbered at a
 * merge); repeatable, because the schema tests take a new store back and
 * migrate again. */
#define EV_COLS_V11                                                      \
	"id, doc, sku, location, state, qty, delta, as_of, txn_id, source," \
	" file, line, applied, arr_file, arr_member, arr_line"
static const char v11_sqlite[] =
	"CREATE TABLE IF NOT EXISTS txn_digests(digest BLOB PRIMARY KEY)"
	" WITHOUT ROWID;"
	"DROP TABLE IF EXISTS stock_events_v11;"
	"CREATE TABLE stock_events_v11(id INTEGER PRIMARY KEY,"
	" doc INTEGER NOT NULL, sku TEXT NOT NULL, location TEXT NOT NULL,"
	" state INTEGER NOT NULL, qty INTEGER NOT NULL,"
	" delta INTEGER NOT NULL, as_of INTEGER NOT NULL,"
	" txn_id TEXT NOT NULL, source TEXT, file TEXT, line INTEGER,"
	" applied INTEGER NOT NULL DEFAULT 1,"
	" arr_file BIGINT NOT NULL DEFAULT 0,"
	" arr_member BIGINT NOT NULL DEFAULT 0,"
	" arr_line BIGINT NOT NULL DEFAULT 0);"
	"INSERT INTO stock_events_v11(" EV_COLS_V11 ") SELECT " EV_COLS_V11
	" FROM stock_events ORDER BY id;"
	"DROP TABLE stock_events;"
	"ALTER TABLE stock_events_v11 RENAME TO stock_events;"
	"CREATE INDEX stock_events_key"
	" ON stock_events(sku, location, state, as_of);"
	"CREATE INDEX stock_events_doc ON stock_events(doc);";
static const char v11_pg[] =
	"CREATE TABLE IF NOT EXISTS txn_digests(digest BYTEA PRIMARY KEY);"
	"ALTER TABLE stock_events DROP CONSTRAINT IF EXISTS"
	" stock_events_txn_id_key;";
static const char v11_meta[] =
	"UPDATE meta SET value = CAST((SELECT max(version) FROM"
	" schema_version) + 1 AS TEXT) WHERE key = 'schema';";

/* Version 12 (issue 20, narrower stock events, state_lineage.h): an
 * event's source and file are NULL where they are its document's (the
 * map unit's scope and key), its txn_id NULL where it is the mapping
 * engine's default for the document, kept as two integers (txn_seq,
 * txn_rec); readers join units. And the index on stock_events.doc (an
 * entry per event) gives way to doc_events, each document's id range.
 * SQLite rebuilds the table (txn_id loses NOT NULL; ids kept),
 * PostgreSQL alters it; then the ranges are computed and the rows
 * already loaded narrowed (state_lineage_fill). Repeatable: a table
 * that has the columns is left as it is, a NULL stays NULL, a range is
 * computed again. */
static const char v12_sqlite[] =
	"DROP TABLE IF EXISTS stock_events_v12;"
	STATE_EVENTS_SQLITE("stock_events_v12")
	"INSERT INTO stock_events_v12(" EV_COLS_V11 ") SELECT " EV_COLS_V11
	" FROM stock_events ORDER BY id;"
	"DROP TABLE stock_events;"
	"ALTER TABLE stock_events_v12 RENAME TO stock_events;"
	STATE_EVENTS_INDEXES;
#undef EV_COLS_V11
static const char v12_pg[] =
	"ALTER TABLE stock_events ALTER COLUMN txn_id DROP NOT NULL;"
	"ALTER TABLE stock_events ADD COLUMN txn_seq BIGINT;"
	"ALTER TABLE stock_events ADD COLUMN txn_rec BIGINT;";
/* The id range of each document's events (in place of the index on
 * stock_events.doc, one entry per event), recomputed exactly. */
#define V12_RANGES(I)                                                    \
	"CREATE TABLE IF NOT EXISTS doc_events(doc " I " PRIMARY KEY,"   \
	" lo " I " NOT NULL, hi " I " NOT NULL);"                        \
	"INSERT INTO doc_events(doc, lo, hi) SELECT doc, min(id), max(id)" \
	" FROM stock_events WHERE true GROUP BY doc"                      \
	" ON CONFLICT(doc) DO UPDATE"                                     \
	" SET lo = excluded.lo, hi = excluded.hi;"                        \
	"DROP INDEX IF EXISTS stock_events_doc;"
static const char v12_ranges_sqlite[] = V12_RANGES("INTEGER");
static const char v12_ranges_pg[] = V12_RANGES("BIGINT");
#undef V12_RANGES

static int query_int(struct db *d, const char *sql, const char *param,
		     int64_t *v, struct err *err);

static int v12_events(struct db *d, struct err *err)
{
	static const char has_lite[] =
		"SELECT count(*) FROM pragma_table_info('stock_events')"
		" WHERE name = 'txn_seq'";
	static const char has_pg[] =
		"SELECT count(*) FROM information_schema.columns"
		" WHERE table_schema = current_schema()"
		" AND table_name = 'stock_events' AND column_name = 'txn_seq'";
	int pg = db_kind_of(d) == DB_POSTGRES;
	int64_t has;

	if (query_int(d, pg ? has_pg : has_lite, NULL, &has, err) < 0 ||
	    (!has && db_exec(d, pg ? v12_pg : v12_sqlite, err) < 0) ||
	    db_exec(d, pg ? v12_ranges_pg : v12_ranges_sqlite, err) < 0 ||
	    state_lineage_fill(d, err) < 0)
		return -1;
	return db_exec(d, v11_meta, err);
}

static int v11_ledger(struct db *d, struct err *err)
{
	if (db_exec(d, db_kind_of(d) == DB_POSTGRES ? v11_pg : v11_sqlite,
		    err) < 0 ||
	    state_txn_fill(d, err) < 0)
		return -1;
	return db_exec(d, v11_meta, err);
}

/* Version 13 (issue 20, w-gcinc): runs.fold_at, when a fold first
 * counted the run's events as collected (state_fold.c): an event can
 * only become foldable when a run is collected, so a fold need look only
 * at the positions of the runs collected since the last one (gc_at set,
 * fold_at not). The runs collected before this version have none: the
 * first fold after it considers them all (the full pick). A step of its
 * own, renumbered at a merge; repeatable (the schema tests take a new
 * store back and migrate again; SQLite has no ADD COLUMN IF NOT EXISTS). */
static int query_int(struct db *d, const char *sql, const char *param,
		     int64_t *v, struct err *err);

static const char meta_next[] =
	"UPDATE meta SET value = CAST((SELECT max(version) FROM"
	" schema_version) + 1 AS TEXT) WHERE key = 'schema';";

/* Adds column `col` to `table` unless it is there (a migration step may
 * run again: see above), then counts the version. table, col and the
 * types are this file's constants, never input. */
static int add_column(struct db *d, const char *table, const char *col,
		      const char *type_lite, const char *type_pg,
		      struct err *err)
{
	char has[160], add[200];
	int64_t n = 0;

	snprintf(has, sizeof(has), "SELECT count(*) FROM pragma_table_info('%s')"
		 " WHERE name = '%s'", table, col);
	if (db_kind_of(d) == DB_POSTGRES) {
		snprintf(add, sizeof(add), "ALTER TABLE %s ADD COLUMN IF NOT"
			 " EXISTS %s %s", table, col, type_pg);
		if (db_exec(d, add, err) < 0)
			return -1;
	} else {
		snprintf(add, sizeof(add), "ALTER TABLE %s ADD COLUMN %s %s",
			 table, col, type_lite);
		if (query_int(d, has, NULL, &n, err) < 0 ||
		    (!n && db_exec(d, add, err) < 0))
			return -1;
	}
	return db_exec(d, meta_next, err);
}

static int v13_fold_mark(struct db *d, struct err *err)
{
	return add_column(d, "runs", "fold_at", "TEXT", "TEXT COLLATE \"C\"",
			  err);
}

/* Version 14 (issue 20): units.txn_own, 1 when every stock record of a
 * map unit's document has the txn_id the mapping engine gives by default,
 * "<16 hex of the document's SHA-256>:...": no other document can hold
 * one of them (the same bytes aside), so its load may run beside others
 * on PostgreSQL in any order (work.c, load_parallel). A document whose
 * mapping names its txn_ids (a report ID and a line number) may share
 * them with another, a resend; which one is loaded first then decides
 * which is applied and which is a duplicate, so those are loaded in
 * arrival order (0, the default, also for every unit of an older
 * version). */
static int v14_txn_own(struct db *d, struct err *err)
{
	return add_column(d, "units", "txn_own", "INTEGER NOT NULL DEFAULT 0",
			  "BIGINT NOT NULL DEFAULT 0", err);
}

/* Version 15 (issue 20): the txn_id ledger holds one document key for
 * all the default txn_ids of a document's content (state_txn.c). No
 * table changes and no rows are rewritten: a document of an older load
 * has per-record keys, which the load finds and uses as before. The
 * version is there so that an older stockpipe, which knows no document
 * keys and would load a replay of such a document again, refuses the
 * store. */
static int v15_doc_keys(struct db *d, struct err *err)
{
	return db_exec(d, meta_next, err);
}

/* Version 16 (issue 20): a partial index of the positions below zero.
 * The metrics every run writes count them (state_positions_negative);
 * without it that count read every position of the store, a cost that
 * grew with the store, not the run (2.6 M positions: 0.1-0.27 s a run;
 * a retailer's 100 M: seconds, every 15 minutes). A negative position
 * is rare (an oversold count waiting for its receipt), so the index is
 * small and the load touches it only for those. Plain SQL, the same on
 * both backends; repeatable (IF NOT EXISTS). */
static const char v16_negative[] =
	"CREATE INDEX IF NOT EXISTS positions_negative ON positions(qty)"
	" WHERE qty < 0;"
	"UPDATE meta SET value = CAST((SELECT max(version) FROM"
	" schema_version) + 1 AS TEXT) WHERE key = 'schema';";

/* Version 17 (issue 20): on PostgreSQL the partial index of the
 * negative positions no longer names qty. PostgreSQL 15 updates a row in
 * place (HOT: no new entry in the primary key's index, the old version
 * pruned within its page) only when no column an index uses, in its key
 * or its predicate, changed; schema 16's index ON positions(qty) WHERE
 * qty < 0 so made every load's change of a quantity a full update: 1.7 %
 * of the positions' updates were HOT on the workers bench, 85 % without
 * it (a new primary key entry per update, more WAL, a bloated index the
 * next loads search while they hold their position locks). The index is
 * now on neg, a stored column the server computes (qty < 0), which
 * changes only when a position crosses zero, so an update that keeps the
 * sign stays HOT; the metrics count reads it by WHERE neg
 * (state_positions_negative). SQLite updates a row in place anyway and
 * keeps schema 16's index. Adding the column rewrites the table once. */
static const char v17_neg_pg[] =
	"ALTER TABLE positions ADD COLUMN IF NOT EXISTS neg BOOLEAN"
	" GENERATED ALWAYS AS (qty < 0) STORED;"
	"DROP INDEX IF EXISTS positions_negative;"
	"CREATE INDEX positions_negative ON positions(neg) WHERE neg;";

static int v17_neg(struct db *d, struct err *err)
{
	if (db_kind_of(d) == DB_POSTGRES && db_exec(d, v17_neg_pg, err) < 0)
		return -1;
	return db_exec(d, meta_next, err);
}

/* Version 6 as a step: the columns, then their values for old rows
 * (schema_units.c), in the caller's transaction. */
static int v6_typed_units(struct db *d, struct err *err)
{
	if (db_exec(d, db_kind_of(d) == DB_POSTGRES ? v6_pg : v6_sqlite,
		    err) < 0)
		return -1;
	return schema_units_fill(d, err);
}

/* Version 4 as a step of its own (it may be renumbered when migrations
 * of parallel branches are merged): the tables, then the keys of old
 * rows, in the caller's transaction. */
static int v4_arrival(struct db *d, struct err *err)
{
	if (db_exec(d, db_kind_of(d) == DB_POSTGRES ? v4_pg : v4_sqlite,
		    err) < 0)
		return -1;
	return db_exec(d, v4_common, err);
}

static const struct migration {
	int version;
	const char *sqlite, *pg;
	/* a step written in C instead (sqlite and pg NULL) */
	int (*step)(struct db *d, struct err *err);
} migrations[] = {
	{1, v1_sqlite, v1_pg, NULL},
	{2, v2_sqlite, v2_pg, NULL},
	{3, v3_sqlite, v3_pg, NULL},
	{4, NULL, NULL, v4_arrival},
	{5, uom_sqlite, uom_pg, NULL},
	{6, NULL, NULL, v6_typed_units},
	{7, v7_sqlite, v7_pg, NULL},
	{8, v8_udeps_sqlite, v8_udeps_pg, NULL},
	{9, v_acks_sqlite, v_acks_pg, NULL},
	{10, v10_warn_sqlite, v10_warn_pg, NULL},
	{11, NULL, NULL, v11_ledger},
	{12, NULL, NULL, v12_events},
	{13, NULL, NULL, v13_fold_mark},
	{14, NULL, NULL, v14_txn_own},
	{15, NULL, NULL, v15_doc_keys},
	{16, v16_negative, v16_negative, NULL},
	{17, NULL, NULL, v17_neg},
};
#define NMIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))
_Static_assert(NMIGRATIONS == SCHEMA_LATEST,
	       "SCHEMA_LATEST is the last migration's version");

static const char sv_sqlite[] =
	"CREATE TABLE IF NOT EXISTS schema_version(version INTEGER PRIMARY KEY,"
	" applied_at TEXT NOT NULL)";
static const char sv_pg[] =
	"CREATE TABLE IF NOT EXISTS schema_version(version BIGINT PRIMARY KEY,"
	" applied_at TEXT COLLATE \"C\" NOT NULL)";

int schema_open(const char *state_dir, const char *db_url,
		const char *password_env, struct db **out, struct err *err)
{
	char path[4200];

	*out = NULL;
	if (db_url && *db_url)
		return db_open(db_url, password_env, out, err);
	if (io_mkdirs(state_dir, err) < 0)
		return -1;
	if ((size_t)snprintf(path, sizeof(path), "%s/state.db", state_dir) >=
	    sizeof(path))
		return err_set(err, E_CONFIG, "state directory path too long");
	return db_open(path, NULL, out, err);
}

/* Runs a one-row, one-column query with an optional text parameter;
 * *v = its integer (0 for no row or NULL). */
static int query_int(struct db *d, const char *sql, const char *param,
		     int64_t *v, struct err *err)
{
	struct db_stmt *st = db_prepare(d, sql, 0, err);
	int rc;

	*v = 0;
	if (!st)
		return -1;
	if (param)
		db_bind_text(st, 1, param);
	rc = db_step(st, err);
	if (rc == 1)
		*v = db_col_int64(st, 0);
	db_finalize(st);
	return rc < 0 ? -1 : 0;
}

/* *n = tables named name (name NULL: all tables) in the store. */
static int tables(struct db *d, const char *name, int64_t *n,
		  struct err *err)
{
	static const char pg_one[] =
		"SELECT count(*) FROM pg_catalog.pg_tables"
		" WHERE schemaname = current_schema() AND tablename = ?";
	static const char pg_all[] =
		"SELECT count(*) FROM pg_catalog.pg_tables"
		" WHERE schemaname = current_schema()";
	static const char lite_one[] =
		"SELECT count(*) FROM sqlite_master"
		" WHERE type = 'table' AND name = ?";
	static const char lite_all[] =
		"SELECT count(*) FROM sqlite_master WHERE type = 'table'";
	int pg = db_kind_of(d) == DB_POSTGRES;

	if (name)
		return query_int(d, pg ? pg_one : lite_one, name, n, err);
	return query_int(d, pg ? pg_all : lite_all, NULL, n, err);
}

int schema_version(struct db *d, int *version, struct err *err)
{
	int64_t n, v;

	*version = 0;
	if (tables(d, "schema_version", &n, err) < 0)
		return -1;
	if (n) {
		if (query_int(d, "SELECT max(version) FROM schema_version",
			      NULL, &v, err) < 0)
			return -1;
		if (v > 0) {
			*version = (int)v;
			return 0;
		}
	}
	/* Before schema_version: meta.schema, which was always 1. */
	if (tables(d, "meta", &n, err) < 0)
		return -1;
	if (n) {
		struct db_stmt *st = db_prepare(
			d, "SELECT value FROM meta WHERE key = 'schema'", 0,
			err);
		int rc;

		if (!st)
			return -1;
		rc = db_step(st, err);
		*version = rc == 1 && db_col_text(st, 0)
				   ? atoi(db_col_text(st, 0))
				   : 1;
		db_finalize(st);
		if (rc < 0)
			return -1;
		if (*version < 1)
			*version = 1;
		return 0;
	}
	if (tables(d, NULL, &n, err) < 0)
		return -1;
	if (n)
		return err_set(err, E_CONFIG,
			       "state store '%s' holds tables but no stockpipe "
			       "schema version (use an empty database or "
			       "schema for stockpipe)",
			       db_where(d));
	return 0;
}

static int record_version(struct db *d, int version, struct err *err)
{
	struct db_stmt *st =
		db_prepare(d,
			   "INSERT INTO schema_version(version, applied_at)"
			   " VALUES(?, ?) ON CONFLICT DO NOTHING",
			   0, err);
	char iso[DT_ISO_LEN];
	int rc;

	if (!st)
		return -1;
	dt_format_iso((int64_t)time(NULL), iso);
	db_bind_int64(st, 1, version);
	db_bind_text(st, 2, iso);
	rc = db_step(st, err);
	db_finalize(st);
	return rc < 0 ? -1 : 0;
}

/* Applies migration m inside the caller's transaction. */
static int apply(struct db *d, const struct migration *m, struct err *err)
{
	const char *sql = db_kind_of(d) == DB_POSTGRES ? m->pg : m->sqlite;

	if (m->step ? m->step(d, err) < 0 : db_exec(d, sql, err) < 0)
		return -1;
	return record_version(d, m->version, err);
}

int schema_create(struct db *d, int *version, struct err *err)
{
	size_t i;
	int v;

	*version = 0;
	if (db_begin(d, err) < 0)
		return -1;
	/* Under the writer lock: another process may have been first. */
	if (schema_version(d, &v, err) < 0)
		goto fail;
	if (v == 0) {
		if (db_exec(d, db_kind_of(d) == DB_POSTGRES ? sv_pg : sv_sqlite,
			    err) < 0)
			goto fail;
		for (i = 0; i < NMIGRATIONS; i++)
			if (apply(d, &migrations[i], err) < 0)
				goto fail;
		v = migrations[NMIGRATIONS - 1].version;
	}
	if (db_commit(d, err) < 0)
		return -1;
	*version = v;
	return 0;
fail:
	db_rollback(d);
	return -1;
}

static int too_new(struct db *d, int v, struct err *err)
{
	return err_set(err, E_CONFIG,
		       "state store '%s' has schema %d; this stockpipe knows "
		       "up to %d",
		       db_where(d), v, SCHEMA_LATEST);
}

int schema_migrate(struct db *d, int *from, int *to, struct err *err)
{
	int64_t rows;
	size_t i;
	int v;

	*from = *to = 0;
	if (schema_version(d, &v, err) < 0)
		return -1;
	*from = *to = v;
	if (v == 0)
		return schema_create(d, to, err);
	if (v > SCHEMA_LATEST)
		return too_new(d, v, err);
	for (i = 0; i < NMIGRATIONS; i++) {
		const struct migration *m = &migrations[i];
		int64_t k;

		if (m->version <= v)
			continue;
		if (db_begin(d, err) < 0)
			return -1;
		if (schema_version(d, &v, err) < 0)
			goto fail;
		if (m->version > v) {
			/* A store from before schema_version: record the
			 * versions it has, then this one. */
			if (db_exec(d,
				    db_kind_of(d) == DB_POSTGRES ? sv_pg
								 : sv_sqlite,
				    err) < 0 ||
			    query_int(d, "SELECT count(*) FROM schema_version",
				      NULL, &rows, err) < 0)
				goto fail;
			for (k = 1; !rows && k <= v; k++)
				if (record_version(d, (int)k, err) < 0)
					goto fail;
			if (apply(d, m, err) < 0)
				goto fail;
			v = m->version;
		}
		if (db_commit(d, err) < 0)
			return -1;
		*to = v;
	}
	return 0;
fail:
	db_rollback(d);
	return -1;
}

int schema_check(struct db *d, struct err *err)
{
	int v;

	if (schema_version(d, &v, err) < 0)
		return -1;
	if (v == 0 && schema_create(d, &v, err) < 0)
		return -1;
	if (v < SCHEMA_LATEST)
		return err_set(err, E_CONFIG,
			       "state store '%s' has schema %d; run "
			       "'stockpipe db migrate'",
			       db_where(d), v);
	if (v > SCHEMA_LATEST)
		return too_new(d, v, err);
	return 0;
}
