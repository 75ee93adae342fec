/* t_mapping_xml.c - XML paths in mappings: namespaces by URI, attributes,
 * positions, context from headers and ancestors (and when it is
 * forgotten), rejects at the record's line with the record as raw, compile
 * errors at file:line:col, and documents that fail as a whole. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "transforms/mapping/mapping.h"
#include "t.h"

struct xcollect {
	struct buf out;
	unsigned long records, rejects;
};

static int x_rec(void *ud, const struct canon_record *r, struct err *err)
{
	struct xcollect *c = ud;

	(void)err;
	c->records++;
	return canon_to_jsonl(r, &c->out);
}

static int x_rej(void *ud, const struct mapping_reject *rj, struct err *err)
{
	struct xcollect *c = ud;

	(void)err;
	c->rejects++;
	return mapping_reject_to_jsonl(rj, &c->out);
}

static int xrun(const char *mapping_text, const char *input,
		struct xcollect *c, struct err *e)
{
	struct mapping *m = NULL;
	struct mapping_sink sink = {x_rec, x_rej, c, NULL, NULL, 0};
	struct mapping_doc doc = {"src", "in.xml", "in.xml",
				  "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210", NULL};
	int rc;

	buf_reset(&c->out);
	c->records = c->rejects = 0;
	if (t_write_file("m.yaml", mapping_text) || t_write_file("in.xml", input))
		return -1;
	if (mapping_load("m.yaml", &m, e))
		return -1;
	rc = mapping_run(m, &doc, &sink, NULL, e);
	mapping_free(m);
	return rc;
}

#define HAS(s) T_ASSERT(strstr(c.out.ptr, (s)) != NULL)
#define HASNT(s) T_ASSERT(strstr(c.out.ptr, (s)) == NULL)

static const char report_map[] =
	"input:\n"
	"  format: xml\n"
	"  namespaces:\n"
	"    r: urn:report\n"
	"    c: urn:common\n"
	"context:\n"
	"  as_of: /r:Report/c:Date | date\n"
	"records:\n"
	"  - kind: stock\n"
	"    each: /r:Report/r:Group/r:Line\n"
	"    fields:\n"
	"      sku: c:Item/c:ID[2] | required\n"
	"      location: /r:Report/r:Group/@store | required\n"
	"      state: on_hand\n"
	"      quantity: c:Qty | decimal\n"
	"      uom: c:Qty/@unit | default(EA)\n"
	"      as_of: $as_of\n"
	"      txn_id: concat(/r:Report/@id, \"-\", @no, \"-\", $row, \"-\", $line)\n";

T_TEST(mapping_xml_paths_namespaces_attributes_positions)
{
	struct xcollect c = {BUF_INIT(1 << 20), 0, 0};
	struct err e = ERR_INIT;
	/* Other prefixes than the mapping's: matched by URI. */
	static const char doc[] =
		"<?xml version=\"1.0\"?>\n"
		"<Report xmlns=\"urn:report\" xmlns:x=\"urn:common\" id=\"R1\">\n"
		"  <x:Date>2026-11-20T06:00:00+01:00</x:Date>\n"
		"  <Group store=\"STORE-012\">\n"
		"    <Line no=\"1\">\n"
		"      <x:Item><x:ID>ignored</x:ID><x:ID>KW-10001</x:ID></x:Item>\n"
		"      <x:Qty unit=\"PK\">4</x:Qty>\n"
		"    </Line>\n"
		"    <Line no=\"2\"><x:Item><x:ID/><x:ID>KW-10002</x:ID></x:Item><x:Qty>5</x:Qty></Line>\n"
		"  </Group>\n"
		"  <Group>\n"
		"    <Line no=\"3\"><x:Item><x:ID/><x:ID>KW-10003</x:ID></x:Item><x:Qty>6</x:Qty></Line>\n"
		"  </Group>\n"
		"  <Group store=\"STORE-027\">\n"
		"    <Line no=\"4\"><x:Item><x:ID/><x:ID>KW-10004</x:ID></x:Item><x:Qty>zwei</x:Qty></Line>\n"
		"    <Line no=\"5\"><x:Item><x:ID/></x:Item><x:Qty>1</x:Qty></Line>\n"
		"  </Group>\n"
		"</Report>\n";

	T_OK(xrun(report_map, doc, &c, &e), &e);
	T_EQ_INT(c.records, 2);
	T_EQ_INT(c.rejects, 3);
	HAS("{\"kind\":\"stock\",\"sku\":\"KW-10001\",\"location\":\"STORE-012\",\"state\":\"on_hand\",\"quantity\":\"4\",\"mode\":\"snapshot\",\"as_of\":\"2026-11-20T05:00:00Z\",\"txn_id\":\"R1-1-1-5\",\"uom\":\"PK\",\"_source\":\"src\",\"_file\":\"in.xml\",\"_line\":5}");
	HAS("\"sku\":\"KW-10002\",\"location\":\"STORE-012\"");
	HAS("\"txn_id\":\"R1-2-2-9\",\"uom\":\"EA\"");
	/* The second group has no store: the first group's is forgotten. */
	/* A required field that came out empty names its expression and
	 * what the record held there (absent, or present but empty). */
	HAS("{\"kind\":\"reject\",\"_file\":\"in.xml\",\"_line\":12,\"field\":\"location\",\"reason\":\"field 'location' (");
	HAS("m.yaml:13:17 `/r:Report/r:Group/@store | required`) is empty: /r:Report/r:Group/@store is absent (nothing read for it before this record)\",\"raw\":\"<Line no=\\\"3\\\"><x:Item><x:ID/><x:ID>KW-10003</x:ID></x:Item><x:Qty>6</x:Qty></Line>\"}");
	HAS("\"_line\":15,\"field\":\"quantity\",\"reason\":\"field 'quantity': not a number: 'zwei'\"");
	HAS("\"_line\":16,\"field\":\"sku\",\"reason\":\"field 'sku' (");
	HAS("m.yaml:12:12 `c:Item/c:ID[2] | required`) is empty: c:Item/c:ID[2] is absent in this record\"");
	HASNT("ignored");
	buf_release(&c.out);
}

