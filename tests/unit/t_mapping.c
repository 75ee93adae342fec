/* t_mapping.c - mapping compile errors at exact file:line:col and
 * mapping runs end to end (records, rejects, txn ids); the expression
 * language and lookups on their own are in t_expr.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/io.h"
#include "transforms/mapping/expr.h"
#include "transforms/mapping/mapping.h"
#include "t.h"

/* ---- mapping files ---------------------------------------------------- */

/* Asserts mapping text fails to compile at m.yaml:line:col with why. */
static int compile_fails(const char *text, unsigned long line, unsigned col,
			 const char *why)
{
	struct mapping *m = NULL;
	struct err e = ERR_INIT;
	char msg[1400];

	if (t_write_file("m.yaml", text))
		return -1;
	if (mapping_load("m.yaml", &m, &e) == 0) {
		fprintf(stderr, "    compiled, expected m.yaml:%lu:%u: %s\n", line,
			col, why);
		mapping_free(m);
		return -1;
	}
	err_format(&e, msg, sizeof(msg));
	if (e.code != E_CONFIG || strcmp(e.file, "m.yaml") || e.line != line ||
	    e.col != col || !strstr(e.reason, why)) {
		fprintf(stderr, "    got '%s' (code %d), want m.yaml:%lu:%u: ...%s...\n",
			msg, e.code, line, col, why);
		return -1;
	}
	return 0;
}

#define HEAD "input: { format: csv }\nrecords:\n  - kind: stock\n    fields:\n"
#define OKF  "      sku: col(sku)\n      location: S1\n      state: on_hand\n" \
	     "      quantity: col(q) | decimal\n      as_of: \"2026-11-20\"\n"

T_TEST(mapping_compile_errors_at_file_line_col)
{
	T_EQ_INT(compile_fails(HEAD OKF "      qty: col(q)\n", 10, 7,
			       "kind 'stock' has no field 'qty'"), 0);
	T_EQ_INT(compile_fails(HEAD "      sku: col(sku) | no_such_function\n"
			       "      location: S1\n", 5, 23,
			       "unknown function 'no_such_function'"), 0);
	T_EQ_INT(compile_fails(HEAD "      sku: col(sku)\n      location: col(s) | lookup(stores)\n",
			       6, 33, "unknown lookup 'stores'"), 0);
	T_EQ_INT(compile_fails(HEAD "      sku: col(sku)\n      location: S1\n      state: on_hand\n"
			       "      quantity: col(q)\n", 4, 5,
			       "kind 'stock' needs field 'as_of'"), 0);
	T_EQ_INT(compile_fails(HEAD OKF "    rules:\n      - check: sku matches \"[\"\n",
			       11, 28, "bad regular expression"), 0);
	T_EQ_INT(compile_fails("input:\n  format: x13\nrecords: []\n", 2, 11,
			       "unknown format 'x13'"), 0);
	T_EQ_INT(compile_fails("input: { format: EDI }\n", 1, 18,
			       "unknown format 'EDI'"), 0);
	T_EQ_INT(compile_fails(HEAD OKF "      mode: snapshots\n", 10, 13,
			       "'snapshots' is not a valid mode"), 0);
	T_EQ_INT(compile_fails(HEAD "      sku: col(sku)\n      location: S1\n"
			       "      state: 'col(s) | map(A: on_hand, B: damgaed)'\n",
			       7, 43, "'damgaed' is not a valid state"), 0);
	T_EQ_INT(compile_fails("input: { format: csv }\ncontext:\n  d: col(x)\nrecords: []\n",
			       3, 6, "col() cannot be used in context"), 0);
	T_EQ_INT(compile_fails(HEAD OKF "    when: quantiy > 0\n", 10, 11,
			       "unknown field of kind stock 'quantiy'"), 0);
	T_EQ_INT(compile_fails("input: { format: csv }\nrecrods: []\n", 2, 1,
			       "unknown key 'recrods'"), 0);
	T_EQ_INT(compile_fails(HEAD "      sku: col(sku) | decimal(comma: true)\n",
			       5, 36, "write name:value without a space"), 0);
	T_EQ_INT(compile_fails("input: { format: csv, header: false }\nrecords:\n  - kind: item\n"
			       "    fields:\n      sku: col(Artikel)\n", 5, 12,
			       "needs a header row"), 0);
}

