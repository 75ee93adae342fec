/* state_txn.c - the txn_id dedupe ledger (schema 11): see state_txn.h.
 *
 * One ledger for every stock event ever loaded: table txn_digests holds
 * a fixed-size key per txn_id (STATE_TXN_KEY bytes), written when the
 * event is loaded and kept when gc folds the event away, so a replay is
 * a duplicate whether its event is still in stock_events or not.
 * stock_events has no UNIQUE index on txn_id any more: that index was
 * the second b-tree of the load, in an order that had nothing to do with
 * the positions', and every sorted batch wrote all over it.
 *
 * The key is clustered so that one document's inserts land in one
 * contiguous range of the b-tree, in the order they are loaded:
 *   bytes 0..8   the first 8 bytes of SHA-256 of the txn_id's group, the
 *                part a document's records share: up to the first ':'
 *                (the mapping engine's default txn_id is "<document
 *                sha, 16 hex>:<scope seq>:<record>"), else up to the
 *                last character that is not a letter or digit (e.g.
 *                "<sender>-<control no>-<line>"), else the whole txn_id;
 *   bytes 8..24  for "<group>:<a>:<b>" with a and b canonical decimals
 *                below 2^32, a and b big-endian then 8 zero bytes
 *                (exact, and increasing along the document: appends at
 *                the end of the range); otherwise the first 16 bytes of
 *                SHA-256 of the whole txn_id.
 * Two different txn_ids get one key (a false duplicate) only if their
 * groups' 64-bit digests are equal and then their tails' 128 bits are:
 * about n^2 / 2^129 for n txn_ids of one group. The tail is 16 bytes, not
 * 8, because a group is not one document: a mapping's txn_id such as
 * "<sender>:<line>" puts every record a sender ever sends in one group
 * (10^9 of them would give 64-bit tails a 3 % chance of a false
 * duplicate, 128-bit ones 1.5e-21).
 * Document keys (schema 15). A txn_id in the mapping engine's default
 * form of its own document ("<16 hex of the document's SHA-256>:<a>:<b>",
 * state_txn_default: the load knows it per record, lb_rec.txn_doc) is
 * all or nothing: it names the document's content, no other record of
 * the document has it, and the document is loaded in one transaction.
 * So all of them go in as ONE key (about 270 000 keys of a 10 MB CSV
 * become one; each was 33 bytes of the state forever and a b-tree
 * insert of the load):
 *   bytes 0..8   the group's digest, as the records' keys (the group is
 *                the 16 hex: one range with any per-record keys of it);
 *   bytes 8..24  sixteen 0xff bytes (DOC_MARK).
 * No per-record key is a document key: the numeric form has bytes
 * 16..24 zero, and a SHA-256 tail equal to DOC_MARK is the 2^-128 event
 * of any two tails colliding (the odds above). It is the greatest key of
 * its group. A load asks the ledger once per document, at its first
 * batch (the later ones follow, lb_doc): the greatest key of the group
 * (doc_probe). The document key: every default-txn record of the
 * document is a replay (the same content was delivered before). Some
 * other key of the group: per-record keys, as a store of schema 14 or
 * older wrote them: the document goes the per-record way, as then, so an
 * upgraded store needs no migration. None: its document key joins the
 * batch's keys, and every default-txn record is new if it was inserted
 * (on PostgreSQL the insert, not the probe, decides: of two loads of one
 * content at once the second waits for the first's key and finds it
 * taken). Records of the document with txn_ids of their own keep a key
 * each. Outside a transaction every record has its own key, as before.
 * A document that lost records on the way is not one delivery: a replay
 * after the fix (a mapping that no longer rejects the row, a unit the
 * item master now converts) must load those records and only them
 * (docs/operations.md "Replaying a raw file"). So a document whose map
 * unit rejected rows goes the per-record way from the start (lb_rec.
 * doc_rej), and one whose load rejected records is split at its end
 * (state_txn_doc_split, by the load stage): its records' keys are
 * added, and its split mark, the document key with 0xfe as its last
 * byte (no per-record key either, for the same reasons), just below the
 * document key, which stays: of two loads at once the second still waits
 * for it. The probe reads the group's two greatest keys: the document
 * key alone, or above a key that is not its split mark (a mapping's own
 * txn_id that starts with the hash), is a replay; the document key above
 * its split mark, or any other greatest key, is the per-record way.
 * Unloading a document (a rerun) takes its document key and split mark
 * out with its records' keys.
 * The batch's keys are written in key order (one range per document).
 * On SQLite in multi-row statements of TXN_LITE_CHUNK keys: a chunk
 * whose groups' ranges the ledger has no key in (one seek per group:
 * new documents) without a savepoint or a statement journal, each
 * record new (add_new); any other in a savepoint that is undone when
 * some of its keys were there already (then they are asked one at a
 * time). On PostgreSQL in multi-row statements whose RETURNING names
 * the new ones, in the same global order in every load. A batch's positions
 * are locked after its keys, unless its transaction already holds
 * positions (a later batch of a large document, an unload): then before
 * them (state_load_pg.c, pos_held). A circle through the ledger then
 * needs two loads of the same txn_ids at once; PostgreSQL breaks it as a
 * deadlock and that load is retried.
 */
