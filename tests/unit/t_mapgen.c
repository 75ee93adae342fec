/* t_mapgen.c - the recognizers behind `map new` (column names in several
 * languages, GTIN check digits, date and number formats, X12/EDIFACT
 * qualifiers, party roles) and the mapping mapgen writes: it compiles, it
 * runs on the file it was written for, a file with parties but no item
 * lines gets a location mapping, and one with neither is refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "transforms/mapping/mapgen.h"
#include "transforms/mapping/mapping.h"
#include "t.h"

T_TEST(mapgen_names)
{
	T_EQ_INT(mapgen_name_field("EAN"), MGF_GTIN);
	T_EQ_INT(mapgen_name_field("GTIN/EAN"), MGF_GTIN);
	T_EQ_INT(mapgen_name_field("upc"), MGF_GTIN);
	T_EQ_INT(mapgen_name_field("SKU"), MGF_SKU);
	T_EQ_INT(mapgen_name_field("Artikelnummer"), MGF_SKU);
	T_EQ_INT(mapgen_name_field("article"), MGF_SKU);
	T_EQ_INT(mapgen_name_field("product_number"), MGF_SKU);
	T_EQ_INT(mapgen_name_field("Menge"), MGF_QTY);
	T_EQ_INT(mapgen_name_field("Lagerbestand"), MGF_QTY);
	T_EQ_INT(mapgen_name_field("On Hand"), MGF_QTY);
	T_EQ_INT(mapgen_name_field("qty"), MGF_QTY);
	T_EQ_INT(mapgen_name_field("stock"), MGF_QTY);
	/* a whole name wins over a part: a unit, not a quantity */
	T_EQ_INT(mapgen_name_field("Mengeneinheit"), MGF_UOM);
	T_EQ_INT(mapgen_name_field("Preis"), MGF_PRICE);
	T_EQ_INT(mapgen_name_field("EK-Preis"), MGF_PRICE);
	T_EQ_INT(mapgen_name_field("price_net_eur"), MGF_PRICE);
	T_EQ_INT(mapgen_name_field("RetailPrice"), MGF_PRICE);
	T_EQ_INT(mapgen_name_field("W\xc3\xa4hrung"), MGF_CURRENCY);
	T_EQ_INT(mapgen_name_field("currency"), MGF_CURRENCY);
	T_EQ_INT(mapgen_name_field("store"), MGF_LOCATION);
	T_EQ_INT(mapgen_name_field("Warehouse"), MGF_LOCATION);
	T_EQ_INT(mapgen_name_field("Filiale"), MGF_LOCATION);
	T_EQ_INT(mapgen_name_field("counted_at"), MGF_DATE);
	T_EQ_INT(mapgen_name_field("Datum"), MGF_DATE);
	T_EQ_INT(mapgen_name_field("Bezeichnung"), MGF_DESC);
	T_EQ_INT(mapgen_name_field("DateFrom"), MGF_VALID_FROM);
	T_EQ_INT(mapgen_name_field("DateUntill"), MGF_VALID_TO);
	T_EQ_INT(mapgen_name_field("foo"), MGF_NONE);
	T_EQ_INT(mapgen_name_field(""), MGF_NONE);
	T_EQ_INT(mapgen_name_field(NULL), MGF_NONE);
	T_EQ_STR(mapgen_field_name(MGF_QTY), "quantity");
	T_EQ_STR(mapgen_field_name(MGF_DATE), "as_of");
	T_EQ_INT(mapgen_name_field("Region"), MGF_REGION);
	T_EQ_INT(mapgen_name_field("Bundesland"), MGF_REGION);
	T_EQ_INT(mapgen_name_field("store_name"), MGF_DESC);
	T_EQ_INT(mapgen_name_field("store_type"), MGF_LOCTYPE);
	T_EQ_STR(mapgen_field_name(MGF_REGION), "region");
}