T_TEST(mapping_rule_shorthand_and_check)
{
	struct err e = ERR_INIT;

	T_ASSERT(t_write_file("r.yaml", HEAD OKF "    rules:\n      - quantity >= 0\n") == 0);
	T_OK(mapping_check("r.yaml", &e), &e);
	T_ASSERT(t_write_file("r.yaml", HEAD OKF "    rules:\n      - quantity >== 0\n") == 0);
	T_EQ_INT(mapping_check("r.yaml", &e), -1);
	T_EQ_INT(e.line, 11);
	T_ASSERT(t_write_file("o.yaml", "outbound: x\nkind: stock\ncolumns:\n  - { name: a, value: sku }\n") == 0);
	err_clear(&e);
	T_OK(mapping_check("o.yaml", &e), &e);
}

struct collect {
	struct buf out;
	int records, rejects;
};

static int c_rec(void *ud, const struct canon_record *r, struct err *err)
{
	struct collect *c = ud;

	(void)err;
	c->records++;
	return canon_to_jsonl(r, &c->out);
}

static int c_rej(void *ud, const struct mapping_reject *rj, struct err *err)
{
	struct collect *c = ud;

	(void)err;
	c->rejects++;
	return mapping_reject_to_jsonl(rj, &c->out);
}

static int run_map(const char *mapping_text, const char *input,
		   struct collect *c, struct err *e)
{
	struct mapping *m = NULL;
	struct mapping_sink sink = {c_rec, c_rej, c, NULL, NULL, 0};
	struct mapping_doc doc = {"src", "in.csv", "in.csv",
				  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", NULL};
	int rc;

