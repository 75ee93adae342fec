/* t_schema.c - schema version 6: the typed unit columns, filled once from
 * the detail text of an older store's units (schema_units.c), on SQLite
 * and (with STOCKPIPE_TEST_PG_URL, as postgres.sh sets it) PostgreSQL;
 * and the typed fields of struct state_unit through the store. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/store/db.h"
#include "pipeline/store/schema.h"
#include "pipeline/store/state.h"
#include "t.h"

#define PWENV "SP_TEST_PG_PASSWORD"

static const char *pg_url(void)
{
	const char *u = getenv("STOCKPIPE_TEST_PG_URL");

	return u && *u ? u : NULL;
}

/* A fresh database: the SQLite file t.db, or a PostgreSQL schema of this
 * process's own (dropped by close_backend). */
static struct db *open_backend(int pg, struct err *e)
{
	const char *pw = getenv(PWENV);
	struct db *d = NULL;
	char sql[160];

	if (!pg)
		return db_open("t.db", NULL, &d, e) < 0 ? NULL : d;
	if (db_open(pg_url(), pw && *pw ? PWENV : NULL, &d, e) < 0)
		return NULL;
	snprintf(sql, sizeof(sql),
		 "DROP SCHEMA IF EXISTS t_schema_%d CASCADE;"
		 " CREATE SCHEMA t_schema_%d; SET search_path = t_schema_%d",
		 (int)getpid(), (int)getpid(), (int)getpid());
	if (db_exec(d, sql, e) < 0) {
		db_close(d);
		return NULL;
	}
	return d;
}

static void close_backend(struct db *d)
{
	char sql[80];
	struct err e = ERR_INIT;

	if (d && db_kind_of(d) == DB_POSTGRES) {
		db_rollback(d);
		snprintf(sql, sizeof(sql), "DROP SCHEMA t_schema_%d CASCADE",
			 (int)getpid());
		db_exec(d, sql, &e);
	}
	db_close(d);
}

/* Takes a new store back to version 5: the version 6 columns dropped. */
static const char to_v5[] =
	"ALTER TABLE units DROP COLUMN listed;"
	"ALTER TABLE units DROP COLUMN file_size;"
	"ALTER TABLE units DROP COLUMN file_mtime;"
	"ALTER TABLE units DROP COLUMN posted;"
	"ALTER TABLE units DROP COLUMN list_standin;"
	"ALTER TABLE units DROP COLUMN accept_rejects;"
	"ALTER TABLE units DROP COLUMN released_by;"
	"ALTER TABLE units DROP COLUMN release_note;"
	"ALTER TABLE units DROP COLUMN ic_conflicts;"
	"ALTER TABLE units DROP COLUMN rejects_path;"
	"ALTER TABLE units DROP COLUMN control_no;"
	"ALTER TABLE units DROP COLUMN outcome;"
	"DROP TABLE IF EXISTS unit_deps;"
	"ALTER TABLE runs DROP COLUMN gc_at;"
	"ALTER TABLE runs DROP COLUMN clock_s;"
	"DELETE FROM schema_version WHERE version >= 6;"
	"UPDATE meta SET value = '5' WHERE key = 'schema';";

/* Units of a version 5 store as the stages left them: stage, key,
 * detail (NULL: none) and what version 6 must make of them, as
 * "listed size mtime posted standin|accept released_by|conflicts
 * rejects_path|control outcome|release_note". */