T_TEST(mapgen_values)
{
	T_ASSERT(mapgen_is_gtin("4006381333931"));
	T_ASSERT(!mapgen_is_gtin("4006381333932"));
	T_ASSERT(mapgen_is_gtin("012345678905"));    /* UPC-A */
	T_ASSERT(mapgen_is_gtin("96385074"));        /* GTIN-8 */
	T_ASSERT(!mapgen_is_gtin("123"));
	T_ASSERT(!mapgen_is_gtin("40063813339A1"));
	T_EQ_STR(mapgen_date_format("2026-11-20"), "%Y-%m-%d");
	T_EQ_STR(mapgen_date_format("2026-11-20 06:00"), "%Y-%m-%d %H:%M");
	T_EQ_STR(mapgen_date_format("20261120"), "%Y%m%d");
	T_EQ_STR(mapgen_date_format("20.11.2026"), "%d.%m.%Y");
	T_EQ_STR(mapgen_date_format("       30-06-2008"), "%d-%m-%Y");
	T_EQ_STR(mapgen_date_format("11/20/2026"), "%m/%d/%Y");
	T_EQ_STR(mapgen_date_format("2026-11-20T06:00:00Z"), "");
	T_ASSERT(mapgen_date_format("20261399") == NULL);
	T_ASSERT(mapgen_date_format("KW-10001") == NULL);
	T_ASSERT(mapgen_date_format(NULL) == NULL);
	T_EQ_INT(mapgen_number_kind("14"), 0);
	T_EQ_INT(mapgen_number_kind("-7"), 0);
	T_EQ_INT(mapgen_number_kind("48.000"), 0);
	T_EQ_INT(mapgen_number_kind("27,000"), 1);
	T_EQ_INT(mapgen_number_kind("1.234,50"), 2);
	T_EQ_INT(mapgen_number_kind("200.000.000"), 2);
	T_EQ_INT(mapgen_number_kind("1,234.50"), 3);
	T_EQ_INT(mapgen_number_kind("zw\xc3\xb6lf"), -1);
	T_EQ_INT(mapgen_number_kind(""), -1);
}

T_TEST(mapgen_qualifiers)
{
	int r1, r2;

	T_EQ_INT(mapgen_x12_idq("UP", &r1), MGF_GTIN);
	T_EQ_INT(mapgen_x12_idq("EN", &r2), MGF_GTIN);
	T_ASSERT(r1 < r2);
	T_EQ_INT(mapgen_x12_idq("VN", NULL), MGF_SUPPLIER_SKU);
	T_EQ_INT(mapgen_x12_idq("BP", NULL), MGF_SKU);
	T_EQ_INT(mapgen_x12_idq("IN", NULL), MGF_SKU);
	T_EQ_INT(mapgen_x12_idq("ZZ", NULL), MGF_NONE);
	/* 33 (available) is the stock quantity of an 846 before 17 */
	T_ASSERT(mapgen_qty_rank(1, "33") < mapgen_qty_rank(1, "17"));
	T_EQ_INT(mapgen_qty_rank(1, "XX"), -1);
	T_EQ_INT(mapgen_qty_rank(0, "145"), 0);
	T_ASSERT(mapgen_qty_rank(0, "12") > 0);
	T_ASSERT(mapgen_qty_rank(0, "153") > 0);
	T_EQ_INT(mapgen_price_rank(0, "AAA"), 0);
	T_ASSERT(mapgen_price_rank(0, "AAB") > 0);
	T_EQ_INT(mapgen_price_rank(1, "RES"), 0);
	T_EQ_INT(mapgen_price_rank(1, "ZZZ"), -1);
	T_EQ_STR(mapgen_dtm_format("102"), "%Y%m%d");
	T_EQ_STR(mapgen_dtm_format("203"), "%Y%m%d%H%M");
	T_ASSERT(mapgen_dtm_format("999") == NULL);
	T_EQ_INT(mapgen_kind_parse("stock"), MAPGEN_STOCK);
	T_EQ_INT(mapgen_kind_parse("prices"), -1);
	T_EQ_STR(mapgen_kind_name(MAPGEN_PRICE), "price");
	T_EQ_INT(mapgen_kind_parse("location"), MAPGEN_LOCATION);
	T_EQ_STR(mapgen_kind_name(MAPGEN_LOCATION), "location");
	T_EQ_STR(mapgen_party_type("ST"), "store");
	T_EQ_STR(mapgen_party_type("BY"), "store");
	T_EQ_STR(mapgen_party_type("SU"), "supplier");
	T_EQ_STR(mapgen_party_type("SF"), "supplier");
	T_EQ_STR(mapgen_party_type("WH"), "dc");
	T_EQ_STR(mapgen_party_type("WE"), "store");   /* IDoc ship-to */
	T_ASSERT(mapgen_party_type("BT") == NULL);
	T_ASSERT(mapgen_party_type(NULL) == NULL);
}