#include "state_txn.h"
#include "db.h"
#include "state_int.h"
#include "state_lineage.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "lib/sha256.h"

/* This file's statements (state_int.h). */
const struct state_sql state_txn_sql[S_NSTMTS] = {
	[SX_ADD] = {"INSERT INTO txn_digests(digest) VALUES(?)"
		    " ON CONFLICT DO NOTHING", 0},
	[SX_DEL] = {"DELETE FROM txn_digests WHERE digest = ?", 0},
	[SX_DOC_TXNS] = {"SELECT " STATE_EV_TXN("e", "u") ","
			 " CASE WHEN e.txn_seq IS NULL THEN 0 ELSE 1 END"
			 " FROM stock_events e"
			 " LEFT JOIN units u ON u.id = e.doc WHERE "
			 STATE_EV_OF_DOC("e.", "?1"), 0},
	/* the two greatest keys of [?1, ?2]: one seek down the primary key */
	[SX_DOC_PROBE] = {"SELECT digest FROM txn_digests WHERE digest >= ?1"
			  " AND digest <= ?2 ORDER BY digest DESC LIMIT 2", 0},
	/* any key in [?1, ?2]: one seek (chunk_is_new) */
	[SX_RANGE_ANY] = {"SELECT 1 FROM txn_digests WHERE digest >= ?1"
			  " AND digest <= ?2 LIMIT 1", 0},
};

/* What the ledger said of a document's default txn_ids (struct lb_doc):
 * its document key was new (all of them loaded), was there (all
 * replays), or its group has per-record keys (asked one by one). */
enum { TXN_DOC_NEW = 1, TXN_DOC_OLD, TXN_DOC_EACH };

/* Bytes 8..24 of a document key (see above); the split mark's end in
 * its last byte. */
#define DOC_MARK 0xff
#define DOC_SPLIT 0xfe

_Static_assert(sizeof(((struct lb_rec *)0)->key) == STATE_TXN_KEY,
	       "lb_rec.key (state_int.h) holds one ledger key");

/* PostgreSQL: keys of a batch as one comma-separated hex list. */
static const char del_pg_sql[] =
	"DELETE FROM txn_digests WHERE digest IN (SELECT decode(h, 'hex')"
	" FROM unnest(string_to_array(?, ',')) AS t(h))";
static const char add_pg_sql[] =
	"INSERT INTO txn_digests(digest) SELECT decode(h, 'hex')"
	" FROM unnest(string_to_array(?, ',')) AS t(h)"
	" ON CONFLICT DO NOTHING RETURNING encode(digest, 'hex')";
/* Keys per PostgreSQL statement. */
#define TXN_PG_CHUNK 4096

static int hexval(char c)
{
	return c >= 'a' ? c - 'a' + 10 : c - '0';
}

/* The first len (<= 32) bytes of SHA-256 of p[0..n). */
static int digest_n(const char *p, size_t n, unsigned char *out, int len,
		    struct err *err)
{
	unsigned char md[SHA256_LEN];

	if (sha256_digest(p, n, md, err) < 0)
		return -1;
	memcpy(out, md, (size_t)len);
	return 0;
}

/* A canonical decimal below 2^32 at p (no sign, no leading zero but "0")
 * ending at end or at stop: its value, *next after it; -1 when not. */
static int64_t dec32(const char *p, char stop, const char **next)
{
	int64_t v = 0;
	const char *s = p;

	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (*p - '0');
		if (v >= (int64_t)1 << 32)
			return -1;
	}
	if (p == s || (*s == '0' && p - s > 1) || *p != stop)
		return -1;
	*next = p;
	return v;
}

static size_t group_len(const char *txn, size_t n)
{
	const char *c = memchr(txn, ':', n);
	size_t i;

	if (c)
		return (size_t)(c - txn);
	for (i = n; i > 0; i--)
		if (!isalnum((unsigned char)txn[i - 1]))
			return i - 1;
	return n;
}

int state_txn_key(const char *txn, unsigned char key[STATE_TXN_KEY],
		  struct state_txn_memo *m, struct err *err)
{
	size_t n = strlen(txn), g = group_len(txn, n);
	const char *p;
	int64_t a, b;
	uint64_t v;
	int i;

