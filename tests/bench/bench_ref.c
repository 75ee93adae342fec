/* bench_ref.c - the reference measurements of `make bench`.
 *
 *   bench_ref scan FILE CHAR      read() in 64 KiB blocks plus memchr for
 *                                 CHAR (or "nl" for a newline): the floor
 *                                 any tokenizer pays
 *   bench_ref sqlite DB ROWS      SQLite's own insert rate for the load
 *                                 stage's rows: ROWS stock events through
 *                                 ONE prepared INSERT in ONE transaction
 *                                 into the state store's stock_events table
 *                                 (same columns and indexes, same WAL,
 *                                 synchronous=FULL, cache size and
 *                                 connection options (no mutex, no
 *                                 memory statistics) as pipeline/state.c)
 *   bench_ref upsert DB ROWS      SQLite's own upsert rate, the reference of
 *                                 the load stage (issue 20): ROWS rows
 *                                 through ONE prepared INSERT ... ON
 *                                 CONFLICT(primary key) DO UPDATE in ONE
 *                                 transaction, WAL, synchronous=FULL, the
 *                                 store's cache size and connection
 *                                 options; keys in the generator's order
 *                                 (stores in blocks, SKUs permuted)
 * Each prints one line "records N" (terminators found, rows inserted);
 * bench.sh times the process (wall time, peak RSS).
 */
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int scan(const char *path, char c)
{
	static char buf[64 * 1024];
	unsigned long long n = 0;
	ssize_t got;
	int fd = open(path, O_RDONLY);

	if (fd < 0) {
		perror(path);
		return 66;
	}
	while ((got = read(fd, buf, sizeof(buf))) > 0) {
		const char *p = buf, *end = buf + got;

		while ((p = memchr(p, c, (size_t)(end - p)))) {
			n++;
			p++;
		}
	}
	close(fd);
	if (got < 0) {
		perror(path);
		return 74;
	}
	printf("records %llu\n", n);
	return 0;
}

/* Keep in step with the stock_events part of the schema
 * (pipeline/store/state_txn.h STATE_EVENTS_SQLITE, schema 12: no UNIQUE
 * on txn_id, the txn_id ledger is a table of its own; txn_id, source and
 * file NULL where the document gives them, as the mapping's default
 * txn_id and a map unit's own records do; no index on doc: a table of
 * id ranges per document instead). */
static const char schema[] =
	"PRAGMA journal_mode=WAL;"
	"PRAGMA synchronous=FULL;"
	"PRAGMA cache_size=-16384;"
	"CREATE TABLE stock_events(id INTEGER PRIMARY KEY,"
	" doc INTEGER NOT NULL, sku TEXT NOT NULL, location TEXT NOT NULL,"
	" state INTEGER NOT NULL, qty INTEGER NOT NULL, delta INTEGER NOT NULL,"
	" as_of INTEGER NOT NULL, txn_id TEXT,"
	" source TEXT, file TEXT, line INTEGER, txn_seq INTEGER,"
	" txn_rec INTEGER);"
	"CREATE INDEX stock_events_key"
	" ON stock_events(sku, location, state, as_of);";

static int sqlite_ref(const char *path, unsigned long rows)
{
	sqlite3 *db;
	sqlite3_stmt *p;
	unsigned long i;
	char sku[32], loc[32];

	unlink(path);
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	if (sqlite3_open_v2(path, &db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				    SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK ||
	    sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "INSERT INTO stock_events(doc, sku,"
			       " location, state, qty, delta, as_of, txn_id,"
			       " source, file, line, txn_seq, txn_rec)"
			       " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)",
			       -1, &p, NULL) != SQLITE_OK) {
		fprintf(stderr, "sqlite: %s\n", sqlite3_errmsg(db));
		return 70;
	}
	for (i = 0; i < rows; i++) {
		/* The generator's key shape: stores in blocks, SKUs permuted
		 * within a store, a txn_id like the mapping engine's default
		 * (stored as its two numbers). */
		unsigned long store = i / 2000 + 1;

		snprintf(sku, sizeof(sku), "KW-%07lu",
			 (i % 2000 * 7919 + store * 13) % 1000000);
		snprintf(loc, sizeof(loc), "STORE-%03lu", store % 999 + 1);
		sqlite3_bind_int64(p, 1, 4);
		sqlite3_bind_text(p, 2, sku, -1, SQLITE_STATIC);
		sqlite3_bind_text(p, 3, loc, -1, SQLITE_STATIC);
		sqlite3_bind_int(p, 4, (int)(i % 3));
		sqlite3_bind_int64(p, 5, (sqlite3_int64)(i % 500) * 10000);
		sqlite3_bind_int(p, 6, 0);
		sqlite3_bind_int64(p, 7, 1795500000 + (sqlite3_int64)(i % 240) * 60);
		sqlite3_bind_null(p, 8);
		sqlite3_bind_null(p, 9);
		sqlite3_bind_null(p, 10);
		sqlite3_bind_int64(p, 11, (sqlite3_int64)i + 2);
		sqlite3_bind_int64(p, 12, (sqlite3_int64)i + 2);
		sqlite3_bind_int64(p, 13, 0);
		if (sqlite3_step(p) != SQLITE_DONE) {
			fprintf(stderr, "sqlite: %s\n", sqlite3_errmsg(db));
			return 70;
		}
		sqlite3_reset(p);
	}
	sqlite3_finalize(p);
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "sqlite: %s\n", sqlite3_errmsg(db));
		return 70;
	}
	sqlite3_close(db);
	printf("records %lu\n", rows);
	return 0;
}