/* The generated line "      NAME: EXPR" (the names are aligned). */
static int field_is(const char *y, const char *name, const char *expr)
{
	char key[64];
	const char *p = y;
	size_t n = strlen(expr);

	snprintf(key, sizeof(key), "\n      %s:", name);
	while ((p = strstr(p, key))) {
		p += strlen(key);
		while (*p == ' ')
			p++;
		if (!strncmp(p, expr, n) && p[n] == '\n')
			return 1;
	}
	return 0;
}

struct count {
	unsigned long records, rejects;
	char sku[64], qty[32];
};

static int on_record(void *ud, const struct canon_record *r, struct err *e)
{
	struct count *c = ud;
	int q = canon_field_index(r->kind, "quantity");

	(void)e;
	if (!c->records++) {
		snprintf(c->sku, sizeof(c->sku), "%s", r->v[0] ? r->v[0] : "");
		if (q >= 0 && r->v[q])
			snprintf(c->qty, sizeof(c->qty), "%s", r->v[q]);
	}
	return 0;
}

static int on_reject(void *ud, const struct mapping_reject *rj, struct err *e)
{
	struct count *c = ud;

	(void)e;
	(void)rj;
	c->rejects++;
	return 0;
}

/* Writes the mapping mapgen made for in, compiles it and maps input. */
static int run_generated(const struct mapgen_in *in, enum mapgen_kind k,
			 const char *input, struct count *c, struct buf *y,
			 struct err *e)
{
	struct mapping *m = NULL;
	struct mapping_sink sink = {on_record, on_reject, c, NULL, NULL, 0};
	struct mapping_doc doc = {"", input, input, NULL, NULL};
	FILE *f;
	int rc;

	if (mapgen_write(in, k, NULL, y, e))
		return -1;
	f = fopen("gen.yaml", "w");
	if (!f || fwrite(y->ptr, 1, y->len, f) != y->len || fclose(f))
		return err_set(e, E_IO, "cannot write gen.yaml");
	if (mapping_load("gen.yaml", &m, e))
		return -1;
	rc = mapping_run(m, &doc, &sink, NULL, e);
	mapping_free(m);
	return rc;
}

T_TEST(mapgen_csv_stock_runs)
{
	static const struct mapgen_col cols[] = {
		{"Filiale", {"F012"}, 1, 2},
		{"Artikelnummer", {"KW-10001", "KW-10002"}, 2, 2},
		{"EAN", {"4006381333931"}, 1, 2},
		{"Menge", {"14,5", "2"}, 2, 2},
		{"Datum", {"20.11.2026"}, 1, 2},
	};
	struct mapgen_in in;
	struct buf y = BUF_INIT(1 << 20);
	struct count c = {0, 0, "", ""};
	struct err e = ERR_INIT;
	enum mapgen_kind k;

	T_ASSERT(t_write_file("stock.csv",
			      "Filiale;Artikelnummer;EAN;Menge;Datum\n"
			      "F012;KW-10001;4006381333931;14,5;20.11.2026\n"
			      "F012;KW-10002;;2;20.11.2026\n") == 0);
	memset(&in, 0, sizeof(in));
	in.format = "csv";
	in.file = "stock.csv";
	in.today = "2026-12-05";
	in.csv.delimiter = ';';
	in.csv.header = 1;
	in.csv.col = cols;
	in.csv.ncol = 5;
	in.csv.rows = 2;
	T_OK(mapgen_write(&in, MAPGEN_AUTO, &k, &y, &e), &e);
	T_ASSERT(t_write_file("gen0.yaml", y.ptr) == 0); /* kept on failure */
	T_EQ_INT(k, MAPGEN_STOCK);
	T_ASSERT(strstr(y.ptr, "kind stock: column 4 (Menge)"));
	T_ASSERT(field_is(y.ptr, "quantity", "col(Menge) | trim | decimal(comma:true) | required"));
	T_ASSERT(field_is(y.ptr, "location", "col(Filiale) | trim | required"));
	T_ASSERT(field_is(y.ptr, "as_of", "col(Datum) | trim | date(\"%d.%m.%Y\") | required"));
	T_ASSERT(strstr(y.ptr, "# uom: "));   /* a placeholder */
	buf_reset(&y);
	T_OK(run_generated(&in, MAPGEN_AUTO, "stock.csv", &c, &y, &e), &e);
	T_EQ_INT(c.records, 2);
	T_EQ_INT(c.rejects, 0);
	T_EQ_STR(c.sku, "KW-10001");
	T_EQ_STR(c.qty, "14.5");
	/* the same file as items: the GTIN column becomes gtin */
	buf_reset(&y);
	memset(&c, 0, sizeof(c));
	T_OK(run_generated(&in, MAPGEN_ITEM, "stock.csv", &c, &y, &e), &e);
	T_ASSERT(field_is(y.ptr, "gtin", "col(EAN) | trim"));
	T_EQ_INT(c.records, 2);
	buf_release(&y);
}

