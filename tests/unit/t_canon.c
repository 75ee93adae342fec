/* t_canon.c - the canonical model: validation, normalisation and the
 * JSON Lines form the map and load stages exchange. */
#include <string.h>

#include "lib/arena.h"
#include "transforms/model/canon.h"
#include "transforms/model/dec.h"
#include "transforms/model/dt.h"
#include "t.h"

/* A stock record of sku at location "L", on hand: the fields every
 * validation test sets; each test sets or overrides the rest. */
static void stock_rec(struct canon_record *r, const char *sku,
		      const char *qty, const char *as_of, const char *txn)
{
	memset(r, 0, sizeof(*r));
	r->kind = CANON_STOCK;
	r->v[STOCK_SKU] = sku;
	r->v[STOCK_LOCATION] = "L";
	r->v[STOCK_STATE] = "on_hand";
	r->v[STOCK_QUANTITY] = qty;
	r->v[STOCK_AS_OF] = as_of;
	r->v[STOCK_TXN_ID] = txn;
}

T_TEST(canon_validate_normalises)
{
	struct arena a;
	struct err e = ERR_INIT;
	struct canon_record r;

	arena_init(&a, 4096, 0);
	stock_rec(&r, "A-1", "012.500", "2026-11-20T07:30:00+01:00", NULL);
	T_OK(canon_validate(&r, &a, &e), &e);
	T_EQ_STR(r.v[STOCK_QUANTITY], "12.5");
	T_EQ_STR(r.v[STOCK_AS_OF], "2026-11-20T06:30:00Z");
	T_EQ_STR(r.v[STOCK_MODE], "snapshot"); /* default */
	r.v[STOCK_STATE] = "sellable";
	T_ASSERT(canon_validate(&r, &a, &e) < 0);
	T_EQ_INT(e.code, E_VALIDATE);
	T_EQ_STR(e.field, "state");
	err_clear(&e);
	r.v[STOCK_STATE] = "damaged";
	r.v[STOCK_SKU] = "";
	T_ASSERT(canon_validate(&r, &a, &e) < 0);
	T_EQ_STR(e.field, "sku");
	T_ASSERT(strstr(e.reason, "required") != NULL);
	err_clear(&e);
	r.v[STOCK_SKU] = "A";
	r.v[STOCK_AS_OF] = "20.11.2026";
	T_ASSERT(canon_validate(&r, &a, &e) < 0);
	T_EQ_STR(e.field, "as_of");
	arena_release(&a);
}

T_TEST(canon_validate_price_rules)
{
	struct arena a;
	struct err e = ERR_INIT;
	struct canon_record r;

	arena_init(&a, 4096, 0);
	memset(&r, 0, sizeof(r));
	r.kind = CANON_PRICE;
	r.v[PRICE_SKU] = "A";
	r.v[PRICE_CURRENCY] = "EUR";
	r.v[PRICE_AMOUNT] = "-1";
	T_ASSERT(canon_validate(&r, &a, &e) < 0);
	T_EQ_STR(e.field, "amount");
	err_clear(&e);
	r.v[PRICE_AMOUNT] = "1.10";
	T_OK(canon_validate(&r, &a, &e), &e);
	T_EQ_STR(r.v[PRICE_AMOUNT], "1.1");
	T_EQ_STR(r.v[PRICE_KIND], "regular");
	T_EQ_STR(r.v[PRICE_PRICE_LIST], "default");
	arena_release(&a);
}

T_TEST(canon_jsonl_round_trip)
{
	struct arena a;
	struct err e = ERR_INIT;
	struct canon_record r, back;
	struct buf b = BUF_INIT(1 << 16), b2 = BUF_INIT(1 << 16);

	arena_init(&a, 4096, 0);
	memset(&r, 0, sizeof(r));
	r.kind = CANON_PRICE;
	r.v[PRICE_SKU] = "quote\" back\\slash\nnew\tline\x01 Käse";
	r.v[PRICE_CURRENCY] = "EUR";
	r.v[PRICE_AMOUNT] = "2.5";
	r.v[PRICE_KIND] = "promo";
	r.lin.source = "erp";
	r.lin.file = "p.csv";
	r.lin.line = 42;
	T_OK(canon_to_jsonl(&r, &b), &e);
	T_ASSERT(strstr(b.ptr, "\\u0001") != NULL);
	T_ASSERT(b.ptr[b.len - 1] == '\n');
	/* the record kind comes first, the price's own kind later */
	T_ASSERT(!strncmp(b.ptr, "{\"kind\":\"price\"", 15));
	T_OK(canon_from_jsonl(b.ptr, b.len, &back, &a, &e), &e);
	T_EQ_INT(back.kind, CANON_PRICE);
	T_EQ_STR(back.v[PRICE_SKU], r.v[PRICE_SKU]);
	T_EQ_STR(back.v[PRICE_KIND], "promo");
	T_EQ_STR(back.lin.file, "p.csv");
	T_EQ_INT(back.lin.line, 42);
	T_OK(canon_to_jsonl(&back, &b2), &e);
	T_EQ_STR(b2.ptr, b.ptr);
	buf_release(&b);
	buf_release(&b2);
	arena_release(&a);
}