	if (m && m->len == g && g < sizeof(m->group) &&
	    !memcmp(m->group, txn, g)) {
		memcpy(key, m->digest, 8);
	} else {
		if (digest_n(txn, g, key, 8, err) < 0)
			return -1;
		if (m && g < sizeof(m->group)) {
			memcpy(m->group, txn, g);
			m->len = g;
			memcpy(m->digest, key, 8);
		}
	}
	if (txn[g] == ':' && (a = dec32(txn + g + 1, ':', &p)) >= 0 &&
	    (b = dec32(p + 1, '\0', &p)) >= 0) {
		v = (uint64_t)a << 32 | (uint64_t)b;
		for (i = 0; i < 8; i++)
			key[8 + i] = (unsigned char)(v >> (56 - 8 * i));
		memset(key + 16, 0, STATE_TXN_KEY - 16);
		return 0;
	}
	return digest_n(txn, n, key + 8, STATE_TXN_KEY - 8, err);
}

static void key_hex(const unsigned char *k, char *out)
{
	static const char digits[] = "0123456789abcdef";
	int i;

	for (i = 0; i < STATE_TXN_KEY; i++) {
		out[2 * i] = digits[k[i] >> 4];
		out[2 * i + 1] = digits[k[i] & 15];
	}
}

/* ---- the load's ledger ----------------------------------------------- */

static int key_cmp(const void *x, const void *y, void *ud)
{
	const struct lb_rec *r = ud;

	return memcmp(r[*(const uint32_t *)x].key, r[*(const uint32_t *)y].key,
		      STATE_TXN_KEY);
}

struct add_pg {
	struct load_batch *b;
	const uint32_t *idx; /* this chunk's records, in key order */
	size_t n;
};

/* A key RETURNING named (new in the ledger): its record is marked. */
static int add_pg_row(void *ud, struct db_stmt *p)
{
	struct add_pg *c = ud;
	const char *h = db_col_text(p, 0);
	unsigned char k[STATE_TXN_KEY];
	size_t lo = 0, hi = c->n, mid;
	int i, d;

	if (!h || strlen(h) != 2 * STATE_TXN_KEY)
		return 0;
	for (i = 0; i < STATE_TXN_KEY; i++)
		k[i] = (unsigned char)(hexval(h[2 * i]) << 4 |
				       hexval(h[2 * i + 1]));
	while (lo < hi) {
		mid = (lo + hi) / 2;
		d = memcmp(k, c->b->r[c->idx[mid]].key, STATE_TXN_KEY);
		if (!d) {
			c->b->r[c->idx[mid]].ins = 1;
			break;
		}
		if (d < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
}

/* PostgreSQL: the keys of idx[0..n) in statements of TXN_PG_CHUNK. */
static int mark_pg(struct state *s, const uint32_t *idx, size_t n,
		   struct err *err)
{
	struct load_batch *b = &s->lb;
	char *list = malloc(TXN_PG_CHUNK * (2 * STATE_TXN_KEY + 1) + 1);
	struct add_pg c = {b, NULL, 0};
	size_t i, j, o;
	int rc = 0;

	if (!list)
		return err_set(err, E_NOMEM, "out of memory");
	for (i = 0; i < n && !rc; i += c.n) {
		c.idx = idx + i;
		c.n = n - i < TXN_PG_CHUNK ? n - i : TXN_PG_CHUNK;
		for (j = o = 0; j < c.n; j++) {
			if (j)
				list[o++] = ',';
			key_hex(b->r[c.idx[j]].key, list + o);
			o += 2 * STATE_TXN_KEY;
		}
		list[o] = '\0';
		rc = state_sql_rows(s, add_pg_sql, SA(SA_T(list)), add_pg_row,
				    &c, err);
	}
	free(list);
	return rc;
}

/* SQLite: keys per multi-row INSERT. One statement per key cost about
 * three times the b-tree work of the key (bind, run, halt, reset). */
#define TXN_LITE_CHUNK 256

/* The multi-row INSERT of n keys, prepared once per handle and size.
 * OR IGNORE, not ON CONFLICT DO NOTHING: that one keeps the primary
 * key's NOT NULL (implied by WITHOUT ROWID) as ABORT, and a multi-row
 * statement that may abort opens a statement journal, which copies each
 * b-tree page it touches first (spilled to a file past 64 KiB,
 * db_sqlite.c). With no constraint left that can abort, SQLite opens
 * none (t_state_txn.c: state_txn_new_chunk_opens_no_sub_journal). No
 * RETURNING: SQLite runs it as a trigger program per row, which cost
 * more than the journal saved (x12-852 10 MB: load user CPU 0.37 ->
 * 0.42 s). */
static struct db_stmt *add_n_stmt(struct state *s, size_t n,
				  struct err *err)
{
	static const char head[] =
		"INSERT OR IGNORE INTO txn_digests(digest) VALUES(?)";
	struct load_batch *b = &s->lb;
	char *sql, *w;
	size_t i;

	if (b->txn_add && b->txn_n == n) {
		db_reset(b->txn_add);
		return b->txn_add;
	}
	db_finalize(b->txn_add);
	b->txn_add = NULL;
	if (!(sql = malloc(sizeof(head) + 4 * n))) {
		err_set(err, E_NOMEM, "out of memory");
		return NULL;
	}
	w = sql + sizeof(head) - 1;
	memcpy(sql, head, sizeof(head) - 1);
	for (i = 1; i < n; i++, w += 4)
		memcpy(w, ",(?)", 4);
	*w = '\0';
	/* the keys live in the batch until the step is done */
	b->txn_add = db_prepare(s->db, sql, DB_BIND_REF, err);
	b->txn_n = n;
	free(sql);
	return b->txn_add;
}

/* Keys idx[0..n) in one statement: the number it inserted in *added,
 * -1 on error. */
static int add_n(struct state *s, const uint32_t *idx, size_t n,
		 int64_t *added, struct err *err)
{
	struct load_batch *b = &s->lb;
	struct db_stmt *p;
	size_t i;

	if (!(p = add_n_stmt(s, n, err)))
		return -1;
	for (i = 0; i < n; i++)
		db_bind_blob(p, (int)i + 1, b->r[idx[i]].key, STATE_TXN_KEY);
	if (db_step(p, err) < 0) {
		db_reset(p);
		return -1;
	}
	*added = db_changes(s->db);
	db_reset(p);
	return 0;
}

/* 1 when the ledger holds none of the keys idx[0..n) (in key order):
 * each run of one group (its first 8 bytes: one document, as a rule)
 * asked for any key between its first and its last (SX_RANGE_ANY, one
 * seek; only keys of that group lie between); 0 when some run's range
 * holds one; -1 on error. */
static int chunk_is_new(struct state *s, const uint32_t *idx, size_t n,
			struct err *err)
{
	struct load_batch *b = &s->lb;
	size_t i, j;
	int found;

	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && !memcmp(b->r[idx[i]].key,
						 b->r[idx[j]].key, 8);
		     j++)
			;
		found = 0;
		if (state_rows(s, SX_RANGE_ANY,
			       SA(SA_B(b->r[idx[i]].key, STATE_TXN_KEY),
				  SA_B(b->r[idx[j - 1]].key, STATE_TXN_KEY)),
			       state_row_found, &found, err) < 0)
			return -1;
		if (found)
			return 0;
	}
	return 1;
}