T_TEST(mapgen_csv_headerless_by_values)
{
	/* date;store GLN;item GTIN;qty;amount, as a POS export sends it */
	static const struct mapgen_col cols[] = {
		{NULL, {"20080331"}, 1, 2},
		{NULL, {"8712345001472"}, 1, 2},
		{NULL, {"8712345275208", "8712345717343"}, 2, 2},
		{NULL, {"2", "4"}, 2, 2},
		{NULL, {"27,000", "19,900"}, 2, 2},
	};
	struct mapgen_in in;
	struct buf y = BUF_INIT(1 << 20);
	struct count c = {0, 0, "", ""};
	struct err e = ERR_INIT;

	T_ASSERT(t_write_file("pos.csv",
			      "\"20080331\";\"8712345001472\";\"8712345275208\";\"2\";\"27,000\"\n"
			      "\"20080331\";\"8712345001472\";\"8712345717343\";\"4\";\"19,900\"\n") == 0);
	memset(&in, 0, sizeof(in));
	in.format = "csv";
	in.file = "pos.csv";
	in.today = "2026-12-05";
	in.csv.delimiter = ';';
	in.csv.col = cols;
	in.csv.ncol = 5;
	in.csv.rows = 2;
	T_OK(run_generated(&in, MAPGEN_AUTO, "pos.csv", &c, &y, &e), &e);
	T_ASSERT(strstr(y.ptr, "header: false"));
	T_ASSERT(field_is(y.ptr, "sku", "col(3) | trim | required"));
	T_ASSERT(field_is(y.ptr, "location", "col(2) | trim | required"));
	T_ASSERT(field_is(y.ptr, "quantity", "col(4) | trim | decimal | required"));
	T_EQ_INT(c.records, 2);
	T_EQ_STR(c.sku, "8712345275208");
	buf_release(&y);
}

T_TEST(mapgen_edi_without_items_refused)
{
	static const struct mapgen_epos ak1[] = {{1, 1, 1, "PO", "PO"}};
	static const struct mapgen_seg segs[] = {
		{"ST", 1, 3, NULL, 0},
		{"AK1", 1, 4, ak1, 1},
		{"SE", 1, 9, NULL, 0},
	};
	struct mapgen_in in;
	struct buf y = BUF_INIT(1 << 20);
	struct err e = ERR_INIT;

	memset(&in, 0, sizeof(in));
	in.format = "x12";
	in.file = "ack.x12";
	in.edi.x12 = 1;
	snprintf(in.edi.message, sizeof(in.edi.message), "997");
	in.edi.nsets = 1;
	in.edi.seg = segs;
	in.edi.nseg = 3;
	T_ASSERT(mapgen_write(&in, MAPGEN_AUTO, NULL, &y, &e) < 0);
	T_EQ_INT(e.code, E_PARSE);
	T_ASSERT(strstr(e.reason, "997 (a functional acknowledgment) has no item lines"));
	T_ASSERT(strstr(e.reason, "and no parties (N1)"));
	/* no set read: the reader's first error is the reason */
	err_clear(&e);
	in.edi.nsets = 0;
	in.edi.message[0] = 0;
	snprintf(in.edi.first_error, sizeof(in.edi.first_error),
		 "line 1: bad ISA: element separator (byte 4) is 0x20");
	T_ASSERT(mapgen_write(&in, MAPGEN_AUTO, NULL, &y, &e) < 0);
	T_ASSERT(strstr(e.reason, "no transaction set could be read (line 1: bad ISA: element separator"));
	buf_release(&y);
}