T_TEST(mapping_xml_context_sees_only_what_came_before)
{
	struct xcollect c = {BUF_INIT(1 << 20), 0, 0};
	struct err e = ERR_INIT;
	static const char map[] =
		"input: { format: xml }\n"
		"records:\n"
		"  - kind: item\n"
		"    each: /doc/item\n"
		"    fields:\n"
		"      sku: ./@sku\n"
		"      description: /doc/head/title\n"
		"      brand: /doc/trailer/brand | default(none)\n"
		"      category: ./cat\n";

	T_OK(xrun(map,
		  "<doc><head><title>T <b>bold</b> end</title></head>\n"
		  "<item sku=\"A\"><cat>c1</cat></item>\n"
		  "<item sku=\"B\"><cat>c<i>2</i></cat></item>\n"
		  "<trailer><brand>late</brand></trailer></doc>\n",
		  &c, &e),
	     &e);
	T_EQ_INT(c.records, 2);
	/* an element's text includes its descendants' text, in order */
	HAS("\"sku\":\"A\",\"description\":\"T bold end\",\"brand\":\"none\",\"category\":\"c1\"");
	HAS("\"sku\":\"B\",\"description\":\"T bold end\",\"brand\":\"none\",\"category\":\"c2\"");
	/* one-line documents still get distinct default txn ids (element
	 * number, not line) */
	HAS("\"txn_id\":\"fedcba9876543210:5:0\"");
	HAS("\"txn_id\":\"fedcba9876543210:7:0\"");
	buf_release(&c.out);
}

/* Sibling positions in absolute paths (/doc/head[2]/title) are counted
 * while the document streams, and only when some absolute path has one:
 * the same mapping with and without a position-free absolute path reads
 * the same values. */
T_TEST(mapping_xml_absolute_paths_with_positions)
{
	struct xcollect c = {BUF_INIT(1 << 20), 0, 0};
	struct err e = ERR_INIT;
	static const char map[] =
		"input: { format: xml }\n"
		"records:\n"
		"  - kind: item\n"
		"    each: /doc/g/item\n"
		"    fields:\n"
		"      sku: ./@sku\n"
		"      description: /doc/head[2]/title | default(none)\n"
		"      brand: /doc/g[2]/b[3] | default(none)\n"
		"      category: /doc/g/b | default(none)\n";
	static const char doc[] =
		"<doc><head><title>first</title></head>\n"
		"<x/><head><title>second</title><title>third</title></head>\n"
		"<g><b>b1</b><b>b2</b><b>b3</b><item sku=\"A\"/></g>\n"
		"<g><b>c1</b><x/><b>c2</b><b>c3</b><item sku=\"B\"/></g></doc>\n";

	T_OK(xrun(map, doc, &c, &e), &e);
	T_EQ_INT(c.records, 2);
	HAS("\"sku\":\"A\",\"description\":\"second\",\"brand\":\"none\",\"category\":\"b1\"");
	HAS("\"sku\":\"B\",\"description\":\"second\",\"brand\":\"c3\",\"category\":\"c1\"");
	buf_release(&c.out);
}

