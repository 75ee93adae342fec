/* t_outbound.c - outbound mappings: RFC 4180 quoting, JSON Lines with
 * number columns, the shared function library, compile errors; XML, X12
 * 846/832 and EDIFACT INVRPT/PRICAT documents assembled (header, rows,
 * footer) and compared byte for byte with expected text, then read back
 * with stockpipe's own EDI readers. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "transforms/formats/edifact_reader.h"
#include "transforms/outbound/outbound.h"
#include "transforms/formats/x12_reader.h"
#include "t.h"

static const char *row_get(void *ud, const char *name)
{
	const char *const *kv = ud;

	for (; kv[0]; kv += 2)
		if (!strcmp(kv[0], name))
			return kv[1];
	return NULL;
}

T_TEST(outbound_csv_quoting_and_functions)
{
	static const char *const row[] = {
		"sku", "KW-10010", "description", "Messerblock \"Küchenchef\"; 6-tlg.",
		"available", "12.5", "as_of", "2026-11-20T05:00:00Z", NULL};
	struct outbound *o = NULL;
	struct err e = ERR_INIT;
	struct buf out = BUF_INIT(1 << 16);
	struct arena a;

	T_ASSERT(t_write_file("o.yaml",
		"outbound: shop\nkind: stock\nformat: csv\n"
		"csv: { delimiter: \";\", header: true }\n"
		"columns:\n"
		"  - { name: sku, value: sku | lower }\n"
		"  - { name: title, value: description }\n"
		"  - { name: qty, value: available | round(0), type: number }\n"
		"  - { name: \"updated;local\", value: 'as_of | format_date(\"%d.%m.%Y %H:%M\", tz:\"Europe/Berlin\")' }\n"
		"  - { name: ean, value: gtin | default(\"none\") }\n"
		"  - { name: channel, value: '\"web\"' }\n") == 0);
	T_OK(outbound_load("o.yaml", &o, &e), &e);
	T_EQ_STR(outbound_kind(o), "stock");
	T_EQ_STR(outbound_format(o), "csv");
	T_EQ_INT(strlen(outbound_sha256(o)), 64);
	arena_init(&a, 1024, 0);
	T_OK(outbound_header(o, NULL, &out, &e), &e);
	T_OK(outbound_row(o, row_get, (void *)row, &a, &out, &e), &e);
	T_EQ_STR(out.ptr,
		 "sku;title;qty;\"updated;local\";ean;channel\r\n"
		 "kw-10010;\"Messerblock \"\"Küchenchef\"\"; 6-tlg.\";13;20.11.2026 06:00;none;web\r\n");
	arena_release(&a);
	buf_release(&out);
	outbound_free(o);
}

/* csv_formula_guard, as an attacker's item master would test it: text
 * cells starting with = + - @ get a ' (quoted cells too, inside the
 * quotes); number columns and harmless text stay; off by default. */
T_TEST(outbound_csv_formula_guard)
{
	static const char *const row[] = {
		"sku", "=HYPERLINK(\"http://x\",\"y\")", "description",
		"@SUM(1+1);x", "available", "-3", "as_of", "+49 30", NULL};
	static const char *const calm[] = {
		"sku", "KW-1", "description", "a=b", "available", "4",
		"as_of", "x-y", NULL};
	struct outbound *o = NULL;
	struct err e = ERR_INIT;
	struct buf out = BUF_INIT(1 << 16);
	struct arena a;

	T_ASSERT(t_write_file("o.yaml",
		"outbound: shop\nkind: stock\nformat: csv\n"
		"csv: { delimiter: \";\", header: false }\n"
		"columns:\n"
		"  - { name: sku, value: sku }\n"
		"  - { name: title, value: description }\n"
		"  - { name: qty, value: available, type: number }\n"
		"  - { name: phone, value: as_of }\n") == 0);
	T_OK(outbound_load("o.yaml", &o, &e), &e);
	arena_init(&a, 1024, 0);
	T_OK(outbound_row(o, row_get, (void *)row, &a, &out, &e), &e);
	T_EQ_STR(out.ptr, "\"=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\";"
			  "\"@SUM(1+1);x\";-3;+49 30\r\n");
	buf_reset(&out);
	outbound_set_formula_guard(o, 1);
	T_OK(outbound_row(o, row_get, (void *)row, &a, &out, &e), &e);
	T_EQ_STR(out.ptr, "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\";"
			  "\"'@SUM(1+1);x\";-3;'+49 30\r\n");
	buf_reset(&out);
	T_OK(outbound_row(o, row_get, (void *)calm, &a, &out, &e), &e);
	T_EQ_STR(out.ptr, "KW-1;a=b;4;x-y\r\n");
	arena_release(&a);
	buf_release(&out);
	outbound_free(o);
}