/* The upsert reference: a position-like table keyed by (sku, location,
 * state), one prepared INSERT ... ON CONFLICT DO UPDATE per row. */
static const char upsert_schema[] =
	"PRAGMA journal_mode=WAL;"
	"PRAGMA synchronous=FULL;"
	"PRAGMA cache_size=-16384;"
	"CREATE TABLE pos(sku TEXT NOT NULL, location TEXT NOT NULL,"
	" state INTEGER NOT NULL, qty INTEGER NOT NULL, as_of INTEGER NOT NULL,"
	" txn_id TEXT NOT NULL, PRIMARY KEY(sku, location, state))"
	" WITHOUT ROWID;";

static int upsert_ref(const char *path, unsigned long rows)
{
	sqlite3 *db;
	sqlite3_stmt *p;
	unsigned long i;
	char sku[32], loc[32], txn[64];

	unlink(path);
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	if (sqlite3_open_v2(path, &db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				    SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK ||
	    sqlite3_exec(db, upsert_schema, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "INSERT INTO pos(sku, location, state, qty, as_of,"
			       " txn_id) VALUES(?,?,?,?,?,?)"
			       " ON CONFLICT(sku, location, state) DO UPDATE"
			       " SET qty = excluded.qty, as_of = excluded.as_of,"
			       " txn_id = excluded.txn_id",
			       -1, &p, NULL) != SQLITE_OK) {
		fprintf(stderr, "sqlite: %s\n", sqlite3_errmsg(db));
		return 70;
	}
	for (i = 0; i < rows; i++) {
		unsigned long store = i / 2000 + 1;

		snprintf(sku, sizeof(sku), "KW-%07lu",
			 (i % 2000 * 7919 + store * 13) % 1000000);
		snprintf(loc, sizeof(loc), "STORE-%03lu", store % 999 + 1);
		snprintf(txn, sizeof(txn), "0123456789abcdef:%lu:0", i + 2);
		sqlite3_bind_text(p, 1, sku, -1, SQLITE_STATIC);
		sqlite3_bind_text(p, 2, loc, -1, SQLITE_STATIC);
		sqlite3_bind_int(p, 3, (int)(i % 3));
		sqlite3_bind_int64(p, 4, (sqlite3_int64)(i % 500) * 10000);
		sqlite3_bind_int64(p, 5,
				   1795500000 + (sqlite3_int64)(i % 240) * 60);
		sqlite3_bind_text(p, 6, txn, -1, SQLITE_STATIC);
		if (sqlite3_step(p) != SQLITE_DONE) {
			fprintf(stderr, "sqlite: %s\n", sqlite3_errmsg(db));
			return 70;
		}
		sqlite3_reset(p);
	}
	sqlite3_finalize(p);
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "sqlite: %s\n", sqlite3_errmsg(db));
		return 70;
	}
	sqlite3_close(db);
	printf("records %lu\n", rows);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "scan") && !strcmp(argv[3], "nl"))
		return scan(argv[2], '\n');
	if (argc == 4 && !strcmp(argv[1], "scan") && strlen(argv[3]) == 1)
		return scan(argv[2], argv[3][0]);
	if (argc == 4 && !strcmp(argv[1], "sqlite"))
		return sqlite_ref(argv[2], strtoul(argv[3], NULL, 10));
	if (argc == 4 && !strcmp(argv[1], "upsert"))
		return upsert_ref(argv[2], strtoul(argv[3], NULL, 10));
	fprintf(stderr, "usage: bench_ref scan FILE CHAR | sqlite DB ROWS | "
			"upsert DB ROWS\n");
	return 64;
}