	if (t_write_file("m.yaml", mapping_text) || t_write_file("in.csv", input))
		return -1;
	if (mapping_load("m.yaml", &m, e))
		return -1;
	rc = mapping_run(m, &doc, &sink, NULL, e);
	mapping_free(m);
	return rc;
}

T_TEST(mapping_run_records_rejects_and_txn_ids)
{
	struct collect c = {BUF_INIT(1 << 20), 0, 0};
	struct err e = ERR_INIT;
	const char *map =
		"mapping: t\n"
		"input: { format: csv, delimiter: \";\" }\n"
		"lookups:\n"
		"  stores: { file: stores.csv, key: code, value: id, missing: reject }\n"
		"context:\n"
		"  day: '$file | match(\"^(in)\", 1) | default(none)'\n"
		"records:\n"
		"  - kind: stock\n"
		"    when: state != \"on_order\"\n"
		"    fields:\n"
		"      sku: col(sku) | trim | upper | required\n"
		"      location: col(store) | lookup(stores)\n"
		"      state: 'col(st) | map(OK: on_hand, OO: on_order, default: damaged)'\n"
		"      quantity: col(qty) | decimal(comma:true)\n"
		"      as_of: col(ts) | date(\"%d.%m.%Y %H:%M\", tz:\"Europe/Berlin\")\n"
		"    rules:\n"
		"      - check: quantity >= 0\n"
		"        message: negative stock\n"
		"  - kind: item\n"
		"    fields:\n"
		"      sku: col(sku) | trim | upper\n"
		"      description: concat($day, \"/\", $line)\n";
	const char *in =
		"sku;store;st;qty;ts\n"
		"a1;F1;OK;12,5;20.11.2026 06:00\n"
		"a2;F1;OK;12,5x;20.11.2026 06:00\n"
		"a3;F9;OK;1;20.11.2026 06:00\n"
		"a4;F1;OO;1;20.11.2026 06:00\n"
		"a5;F1;XX;-2;20.11.2026 06:00\n"
		"a6;F1;OK\n";

	T_ASSERT(t_write_file("stores.csv", "code,id\nF1,STORE-1\n") == 0);
	T_OK(run_map(map, in, &c, &e), &e);
	T_EQ_INT(c.records, 3); /* a1 stock+item, a4 item (stock filtered) */
	T_EQ_INT(c.rejects, 4);
	T_EQ_STR(c.out.ptr,
		 "{\"kind\":\"stock\",\"sku\":\"A1\",\"location\":\"STORE-1\",\"state\":\"on_hand\",\"quantity\":\"12.5\",\"mode\":\"snapshot\",\"as_of\":\"2026-11-20T05:00:00Z\",\"txn_id\":\"0123456789abcdef:2:0\",\"_source\":\"src\",\"_file\":\"in.csv\",\"_line\":2}\n"
		 "{\"kind\":\"item\",\"sku\":\"A1\",\"description\":\"in/2\",\"base_uom\":\"EA\",\"pack_size\":\"1\",\"status\":\"active\",\"txn_id\":\"0123456789abcdef:2:1\",\"_source\":\"src\",\"_file\":\"in.csv\",\"_line\":2}\n"
		 "{\"kind\":\"reject\",\"_file\":\"in.csv\",\"_line\":3,\"_col\":4,\"field\":\"quantity\",\"reason\":\"field 'quantity': not a number: '12,5x'\",\"raw\":\"a2;F1;OK;12,5x;20.11.2026 06:00\"}\n"
		 "{\"kind\":\"reject\",\"_file\":\"in.csv\",\"_line\":4,\"_col\":2,\"field\":\"location\",\"reason\":\"field 'location': 'F9' not found in lookup 'stores'\",\"raw\":\"a3;F9;OK;1;20.11.2026 06:00\"}\n"
		 "{\"kind\":\"item\",\"sku\":\"A4\",\"description\":\"in/5\",\"base_uom\":\"EA\",\"pack_size\":\"1\",\"status\":\"active\",\"txn_id\":\"0123456789abcdef:5:1\",\"_source\":\"src\",\"_file\":\"in.csv\",\"_line\":5}\n"
		 "{\"kind\":\"reject\",\"_file\":\"in.csv\",\"_line\":6,\"_col\":4,\"field\":\"quantity\",\"reason\":\"field 'quantity': negative stock (rule: quantity >= 0)\",\"raw\":\"a5;F1;XX;-2;20.11.2026 06:00\"}\n"
		 "{\"kind\":\"reject\",\"_file\":\"in.csv\",\"_line\":7,\"reason\":\"row has 3 fields, expected 5\",\"raw\":\"a6;F1;OK\"}\n");
	buf_release(&c.out);
}

T_TEST(mapping_missing_header_column_fails_document)
{
	struct collect c = {BUF_INIT(1 << 20), 0, 0};
	struct err e = ERR_INIT;

	T_EQ_INT(run_map("input: { format: csv }\nrecords:\n  - kind: location\n"
			 "    fields:\n      location_id: col(Standort)\n",
			 "id,name\n1,a\n", &c, &e), -1);
	T_EQ_INT(e.code, E_PARSE);
	T_EQ_STR(e.file, "in.csv");
	T_EQ_INT(e.line, 1);
	T_ASSERT(strstr(e.reason, "column 'Standort'") != NULL);
	T_EQ_INT(c.records, 0);
	buf_release(&c.out);
}

struct deps {
	int n;
	int lookup_seen;
	char sha[SHA256_HEX_LEN];
};

static void dep_cb(void *ud, const char *path, const char *sha)
{
	struct deps *d = ud;

	if (d->n++ == 0)
		snprintf(d->sha, sizeof(d->sha), "%s", sha);
	if (strstr(path, "codes.csv"))
		d->lookup_seen = 1;
}

T_TEST(mapping_headerless_preamble_and_deps)
{
	struct collect c = {BUF_INIT(1 << 20), 0, 0};
	struct err e = ERR_INIT;
	struct mapping *m = NULL;
	struct deps d = {0, 0, ""};
	char want[SHA256_HEX_LEN];
	uint64_t size;

	T_ASSERT(t_write_file("codes.csv", "k,v\nS1,x\n") == 0);
	T_OK(run_map("input:\n  format: csv\n  header: false\n  skip_lines: 1\n"
		     "  columns: [code, name]\n"
		     "lookups:\n  codes: { file: codes.csv, key: k, value: v, missing: keep }\n"
		     "context:\n  region: 'preamble(1) | match(\"Region: (.*)\", 1)'\n"
		     "records:\n  - kind: location\n    fields:\n"
		     "      location_id: col(code) | lookup(codes)\n      name: col(2) | upper\n"
		     "      region: $region\n      txn_id: concat($file, \"#\", $row)\n",
		     "Region: DE-BE\nS1,Berlin Mitte\nS2,Spandau\n", &c, &e), &e);
	T_EQ_INT(c.records, 2);
	T_ASSERT(strstr(c.out.ptr, "\"location_id\":\"x\",\"type\":\"store\",\"name\":\"BERLIN MITTE\",\"region\":\"DE-BE\",\"txn_id\":\"in.csv#1\"") != NULL);
	T_ASSERT(strstr(c.out.ptr, "\"location_id\":\"S2\",\"type\":\"store\",\"name\":\"SPANDAU\",\"region\":\"DE-BE\",\"txn_id\":\"in.csv#2\"") != NULL);
	buf_release(&c.out);
	T_OK(mapping_load("m.yaml", &m, &e), &e);
	T_EQ_STR(mapping_format(m), "csv");
	T_EQ_STR(mapping_name(m), "m");
	mapping_each_dep(m, dep_cb, &d);
	mapping_free(m);
	T_EQ_INT(d.n, 2);
	T_ASSERT(d.lookup_seen);
	T_OK(sha256_file("m.yaml", want, &size, &e), &e);
	T_EQ_STR(d.sha, want);
}

/* The shared real-world files through a whole mapping, when present. */
T_TEST(mapping_shared_real_files)
{
	const char *src = getenv("STOCKPIPE_SRCDIR");
	char p[4096];
	struct collect c = {BUF_INIT(1 << 20), 0, 0};
	struct mapping *m = NULL;
	struct mapping_sink sink = {c_rec, c_rej, &c, NULL, NULL, 0};
	struct mapping_doc doc = {"", "bad.csv", p, NULL, NULL};
	struct mapping_stats st;
	struct err e = ERR_INIT;

	snprintf(p, sizeof(p), "%s/../shared/data/csv/errors/csvkit_bad_ragged_rows.csv",
		 src ? src : ".");
	if (access(p, R_OK))
		T_SKIP("shared data not present (%s)", p);
	T_ASSERT(t_write_file("m.yaml",
			      "input: { format: csv }\nrecords:\n  - kind: item\n"
			      "    fields:\n      sku: col(column_a) | required\n"
			      "      description: col(column_c)\n") == 0);
	T_OK(mapping_load("m.yaml", &m, &e), &e);
	T_OK(mapping_run(m, &doc, &sink, &st, &e), &e);
	mapping_free(m);
	/* Row 2 too long, row 3 too short, row 4 fine. */
	T_EQ_INT(st.input_records, 3);
	T_EQ_INT(st.rejects, 2);
	T_EQ_INT(st.records_out, 1);
	T_ASSERT(strstr(c.out.ptr, "\"_line\":2,\"reason\":\"row has 4 fields, expected 3\"") != NULL);
	T_ASSERT(strstr(c.out.ptr, "\"sku\":\"0\",\"description\":\"17\"") != NULL);
	buf_release(&c.out);

	/* Latin-1 declared: the copyright sign arrives as UTF-8. */
	snprintf(p, sizeof(p), "%s/../shared/data/csv/encoding/csvkit_test_latin1.csv",
		 src ? src : ".");
	if (access(p, R_OK))
		return;
	buf_init(&c.out, 1 << 20);
	T_ASSERT(t_write_file("m.yaml",
			      "input: { format: csv, encoding: iso-8859-1 }\nrecords:\n  - kind: item\n"
			      "    fields:\n      sku: col(a)\n      description: col(c)\n") == 0);
	T_OK(mapping_load("m.yaml", &m, &e), &e);
	doc.name = "latin1.csv";
	T_OK(mapping_run(m, &doc, &sink, &st, &e), &e);
	mapping_free(m);
	T_ASSERT(strstr(c.out.ptr, "\"description\":\"\xC2\xA9\"") != NULL);
	buf_release(&c.out);
}

/* Without a document hash from the caller, a default txn_id still starts
 * with the file's SHA-256 (computed when the first record needs it); a
 * missing file fails as before, naming the path. */
T_TEST(mapping_default_txn_id_hashes_the_file_itself)
{
	struct collect c = {BUF_INIT(1 << 20), 0, 0};
	struct mapping *m = NULL;
	struct mapping_sink sink = {c_rec, c_rej, &c, NULL, NULL, 0};
	struct mapping_doc doc = {"", "in.csv", "in.csv", NULL, NULL};
	char sha[SHA256_HEX_LEN], want[64];
	struct err e = ERR_INIT;

	T_ASSERT(t_write_file("m.yaml",
			      "input: { format: csv }\nrecords:\n  - kind: item\n"
			      "    fields:\n      sku: col(a)\n") == 0);
	T_ASSERT(t_write_file("in.csv", "a\nx\ny\n") == 0);
	T_OK(sha256_file("in.csv", sha, NULL, &e), &e);
	T_OK(mapping_load("m.yaml", &m, &e), &e);
	T_OK(mapping_run(m, &doc, &sink, NULL, &e), &e);
	snprintf(want, sizeof(want), "\"txn_id\":\"%.16s:3:0\"", sha);
	T_ASSERT(strstr(c.out.ptr, want) != NULL);
	doc.path = "missing.csv";
	T_EQ_INT(mapping_run(m, &doc, &sink, NULL, &e), -1);
	T_EQ_INT(e.code, E_IO);
	T_ASSERT(strstr(e.reason, "cannot open 'missing.csv'") != NULL);
	mapping_free(m);
	buf_release(&c.out);
}

/* explode: for CSV: one record per piece of a value (empty pieces
 * skipped), pair.value and pair.index, records without explode: mapped
 * once per row beside them, the default txn_id distinct per piece, a row
 * over explode_max one reject that makes no record, and the compile
 * errors. */
T_TEST(mapping_csv_explode)
{
	struct collect c = {BUF_INIT(1 << 20), 0, 0};
	struct err e = ERR_INIT;
	static const char map[] =
		"input: { format: csv }\n"
		"records:\n"
		"  - kind: item\n"
		"    fields:\n      sku: col(sku)\n"
		"  - kind: stock\n"
		"    explode: 'col(stores) | trim | split(\"; \")'\n"
		"    explode_max: 3\n"
		"    fields:\n      sku: col(sku)\n      location: pair.value\n"
		"      state: on_hand\n      quantity: pair.index\n"
		"      as_of: \"2026-11-20\"\n";

	T_OK(run_map(map, "sku,stores\nA, S1; S2; ; S3 \nB,\nC,S1; S2; S3; S4\n", &c, &e), &e);
	T_EQ_INT(c.records, 5);
	T_EQ_INT(c.rejects, 1);
	T_ASSERT(strstr(c.out.ptr, "\"sku\":\"A\",\"location\":\"S1\",\"state\":\"on_hand\",\"quantity\":\"1\"") != NULL);
	T_ASSERT(strstr(c.out.ptr, "\"location\":\"S2\",\"state\":\"on_hand\",\"quantity\":\"2\"") != NULL);
	T_ASSERT(strstr(c.out.ptr, "\"location\":\"S3\",\"state\":\"on_hand\",\"quantity\":\"3\"") != NULL);
	/* the default txn_ids of the pieces differ */
	T_ASSERT(strstr(c.out.ptr, "\"txn_id\":\"0123456789abcdef:200001:1\"") != NULL);
	T_ASSERT(strstr(c.out.ptr, "\"txn_id\":\"0123456789abcdef:200002:1\"") != NULL);
	T_ASSERT(strstr(c.out.ptr, "\"kind\":\"item\",\"sku\":\"B\"") != NULL);
	T_ASSERT(strstr(c.out.ptr, "\"sku\":\"C\"") == NULL);
	T_ASSERT(strstr(c.out.ptr, "\"_line\":4,\"reason\":\"explode: col(stores) | trim | split(\\\"; \\\") gives 4 pieces, more than explode_max (3) (m.yaml:7)\"") != NULL);
	buf_release(&c.out);

	T_EQ_INT(compile_fails(HEAD OKF "      uom: pair.value\n", 10, 12,
			       "pair.value needs explode: in the record"), 0);
	T_EQ_INT(compile_fails("input: { format: csv }\nrecords:\n  - kind: item\n"
			       "    explode: col(s)\n    fields:\n      sku: pair.value\n", 4, 14,
			       "explode: for csv input is a value and a split: col(Stores) | split(\"|\")"), 0);
	T_EQ_INT(compile_fails("input: { format: csv }\nrecords:\n  - kind: item\n"
			       "    explode: col(s) | split(\"\")\n    fields:\n      sku: pair.value\n", 4, 14,
			       "split() needs a separator of 1 to 8 characters"), 0);
	T_EQ_INT(compile_fails("input: { format: csv }\nrecords:\n  - kind: item\n"
			       "    explode_max: 3\n    fields:\n      sku: col(s)\n", 4, 18,
			       "explode_max: needs explode: in the record"), 0);
	T_EQ_INT(compile_fails("input: { format: csv }\nrecords:\n  - kind: item\n"
			       "    explode: col(s) | split(\",\")\n    explode_max: 100000\n"
			       "    fields:\n      sku: col(s)\n", 5, 18, "explode_max"), 0);
}

/* A field that is one column through functions with constant arguments
 * keeps its last input and result (struct expr_last): a repeated value
 * gives the kept result, a new one is evaluated (also after a run of
 * repeats and between values of which one is the other's prefix: f1
 * then f12), an empty and an absent cell after a present one, a failure
 * is not kept (each row with the bad code is rejected with its own
 * column), and a slot that mostly misses turns itself off with the same
 * output. */
T_TEST(mapping_csv_last_value_kept_per_field)
{
	struct collect c = {BUF_INIT(1 << 20), 0, 0};
	struct err e = ERR_INIT;
	const char *map =
		"mapping: t\n"
		"input: { format: csv, delimiter: \";\", ragged: allow }\n"
		"lookups:\n"
		"  stores: { file: stores.csv, key: code, value: id, missing: reject }\n"
		"records:\n"
		"  - kind: stock\n"
		"    fields:\n"
		"      sku: col(sku)\n"
		"      location: col(store) | trim | upper | lookup(stores)\n"
		"      state: 'col(st) | map(OK: on_hand, default: damaged)'\n"
		"      quantity: col(qty) | decimal(comma:true) | default(0)\n"
		"      as_of: '\"2026-11-20\" | date'\n";
	const char *in =
		"sku;store;st;qty\n"
		"a1;f1;OK;1\n"
		"a2;f1;OK;1\n"
		"a3;f1;OK;1\n"
		"a4;f12;XX;2\n"
		"a5;f1;OK;\n"
		"a6;f9;OK;3\n"
		"a7;f9;OK;3\n"
		"a8;f12;OK\n";
	struct buf big = BUF_INIT(1 << 20);
	int i;

	T_ASSERT(t_write_file("stores.csv",
			      "code,id\nF1,STORE-1\nF12,STORE-12\n") == 0);
	T_OK(run_map(map, in, &c, &e), &e);
	T_EQ_INT(c.records, 6);
	T_EQ_INT(c.rejects, 2);
	T_ASSERT(strstr(c.out.ptr, "\"sku\":\"a3\",\"location\":\"STORE-1\",\"state\":\"on_hand\",\"quantity\":\"1\"") != NULL);
	T_ASSERT(strstr(c.out.ptr, "\"sku\":\"a4\",\"location\":\"STORE-12\",\"state\":\"damaged\",\"quantity\":\"2\"") != NULL);
	/* empty cell: decimal passes it on, default() fills it */
	T_ASSERT(strstr(c.out.ptr, "\"sku\":\"a5\",\"location\":\"STORE-1\",\"state\":\"on_hand\",\"quantity\":\"0\"") != NULL);
	T_ASSERT(strstr(c.out.ptr, "\"_line\":7,\"_col\":2,\"field\":\"location\",\"reason\":\"field 'location': 'F9' not found in lookup 'stores'\"") != NULL);
	T_ASSERT(strstr(c.out.ptr, "\"_line\":8,\"_col\":2,\"field\":\"location\",\"reason\":\"field 'location': 'F9' not found in lookup 'stores'\"") != NULL);
	/* absent cell (ragged row) after present ones */
	T_ASSERT(strstr(c.out.ptr, "\"sku\":\"a8\",\"location\":\"STORE-12\",\"state\":\"on_hand\",\"quantity\":\"0\"") != NULL);
	/* 300 rows of new quantities (the slot turns off), then repeats */
	buf_adds(&big, "sku;store;st;qty\n");
	for (i = 0; i < 300; i++)
		buf_addf(&big, "s%d;f1;OK;%d\n", i, i);
	buf_adds(&big, "t1;f1;OK;7\nt2;f1;OK;7\n");
	buf_reset(&c.out);
	c.records = c.rejects = 0;
	T_OK(run_map(map, big.ptr, &c, &e), &e);
	T_EQ_INT(c.records, 302);
	T_ASSERT(strstr(c.out.ptr, "\"sku\":\"s299\",\"location\":\"STORE-1\",\"state\":\"on_hand\",\"quantity\":\"299\"") != NULL);
	T_ASSERT(strstr(c.out.ptr, "\"sku\":\"t2\",\"location\":\"STORE-1\",\"state\":\"on_hand\",\"quantity\":\"7\"") != NULL);
	buf_release(&big);
	buf_release(&c.out);
}

/* The kept last input is compared in whole words (expr_eval.c
 * same_bytes): codes of 1 to 20 bytes, each beside the same code with
 * one byte changed at every position, each value on three rows in a row
 * (so the slot keeps hitting and stays on), map to their own lookup
 * value on every row. */
T_TEST(mapping_csv_last_value_compares_every_byte)
{
	struct collect c = {BUF_INIT(1 << 20), 0, 0};
	struct err e = ERR_INIT;
	const char *map =
		"mapping: t\n"
		"input: { format: csv }\n"
		"lookups:\n"
		"  stores: { file: stores.csv, key: code, value: id, missing: reject }\n"
		"records:\n"
		"  - kind: stock\n"
		"    fields:\n"
		"      sku: col(sku)\n"
		"      location: col(store) | trim | upper | lookup(stores)\n"
		"      state: on_hand\n"
		"      quantity: 1\n"
		"      as_of: '\"2026-11-20\" | date'\n";
	struct buf lk = BUF_INIT(1 << 16), in = BUF_INIT(1 << 20);
	char code[24], want[96];
	size_t len, pos, k;
	int row = 0, n, rows;

	buf_adds(&lk, "code,id\n");
	buf_adds(&in, "sku,store\n");
	for (len = 1; len <= 20; len++)
		for (pos = 0; pos < len; pos++) {
			memset(code, 'A', len);
			code[len] = '\0';
			if (!pos)
				buf_addf(&lk, "%s,ID-%s\n", code, code);
			code[pos] = (char)('B' + pos % 20);
			buf_addf(&lk, "%s,ID-%s\n", code, code);
			for (k = 0; k < 3; k++)
				buf_addf(&in, "r%d,%s\n", row++, code);
			/* the plain code again between two variants */
			memset(code, 'A', len);
			for (k = 0; k < 3; k++)
				buf_addf(&in, "r%d,%s\n", row++, code);
		}
	T_ASSERT(t_write_file("stores.csv", lk.ptr) == 0);
	rows = row;
	T_OK(run_map(map, in.ptr, &c, &e), &e);
	T_EQ_INT(c.records, rows);
	T_EQ_INT(c.rejects, 0);
	/* every row's location is its own code's */
	row = 0;
	for (len = 1; len <= 20; len++)
		for (pos = 0; pos < len; pos++) {
			memset(code, 'A', len);
			code[len] = '\0';
			code[pos] = (char)('B' + pos % 20);
			for (n = 0; n < 6; n++, row++) {
				if (n == 3)
					memset(code, 'A', len);
				snprintf(want, sizeof(want),
					 "\"sku\":\"r%d\",\"location\":\"ID-%s\"",
					 row, code);
				if (!strstr(c.out.ptr, want))
					T_FAIL("row %d: no %s", row, want);
			}
		}
	buf_release(&lk);
	buf_release(&in);
	buf_release(&c.out);
}