T_TEST(outbound_jsonl_numbers_and_nulls)
{
	static const char *const row[] = {"sku", "A\"1", "available", "7", NULL};
	static const char *const bad[] = {"sku", "B", "available", "seven", NULL};
	struct outbound *o = NULL;
	struct err e = ERR_INIT;
	struct buf out = BUF_INIT(1 << 16);
	struct arena a;

	T_ASSERT(t_write_file("j.yaml",
		"outbound: market\nkind: stock\nformat: jsonl\ncolumns:\n"
		"  - { name: seller_sku, value: sku }\n"
		"  - { name: quantity, value: available, type: number }\n"
		"  - { name: ean, value: gtin }\n"
		"  - { name: price, value: on_hand, type: number }\n") == 0);
	T_OK(outbound_load("j.yaml", &o, &e), &e);
	arena_init(&a, 1024, 0);
	T_OK(outbound_header(o, NULL, &out, &e), &e);
	T_EQ_INT(out.len, 0); /* no header in JSON Lines */
	T_OK(outbound_row(o, row_get, (void *)row, &a, &out, &e), &e);
	T_EQ_STR(out.ptr, "{\"seller_sku\":\"A\\\"1\",\"quantity\":7,\"ean\":null,\"price\":null}\n");
	T_EQ_INT(outbound_row(o, row_get, (void *)bad, &a, &out, &e), -1);
	T_EQ_STR(e.field, "quantity");
	T_ASSERT(strstr(e.reason, "not a number: 'seven'") != NULL);
	/* A failed row leaves nothing half-written. */
	T_EQ_STR(out.ptr, "{\"seller_sku\":\"A\\\"1\",\"quantity\":7,\"ean\":null,\"price\":null}\n");
	arena_release(&a);
	buf_release(&out);
	outbound_free(o);
}

T_TEST(outbound_compile_errors)
{
	struct outbound *o = NULL;
	struct err e = ERR_INIT;

	T_ASSERT(t_write_file("b.yaml",
		"outbound: x\nkind: stock\nformat: csv\ncolumns:\n"
		"  - { name: a, value: availble }\n") == 0);
	T_EQ_INT(outbound_load("b.yaml", &o, &e), -1);
	T_EQ_INT(e.code, E_CONFIG);
	T_EQ_INT(e.line, 5);
	T_EQ_INT(e.col, 23);
	T_ASSERT(strstr(e.reason, "unknown stock row field 'availble'") != NULL);
	err_clear(&e);
	T_ASSERT(t_write_file("b.yaml",
		"outbound: x\nkind: item\nformat: xlsx\ncolumns: []\n") == 0);
	T_EQ_INT(outbound_load("b.yaml", &o, &e), -1);
	T_EQ_INT(e.line, 3);
	T_ASSERT(strstr(e.reason, "csv, jsonl, xml, x12 or edifact") != NULL);
	err_clear(&e);
	T_ASSERT(t_write_file("b.yaml",
		"outbound: x\nkind: item\ncolumns:\n"
		"  - { name: p, value: price | fixd(2) }\n") == 0);
	T_EQ_INT(outbound_load("b.yaml", &o, &e), -1);
	T_ASSERT(strstr(e.reason, "unknown function 'fixd'") != NULL);
	T_EQ_INT(e.col, 31);
}

/* Assembles a document as pipeline/render.c does: header, rows, footer,
 * with env->rows and env->segments from the rows. Returns 0 or -1. */
static int t_document(struct outbound *o, const char *const *const *rows,
		      int64_t control, struct buf *out, struct err *e)
{
	struct outbound_env env = {"partner", 1795154400, control, 0, 0};
	struct buf body = BUF_INIT(1 << 20);
	struct arena a;
	int rc = -1, n;

	/* 1795154400 = 2026-11-20T06:00:00Z */
	arena_init(&a, 1024, 0);
	for (; *rows; rows++) {
		arena_reset(&a);
		if ((n = outbound_row(o, row_get, (void *)*rows, &a, &body,
				      e)) < 0)
			goto out;
		env.rows++;
		env.segments += n;
	}
	if (outbound_header(o, &env, out, e) < 0)
		goto out;
	buf_add(out, body.ptr, body.len);
	if (outbound_footer(o, &env, out, e) < 0)
		goto out;
	rc = 0;
out:
	arena_release(&a);
	buf_release(&body);
	return rc;
}

/* Reads path back with the X12 or EDIFACT reader: returns the number of
 * errors (0 = valid) and counts sets; copies the value of segment tag,
 * element el, component comp of the first such segment into val. */