static void expect_load_error(const char *yaml, const char *where,
			      const char *why, int *failed)
{
	struct mapping *m = NULL;
	struct err e = ERR_INIT;
	char msg[1200];

	if (t_write_file("bad.yaml", yaml) || !mapping_load("bad.yaml", &m, &e)) {
		mapping_free(m);
		fprintf(stderr, "  mapping loaded, expected %s\n", why);
		*failed = 1;
		return;
	}
	err_format(&e, msg, sizeof(msg));
	if (!strstr(msg, where) || !strstr(msg, why)) {
		fprintf(stderr, "  got '%s', expected '%s' and '%s'\n", msg,
			where, why);
		*failed = 1;
	}
}

T_TEST(mapping_xml_compile_errors_at_file_line_col)
{
	int failed = 0;

	expect_load_error("input:\n  format: xml\n  namespaces: { a: urn:a }\n"
			  "records:\n  - kind: item\n    each: /a:R/a:L\n"
			  "    fields:\n      sku: a:ID | concat(b:X)\n",
			  "bad.yaml:8:26:", "has no option 'b'", &failed);
	expect_load_error("input:\n  format: xml\n  namespaces: { a: urn:a }\n"
			  "records:\n  - kind: item\n    each: /a:R/a:L\n"
			  "    fields:\n      sku: /a:R/zz:ID\n",
			  "bad.yaml:8:12:", "unknown namespace prefix 'zz'", &failed);
	expect_load_error("input: { format: xml }\ncontext:\n  x: ./a\n"
			  "records:\n  - kind: item\n    each: /R/L\n    fields:\n      sku: ./a\n",
			  "bad.yaml:3:6:", "context can only read absolute paths", &failed);
	expect_load_error("input: { format: xml }\nrecords:\n  - kind: item\n    fields:\n      sku: ./a\n",
			  "bad.yaml:", "each: is the absolute path", &failed);
	expect_load_error("input: { format: xml }\nrecords:\n  - kind: item\n    each: /R/L\n    fields:\n      sku: ./a\n"
			  "  - kind: item\n    each: /R/L/M\n    fields:\n      sku: ./a\n",
			  "bad.yaml:8:11:", "cannot be nested", &failed);
	expect_load_error("input: { format: xml }\nrecords:\n  - kind: item\n    each: /R/L/@a\n    fields:\n      sku: ./a\n",
			  "bad.yaml:4:11:", "not an attribute", &failed);
	expect_load_error("input: { format: xml }\nrecords:\n  - kind: item\n    each: /R/L\n    fields:\n      sku: ./a[0]\n",
			  "bad.yaml:6:12:", "position is written [N]", &failed);
	expect_load_error("input: { format: xml }\nrecords:\n  - kind: item\n    each: /R/L\n    fields:\n      sku: /R//a\n",
			  "bad.yaml:6:12:", "'//'", &failed);
	expect_load_error("input: { format: xml, delimiter: \";\" }\nrecords:\n  - kind: item\n    each: /R/L\n    fields:\n      sku: ./a\n",
			  "bad.yaml:1:", "unknown key 'delimiter' in input", &failed);
	T_ASSERT(!failed);
}

T_TEST(mapping_xml_documents_that_fail_whole)
{
	struct xcollect c = {BUF_INIT(1 << 20), 0, 0};
	struct err e = ERR_INIT;
	static const char map[] =
		"input: { format: xml, max_record: 200 }\n"
		"records:\n  - kind: item\n    each: /R/L\n    fields:\n      sku: ./@id\n";
	struct buf big = BUF_INIT(1 << 16);
	int i;

	T_EQ_INT(xrun(map, "<?xml version=\"1.0\"?>\n<!DOCTYPE R>\n<R><L id=\"a\"/></R>\n",
		      &c, &e), -1);
	T_EQ_INT(e.code, E_PARSE);
	T_EQ_INT(e.line, 2);
	T_ASSERT(strstr(e.reason, "DOCTYPE") != NULL);
	err_clear(&e);
	T_EQ_INT(xrun(map, "<Other>\n<L id=\"a\"/></Other>\n", &c, &e), -1);
	T_ASSERT(strstr(e.reason, "the root element is Other, but the mapping reads /R/L") != NULL);
	err_clear(&e);
	buf_adds(&big, "<R>\n<L id=\"a\"/>\n<L id=\"b\">");
	for (i = 0; i < 100; i++)
		buf_adds(&big, "<x>0123456789</x>");
	buf_adds(&big, "</L></R>\n");
	T_EQ_INT(xrun(map, big.ptr, &c, &e), -1);
	T_EQ_INT(e.code, E_TOOBIG);
	T_EQ_INT(e.line, 3);
	T_EQ_INT(c.records, 1); /* the record before was mapped */
	err_clear(&e);
	T_EQ_INT(xrun(map, "<R>\n<L id=\"a\"/>\n<L id=\"b\">\xff</L></R>\n", &c, &e), -1);
	T_EQ_INT(e.code, E_PARSE);
	T_EQ_INT(e.line, 3);
	buf_release(&big);
	buf_release(&c.out);
}