/* Keys idx[0..n) (in key order) none of which the ledger holds
 * (chunk_is_new): one statement, no savepoint, no statement journal.
 * Of two records with one key the first is new, as one at a time marks
 * it: the statement must have inserted one row per distinct key. */
static int add_new(struct state *s, const uint32_t *idx, size_t n,
		   struct err *err)
{
	struct load_batch *b = &s->lb;
	int64_t added, distinct = 0;
	size_t i;
	int first;

	if (add_n(s, idx, n, &added, err) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		first = !i || memcmp(b->r[idx[i - 1]].key, b->r[idx[i]].key,
				     STATE_TXN_KEY);
		b->r[idx[i]].ins = (unsigned char)first;
		distinct += first;
	}
	if (added != distinct)
		return err_set(err, E_INTERNAL,
			       "ledger: %lld of %lld new keys inserted",
			       (long long)added, (long long)distinct);
	return 1;
}

/* Keys idx[0..n) in one statement: 1 when each record is marked; 0
 * when some keys were in the ledger and some not: then the caller asks
 * one key at a time, which tells which; -1 on error. A chunk of keys
 * the ledger has none of (the usual load: new documents) goes in
 * without a savepoint (add_new); any other in a savepoint, undone when
 * some keys were new: all inserted (all new) or none (all replays) is
 * kept. */
static int add_chunk(struct state *s, const uint32_t *idx, size_t n,
		     struct err *err)
{
	struct load_batch *b = &s->lb;
	int64_t added;
	size_t i;
	int rc;

	if ((rc = chunk_is_new(s, idx, n, err)) != 0)
		return rc < 0 ? -1 : add_new(s, idx, n, err);
	if (db_exec(s->db, "SAVEPOINT txn_mark", err) < 0)
		return -1;
	if (add_n(s, idx, n, &added, err) < 0)
		goto undo;
	if (added && (size_t)added != n) {
		if (db_exec(s->db, "ROLLBACK TO txn_mark", err) < 0 ||
		    db_exec(s->db, "RELEASE txn_mark", err) < 0)
			return -1;
		return 0;
	}
	if (db_exec(s->db, "RELEASE txn_mark", err) < 0)
		return -1;
	for (i = 0; i < n; i++)
		b->r[idx[i]].ins = added != 0;
	return 1;
undo:
	db_exec(s->db, "ROLLBACK TO txn_mark", &(struct err)ERR_INIT);
	db_exec(s->db, "RELEASE txn_mark", &(struct err)ERR_INIT);
	return -1;
}