static long t_readback(const char *path, int edifact, unsigned long *sets,
		       const char *tag, unsigned el, unsigned comp, char *val,
		       size_t nval)
{
	struct x12_reader *x = NULL;
	struct edifact_reader *f = NULL;
	struct edi_event ev;
	struct err e = ERR_INIT;
	unsigned long nerr = 0;
	int fd = open(path, O_RDONLY), rc;

	if (fd < 0)
		return -1;
	if (edifact ? edifact_reader_open_fd(&f, fd, path, NULL, &e)
		    : x12_reader_open_fd(&x, fd, path, NULL, &e)) {
		close(fd);
		return -1;
	}
	val[0] = '\0';
	while ((rc = edifact ? edifact_reader_next(f, &ev, &e)
			     : x12_reader_next(x, &ev, &e)) > 0) {
		if (ev.kind == EDI_EV_SEGMENT && !val[0] &&
		    !strcmp(ev.seg->tag, tag)) {
			const char *v = edi_seg_value(ev.seg, el, 1, comp);

			snprintf(val, nval, "%s", v ? v : "(absent)");
		}
		if (ev.kind == EDI_EV_ISSUE)
			printf("  readback: %s\n", ev.issue->reason);
	}
	if (edifact)
		edifact_reader_stats(f, NULL, &nerr, NULL, NULL, sets);
	else
		x12_reader_stats(x, NULL, &nerr, NULL, NULL, sets);
	edifact_reader_free(f);
	x12_reader_free(x);
	close(fd);
	return rc < 0 ? -1 : (long)nerr;
}

static int t_save(const char *path, const struct buf *b)
{
	FILE *f = fopen(path, "wb");
	int rc;

	if (!f)
		return -1;
	rc = fwrite(b->ptr, 1, b->len, f) == b->len ? 0 : -1;
	return fclose(f) || rc ? -1 : 0;
}

static const char *const s1[] = {
	"sku", "KW-1", "gtin", "4006381333931", "description",
	"Teekanne \"Sencha\" 1,2l", "available", "12", "on_hand", "14",
	"location", "", "as_of", "2026-11-20T05:00:00Z", NULL};
static const char *const s2[] = {
	"sku", "KW-2", "description", "", "available", "0", "on_hand", "3",
	"location", "", "as_of", "2026-11-20T05:30:00Z", NULL};
static const char *const *const stock_rows[] = {s1, s2, NULL};

static const char x846_yaml[] =
	"outbound: wms\n"
	"kind: stock\n"
	"format: x12\n"
	"envelope:\n"
	"  sender:   { qualifier: ZZ, id: STOCKPIPE }\n"
	"  receiver: { qualifier: ZZ, id: WMSPARTNER }\n"
	"  version: \"00401\"\n"
	"  transaction: \"846\"\n"
	"  usage: T\n"
	"header:\n"
	"  - BIA: [\"00\", SI, \"STK{$control}\", \"{$date}\"]\n"
	"segments:\n"
	"  - LIN: [\"\", SK, \"{sku}\", UP, \"{gtin}\"]\n"
	"  - PID: [F, \"\", \"\", \"\", \"{description}\"]\n"
	"    when: description is not empty\n"
	"  - QTY: [\"33\", \"{available}\", EA]\n"
	"trailer:\n"
	"  - CTT: [\"{$rows}\"]\n";

T_TEST(outbound_x12_846_golden_and_readback)
{
	struct outbound *o = NULL;
	struct err e = ERR_INIT;
	struct buf out = BUF_INIT(1 << 20);
	unsigned long sets = 0;
	char v[64];

	T_ASSERT(t_write_file("846.yaml", x846_yaml) == 0);
	T_OK(outbound_load("846.yaml", &o, &e), &e);
	T_EQ_STR(outbound_format(o), "x12");
	T_EQ_STR(outbound_counter(o), "x12:ZZ:STOCKPIPE:ZZ:WMSPARTNER");
	T_OK(t_document(o, stock_rows, 42, &out, &e), &e);
	/* ST, BIA, 3 + 2 row segments (no PID: empty description), CTT,
	 * SE = 9; the control number in ISA13 (9 digits), GS06, ST02/SE02
	 * (4 digits at least), GE02, IEA02. */
	T_EQ_STR(out.ptr,
		 "ISA*00*          *00*          *ZZ*STOCKPIPE      *ZZ*WMSPARTNER     *261120*0600*U*00401*000000042*0*T*>~\n"
		 "GS*IB*STOCKPIPE*WMSPARTNER*20261120*0600*42*X*004010~\n"
		 "ST*846*0042~\n"
		 "BIA*00*SI*STK42*20261120~\n"
		 "LIN**SK*KW-1*UP*4006381333931~\n"
		 "PID*F****Teekanne \"Sencha\" 1,2l~\n"
		 "QTY*33*12*EA~\n"
		 "LIN**SK*KW-2*UP~\n"
		 "QTY*33*0*EA~\n"
		 "CTT*2~\n"
		 "SE*9*0042~\n"
		 "GE*1*42~\n"
		 "IEA*1*000000042~\n");
	T_ASSERT(t_save("846.x12", &out) == 0);
	T_EQ_INT(t_readback("846.x12", 0, &sets, "PID", 5, 1, v, sizeof(v)),
		 0);
	T_EQ_INT(sets, 1);
	T_EQ_STR(v, "Teekanne \"Sencha\" 1,2l");
	buf_release(&out);
	outbound_free(o);
}