/* A load tender: N1 loops, no item lines. Without --kind it is a
 * location mapping (one record per N1, the type from N101, the unknown
 * BT with a TODO), and it runs on the file. */
T_TEST(mapgen_x12_parties_are_locations)
{
	static const struct mapgen_epos n1[] = {
		{1, 1, 3, "SF", "SF WH BT"}, {2, 1, 3, "ACME Supply", NULL},
		{3, 1, 3, "92", "92"}, {4, 1, 3, "SUP-0042", NULL},
	};
	static const struct mapgen_epos n4[] = {
		{1, 1, 2, "Columbus", NULL}, {2, 1, 2, "OH", "OH PA"},
	};
	static const struct mapgen_epos gs[] = {{4, 1, 1, "20261120", NULL}};
	static const struct mapgen_seg segs[] = {
		{"ISA", 1, 1, NULL, 0}, {"GS", 1, 2, gs, 1},
		{"ST", 1, 3, NULL, 0}, {"N1", 3, 4, n1, 4},
		{"N4", 2, 5, n4, 2}, {"SE", 1, 9, NULL, 0},
	};
	struct mapgen_in in;
	struct buf y = BUF_INIT(1 << 20);
	struct count c = {0, 0, "", ""};
	struct err e = ERR_INIT;
	enum mapgen_kind k;

	T_ASSERT(t_write_file("tender.x12",
			      "ISA*00*          *00*          *ZZ*ACME           *ZZ*KW             *261120*0600*U*00401*000000001*0*P*>~\n"
			      "GS*SM*ACME*KW*20261120*0600*1*X*004010~\n"
			      "ST*204*0001~\n"
			      "N1*SF*ACME Supply*92*SUP-0042~\nN4*Columbus*OH~\n"
			      "N1*WH*DC East*92*DC-EAST~\nN4*Harrisburg*PA~\n"
			      "N1*BT*Accounts*92*KW-AP~\n"
			      "SE*7*0001~\nGE*1*1~\nIEA*1*000000001~\n") == 0);
	memset(&in, 0, sizeof(in));
	in.format = "x12";
	in.file = "tender.x12";
	in.today = "2026-12-05";
	in.edi.x12 = 1;
	snprintf(in.edi.message, sizeof(in.edi.message), "204");
	in.edi.nsets = 1;
	in.edi.seg = segs;
	in.edi.nseg = 6;
	T_OK(mapgen_write(&in, MAPGEN_AUTO, &k, &y, &e), &e);
	T_ASSERT(t_write_file("gen0.yaml", y.ptr) == 0); /* kept on failure */
	T_EQ_INT(k, MAPGEN_LOCATION);
	T_ASSERT(strstr(y.ptr, "    each: N1\n"));
	T_ASSERT(field_is(y.ptr, "location_id", "N1.04 | trim | required"));
	T_ASSERT(field_is(y.ptr, "type", "N1.01 | map(SF:supplier, WH:dc, default:store)"));
	T_ASSERT(strstr(y.ptr, "TODO: BT has no known type"));
	T_ASSERT(field_is(y.ptr, "name", "N1.02 | trim"));
	T_ASSERT(field_is(y.ptr, "region", "N4.02 | trim"));
	buf_reset(&y);
	T_OK(run_generated(&in, MAPGEN_AUTO, "tender.x12", &c, &y, &e), &e);
	T_EQ_INT(c.records, 3);
	T_EQ_INT(c.rejects, 0);
	T_EQ_STR(c.sku, "SUP-0042");   /* v[0] is the location_id */
	/* asked for stock, the same file is refused with the reason */
	buf_reset(&y);
	T_ASSERT(mapgen_write(&in, MAPGEN_STOCK, NULL, &y, &e) < 0);
	T_EQ_INT(e.code, E_PARSE);
	T_ASSERT(strstr(e.reason, "has no item lines"));
	buf_release(&y);
}