T_TEST(canon_jsonl_refuses_garbage)
{
	struct arena a;
	struct err e = ERR_INIT;
	struct canon_record r;
	static const char *bad[] = {
		"", "[]", "{\"sku\":\"A\"}", "{\"kind\":\"widget\"}",
		"{\"kind\":\"stock\",\"colour\":\"red\"}",
		"{\"kind\":\"stock\",\"sku\":\"A", "{\"kind\":\"stock\",\"sku\":\"\\u0",
		"{\"kind\":\"stock\",\"sku\":\"\\u00e9\"}", NULL};
	int i;

	arena_init(&a, 4096, 0);
	for (i = 0; bad[i]; i++) {
		err_clear(&e);
		if (canon_from_jsonl(bad[i], strlen(bad[i]), &r, &a, &e) == 0)
			T_FAIL("accepted: %s", bad[i]);
		T_EQ_INT(e.code, E_PARSE);
	}
	arena_release(&a);
}

/* Equal records, field by field (NULL only where the other is). */
static int same_record(const struct canon_record *x,
		       const struct canon_record *y)
{
	size_t i;

	if (x->kind != y->kind || x->lin.line != y->lin.line)
		return 0;
	for (i = 0; i < CANON_MAX_FIELDS + 3; i++) {
		const char *a = i < CANON_MAX_FIELDS ? x->v[i]
				: i == CANON_MAX_FIELDS ? x->lin.source
				: i == CANON_MAX_FIELDS + 1 ? x->lin.file
							: x->lin.where;
		const char *b = i < CANON_MAX_FIELDS ? y->v[i]
				: i == CANON_MAX_FIELDS ? y->lin.source
				: i == CANON_MAX_FIELDS + 1 ? y->lin.file
							: y->lin.where;

		if ((a == NULL) != (b == NULL) || (a && strcmp(a, b)))
			return 0;
	}
	return 1;
}

/* The load's fast reader (strings cut in place) gives the general
 * reader's record for every line it takes, takes the lines the map
 * stage writes, and leaves the rest to the general one (escapes, every
 * error): canon_from_jsonl is then the general reader on every line. */