/* SQLite: the keys of idx[0..n), in key order: full chunks in
 * multi-row statements (inside the load's transaction), the rest and a
 * chunk with some keys already in the ledger one at a time. */
static int mark_lite(struct state *s, const uint32_t *idx, size_t n,
		     struct err *err)
{
	struct load_batch *b = &s->lb;
	size_t chunk = b->txn_chunk ? b->txn_chunk : TXN_LITE_CHUNK, i, m, j;
	struct lb_rec *e;
	int rc;

	for (i = 0; i < n; i += m) {
		m = s->in_tx && chunk > 1 && n - i >= chunk ? chunk : 1;
		if (m > 1 && (rc = add_chunk(s, idx + i, m, err)) != 0) {
			if (rc < 0) {
				e = &b->r[idx[i]];
				err_locate(err, e->file, e->line, 0, NULL);
				return -1;
			}
			continue;
		}
		for (j = i; j < i + m; j++) {
			e = &b->r[idx[j]];
			if (state_exec(s, SX_ADD,
				       SA(SA_B(e->key, STATE_TXN_KEY)),
				       err) < 0) {
				err_locate(err, e->file, e->line, 0, NULL);
				return -1;
			}
			e->ins = state_changes(s) > 0;
		}
	}
	return 0;
}

void state_txn_doc_key(const unsigned char rec[STATE_TXN_KEY],
		       unsigned char key[STATE_TXN_KEY])
{
	memmove(key, rec, 8);
	memset(key + 8, DOC_MARK, STATE_TXN_KEY - 8);
}

void state_txn_docs_reset(struct state *s)
{
	s->lb.ndocs = 0;
}

/* The index in b->docs of document doc (appended undecided, with rep,
 * when it is not there). Scanned from the end: a transaction loads its
 * documents one after another (the load stage one in all). */
static int doc_at(struct load_batch *b, int64_t doc, uint32_t rep,
		  size_t *at, struct err *err)
{
	struct lb_doc *d;
	size_t i;

	for (i = b->ndocs; i-- > 0;)
		if (b->docs[i].doc == doc) {
			*at = i;
			return 0;
		}
	if (b->ndocs == b->capdocs) {
		size_t cap = b->capdocs ? 2 * b->capdocs : 8;

		if (!(d = realloc(b->docs, cap * sizeof(*d))))
			return err_set(err, E_NOMEM, "out of memory");
		b->docs = d;
		b->capdocs = cap;
	}
	b->docs[b->ndocs] = (struct lb_doc){doc, 0, rep};
	*at = b->ndocs++;
	return 0;
}

/* The split mark of document key dk (see above). */
static void split_key(const unsigned char *dk, unsigned char *k)
{
	memcpy(k, dk, STATE_TXN_KEY);
	k[STATE_TXN_KEY - 1] = DOC_SPLIT;
}

struct probe {
	const unsigned char *dk;
	int how, rows;
};

/* Rows from the greatest down: dk alone (or above a record's key of
 * the group: a txn_id of the mapping's own that starts with the hash) is
 * TXN_DOC_OLD; dk above its split mark, the split mark, or any other
 * key is TXN_DOC_EACH. */
static int probe_row(void *ud, struct db_stmt *p)
{
	struct probe *q = ud;
	unsigned char sk[STATE_TXN_KEY];
	size_t n = 0;
	const void *k = db_col_blob(p, 0, &n);
	int is_dk = n == STATE_TXN_KEY && !memcmp(k, q->dk, STATE_TXN_KEY);

	split_key(q->dk, sk);
	if (q->rows++ == 0) {
		q->how = is_dk ? TXN_DOC_OLD : TXN_DOC_EACH;
		return !is_dk; /* the second row tells a split from dk */
	}
	if (n == STATE_TXN_KEY && !memcmp(k, sk, STATE_TXN_KEY))
		q->how = TXN_DOC_EACH;
	return 1;
}

/* What the greatest keys of document key dk's group up to hi (dk itself,
 * or below it) say (probe_row); 0 when the group has none. */
static int doc_probe(struct state *s, const unsigned char *dk,
		     const unsigned char *hi, int *how, struct err *err)
{
	unsigned char lo[STATE_TXN_KEY];
	struct probe q = {dk, 0, 0};

	memcpy(lo, dk, 8);
	memset(lo + 8, 0, STATE_TXN_KEY - 8);
	if (state_rows(s, SX_DOC_PROBE,
		       SA(SA_B(lo, STATE_TXN_KEY), SA_B(hi, STATE_TXN_KEY)),
		       probe_row, &q, err) < 0)
		return -1;
	*how = q.how;
	return 0;
}

/* The undecided documents b->docs[nd0..): each asked of the ledger
 * (doc_probe); one whose group holds nothing puts its first record,
 * keyed with the document key, in idx (*n grows), unless an earlier
 * document of the batch has the same content: that one decides, this one
 * is a replay. */