/* EDIFACT NAD: the id from C082, the name from C080; a qualifier no
 * type is known for stays a commented placeholder. */
T_TEST(mapgen_edifact_nad_location)
{
	static const struct mapgen_epos nad[] = {
		{1, 1, 1, "OY", "OY"}, {2, 1, 1, "0010126665", NULL},
		{4, 1, 1, "NAGASE", NULL},
	};
	static const struct mapgen_seg segs[] = {
		{"UNB", 1, 1, NULL, 0}, {"UNH", 1, 2, NULL, 0},
		{"NAD", 1, 3, nad, 3}, {"UNT", 1, 4, NULL, 0},
	};
	struct mapgen_in in;
	struct buf y = BUF_INIT(1 << 20);
	struct err e = ERR_INIT;
	enum mapgen_kind k;

	memset(&in, 0, sizeof(in));
	in.format = "edifact";
	in.file = "partin.edi";
	snprintf(in.edi.message, sizeof(in.edi.message), "PARTIN");
	in.edi.nsets = 1;
	in.edi.seg = segs;
	in.edi.nseg = 4;
	T_OK(mapgen_write(&in, MAPGEN_AUTO, &k, &y, &e), &e);
	T_EQ_INT(k, MAPGEN_LOCATION);
	T_ASSERT(field_is(y.ptr, "location_id", "NAD.02.01 | trim | required"));
	T_ASSERT(field_is(y.ptr, "name", "NAD.04.01 | trim"));
	T_ASSERT(strstr(y.ptr, "# type: NAD.01 | map(OY:store, ...)\n"));
	T_ASSERT(strstr(y.ptr, "TODO: the NAD 3035 qualifier OY has no known type"));
	buf_release(&y);
}

/* A CSV of stores: no item, quantity or price column. */
T_TEST(mapgen_csv_store_list)
{
	static const struct mapgen_col cols[] = {
		{"store_id", {"S001", "S002"}, 2, 2},
		{"store_name", {"Main Street", "Mall"}, 2, 2},
		{"state", {"IL"}, 1, 2},
	};
	struct mapgen_in in;
	struct buf y = BUF_INIT(1 << 20);
	struct count c = {0, 0, "", ""};
	struct err e = ERR_INIT;

	T_ASSERT(t_write_file("stores.csv",
			      "store_id,store_name,state\n"
			      "S001,Main Street,IL\nS002,Mall,IL\n") == 0);
	memset(&in, 0, sizeof(in));
	in.format = "csv";
	in.file = "stores.csv";
	in.csv.delimiter = ',';
	in.csv.header = 1;
	in.csv.col = cols;
	in.csv.ncol = 3;
	in.csv.rows = 2;
	T_OK(run_generated(&in, MAPGEN_AUTO, "stores.csv", &c, &y, &e), &e);
	T_ASSERT(strstr(y.ptr, "  - kind: location\n"));
	T_ASSERT(field_is(y.ptr, "location_id", "col(store_id) | trim | required"));
	T_ASSERT(field_is(y.ptr, "name", "col(store_name) | trim"));
	T_ASSERT(field_is(y.ptr, "region", "col(state) | trim"));
	T_EQ_INT(c.records, 2);
	T_EQ_STR(c.sku, "S001");
	buf_release(&y);
}