T_TEST(canon_jsonl_fast_agrees_with_general)
{
	static const struct {
		const char *line;
		int fast; /* 1: the fast reader must take it */
	} cases[] = {
		{"{\"kind\":\"stock\",\"sku\":\"KW-0000013\",\"location\":"
		 "\"STORE-001\",\"state\":\"on_hand\",\"quantity\":\"4363\","
		 "\"mode\":\"snapshot\",\"as_of\":\"2026-11-20T08:47:00Z\","
		 "\"txn_id\":\"bf5bc3cfd79bf304:2:0\",\"uom\":\"EA\","
		 "\"_source\":\"in\",\"_file\":\"input.csv\",\"_line\":2}\n", 1},
		{"{\"kind\":\"stock\",\"sku\":\"072385773167\",\"location\":"
		 "\"STORE00001\",\"state\":\"on_hand\",\"quantity\":\"-11.5\","
		 "\"mode\":\"delta\",\"as_of\":\"2026-11-18T23:00:00Z\","
		 "\"txn_id\":\"ACME-000000777-0001-072385773167\","
		 "\"_source\":\"in\",\"_file\":\"x.852\",\"_line\":7,"
		 "\"_where\":\"ic 000000777 set 0001 LIN#5\"}\r\n", 1},
		/* out of table order, the price's own "kind" later */
		{"{\"kind\":\"price\",\"currency\":\"EUR\",\"sku\":\"A\","
		 "\"kind\":\"promo\",\"amount\":\"2.5\",\"_line\":0}", 1},
		{"{\"kind\":\"item\",\"sku\":\"\",\"description\":\"K\xc3\xa4se"
		 " 'x'\"}", 1},
		{"{\"kind\":\"location\",\"location_id\":\"L1\"}", 1},
		{"{\"kind\":\"stock\"}", 1},
		/* escapes: the general reader's */
		{"{\"kind\":\"stock\",\"sku\":\"a\\\"b\",\"_line\":1}", 0},
		{"{\"kind\":\"stock\",\"sku\":\"a\\u0001\\n\"}", 0},
		{"{\"kind\":\"stock\",\"_f\\u0069le\":\"f\"}", 0},
		/* errors: refused by both */
		{"", 0}, {"\n", 0}, {"[]", 0}, {"{\"sku\":\"A\"}", 0},
		{"{\"kind\":\"widget\"}", 0},
		{"{\"kind\":\"stock\",\"colour\":\"red\"}", 0},
		{"{\"kind\":\"stock\",\"sku\":\"A", 0},
		{"{\"kind\":\"stock\",\"sku\":\"A\"", 0},
		{"{\"kind\":\"stock\",\"sku\":7}", 0},
		{"{\"kind\":\"stock\",\"_line\":-1}", 0},
		{"{\"kind\":\"stock\",\"_line\": 1}", 0},
		{"{\"kind\":\"stock\",\"_line\":99999999999999999999999}", 0},
		{"{\"kind\":\"stock\" \"sku\":\"A\"}", 0},
		{"{\"kind\":\"stock\",\"sku\"\"A\"}", 0},
		/* keys one byte longer or shorter than a name */
		{"{\"kinds\":\"stock\"}", 0}, {"{\"kin\":\"stock\"}", 0},
		{"{\"kind\":\"stock\",\"_filex\":\"f\"}", 0},
		{"{\"kind\":\"stock\",\"_fil\":\"f\"}", 0},
		{"{\"kind\":\"stock\",\"skux\":\"A\"}", 0},
		{"{\"kind\":\"stock\",\"sk\":\"A\"}", 0},
	};
	struct arena a;
	struct err e = ERR_INIT;
	struct canon_record f, g;
	size_t i, n;
	int rf, rg;

	arena_init(&a, 4096, 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = strlen(cases[i].line);
		err_clear(&e);
		rg = canon_from_jsonl_general(cases[i].line, n, &g, &a, &e);
		rf = canon_from_jsonl_fast(cases[i].line, n, &f, &a);
		if (cases[i].fast && rf)
			T_FAIL("left to the general reader: %s", cases[i].line);
		if (!cases[i].fast && !rf)
			T_FAIL("taken by the fast reader: %s", cases[i].line);
		if (!rf && (rg || !same_record(&f, &g)))
			T_FAIL("fast and general differ: %s", cases[i].line);
		/* canon_from_jsonl: the same record or the same error */
		err_clear(&e);
		T_EQ_INT(canon_from_jsonl(cases[i].line, n, &f, &a, &e), rg);
		if (!rg && !same_record(&f, &g))
			T_FAIL("canon_from_jsonl differs: %s", cases[i].line);
		if (rg)
			T_EQ_INT(e.code, E_PARSE);
	}
	/* a NUL in a key or value: the general reader's (C strings) */
	{
		static const char nul[] = "{\"kind\":\"stock\",\"sku\0x\":"
					  "\"A\0B\",\"_source\0\":\"s\"}";

		T_EQ_INT(canon_from_jsonl_fast(nul, sizeof(nul) - 1, &f, &a),
			 1);
		rg = canon_from_jsonl_general(nul, sizeof(nul) - 1, &g, &a, &e);
		T_EQ_INT(canon_from_jsonl(nul, sizeof(nul) - 1, &f, &a, &e), rg);
		T_ASSERT(rg || same_record(&f, &g));
	}
	/* a line in a longer buffer: nothing past n is read */
	n = strlen("{\"kind\":\"stock\",\"sku\":\"AB\"}");
	T_EQ_INT(canon_from_jsonl_fast("{\"kind\":\"stock\",\"sku\":\"AB\"}"
				       "xyz\"}", n, &f, &a), 0);
	T_EQ_STR(f.v[STOCK_SKU], "AB");
	arena_release(&a);
}

/* _line is decimal digits inside the n bytes given; found while writing
 * fuzz_canon (strtoul took signs and blanks, and may read past n). */