static int docs_probe(struct state *s, size_t nd0, uint32_t *idx,
		      size_t *n, struct err *err)
{
	struct load_batch *b = &s->lb;
	unsigned char dk[STATE_TXN_KEY];
	struct lb_doc *d;
	size_t i, j;

	for (i = nd0; i < b->ndocs; i++) {
		d = &b->docs[i];
		state_txn_doc_key(b->r[d->rep].key, dk);
		for (j = nd0; j < i; j++)
			if (!b->docs[j].how &&
			    !memcmp(b->r[b->docs[j].rep].key, dk, STATE_TXN_KEY))
				break;
		if (j < i) {
			d->how = TXN_DOC_OLD;
			continue;
		}
		if (doc_probe(s, dk, dk, &d->how, err) < 0)
			return -1;
		/* its map unit rejected records: a replay after a mapping
		 * fix loads those, so each record keeps its key */
		if (!d->how && b->r[d->rep].doc_rej)
			d->how = TXN_DOC_EACH;
		if (!d->how) {
			memcpy(b->r[d->rep].key, dk, STATE_TXN_KEY);
			idx[(*n)++] = d->rep;
		}
	}
	return 0;
}

int state_txn_mark(struct state *s, struct err *err)
{
	struct load_batch *b = &s->lb;
	struct state_txn_memo memo = {0};
	uint32_t *idx = malloc(2 * b->n * sizeof(*idx) + 1), *pend;
	size_t i, n = 0, np = 0, nd0 = b->ndocs, at = 0;
	struct lb_rec *e;
	int rc = -1;

	if (!idx)
		return err_set(err, E_NOMEM, "out of memory");
	pend = idx + b->n; /* the records of undecided documents */
	for (i = 0; i < b->n; i++) {
		e = &b->r[i];
		e->ins = 0;
		if (e->dupe || !e->ev.txn)
			continue;
		if (s->in_tx && e->txn_doc) {
			if ((at >= b->ndocs || b->docs[at].doc != e->doc) &&
			    doc_at(b, e->doc, (uint32_t)i, &at, err) < 0)
				goto out;
			if (b->docs[at].how == TXN_DOC_NEW ||
			    b->docs[at].how == TXN_DOC_OLD) {
				/* decided by its first batch: no key */
				e->ins = b->docs[at].how == TXN_DOC_NEW;
				continue;
			}
		}
		if (state_txn_key(e->ev.txn, e->key, &memo, err) < 0)
			goto out;
		if (s->in_tx && e->txn_doc && !b->docs[at].how)
			pend[np++] = (uint32_t)i;
		else
			idx[n++] = (uint32_t)i;
	}
	if (docs_probe(s, nd0, idx, &n, err) < 0)
		goto out;
	/* the records of documents going the per-record way join the keys */
	for (i = 0; i < np; i++) {
		e = &b->r[pend[i]];
		if (b->docs[at].doc != e->doc && doc_at(b, e->doc, 0, &at,
							 err) < 0)
			goto out;
		if (b->docs[at].how == TXN_DOC_EACH)
			idx[n++] = pend[i];
	}
	if (n > 1)
		qsort_r(idx, n, sizeof(*idx), key_cmp, b->r);
	if ((state_is_pg(s) ? mark_pg(s, idx, n, err)
			    : mark_lite(s, idx, n, err)) < 0)
		goto out;
	for (i = nd0; i < b->ndocs; i++)
		if (!b->docs[i].how)
			b->docs[i].how = b->r[b->docs[i].rep].ins ? TXN_DOC_NEW
								: TXN_DOC_OLD;
	for (i = 0; i < np; i++) {
		e = &b->r[pend[i]];
		if (b->docs[at].doc != e->doc && doc_at(b, e->doc, 0, &at,
							 err) < 0)
			goto out;
		if (b->docs[at].how != TXN_DOC_EACH)
			e->ins = b->docs[at].how == TXN_DOC_NEW;
	}
	rc = 0;
out:
	if (rc < 0)
		b->ndocs = nd0; /* undecided: asked again (or rolled back) */
	free(idx);
	return rc;
}

/* ---- unloading a document -------------------------------------------- */

struct doc_keys {
	unsigned char (*k)[STATE_TXN_KEY];
	size_t n, cap;
	unsigned char (*kd)[STATE_TXN_KEY]; /* of default txn_ids */
	size_t nd, capd;
	struct state_txn_memo memo;
	struct err *err;
	int failed;
};

/* Room for one more key in *k (n of cap). */
static int keys_room(unsigned char (**k)[STATE_TXN_KEY], size_t n,
		     size_t *cap, struct err *err)
{
	size_t c = *cap ? 2 * *cap : 256;
	void *nk;

	if (n < *cap)
		return 0;
	if (!(nk = realloc(*k, c * sizeof(**k))))
		return err_set(err, E_NOMEM, "out of memory");
	*k = nk;
	*cap = c;
	return 0;
}