/* The shipped UBL mapping on the OASIS example of the shared corpus. */
T_TEST(mapping_xml_shared_ubl_example)
{
	const char *src = getenv("STOCKPIPE_SRCDIR");
	struct xcollect c = {BUF_INIT(1 << 20), 0, 0};
	struct mapping_sink sink = {x_rec, x_rej, &c, NULL, NULL, 0};
	char p[4096], mp[4096];
	struct mapping_doc doc = {"", "ubl.xml", p, NULL, NULL};
	struct mapping *m = NULL;
	struct err e = ERR_INIT;

	snprintf(p, sizeof(p), "%s/../shared/data/xml/ubl/UBL-InventoryReport-2.1-Example.xml",
		 src ? src : ".");
	if (access(p, R_OK))
		T_SKIP("shared data not present (%s)", p);
	T_ASSERT(t_write_file("m.yaml",
			      "input:\n  format: xml\n  namespaces:\n"
			      "    i: urn:oasis:names:specification:ubl:schema:xsd:InventoryReport-2\n"
			      "    cac: urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2\n"
			      "    cbc: urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2\n"
			      "records:\n  - kind: stock\n    each: /i:InventoryReport/cac:InventoryReportLine\n"
			      "    fields:\n"
			      "      sku: cac:Item/cac:SellersItemIdentification/cbc:ID\n"
			      "      location: /i:InventoryReport/cac:RetailerCustomerParty/cac:Party/cac:PartyName/cbc:Name\n"
			      "      state: on_hand\n      quantity: cbc:Quantity | decimal\n"
			      "      uom: cbc:Quantity/@unitCode\n"
			      "      as_of: /i:InventoryReport/cbc:IssueDate | date\n") == 0);
	(void)mp;
	T_OK(mapping_load("m.yaml", &m, &e), &e);
	T_OK(mapping_run(m, &doc, &sink, NULL, &e), &e);
	mapping_free(m);
	T_EQ_INT(c.records, 3);
	T_ASSERT(strstr(c.out.ptr, "\"sku\":\"DD88\",\"location\":\"Beta Shop\",\"state\":\"on_hand\",\"quantity\":\"10\"") != NULL);
	T_ASSERT(strstr(c.out.ptr, "\"uom\":\"NAR\",\"_source\":\"\",\"_file\":\"ubl.xml\",\"_line\":85}") != NULL);
	buf_release(&c.out);
}

/* explode: for XML: one scope per repeated element below the record
 * (paths read the element first, then the record element), and a value
 * split, beside each other in one mapping. */
T_TEST(mapping_xml_explode)
{
	struct xcollect c = {BUF_INIT(1 << 20), 0, 0};
	struct err e = ERR_INIT;
	static const char map[] =
		"input: { format: xml }\n"
		"records:\n"
		"  - kind: stock\n"
		"    each: /R/A\n"
		"    explode: S/St\n"
		"    fields:\n      sku: ./@sku\n      location: ./@id\n"
		"      state: on_hand\n      quantity: concat(./Q, pair.index)\n"
		"      as_of: \"2026-11-20\"\n"
		"      txn_id: pair.value\n"
		"  - kind: item\n"
		"    each: /R/A\n"
		"    explode: './@t | split(\",\")'\n"
		"    fields:\n      sku: concat(./@sku, \"-\", pair.value)\n";
	static const char in[] =
		"<R><A sku=\"X\" t=\"a,b\"><S><St id=\"1\"><Q>5</Q>v1</St><Other/><St id=\"2\"><Q>6</Q></St></S></A></R>\n";

	T_OK(xrun(map, in, &c, &e), &e);
	T_EQ_INT(c.records, 4);
	T_ASSERT(strstr(c.out.ptr, "\"sku\":\"X\",\"location\":\"1\",\"state\":\"on_hand\",\"quantity\":\"51\",\"mode\":\"snapshot\",\"as_of\":\"2026-11-20T00:00:00Z\",\"txn_id\":\"v15\"") != NULL);
	T_ASSERT(strstr(c.out.ptr, "\"location\":\"2\",\"state\":\"on_hand\",\"quantity\":\"62\"") != NULL);
	T_ASSERT(strstr(c.out.ptr, "\"kind\":\"item\",\"sku\":\"X-a\"") != NULL);
	T_ASSERT(strstr(c.out.ptr, "\"kind\":\"item\",\"sku\":\"X-b\"") != NULL);
	buf_release(&c.out);
}