T_TEST(canon_jsonl_line_number_is_digits_only)
{
	struct arena a;
	struct err e = ERR_INIT;
	struct canon_record r;
	static const char *bad[] = {
		"{\"kind\":\"stock\",\"_line\":-1}",
		"{\"kind\":\"stock\",\"_line\":+1}",
		"{\"kind\":\"stock\",\"_line\": 1}",
		"{\"kind\":\"stock\",\"_line\":99999999999999999999999}",
		NULL};
	const char *ok = "{\"kind\":\"stock\",\"_line\":42}";
	int i;

	arena_init(&a, 4096, 0);
	for (i = 0; bad[i]; i++) {
		err_clear(&e);
		if (canon_from_jsonl(bad[i], strlen(bad[i]), &r, &a, &e) == 0)
			T_FAIL("accepted: %s", bad[i]);
		T_EQ_INT(e.code, E_PARSE);
	}
	err_clear(&e);
	T_OK(canon_from_jsonl(ok, strlen(ok), &r, &a, &e), &e);
	T_EQ_INT(r.lin.line, 42);
	arena_release(&a);
}

/* canon_validate() skips the second parse of a decimal already written
 * the canonical way and, with a memo, of a date/time seen just before:
 * over many spellings the results (value, or the error) are exactly
 * those of parsing every value. */
T_TEST(canon_validate_fast_paths_agree)
{
	static const char *const atoms[] = {
		"0", "-0", "00", "1", "-1", "10", "012", "+5", " 7", "7 ",
		"123456789012", "1234567890123", "9223372036854", "-",
		".", "0.", ".5", "0.5", "0.50", "-0.5", "1.000001",
		"1.0000001", "1.0000010", "2.25", "1e3", "1,5", "12.3.4", ""};
	static const char *const dts[] = {
		"2026-11-20T06:00:00Z", "2026-11-20T06:00:00Z",
		"2026-02-30T00:00:00Z", "2026-02-30T00:00:00Z",
		"2024-02-29T23:59:60Z", "2026-11-20T06:00:00Z",
		"2026-11-20T06:00Z", "2026-11-20", "2026-11-20T06:00:00+01:00",
		"2026-11-20T06:00:00Z"};
	struct arena a;
	struct canon_memo memo;
	size_t i, j;

	arena_init(&a, 4096, 0);
	memset(&memo, 0, sizeof(memo));
	for (i = 0; i < sizeof(atoms) / sizeof(atoms[0]); i++)
		for (j = 0; j < 2; j++) {
			struct canon_record r;
			struct err e = ERR_INIT;
			char want[40];
			const char *v = atoms[i];
			dec d;
			int rc, bad;

			memset(&r, 0, sizeof(r));
			/* quantity (may be negative), then amount (not) */
			r.kind = j ? CANON_PRICE : CANON_STOCK;
			r.v[0] = "SKU";
			if (j) {
				r.v[2] = "EUR";
				r.v[3] = v;
			} else {
				r.v[1] = "L";
				r.v[2] = "on_hand";
				r.v[3] = v;
				r.v[5] = "2026-11-20T06:00:00Z";
			}
			bad = !*v || dec_parse(v, strlen(v), '.', 0, &d);
			if (!bad) {
				dec_format(d, want);
				bad = j && d < 0;
			}
			rc = canon_validate_memo(&r, &a, &e, &memo);
			if (bad) {
				if (rc != -1 || strcmp(e.field, j ? "amount" : "quantity"))
					T_FAIL("'%s' (%s) passed", v, j ? "amount" : "quantity");
			} else if (rc != 0 || strcmp(r.v[3], want)) {
				T_FAIL("'%s' gave '%s', want '%s' (%s)", v,
				       rc ? e.reason : r.v[3], want, e.reason);
			}
		}
	for (i = 0; i < sizeof(dts) / sizeof(dts[0]); i++) {
		struct canon_record r, s2;
		struct err e1 = ERR_INIT, e2 = ERR_INIT;
		int rc1, rc2;

		stock_rec(&r, "SKU", "1", dts[i], NULL);
		s2 = r;
		rc1 = canon_validate_memo(&r, &a, &e1, &memo);
		rc2 = canon_validate(&s2, &a, &e2);
		T_EQ_INT(rc1, rc2);
		if (!rc1)
			T_EQ_STR(r.v[5], s2.v[5]);
		else
			T_EQ_STR(e1.reason, e2.reason);
	}
	arena_release(&a);
}

/* Found by tests/fuzz/fuzz_map.c (corpus map/regress-x12-latin1-control):
 * an X12 control number with a byte >= 0x80 reached the canonical JSON
 * raw. A text value that is not UTF-8 is now a bad record. */