static int doc_key_row(void *ud, struct db_stmt *p)
{
	struct doc_keys *d = ud;
	const char *t = db_col_text(p, 0);
	int dflt = db_col_int64(p, 1) != 0;

	if ((dflt ? keys_room(&d->kd, d->nd, &d->capd, d->err)
		  : keys_room(&d->k, d->n, &d->cap, d->err)) < 0) {
		d->failed = 1;
		return -1;
	}
	if (state_txn_key(t ? t : "", dflt ? d->kd[d->nd] : d->k[d->n],
			  &d->memo, d->err) < 0) {
		d->failed = 1;
		return -1;
	}
	if (dflt)
		d->nd++;
	else
		d->n++;
	return 0;
}

static int raw_cmp(const void *x, const void *y)
{
	return memcmp(x, y, STATE_TXN_KEY);
}

/* k[0..n) in key order (none: k may be NULL, which qsort does not take). */
static void keys_sort(unsigned char (*k)[STATE_TXN_KEY], size_t n)
{
	if (n)
		qsort(k, n, sizeof(*k), raw_cmp);
}

/* The end of the group that starts at k[i] in sorted k[0..n): the keys
 * after it that share its 8 bytes of group digest. */
static size_t group_end(unsigned char (*k)[STATE_TXN_KEY], size_t i,
			size_t n)
{
	size_t j = i + 1;

	while (j < n && !memcmp(k[i], k[j], 8))
		j++;
	return j;
}

/* The keys of the document's default txn_ids: for each group, its
 * document key, and the records' own keys only when the group has
 * per-record keys (a document loaded the per-record way: before schema
 * 15, or beside keys of its group): one probe instead of a delete per
 * record that has no key. */
static int doc_default_keys(struct state *s, struct doc_keys *d,
			    struct err *err)
{
	unsigned char dk[STATE_TXN_KEY], hi[STATE_TXN_KEY];
	size_t i, j;
	int how;

	keys_sort(d->kd, d->nd);
	for (i = 0; i < d->nd; i = j) {
		j = group_end(d->kd, i, d->nd);
		state_txn_doc_key(d->kd[i], dk);
		split_key(dk, hi);
		hi[STATE_TXN_KEY - 1]--; /* below the split mark */
		if (doc_probe(s, dk, hi, &how, err) < 0)
			return -1;
		for (; how && i < j; i++) {
			if (keys_room(&d->k, d->n, &d->cap, err) < 0)
				return -1;
			memcpy(d->k[d->n++], d->kd[i], STATE_TXN_KEY);
		}
		if (keys_room(&d->k, d->n + 1, &d->cap, err) < 0)
			return -1;
		memcpy(d->k[d->n++], dk, STATE_TXN_KEY);
		split_key(dk, d->k[d->n++]);
	}
	return 0;
}

/* PostgreSQL: sql (del_pg_sql, add_pg_sql) on keys k[0..n) in
 * statements of TXN_PG_CHUNK. */
static int keys_pg(struct state *s, const char *sql,
		   unsigned char (*k)[STATE_TXN_KEY], size_t n,
		   struct err *err)
{
	char *list = malloc(TXN_PG_CHUNK * (2 * STATE_TXN_KEY + 1) + 1);
	size_t i, j, o, m;
	int rc = 0;

	if (!list)
		return err_set(err, E_NOMEM, "out of memory");
	for (i = 0; i < n && !rc; i += m) {
		m = n - i < TXN_PG_CHUNK ? n - i : TXN_PG_CHUNK;
		for (j = o = 0; j < m; j++) {
			if (j)
				list[o++] = ',';
			key_hex(k[i + j], list + o);
			o += 2 * STATE_TXN_KEY;
		}
		list[o] = '\0';
		rc = state_sql_rows(s, sql, SA(SA_T(list)), NULL, NULL, err);
	}
	free(list);
	return rc;
}

/* Keys k[0..n) into the ledger (add) or out of it, sorted here first:
 * in key order a document's keys are one range of the b-tree (each leaf
 * page written once), and on PostgreSQL every load and unload locks its
 * keys in one global order: two at once queue on their first common key
 * instead of each holding one the other waits for (see above). */
static int keys_put(struct state *s, int add, unsigned char (*k)[STATE_TXN_KEY],
		    size_t n, struct err *err)
{
	size_t i;

	keys_sort(k, n);
	if (state_is_pg(s))
		return keys_pg(s, add ? add_pg_sql : del_pg_sql, k, n, err);
	for (i = 0; i < n; i++)
		if (state_exec(s, add ? SX_ADD : SX_DEL,
			       SA(SA_B(k[i], STATE_TXN_KEY)), err) < 0)
			return -1;
	return 0;
}