T_TEST(mapgen_x12_852_sdq)
{
	static const struct mapgen_epos lin[] = {
		{2, 1, 2, "UP", "UP"}, {3, 1, 2, "012345678905", NULL},
		{4, 1, 2, "VN", "VN"}, {5, 1, 2, "ACM-1001", NULL},
	};
	static const struct mapgen_epos xq[] = {{1, 1, 1, "H", "H"},
						{2, 1, 1, "20261113", NULL},
						{3, 1, 1, "20261119", NULL}};
	static const struct mapgen_epos za[] = {{1, 1, 2, "QA", "QA QS"}};
	static const struct mapgen_seg segs[] = {
		{"ISA", 1, 1, NULL, 0}, {"GS", 1, 2, NULL, 0},
		{"ST", 1, 3, NULL, 0}, {"XQ", 1, 4, xq, 3},
		{"LIN", 2, 5, lin, 4}, {"ZA", 2, 6, za, 1},
		{"SDQ", 2, 7, NULL, 0},
	};
	struct mapgen_in in;
	struct buf y = BUF_INIT(1 << 20);
	struct err e = ERR_INIT;
	enum mapgen_kind k;

	memset(&in, 0, sizeof(in));
	in.format = "x12";
	in.file = "acme_852.x12";
	in.edi.x12 = 1;
	snprintf(in.edi.message, sizeof(in.edi.message), "852");
	in.edi.nsets = 1;
	in.edi.seg = segs;
	in.edi.nseg = 7;
	T_OK(mapgen_write(&in, MAPGEN_AUTO, &k, &y, &e), &e);
	T_ASSERT(t_write_file("gen0.yaml", y.ptr) == 0); /* kept on failure */
	T_EQ_INT(k, MAPGEN_STOCK);
	T_ASSERT(strstr(y.ptr, "transaction: \"852\""));
	T_ASSERT(strstr(y.ptr, "explode: SDQ.pairs(03)"));
	T_ASSERT(field_is(y.ptr, "sku", "LIN[04=VN].05 | trim | required"));
	T_ASSERT(field_is(y.ptr, "as_of", "XQ.03 | date(\"%Y%m%d\") | required"));
	T_ASSERT(strstr(y.ptr, "ZA.01 | map(QA:on_hand, default:ignored)"));
	buf_release(&y);
}

/* Every field line of a generated mapping, written or a placeholder, is
 * a canonical field of its kind, and every canonical field has a line
 * (the names of docs/mapping.md section 2). */
T_TEST(mapgen_placeholders_are_canonical_fields)
{
	static const struct mapgen_col cols[] = {
		{"sku", {"A1"}, 1, 1}, {"qty", {"3"}, 1, 1}, {"price", {"2.5"}, 1, 1},
	};
	static const struct {
		enum mapgen_kind k;
		enum canon_kind ck;
		int n;
	} kinds[] = {
		{MAPGEN_ITEM, CANON_ITEM, ITEM_NALLFIELDS},
		{MAPGEN_PRICE, CANON_PRICE, PRICE_NFIELDS},
		{MAPGEN_STOCK, CANON_STOCK, STOCK_NFIELDS},
		{MAPGEN_LOCATION, CANON_LOCATION, LOC_NFIELDS},
	};
	struct mapgen_in in;
	struct err e = ERR_INIT;
	size_t i;

	memset(&in, 0, sizeof(in));
	in.format = "csv";
	in.file = "f.csv";
	in.csv.delimiter = ',';
	in.csv.header = 1;
	in.csv.col = cols;
	in.csv.ncol = 3;
	in.csv.rows = 1;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct buf y = BUF_INIT(1 << 20);
		const char *p;
		int n = 0;

		T_OK(mapgen_write(&in, kinds[i].k, NULL, &y, &e), &e);
		p = strstr(y.ptr, "    fields:\n");
		T_ASSERT(p != NULL);
		for (p = strchr(p, '\n') + 1; !strncmp(p, "      ", 6);
		     p = strchr(p, '\n') + 1) {
			char name[40];
			const char *s = p + 6;
			size_t len;

			if (!strncmp(s, "# ", 2))
				s += 2;
			len = strspn(s, "abcdefghijklmnopqrstuvwxyz_");
			if (s[len] != ':' || !len || len >= sizeof(name))
				continue;   /* a comment line */
			memcpy(name, s, len);
			name[len] = 0;
			if (canon_field_index(kinds[i].ck, name) < 0)
				T_FAIL("%s: '%s' is no field of the kind",
				       mapgen_kind_name(kinds[i].k), name);
			n++;
		}
		T_EQ_INT(n, kinds[i].n);
		buf_release(&y);
	}
}