T_TEST(outbound_x12_refuses_delimiters_in_data)
{
	static const char *const bad[] = {"sku", "KW*7", "gtin", "1",
					  "description", "", "available", "1",
					  NULL};
	static const char *const nl[] = {"sku", "KW-8", "description",
					 "two\nlines", "available", "1", NULL};
	struct outbound *o = NULL;
	struct err e = ERR_INIT;
	struct buf out = BUF_INIT(1 << 16);
	struct arena a;

	T_ASSERT(t_write_file("846.yaml", x846_yaml) == 0);
	T_OK(outbound_load("846.yaml", &o, &e), &e);
	arena_init(&a, 1024, 0);
	buf_adds(&out, "kept");
	T_EQ_INT(outbound_row(o, row_get, (void *)bad, &a, &out, &e), -1);
	T_EQ_STR(out.ptr, "kept"); /* nothing half-written */
	T_EQ_INT(e.code, E_MAP);
	T_EQ_STR(e.field, "LIN03");
	T_EQ_INT(e.line, 13);
	T_EQ_INT(e.col, 20); /* the template "{sku}" */
	T_ASSERT(strstr(e.reason, "row sku 'KW*7'") != NULL);
	T_ASSERT(strstr(e.reason, "element separator '*'") != NULL);
	err_clear(&e);
	T_EQ_INT(outbound_row(o, row_get, (void *)nl, &a, &out, &e), -1);
	T_EQ_STR(e.field, "PID05");
	T_ASSERT(strstr(e.reason, "control character 0A") != NULL);
	arena_release(&a);
	buf_release(&out);
	outbound_free(o);
}

T_TEST(outbound_x12_832_item_golden)
{
	static const char *const i1[] = {
		"sku", "KW-10001", "gtin", "4006381333931", "description",
		"Kaffeemuehle", "price", "49.9", "currency", "EUR",
		"pack_size", "1", "base_uom", "EA", NULL};
	static const char *const i2[] = {"sku", "KW-10002", "pack_size", "6",
					 "base_uom", "SET", NULL};
	static const char *const *const items[] = {i1, i2, NULL};
	struct outbound *o = NULL;
	struct err e = ERR_INIT;
	struct buf out = BUF_INIT(1 << 20);
	unsigned long sets = 0;
	char v[64];

	T_ASSERT(t_write_file("832.yaml",
		"outbound: hub\nkind: item\nformat: x12\n"
		"envelope:\n"
		"  sender: { qualifier: ZZ, id: STOCKPIPE }\n"
		"  receiver: { qualifier: \"01\", id: \"123456789\" }\n"
		"  version: \"00501\"\n"
		"  transaction: \"832\"\n"
		"  usage: P\n"
		"  ack_requested: 1\n"
		"  delimiters: { element: \"|\", component: \":\", segment: \"!\", repetition: \"^\" }\n"
		"  line_end: none\n"
		"header:\n"
		"  - BCT: [PC, \"CAT{$control}\"]\n"
		"segments:\n"
		"  - LIN: [\"\", VN, \"{sku}\", UP, \"{gtin}\"]\n"
		"    when: gtin is not empty\n"
		"  - LIN: [\"\", VN, \"{sku}\"]\n"
		"    when: gtin is empty\n"
		"  - CTP: [\"\", RES, \"{price}\"]\n"
		"    when: price is not empty\n"
		"  - PO4: [\"{pack_size}\", \"\", \"{base_uom}\"]\n"
		"trailer:\n"
		"  - CTT: \"{$rows}\"\n") == 0);
	T_OK(outbound_load("832.yaml", &o, &e), &e);
	T_EQ_STR(outbound_counter(o), "x12:ZZ:STOCKPIPE:01:123456789");
	T_OK(t_document(o, items, 123456, &out, &e), &e);
	T_EQ_STR(out.ptr,
		 "ISA|00|          |00|          |ZZ|STOCKPIPE      |01|123456789      |261120|0600|^|00501|000123456|1|P|:!"
		 "GS|SC|STOCKPIPE|123456789|20261120|0600|123456|X|005010!"
		 "ST|832|123456!"
		 "BCT|PC|CAT123456!"
		 "LIN||VN|KW-10001|UP|4006381333931!"
		 "CTP||RES|49.9!"
		 "PO4|1||EA!"
		 "LIN||VN|KW-10002!"
		 "PO4|6||SET!"
		 "CTT|2!"
		 "SE|9|123456!"
		 "GE|1|123456!"
		 "IEA|1|000123456!");
	T_ASSERT(t_save("832.x12", &out) == 0);
	T_EQ_INT(t_readback("832.x12", 0, &sets, "CTP", 3, 1, v, sizeof(v)),
		 0);
	T_EQ_INT(sets, 1);
	T_EQ_STR(v, "49.9");
	buf_release(&out);
	outbound_free(o);
	/* ISA13 has nine digits: a counter past them is an error, not a
	 * wrapped number. */
	T_ASSERT(t_write_file("846.yaml", x846_yaml) == 0);
	T_OK(outbound_load("846.yaml", &o, &e), &e);
	{
		struct outbound_env env = {"t", 0, 1000000000, 0, 0};
		struct buf b = BUF_INIT(1 << 16);

		T_EQ_INT(outbound_header(o, &env, &b, &e), -1);
		T_ASSERT(strstr(e.reason, "does not fit ISA13") != NULL);
		buf_release(&b);
	}
	outbound_free(o);
}