int state_txn_doc_split(struct state *s, int64_t doc, struct err *err)
{
	struct load_batch *b = &s->lb;
	struct doc_keys d;
	size_t i, j, n0;
	int rc = -1;

	for (i = 0; i < b->ndocs && b->docs[i].doc != doc; i++)
		;
	if (i == b->ndocs || b->docs[i].how != TXN_DOC_NEW)
		return 0; /* replays only, or per-record keys already */
	b->docs[i].how = TXN_DOC_EACH;
	memset(&d, 0, sizeof(d));
	d.err = err;
	if (state_lb_apply(s, err) < 0 ||
	    state_rows(s, SX_DOC_TXNS, SA(SA_I(doc)), doc_key_row, &d, err) <
		    0 ||
	    d.failed)
		goto out;
	/* the records' keys, and the split mark of each group */
	keys_sort(d.kd, d.nd);
	for (i = 0, n0 = d.nd; i < n0; i = j) {
		j = group_end(d.kd, i, n0);
		if (keys_room(&d.kd, d.nd, &d.capd, err) < 0)
			goto out;
		state_txn_doc_key(d.kd[i], d.kd[d.nd]);
		split_key(d.kd[d.nd], d.kd[d.nd]);
		d.nd++;
	}
	rc = keys_put(s, 1, d.kd, d.nd, err);
out:
	free(d.k);
	free(d.kd);
	return rc;
}

int state_txn_forget_doc(struct state *s, int64_t doc, struct err *err)
{
	struct doc_keys d;
	size_t i;
	int rc = -1;

	memset(&d, 0, sizeof(d));
	d.err = err;
	for (i = 0; i < s->lb.ndocs; i++)
		if (s->lb.docs[i].doc == doc) /* loaded again: asked again */
			s->lb.docs[i] = s->lb.docs[--s->lb.ndocs];
	if (state_rows(s, SX_DOC_TXNS, SA(SA_I(doc)), doc_key_row, &d, err) <
		    0 ||
	    d.failed || doc_default_keys(s, &d, err) < 0)
		goto out;
	rc = keys_put(s, 0, d.k, d.n, err);
out:
	free(d.k);
	free(d.kd);
	return rc;
}

/* ---- schema 11: the ledger of the events already loaded --------------- */

/* Events read per round (by id, so the reads and writes do not share a
 * cursor). */
#define FILL_CHUNK 4096

int state_txn_fill(struct db *d, struct err *err)
{
	int pg = db_kind_of(d) == DB_POSTGRES;
	struct db_stmt *sel = NULL, *add = NULL;
	struct state_txn_memo memo = {0};
	unsigned char (*k)[STATE_TXN_KEY] = malloc(FILL_CHUNK * sizeof(*k));
	char *list = malloc(FILL_CHUNK * (2 * STATE_TXN_KEY + 1) + 1);
	int64_t last = 0;
	size_t n, i, o;
	int rc = -1, r;

	if (!k || !list) {
		err_set(err, E_NOMEM, "out of memory");
		goto out;
	}
	if (!(sel = db_prepare(d, "SELECT id, txn_id FROM stock_events"
			       " WHERE id > ? ORDER BY id LIMIT 4096", 0, err)) ||
	    !(add = db_prepare(d, pg ? "INSERT INTO txn_digests(digest)"
				       " SELECT decode(h, 'hex') FROM"
				       " unnest(string_to_array(?, ','))"
				       " AS t(h) ON CONFLICT DO NOTHING"
				     : "INSERT INTO txn_digests(digest)"
				       " VALUES(?) ON CONFLICT DO NOTHING",
			       0, err)))
		goto out;
	do {
		n = 0;
		db_reset(sel);
		db_bind_int64(sel, 1, last);
		while ((r = db_step(sel, err)) == 1) {
			const char *t = db_col_text(sel, 1);

			last = db_col_int64(sel, 0);
			if (state_txn_key(t ? t : "", k[n], &memo, err) < 0)
				goto out;
			n++;
		}
		db_reset(sel);
		if (r < 0)
			goto out;
		qsort(k, n, sizeof(*k), raw_cmp);
		if (pg && n) {
			for (i = o = 0; i < n; i++) {
				if (i)
					list[o++] = ',';
				key_hex(k[i], list + o);
				o += 2 * STATE_TXN_KEY;
			}
			list[o] = '\0';
			db_reset(add);
			db_bind_text(add, 1, list);
			if (db_step(add, err) < 0)
				goto out;
			db_reset(add);
		}
		for (i = 0; !pg && i < n; i++) {
			db_reset(add);
			db_bind_blob(add, 1, k[i], STATE_TXN_KEY);
			if (db_step(add, err) < 0)
				goto out;
			db_reset(add);
		}
	} while (n == FILL_CHUNK);
	rc = 0;
out:
	db_finalize(sel);
	db_finalize(add);
	free(k);
	free(list);
	return rc;
}
