/* t_outbound.c - outbound mappings: RFC 4180 quoting, JSON Lines with
 * number columns, the shared function library, compile errors. */
#include <string.h>

#include "../../pipeline/buf.h"
#include "../../transforms/outbound.h"
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
		"outbound: x\nkind: item\nformat: xml\ncolumns: []\n") == 0);
	T_EQ_INT(outbound_load("b.yaml", &o, &e), -1);
	T_EQ_INT(e.line, 3);
	err_clear(&e);
	T_ASSERT(t_write_file("b.yaml",
		"outbound: x\nkind: item\ncolumns:\n"
		"  - { name: p, value: price | fixd(2) }\n") == 0);
	T_EQ_INT(outbound_load("b.yaml", &o, &e), -1);
	T_ASSERT(strstr(e.reason, "unknown function 'fixd'") != NULL);
	T_EQ_INT(e.col, 31);
}