static const struct {
	const char *stage, *ukey, *detail, *want;
} old_units[] = {
	{"fetch", "a.csv", "5000000000 1763622000",
	 "1 5000000000 1763622000 0 0|0 |0 |0 0|"},
	{"fetch", "b.csv", "12 1763622000 posted",
	 "1 12 1763622000 1 0|0 |0 |0 0|"},
	{"fetch", "c.csv", "12 1763622000 same content as 'a.csv' posted",
	 "1 12 1763622000 1 0|0 |0 |0 0|"},
	{"fetch", "replay:x.csv", "replay of '/in/x.csv' (5 bytes)",
	 "0 0 0 0 0|0 |0 |0 0|"},
	{"fetch", "(list)", NULL, "0 0 0 0 1|0 |0 |0 0|"},
	{"fetch", "d.csv", "garbage", "0 0 0 0 0|0 |0 |0 0|"},
	{"map", "m1.csv",
	 "released by alice at 2026-11-20T09:12:00Z [accept-rejects]: ok "
	 "(was: 3 of 4 rejected)",
	 "0 0 0 0 0|1 alice|0 |0 0|released by alice at 2026-11-20T09:12:00Z "
	 "[accept-rejects]: ok (was: 3 of 4 rejected)"},
	{"map", "m2.x12",
	 "released by bob at 2026-11-20T09:12:00Z (was: rejects: many); "
	 "rejects: /s/rejects/1/edi/5.jsonl; 2 duplicate interchange(s) not "
	 "loaded again, 1 rejected for a reused control number",
	 "0 0 0 0 0|0 bob|1 /s/rejects/1/edi/5.jsonl|0 0|released by bob at "
	 "2026-11-20T09:12:00Z (was: rejects: many); rejects: "
	 "/s/rejects/1/edi/5.jsonl; 2 duplicate interchange(s) not loaded "
	 "again, 1 rejected for a reused control number"},
	{"map", "m3.csv", "rejects: /s/rejects/1/stores/6.jsonl",
	 "0 0 0 0 0|0 |0 /s/rejects/1/stores/6.jsonl|0 0|"},
	{"render", "snapshot", "12 rows, control=42; rejects: /s/r/t.jsonl",
	 "0 0 0 0 0|0 |0 /s/r/t.jsonl|42 0|"},
	{"render", "snapshot", "control=7", "0 0 0 0 0|0 |0 |7 0|"},
	{"render", "snapshot", "control=-3", "0 0 0 0 0|0 |0 |0 0|"},
	{"render", "snapshot", "held: source 'erp' is stale",
	 "0 0 0 0 0|0 |0 |0 1|"},
	{"deliver", "delivery", "delivered 'wms_1.csv'", "0 0 0 0 0|0 |0 |0 2|"},
	{"deliver", "delivery", "already delivered as 'wms_1.csv'",
	 "0 0 0 0 0|0 |0 |0 0|"},
};
#define NOLD (sizeof(old_units) / sizeof(old_units[0]))

static const char *col(struct db_stmt *st, int i)
{
	const char *s = db_col_text(st, i);

	return s ? s : "";
}

static void migrate_fills_typed_columns(int pg)
{
	struct err e = ERR_INIT;
	struct db *d = open_backend(pg, &e);
	struct db_stmt *st = NULL;
	char got[1400];
	size_t i;
	int v, from, to, rc;

	if (!d)
		T_OK(-1, &e);
	if (schema_create(d, &v, &e) < 0 || db_exec(d, to_v5, &e) < 0 ||
	    schema_version(d, &v, &e) < 0)
		goto fail;
	if (v != 5) {
		close_backend(d);
		T_FAIL("store at %d, expected 5", v);
	}
	for (i = 0; i < NOLD; i++) {
		if (!(st = db_prepare(d,
				      "INSERT INTO units(run_id, stage, scope,"
				      " ukey, state, detail)"
				      " VALUES(1, ?, 's', ?, 2, ?)",
				      0, &e)))
			goto fail;
		db_bind_text(st, 1, old_units[i].stage);
		/* the key must be unique per (run, stage, scope) */
		snprintf(got, sizeof(got), "%s", old_units[i].ukey);
		if (strcmp(old_units[i].ukey, "(list)"))
			snprintf(got, sizeof(got), "%s#%zu", old_units[i].ukey,
				 i);
		db_bind_text(st, 2, got);
		db_bind_text(st, 3, old_units[i].detail);
		rc = db_step(st, &e);
		db_finalize(st);
		st = NULL;
		if (rc < 0)
			goto fail;
	}
	if (schema_migrate(d, &from, &to, &e) < 0)
		goto fail;
	if (from != 5 || to != SCHEMA_LATEST) {
		close_backend(d);
		T_FAIL("migrated %d -> %d, expected 5 -> %d", from, to,
		       SCHEMA_LATEST);
	}
	if (!(st = db_prepare(d,
			      "SELECT listed, file_size, file_mtime, posted,"
			      " list_standin, accept_rejects, released_by,"
			      " ic_conflicts, rejects_path, control_no, outcome,"
			      " release_note FROM units ORDER BY id",
			      0, &e)))
		goto fail;
	for (i = 0; i < NOLD && (rc = db_step(st, &e)) == 1; i++) {
		snprintf(got, sizeof(got),
			 "%lld %lld %lld %lld %lld|%lld %s|%lld %s|%lld %lld|%s",
			 (long long)db_col_int64(st, 0),
			 (long long)db_col_int64(st, 1),
			 (long long)db_col_int64(st, 2),
			 (long long)db_col_int64(st, 3),
			 (long long)db_col_int64(st, 4),
			 (long long)db_col_int64(st, 5), col(st, 6),
			 (long long)db_col_int64(st, 7), col(st, 8),
			 (long long)db_col_int64(st, 9),
			 (long long)db_col_int64(st, 10), col(st, 11));
		if (strcmp(got, old_units[i].want)) {
			db_finalize(st);
			close_backend(d);
			T_FAIL("unit %zu ('%s'): '%s', expected '%s'", i,
			       old_units[i].detail ? old_units[i].detail : "",
			       got, old_units[i].want);
		}
	}
	db_finalize(st);
	st = NULL;
	if (i != NOLD) {
		close_backend(d);
		T_FAIL("%zu units after the migration, expected %zu", i,
		       (size_t)NOLD);
	}
	/* schema_check takes it; a second migrate finds nothing to do */
	if (schema_check(d, &e) < 0 || schema_migrate(d, &from, &to, &e) < 0)
		goto fail;
	close_backend(d);
	T_EQ_INT(from, SCHEMA_LATEST);
	T_EQ_INT(to, SCHEMA_LATEST);
	return;
fail:
	db_finalize(st);
	close_backend(d);
	T_OK(-1, &e);
}