T_TEST(canon_validate_refuses_invalid_utf8)
{
	struct arena a;
	struct err e = ERR_INIT;
	struct canon_record r;

	arena_init(&a, 4096, 0);
	stock_rec(&r, "A-1", "1", "2026-11-20T06:30:00Z", "ACME-000\xaf/002");
	T_ASSERT(canon_validate(&r, &a, &e) < 0);
	T_EQ_INT(e.code, E_VALIDATE);
	T_EQ_STR(e.field, "txn_id");
	T_ASSERT(strstr(e.reason, "0xaf at offset 8") != NULL);
	err_clear(&e);
	r.v[STOCK_TXN_ID] = "ACME-M\xc3\xbcnchen";  /* UTF-8: fine */
	T_OK(canon_validate(&r, &a, &e), &e);
	r.v[STOCK_SKU] = "\xed\xa0\x80";           /* a surrogate */
	T_ASSERT(canon_validate(&r, &a, &e) < 0);
	T_EQ_STR(e.field, "sku");
	arena_release(&a);
}

/* issue 17: a quoted CR in a SKU made a second SKU that looked like the
 * first; identifiers and codes refuse control characters, naming the
 * byte and where it is. Free text keeps them. */
T_TEST(canon_identifiers_refuse_control_characters)
{
	struct arena a;
	struct err e = ERR_INIT;
	struct canon_record r;

	arena_init(&a, 4096, 0);
	stock_rec(&r, "KW-10\r", "1", "2026-11-20T07:30:00Z", NULL);
	T_ASSERT(canon_validate(&r, &a, &e) < 0);
	T_EQ_INT(e.code, E_VALIDATE);
	T_EQ_STR(e.field, "sku");
	T_EQ_STR(e.reason, "control character CR (0x0D) at offset 5 in "
			   "'KW-10\\x0D': identifiers and codes take none");
	err_clear(&e);
	r.v[STOCK_SKU] = "KW-10";
	r.v[STOCK_LOCATION] = "S\t1";
	T_ASSERT(canon_validate(&r, &a, &e) < 0);
	T_EQ_STR(e.field, "location");
	err_clear(&e);
	memset(&r, 0, sizeof(r));
	r.kind = CANON_ITEM;
	r.v[ITEM_SKU] = "KW-10";
	r.v[ITEM_DESCRIPTION] = "two\nlines"; /* free text: kept */
	T_OK(canon_validate(&r, &a, &e), &e);
	r.v[ITEM_GTIN] = "4006381\x7f";
	T_ASSERT(canon_validate(&r, &a, &e) < 0);
	T_EQ_STR(e.field, "gtin");
	arena_release(&a);
}

/* Printable ASCII text skips the UTF-8 and control-character checks (8
 * bytes at a time): every byte 0x01-0xFF at every position of values 1
 * to 19 bytes long must still be refused in an identifier (sku) when it
 * is a control character or not UTF-8, and in free text (txn_id) when
 * it is not UTF-8. */
T_TEST(canon_text_fast_check_agrees)
{
	struct arena a;
	char v[20];
	size_t len, pos;
	unsigned b;

	arena_init(&a, 4096, 0);
	for (len = 1; len < sizeof(v); len++)
		for (pos = 0; pos < len; pos++)
			for (b = 1; b < 256; b++) {
				struct canon_record r;
				struct err e = ERR_INIT;
				int f, rc, want;

				memset(v, 'A', len);
				v[len] = '\0';
				v[pos] = (char)b;
				for (f = 0; f < 2; f++) {
					stock_rec(&r, f ? "SKU" : v, "1", "2026-11-20T06:00:00Z",
						 f ? v : NULL);
					rc = canon_validate(&r, &a, &e);
					want = b >= 0x80 || (!f && (b < 0x20 || b == 0x7F));
					if (rc != (want ? -1 : 0))
						T_FAIL("%s of %zu bytes with 0x%02x at %zu: rc %d",
						       f ? "txn_id" : "sku", len, b, pos, rc);
					err_clear(&e);
				}
			}
	arena_release(&a);
}

/* Values that come with their length (len[i] = length + 1, as the
 * mapping sets it) give the same validation and JSON line as the same
 * values measured by strlen, also where validation replaces a value
 * (a default for an empty one, a decimal or date rewritten): the
 * replaced value's length is not the old one's. */