T_TEST(outbound_edifact_invrpt_golden_escaping_and_readback)
{
	static const char *const r1[] = {
		"sku", "KW-1", "gtin", "4006381333931", "description",
		"Brau & Söhne?+Co: O'Neill", "location", "STORE-012",
		"available", "12", NULL};
	static const char *const r2[] = {"sku", "KW-2", "location", "",
					 "available", "0", NULL};
	static const char *const *const rows[] = {r1, r2, NULL};
	static const char *const cjk[] = {"sku", "KW-3", "description",
					  "茶", "available", "1", NULL};
	struct outbound *o = NULL;
	struct err e = ERR_INIT;
	struct buf out = BUF_INIT(1 << 20);
	struct arena a;
	unsigned long sets = 0;
	char v[64];

	T_ASSERT(t_write_file("inv.yaml",
		"outbound: erp\nkind: stock\nformat: edifact\n"
		"envelope:\n"
		"  sender: { id: \"4012345000009\", qualifier: \"14\" }\n"
		"  receiver: { id: \"4098765000002\", qualifier: \"14\" }\n"
		"  syntax: UNOC:3\n"
		"  message: INVRPT\n"
		"  version: D:96A:UN\n"
		"  association: EAN008\n"
		"  application_reference: INVRPT\n"
		"  usage: T\n"
		"header:\n"
		"  - BGM: [\"35\", \"INV{$control}\", \"9\"]\n"
		"  - DTM: [[\"137\", \"{$date}{$time}\", \"203\"]]\n"
		"segments:\n"
		"  - LIN: [\"\", \"\", [\"{gtin}\", SRS]]\n"
		"    when: gtin is not empty\n"
		"  - LIN: []\n"
		"    when: gtin is empty\n"
		"  - IMD: [F, \"\", [\"\", \"\", \"\", \"{description}\"]]\n"
		"    when: description is not empty\n"
		"  - LOC: [\"18\", \"{location}\"]\n"
		"    when: location is not empty\n"
		"  - QTY: [[\"145\", \"{available}\"]]\n"
		"trailer:\n"
		"  - CNT: [[\"2\", \"{$rows}\"]]\n") == 0);
	T_OK(outbound_load("inv.yaml", &o, &e), &e);
	T_EQ_STR(outbound_format(o), "edifact");
	T_EQ_STR(outbound_counter(o), "edifact:14:4012345000009:14:4098765000002");
	T_OK(t_document(o, rows, 7, &out, &e), &e);
	/* UNOC is ISO 8859-1: ö is one byte F6. ' + : ? are released. An
	 * empty LIN gtin leaves "LIN'" after trimming; UNT counts UNH..UNT
	 * = 11. */
	T_EQ_STR(out.ptr,
		 "UNA:+.? 'UNB+UNOC:3+4012345000009:14+4098765000002:14+261120:0600+7++INVRPT++++1'\n"
		 "UNH+7+INVRPT:D:96A:UN:EAN008'\n"
		 "BGM+35+INV7+9'\n"
		 "DTM+137:202611200600:203'\n"
		 "LIN+++4006381333931:SRS'\n"
		 "IMD+F++:::Brau & S\xf6hne???+Co?: O?'Neill'\n"
		 "LOC+18+STORE-012'\n"
		 "QTY+145:12'\n"
		 "LIN'\n"
		 "QTY+145:0'\n"
		 "CNT+2:2'\n"
		 "UNT+11+7'\n"
		 "UNZ+1+7'\n");
	T_ASSERT(t_save("inv.edi", &out) == 0);
	T_EQ_INT(t_readback("inv.edi", 1, &sets, "IMD", 3, 4, v, sizeof(v)),
		 0);
	T_EQ_INT(sets, 1);
	T_EQ_STR(v, "Brau & Söhne?+Co: O'Neill"); /* back to UTF-8, unescaped */
	/* A character UNOC cannot carry fails the row, naming it. */
	arena_init(&a, 1024, 0);
	T_EQ_INT(outbound_row(o, row_get, (void *)cjk, &a, &out, &e), -1);
	T_EQ_STR(e.field, "IMD03-4");
	T_ASSERT(strstr(e.reason, "row sku 'KW-3'") != NULL);
	T_ASSERT(strstr(e.reason, "U+8336") != NULL);
	arena_release(&a);
	buf_release(&out);
	outbound_free(o);
}