T_TEST(schema_v6_fills_typed_unit_columns_sqlite)
{
	migrate_fills_typed_columns(0);
}

T_TEST(schema_v6_fills_typed_unit_columns_pg)
{
	if (!pg_url())
		T_SKIP("STOCKPIPE_TEST_PG_URL not set (postgres.sh runs it on "
		       "a real server)");
	migrate_fills_typed_columns(1);
}

/* Takes a new store back to version 6: the file ledger keyed by name,
 * size and mtime only, with one row. */
static const char to_v6[] =
	"DROP TABLE files;"
	"CREATE TABLE files(source TEXT NOT NULL, name TEXT NOT NULL,"
	" size BIGINT NOT NULL, mtime BIGINT NOT NULL,"
	" sha256 TEXT NOT NULL, run_id BIGINT, post_state TEXT,"
	" PRIMARY KEY(source, name, size, mtime));"
	"CREATE INDEX files_sha ON files(source, sha256);"
	"INSERT INTO files VALUES('stores', 'a.csv', 12, 34, 'sha1', 1,"
	" 'done');"
	"DROP TABLE IF EXISTS unit_deps;"
	"ALTER TABLE runs DROP COLUMN gc_at;"
	"ALTER TABLE runs DROP COLUMN clock_s;"
	"DELETE FROM schema_version WHERE version >= 7;"
	"UPDATE meta SET value = '6' WHERE key = 'schema';";

/* Version 7 keeps the ledger's rows and takes a second version of a file
 * (same name, size and mtime, other content: detect_changes: content). */
static void migrate_files_v7(int pg)
{
	struct err e = ERR_INIT;
	struct db *d = open_backend(pg, &e);
	int64_t n = 0;
	int from, to;
	struct db_stmt *st = NULL;

	if (!d)
		goto fail;
	if (schema_migrate(d, &from, &to, &e) < 0 ||
	    db_exec(d, to_v6, &e) < 0 ||
	    schema_migrate(d, &from, &to, &e) < 0)
		goto fail;
	if (from != 6 || to != SCHEMA_LATEST) {
		close_backend(d);
		T_FAIL("migrated %d -> %d, expected 6 -> %d", from, to,
		       SCHEMA_LATEST);
	}
	if (db_exec(d, "INSERT INTO files VALUES('stores', 'a.csv', 12, 34,"
		       " 'sha2', 2, 'pending')", &e) < 0 ||
	    !(st = db_prepare(d, "SELECT count(*) FROM files WHERE"
			      " name = 'a.csv' AND (sha256 = 'sha1' AND"
			      " post_state = 'done' OR sha256 = 'sha2')",
			      0, &e)) ||
	    db_step(st, &e) != 1)
		goto fail;
	n = db_col_int64(st, 0);
	db_finalize(st);
	st = NULL;
	if (schema_check(d, &e) < 0)
		goto fail;
	close_backend(d);
	T_EQ_INT(n, 2);
	return;
fail:
	db_finalize(st);
	close_backend(d);
	T_OK(-1, &e);
}