T_TEST(canon_lengths_kept_with_values)
{
	static const char *const vals[][3] = {
		/* quantity, as_of, mode */
		{"012.500", "2026-11-20T07:30:00+01:00", ""},
		{"7", "2026-11-20T06:30:00Z", "delta"},
		{"1000000.000000", "2026-11-20", "snapshot"},
	};
	struct arena a;
	struct err e = ERR_INIT;
	struct buf j1 = BUF_INIT(4096), j2 = BUF_INIT(4096);
	size_t k, i;

	arena_init(&a, 4096, 0);
	for (k = 0; k < sizeof(vals) / sizeof(vals[0]); k++) {
		struct canon_record r, q;

		stock_rec(&r, "A-1", vals[k][0], vals[k][1], NULL);
		r.v[STOCK_LOCATION] = "L\"\xc3\xa9";
		r.v[STOCK_MODE] = vals[k][2];
		r.v[STOCK_TXN_ID] = "t:1:0";
		r.lin.file = "f.csv";
		r.lin.line = 2;
		q = r;
		for (i = 0; i < CANON_MAX_FIELDS; i++)
			if (q.v[i])
				q.len[i] = (unsigned)strlen(q.v[i]) + 1;
		T_OK(canon_validate(&r, &a, &e), &e);
		T_OK(canon_validate(&q, &a, &e), &e);
		for (i = 0; i < CANON_MAX_FIELDS; i++)
			if (q.v[i] && q.len[i])
				T_EQ_INT((long)(q.len[i] & ~CANON_LEN_PLAIN),
					 (long)strlen(q.v[i]) + 1);
		buf_reset(&j1);
		buf_reset(&j2);
		T_ASSERT(canon_to_jsonl(&r, &j1) == 0);
		T_ASSERT(canon_to_jsonl(&q, &j2) == 0);
		T_EQ_STR(j2.ptr, j1.ptr);
	}
	buf_release(&j1);
	buf_release(&j2);
	arena_release(&a);
}

/* A value validation marks CANON_LEN_PLAIN is written without a check:
 * the mark goes on exactly the printable ASCII values without '"' or
 * '\\' (every byte at every position of values of 1-19 bytes, as a SKU
 * and as a unit), and the JSON line of a record with known lengths is
 * the line of the same record measured by strlen (never marked). */
T_TEST(canon_plain_mark_writes_the_same_json)
{
	struct arena a;
	struct buf j1 = BUF_INIT(4096), j2 = BUF_INIT(4096);
	struct canon_memo memo;
	char v[20];
	size_t len, pos, i;
	unsigned b;

	arena_init(&a, 4096, 0);
	memset(&memo, 0, sizeof(memo));
	for (len = 1; len < sizeof(v); len++)
		for (pos = 0; pos < len; pos++)
			for (b = 1; b < 256; b++) {
				struct canon_record r, q;
				struct err e = ERR_INIT;
				int f, plain;

				memset(v, 'A', len);
				v[len] = '\0';
				v[pos] = (char)b;
				plain = b >= 0x20 && b < 0x7F && b != '"' &&
					b != '\\';
				for (f = 0; f < 2; f++) {
					stock_rec(&r, f ? "SKU" : v, "1", "2026-11-20T06:00:00Z", v);
					r.lin.file = "f.csv";
					r.lin.line = 2;
					q = r;
					for (i = 0; i < CANON_MAX_FIELDS; i++)
						if (q.v[i])
							q.len[i] = (unsigned)strlen(q.v[i]) + 1;
					if (canon_validate(&r, &a, &e) < 0) {
						err_clear(&e);
						T_ASSERT(canon_validate_memo(&q, &a, &e, &memo) < 0);
						err_clear(&e);
						continue;
					}
					T_OK(canon_validate_memo(&q, &a, &e, &memo), &e);
					if (!!(q.len[STOCK_TXN_ID] & CANON_LEN_PLAIN) != plain)
						T_FAIL("0x%02x at %zu of %zu: mark %d, want %d",
						       b, pos, len,
						       !!(q.len[STOCK_TXN_ID] & CANON_LEN_PLAIN),
						       plain);
					T_ASSERT(q.len[STOCK_STATE] & CANON_LEN_PLAIN);
					T_ASSERT(q.len[STOCK_QUANTITY] & CANON_LEN_PLAIN);
					T_ASSERT(q.len[STOCK_AS_OF] & CANON_LEN_PLAIN);
					T_ASSERT(!(r.len[STOCK_TXN_ID] & CANON_LEN_PLAIN));
					buf_reset(&j1);
					buf_reset(&j2);
					T_ASSERT(canon_to_jsonl(&r, &j1) == 0);
					T_ASSERT(canon_to_jsonl(&q, &j2) == 0);
					if (strcmp(j1.ptr, j2.ptr))
						T_FAIL("0x%02x at %zu of %zu: '%s' != '%s'",
						       b, pos, len, j2.ptr, j1.ptr);
				}
			}
	buf_release(&j1);
	buf_release(&j2);
	arena_release(&a);
}