T_TEST(outbound_edifact_pricat_syntax4_golden)
{
	static const char *const i1[] = {"sku", "KW-1", "gtin", "400",
					 "description", "Tee*Kanne 茶",
					 "price", "4.5", NULL};
	static const char *const *const items[] = {i1, NULL};
	struct outbound *o = NULL;
	struct err e = ERR_INIT;
	struct buf out = BUF_INIT(1 << 20);
	unsigned long sets = 0;
	char v[64];

	T_ASSERT(t_write_file("pricat.yaml",
		"outbound: partner\nkind: item\nformat: edifact\n"
		"envelope:\n"
		"  sender: { id: STOCKPIPE }\n"
		"  receiver: { id: PARTNER01, qualifier: ZZZ }\n"
		"  syntax: UNOY:4\n"
		"  message: PRICAT\n"
		"  version: D:01B:UN\n"
		"  usage: P\n"
		"  delimiters: { element: \"+\", component: \":\", segment: \"'\", release: \"?\", repetition: \"*\" }\n"
		"  line_end: crlf\n"
		"header:\n"
		"  - BGM: [\"9\", \"PL{$control}\", \"9\"]\n"
		"segments:\n"
		"  - LIN: [\"\", \"\", [\"{gtin}\", SRS]]\n"
		"  - IMD: [F, \"\", [\"\", \"\", \"\", \"{description}\"]]\n"
		"  - PRI: [[AAB, \"{price}\"]]\n") == 0);
	T_OK(outbound_load("pricat.yaml", &o, &e), &e);
	T_EQ_STR(outbound_counter(o), "edifact::STOCKPIPE:ZZZ:PARTNER01");
	T_OK(t_document(o, items, 3, &out, &e), &e);
	/* Syntax 4: CCYYMMDD in UNB04, '*' released, UTF-8 as it is, no
	 * test indicator for P. */
	T_EQ_STR(out.ptr,
		 "UNA:+.?*'UNB+UNOY:4+STOCKPIPE+PARTNER01:ZZZ+20261120:0600+3'\r\n"
		 "UNH+3+PRICAT:D:01B:UN'\r\n"
		 "BGM+9+PL3+9'\r\n"
		 "LIN+++400:SRS'\r\n"
		 "IMD+F++:::Tee?*Kanne 茶'\r\n"
		 "PRI+AAB:4.5'\r\n"
		 "UNT+6+3'\r\n"
		 "UNZ+1+3'\r\n");
	T_ASSERT(t_save("pricat.edi", &out) == 0);
	T_EQ_INT(t_readback("pricat.edi", 1, &sets, "IMD", 3, 4, v, sizeof(v)),
		 0);
	T_EQ_INT(sets, 1);
	T_EQ_STR(v, "Tee*Kanne 茶");
	buf_release(&out);
	outbound_free(o);
}