T_TEST(schema_v7_file_versions_sqlite)
{
	migrate_files_v7(0);
}

T_TEST(schema_v7_file_versions_pg)
{
	if (!pg_url())
		T_SKIP("STOCKPIPE_TEST_PG_URL not set (postgres.sh runs it on "
		       "a real server)");
	migrate_files_v7(1);
}

/* Every typed field survives save and get, and a get does not carry the
 * fields of the unit read before. */
T_TEST(state_unit_typed_fields_round_trip)
{
	struct state *st;
	struct err e = ERR_INIT;
	struct state_unit u, v, w;
	int64_t run;

	T_OK(state_open("st", &st, &e), &e);
	T_OK(state_begin(st, &e), &e);
	T_OK(state_run_create(st, "2026-11-20T06:00:00Z", "sha", &run, &e),
	     &e);
	memset(&u, 0, sizeof(u));
	u.run_id = run;
	strcpy(u.stage, "fetch");
	strcpy(u.scope, "s");
	strcpy(u.ukey, "a.csv");
	T_OK(state_unit_add(st, &u, &e), &e);
	u.listed = 1;
	u.file_size = 5000000000ull;
	u.file_mtime = -1;
	u.posted = 1;
	u.list_standin = 1;
	u.accept_rejects = 1;
	strcpy(u.released_by, "alice");
	strcpy(u.release_note, "released by alice");
	u.ic_conflicts = 3;
	strcpy(u.rejects_path, "/s/rejects/1/s/1.jsonl");
	u.control_no = 9007199254740993LL;
	u.outcome = UO_DELIVERED;
	/* the note is not where any of it comes from */
	strcpy(u.detail, "1 2 posted control=5 released by x");
	T_OK(state_unit_save(st, &u, &e), &e);
	memset(&w, 0, sizeof(w));
	w.run_id = run;
	strcpy(w.stage, "fetch");
	strcpy(w.scope, "s");
	strcpy(w.ukey, "b.csv");
	T_OK(state_unit_add(st, &w, &e), &e);
	T_OK(state_commit(st, &e), &e);
	T_OK(state_unit_get(st, u.id, &v, &e), &e);
	T_EQ_INT(v.listed, 1);
	T_EQ_INT(v.file_size == 5000000000ull, 1);
	T_EQ_INT(v.file_mtime, -1);
	T_EQ_INT(v.posted, 1);
	T_EQ_INT(v.list_standin, 1);
	T_EQ_INT(v.accept_rejects, 1);
	T_EQ_STR(v.released_by, "alice");
	T_EQ_STR(v.release_note, "released by alice");
	T_EQ_INT(v.ic_conflicts, 3);
	T_EQ_STR(v.rejects_path, "/s/rejects/1/s/1.jsonl");
	T_EQ_INT(v.control_no, 9007199254740993LL);
	T_EQ_INT(v.outcome, UO_DELIVERED);
	/* a fresh unit reads back with every typed field empty */
	T_OK(state_unit_get(st, w.id, &v, &e), &e);
	T_EQ_INT(v.listed + v.posted + v.list_standin + v.accept_rejects +
			 v.outcome,
		 0);
	T_EQ_INT(v.file_size == 0 && v.file_mtime == 0 && v.control_no == 0 &&
			 v.ic_conflicts == 0,
		 1);
	T_EQ_STR(v.released_by, "");
	T_EQ_STR(v.release_note, "");
	T_EQ_STR(v.rejects_path, "");
	state_close(st);
}