/* The memo of the last unit that passed: a unit that fails after one
 * that passed still fails, the same unit passes again from the memo,
 * and an item's pack sizes are checked whatever the memo holds. */
T_TEST(canon_unit_memo_only_skips_the_same_unit)
{
	struct arena a;
	struct canon_memo memo;
	struct canon_record r;
	struct err e = ERR_INIT;
	static const struct {
		const char *uom;
		int ok;
	} seq[] = {{"EA", 1}, {"EA", 1}, {"E A", 0}, {"EA", 1},
		   {"CA>>12", 1}, {"CA>>12", 1}, {"CA>2>12", 0}, {"E", 1}};
	size_t k;

	arena_init(&a, 4096, 0);
	memset(&memo, 0, sizeof(memo));
	for (k = 0; k < sizeof(seq) / sizeof(seq[0]); k++) {
		stock_rec(&r, "S", "1", "2026-11-20T06:00:00Z", "t");
		r.v[STOCK_UOM] = seq[k].uom;
		r.len[STOCK_UOM] = (unsigned)strlen(seq[k].uom) + 1;
		if (canon_validate_memo(&r, &a, &e, &memo) != (seq[k].ok ? 0 : -1))
			T_FAIL("'%s': want %s", seq[k].uom,
			       seq[k].ok ? "ok" : "a reject");
		err_clear(&e);
	}
	/* "EA" is in the memo; as pack sizes it is not valid */
	memset(&r, 0, sizeof(r));
	r.kind = CANON_ITEM;
	r.v[ITEM_SKU] = "S";
	r.v[ITEM_PACK_SIZES] = "E";
	r.len[ITEM_PACK_SIZES] = 2;
	T_ASSERT(canon_validate_memo(&r, &a, &e, &memo) < 0);
	T_EQ_STR(e.field, "pack_sizes");
	err_clear(&e);
	r.v[ITEM_PACK_SIZES] = "CA=12";
	r.len[ITEM_PACK_SIZES] = 6;
	T_OK(canon_validate_memo(&r, &a, &e, &memo), &e);
	arena_release(&a);
}

/* An enum value is one whole word of its list: every word passes (with
 * and without a known length), a prefix, an extension, a word run into
 * the next or a case change does not. */
T_TEST(canon_enum_whole_words_only)
{
	static const struct {
		const char *v;
		int ok;
	} cases[] = {
		{"store", 1}, {"dc", 1}, {"supplier", 1}, {"virtual", 1},
		{"stor", 0}, {"stores", 0}, {"d", 0}, {"dcs", 0},
		{"store|dc", 0}, {"virtua", 0}, {"Store", 0}, {"|", 0},
		{"supplierx", 0}, {"c", 0},
	};
	struct arena a;
	size_t k;
	int known;

	arena_init(&a, 4096, 0);
	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
		for (known = 0; known < 2; known++) {
			struct canon_record r;
			struct err e = ERR_INIT;

			memset(&r, 0, sizeof(r));
			r.kind = CANON_LOCATION;
			r.v[LOC_LOCATION_ID] = "L1";
			r.v[LOC_TYPE] = cases[k].v;
			if (known)
				r.len[LOC_TYPE] = (unsigned)strlen(cases[k].v) + 1;
			if (canon_validate(&r, &a, &e) != (cases[k].ok ? 0 : -1))
				T_FAIL("'%s' (length %s): want %s", cases[k].v,
				       known ? "known" : "measured",
				       cases[k].ok ? "ok" : "a reject");
			if (!cases[k].ok)
				T_EQ_STR(e.field, "type");
		}
	arena_release(&a);
}

/* A date/time on the day of the memo's is checked by its time of day
 * only: every byte at every position of the time (and the terminator)
 * gives what validation without the memo gives, the same value and
 * rewritten values alike, and other days and shapes too. */