T_TEST(outbound_xml_golden)
{
	static const char *const x1[] = {
		"sku", "A&B \"1\"", "gtin", "400", "description",
		"Tee <grün> & Co", "available", "12", NULL};
	static const char *const x2[] = {"sku", "KW-2", "description", "",
					 "available", "0", NULL};
	static const char *const *const rows[] = {x1, x2, NULL};
	static const char *const bad[] = {"sku", "C", "description",
					  "bell\a", "available", "1", NULL};
	struct outbound *o = NULL;
	struct err e = ERR_INIT;
	struct buf out = BUF_INIT(1 << 20);
	struct arena a;

	T_ASSERT(t_write_file("x.yaml",
		"outbound: feed\nkind: stock\nformat: xml\n"
		"xml:\n"
		"  root: inv:Feed\n"
		"  namespace: \"urn:default\"\n"
		"  namespaces: { inv: \"urn:x:inv?a=1&b=2\" }\n"
		"  attributes: { created: $now, offers: $rows, by: '\"stock\" | upper' }\n"
		"  record: inv:Offer\n"
		"columns:\n"
		"  - { name: \"@sku\", value: sku }\n"
		"  - { name: inv:Ean, value: gtin }\n"
		"  - { name: Title, value: description }\n"
		"  - { name: inv:Qty, value: available, type: number }\n") == 0);
	T_OK(outbound_load("x.yaml", &o, &e), &e);
	T_EQ_STR(outbound_format(o), "xml");
	T_ASSERT(outbound_counter(o) == NULL);
	T_OK(t_document(o, rows, 0, &out, &e), &e);
	T_EQ_STR(out.ptr,
		 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		 "<inv:Feed xmlns=\"urn:default\" xmlns:inv=\"urn:x:inv?a=1&amp;b=2\" created=\"2026-11-20T06:00:00Z\" offers=\"2\" by=\"STOCK\">\n"
		 "  <inv:Offer sku=\"A&amp;B &quot;1&quot;\">\n"
		 "    <inv:Ean>400</inv:Ean>\n"
		 "    <Title>Tee &lt;grün&gt; &amp; Co</Title>\n"
		 "    <inv:Qty>12</inv:Qty>\n"
		 "  </inv:Offer>\n"
		 "  <inv:Offer sku=\"KW-2\">\n"
		 "    <Title/>\n"
		 "    <inv:Qty>0</inv:Qty>\n"
		 "  </inv:Offer>\n"
		 "</inv:Feed>\n");
	arena_init(&a, 1024, 0);
	T_EQ_INT(outbound_row(o, row_get, (void *)bad, &a, &out, &e), -1);
	T_EQ_STR(e.field, "Title");
	T_ASSERT(strstr(e.reason, "control character") != NULL);
	arena_release(&a);
	buf_release(&out);
	outbound_free(o);
}

/* Every byte class of XML text, in an attribute and in an element:
 * plain runs, entities, tab/newline (kept in text, escaped in
 * attributes), CR, quotes, DEL and UTF-8, byte for byte. */
T_TEST(outbound_xml_text_escaping)
{
	static const char v[] = "ab\tc\nd\re\"f'g>h<i&j\x7fk\xc3\xbcl";
	static const char *const r1[] = {"sku", v, "description", v,
					 "available", "1", NULL};
	struct outbound *o = NULL;
	struct err e = ERR_INIT;
	struct buf out = BUF_INIT(1 << 20);
	struct arena a;

	T_ASSERT(t_write_file("x.yaml",
		"outbound: feed\nkind: stock\nformat: xml\n"
		"xml: { root: Feed, record: Offer }\n"
		"columns:\n"
		"  - { name: \"@sku\", value: sku }\n"
		"  - { name: Title, value: description }\n") == 0);
	T_OK(outbound_load("x.yaml", &o, &e), &e);
	arena_init(&a, 1024, 0);
	T_OK(outbound_row(o, row_get, (void *)r1, &a, &out, &e), &e);
	T_EQ_STR(out.ptr,
		 "  <Offer sku=\"ab&#9;c&#10;d&#13;e&quot;f'g&gt;h&lt;i&amp;j"
		 "\x7fk\xc3\xbcl\">\n"
		 "    <Title>ab\tc\nd&#13;e\"f'g&gt;h&lt;i&amp;j\x7fk\xc3\xbcl"
		 "</Title>\n"
		 "  </Offer>\n");
	arena_release(&a);
	buf_release(&out);
	outbound_free(o);
}

