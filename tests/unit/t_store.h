/* t_store.h - helpers shared by the store's tests (t_state_*.c): the
 * PostgreSQL password variable and a schema of one's own on a server,
 * one-value queries beside the store or through a db handle, and a
 * document loaded in one transaction. */
#ifndef STOCKPIPE_T_STORE_H
#define STOCKPIPE_T_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "pipeline/store/db.h"
#include "pipeline/store/state.h"

/* "SP_TEST_PG_PASSWORD" when that variable is set and not empty (the
 * name db_open reads the password from), else NULL. */
const char *t_store_pwenv(void);

/* url with search_path set to schema (a store of its own), into out. */
void t_store_schema_url(const char *url, const char *schema, char *out,
			size_t n);

/* Drops schema on the server at url (with all in it) and creates it
 * again, empty. */
int t_store_fresh_schema(const char *url, const char *schema, struct err *e);

/* The first column of the first row of sql on d, as an integer (-1:
 * no row, or an error, said on stderr when sql does not prepare). */
int64_t t_store_q1(struct db *d, const char *sql);

/* One statement on DIR/state.db beside the store's own handle; returns
 * the first non-zero first column of its rows (0 when none, -1 when the
 * file does not open or sql does not prepare). t_store_sql1: on st/. */
int64_t t_store_sql1_in(const char *dir, const char *sql);
int64_t t_store_sql1(const char *sql);

/* Loads r[0..n) as document doc in one transaction (state_begin),
 * batched when cap (the batch spills to sorted runs when the document is
 * larger); counts into *ls (zeroed first) when ls is not NULL. */
int t_store_load(struct state *st, int doc, struct canon_record *r, int n,
		 size_t cap, struct load_stats *ls, struct err *e);

/* Sub-journals (a savepoint's or a statement journal's) made visible:
 * t_store_subjournal_files(1) restarts SQLite with a spill threshold of
 * 0 (SQLITE_CONFIG_STMTJRNL_SPILL), so the first page a savepoint or a
 * statement journal saves opens its temporary file (etilqs_*), open
 * until the transaction ends; t_store_subjournal_files(0) restarts it
 * with SQLite's default (64 KiB). Every handle must be closed. 0, or -1
 * when SQLite refused. t_store_temp_fds: this process's descriptors on
 * SQLite's temporary files (-1 without /proc/self/fd), t_store_temp_bytes
 * their size (a sub-journal holds 4 + page size bytes per page saved). */
int t_store_subjournal_files(int on);
int t_store_temp_fds(void);
int64_t t_store_temp_bytes(void);

#endif