T_TEST(canon_same_day_times_match_the_full_check)
{
	static const char *const base[] = {"2026-11-20T06:00:00Z",
					   "2026-11-20T23:59:59Z",
					   "2026-11-21T00:00:00Z"};
	struct arena a;
	struct buf j1 = BUF_INIT(4096), j2 = BUF_INIT(4096);
	char v[24];
	size_t k, pos;
	unsigned b;

	arena_init(&a, 4096, 0);
	for (k = 0; k < sizeof(base) / sizeof(base[0]); k++)
		for (pos = 0; pos <= 20; pos++)
			for (b = 1; b < 256; b++) {
				struct canon_record r, q;
				struct canon_memo memo;
				struct err e1 = ERR_INIT, e2 = ERR_INIT;
				int r1, r2;

				memset(&memo, 0, sizeof(memo));
				memcpy(memo.dt, "2026-11-20T12:34:56Z", DT_ISO_LEN);
				memcpy(v, base[k], DT_ISO_LEN);
				v[pos] = (char)b;
				v[21] = '\0';
				stock_rec(&r, "S", "1", v, "t");
				r.lin.file = "f.csv";
				q = r;
				q.len[STOCK_AS_OF] = (unsigned)strlen(v) + 1;
				r1 = canon_validate(&r, &a, &e1);
				r2 = canon_validate_memo(&q, &a, &e2, &memo);
				if (r1 != r2) {
					T_FAIL("'%s': %d without the memo, %d with",
					       v, r1, r2);
					continue;
				}
				if (r1)
					continue;
				buf_reset(&j1);
				buf_reset(&j2);
				T_ASSERT(canon_to_jsonl(&r, &j1) == 0);
				T_ASSERT(canon_to_jsonl(&q, &j2) == 0);
				if (strcmp(j1.ptr, j2.ptr))
					T_FAIL("'%s': '%s' != '%s'", v, j2.ptr,
					       j1.ptr);
			}
	buf_release(&j1);
	buf_release(&j2);
	arena_release(&a);
}

/* canon_text_len() marks plain exactly the printable ASCII text without
 * '"' or '\\', and a record whose lineage (source, file, where) comes
 * with those lengths writes the same JSON line as one without: every
 * byte at every position of texts of 1 to 19 bytes, in each of the
 * three, and an empty source. */
T_TEST(canon_lineage_lengths_write_the_same_json)
{
	struct buf j1 = BUF_INIT(4096), j2 = BUF_INIT(4096);
	char v[20];
	size_t len, pos;
	unsigned b, l;
	int k;

	T_EQ_INT(canon_text_len("", 0), 1u | CANON_LEN_PLAIN);
	T_EQ_INT(canon_text_len("a\"b", 3), 4);
	T_EQ_INT(canon_text_len("ab\\", 3), 4);
	T_EQ_INT(canon_text_len("a b~", 4), 5u | CANON_LEN_PLAIN);
	for (len = 1; len < sizeof(v); len++)
		for (pos = 0; pos < len; pos++)
			for (b = 1; b < 256; b++)
				for (k = 0; k < 3; k++) {
					struct canon_record r, q;
					int plain = b >= 0x20 && b < 0x7F &&
						    b != '"' && b != '\\';

					memset(v, 'A', len);
					v[len] = '\0';
					v[pos] = (char)b;
					l = canon_text_len(v, len);
					if ((l & ~CANON_LEN_PLAIN) != len + 1 ||
					    !!(l & CANON_LEN_PLAIN) != plain)
						T_FAIL("0x%02x at %zu of %zu: %x",
						       b, pos, len, l);
					memset(&r, 0, sizeof(r));
					r.kind = CANON_STOCK;
					r.v[STOCK_SKU] = "SKU";
					r.v[STOCK_STATE] = "on_hand";
					r.lin.source = k == 0 ? v : "";
					r.lin.file = k == 1 ? v : "f.x12";
					r.lin.where = k == 2 ? v : "ic 1 set 2 LIN#3";
					r.lin.line = 7;
					q = r;
					q.lin_len[CANON_LIN_SOURCE] = canon_text_len(
						q.lin.source, strlen(q.lin.source));
					q.lin_len[CANON_LIN_FILE] = canon_text_len(
						q.lin.file, strlen(q.lin.file));
					q.lin_len[CANON_LIN_WHERE] = canon_text_len(
						q.lin.where, strlen(q.lin.where));
					buf_reset(&j1);
					buf_reset(&j2);
					T_ASSERT(canon_to_jsonl(&r, &j1) == 0);
					T_ASSERT(canon_to_jsonl(&q, &j2) == 0);
					if (j1.len != j2.len || strcmp(j1.ptr, j2.ptr))
						T_FAIL("0x%02x at %zu of %zu in %d: "
						       "'%s' != '%s'", b, pos, len,
						       k, j2.ptr, j1.ptr);
				}
	buf_release(&j1);
	buf_release(&j2);
}