/* file:line:col of mistakes in EDI and XML mappings. */
T_TEST(outbound_edi_xml_compile_errors)
{
	static const struct {
		const char *tail; /* after the x846 envelope, line 10 on */
		unsigned long line;
		unsigned col;
		const char *msg;
	} cases[] = {
		{"segments:\n  - LIN: [\"\", SK, \"{skuu}\"]\n", 11, 21,
		 "unknown stock row field 'skuu'"},
		{"segments:\n  - LIN: [\"\", SK, \"{$control}\"]\n", 11, 21,
		 "$control is an envelope value"},
		{"segments:\n  - LIN: [\"\", \"S*K\"]\n", 11, 17,
		 "'*' is a delimiter"},
		{"segments:\n  - LIN: [\"\", \"{sku\"]\n", 11, 16,
		 "'{' without its '}'"},
		{"segments:\n  - lin: [\"\", SK]\n", 11, 5,
		 "'lin' is not a segment tag"},
		{"segments:\n  - SE: [\"1\"]\n", 11, 5,
		 "SE is written by stockpipe"},
		{"header:\n  - BIA: [\"{sku}\"]\nsegments:\n  - LIN: [x]\n", 11,
		 13, "unknown envelope field 'sku' (write constants in quotes); header: and trailer: see no row"},
		{"segments:\n  - LIN: [x]\n    when: qty > 1\n", 12, 11,
		 "unknown stock row field 'qty'"},
		{"segments:\n  - LIN: [x]\n    PID: [y]\n", 12, 5,
		 "one segment per list entry"},
		{"columns:\n  - { name: a, value: sku }\nsegments:\n  - LIN: [x]\n",
		 10, 1, "'columns' is for format csv, jsonl and xml"},
	};
	struct outbound *o = NULL;
	struct err e = ERR_INIT;
	char text[2048];
	size_t i, head = strstr(x846_yaml, "header:") - x846_yaml;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "%.*s%s", (int)head, x846_yaml,
			 cases[i].tail);
		T_ASSERT(t_write_file("c.yaml", text) == 0);
		err_clear(&e);
		T_EQ_INT(outbound_load("c.yaml", &o, &e), -1);
		if (!strstr(e.reason, cases[i].msg) ||
		    e.line != cases[i].line || e.col != cases[i].col)
			T_FAIL("case %zu: got %lu:%u %s, expected %lu:%u %s", i,
			       e.line, e.col, e.reason, cases[i].line,
			       cases[i].col, cases[i].msg);
	}
	/* Envelope settings. */
	T_ASSERT(t_write_file("c.yaml",
		"outbound: x\nkind: stock\nformat: x12\nenvelope:\n"
		"  sender: { qualifier: ZZ, id: STOCKPIPE }\n"
		"  receiver: { qualifier: ZZ, id: WAYTOOLONGPARTNERID }\n"
		"  version: \"00401\"\n  transaction: \"846\"\n  usage: T\n"
		"segments:\n  - LIN: [x]\n") == 0);
	err_clear(&e);
	T_EQ_INT(outbound_load("c.yaml", &o, &e), -1);
	T_EQ_INT(e.line, 6);
	T_ASSERT(strstr(e.reason, "id: is 1 to 15 characters") != NULL);
	T_ASSERT(t_write_file("c.yaml",
		"outbound: x\nkind: stock\nformat: x12\nenvelope:\n"
		"  sender: { qualifier: ZZ, id: A }\n"
		"  receiver: { qualifier: ZZ, id: B }\n"
		"  version: \"00401\"\n  transaction: \"846\"\n  usage: X\n"
		"segments:\n  - LIN: [x]\n") == 0);
	err_clear(&e);
	T_EQ_INT(outbound_load("c.yaml", &o, &e), -1);
	T_EQ_INT(e.line, 9);
	T_ASSERT(strstr(e.reason, "usage: is T (test) or P (production)") != NULL);
	T_ASSERT(t_write_file("c.yaml",
		"outbound: x\nkind: stock\nformat: edifact\nenvelope:\n"
		"  sender: { id: A }\n  receiver: { id: B }\n"
		"  syntax: UNOC:3\n  message: INVRPT\n  version: D:96A:UN\n"
		"  usage: T\n"
		"  delimiters: { element: \"+\", component: \"+\" }\n"
		"segments:\n  - LIN: [x]\n") == 0);
	err_clear(&e);
	T_EQ_INT(outbound_load("c.yaml", &o, &e), -1);
	T_EQ_INT(e.line, 11);
	T_ASSERT(strstr(e.reason, "delimiters must differ") != NULL);
	T_ASSERT(t_write_file("c.yaml",
		"outbound: x\nkind: stock\nformat: xml\n"
		"xml: { root: Feed, record: Offer }\n"
		"columns:\n  - { name: \"p:Qty\", value: available }\n") == 0);
	err_clear(&e);
	T_EQ_INT(outbound_load("c.yaml", &o, &e), -1);
	T_EQ_INT(e.line, 6);
	T_ASSERT(strstr(e.reason, "prefix 'p' of 'p:Qty' is not declared") != NULL);
}
