/* t_mapping_facts.c - the file facts ($file.*, $run.started_at, $now)
 * and pattern captures in CSV, X12 and XML mappings, lazy context values
 * whose failure rejects only the records that read them, and the
 * "filtered" count. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "transforms/mapping/filepat.h"
#include "transforms/mapping/mapping.h"
#include "t.h"

/* ---- mappings ------------------------------------------------------------ */

struct fcollect {
	struct buf out;
	int records, rejects;
	struct mapping_stats st;
};

static int f_rec(void *ud, const struct canon_record *r, struct err *err)
{
	struct fcollect *c = ud;

	(void)err;
	c->records++;
	return canon_to_jsonl(r, &c->out);
}

static int f_rej(void *ud, const struct mapping_reject *rj, struct err *err)
{
	struct fcollect *c = ud;

	(void)err;
	c->rejects++;
	return mapping_reject_to_jsonl(rj, &c->out);
}

/* Maps input (written to file name) with the facts of name (matched
 * against pattern when not NULL) and fixed times, or with no facts at
 * all when name is NULL. */
static int frun(const char *mapping_text, const char *name,
		const char *pattern, const char *input, struct fcollect *c,
		struct err *e)
{
	struct mapping *m = NULL;
	struct mapping_sink sink = {f_rec, f_rej, c, NULL, NULL, 0};
	struct mapping_doc doc = {"src", "doc.in", "doc.in",
				  "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210",
				  NULL};
	struct mapping_facts f;
	struct filepat_caps caps;
	int rc = -1;

	buf_reset(&c->out);
	c->records = c->rejects = 0;
	memset(&c->st, 0, sizeof(c->st));
	memset(&caps, 0, sizeof(caps));
	if (t_write_file("m.yaml", mapping_text) || t_write_file("doc.in", input))
		return -1;
	if (mapping_load("m.yaml", &m, e))
		return -1;
	if (name) {
		memset(&f, 0, sizeof(f));
		f.file_name = name;
		f.mtime = "2026-11-20T04:59:00Z";
		f.fetched_at = "2026-11-20T05:10:00Z";
		f.run_started = "2026-11-20T05:09:30Z";
		f.caps = &caps;
		doc.facts = &f;
		if (mapping_check_patterns(m, &pattern, pattern ? 1 : 0, NULL,
					   e) < 0 ||
		    (pattern && filepat_match(pattern, name, &caps, e) != 1))
			goto out;
	}
	rc = mapping_run(m, &doc, &sink, &c->st, e);
out:
	mapping_free(m);
	return rc;
}

#define HAS(s) T_ASSERT(strstr(c.out.ptr ? c.out.ptr : "", (s)) != NULL)
#define HASNT(s) T_ASSERT(strstr(c.out.ptr ? c.out.ptr : "", (s)) == NULL)

#define PAT "stock_{store}_{date:%Y%m%d}.csv"

T_TEST(mapping_facts_csv)
{
	struct fcollect c = {BUF_INIT(1 << 20), 0, 0, {0}};
	struct err e = ERR_INIT;
	static const char map[] =
		"input: { format: csv }\n"
		"context:\n"
		"  day: $file.date | required\n"
		"records:\n"
		"  - kind: item\n"
		"    fields:\n"
		"      sku: col(sku)\n"
		"      description: concat($file.name, \"|\", $file.mtime, \"|\", $file.fetched_at)\n"
		"      brand: concat($run.started_at, \"|\", $now, \"|\", $file)\n"
		"      category: $file.store\n"
		"      as_of: $day\n";

	T_OK(frun(map, "stock_F012_20261120.csv", PAT, "sku\nA\n", &c, &e), &e);
	T_EQ_INT(c.records, 1);
	HAS("\"sku\":\"A\",\"description\":\"stock_F012_20261120.csv|2026-11-20T04:59:00Z|2026-11-20T05:10:00Z\","
	    "\"brand\":\"2026-11-20T05:09:30Z|2026-11-20T05:09:30Z|doc.in\",\"category\":\"F012\"");
	HAS("\"as_of\":\"2026-11-20T00:00:00Z\"");
	buf_release(&c.out);
}

T_TEST(mapping_facts_without_facts)
{
	struct fcollect c = {BUF_INIT(1 << 20), 0, 0, {0}};
	struct err e = ERR_INIT;
	static const char map[] =
		"input: { format: csv }\n"
		"records:\n"
		"  - kind: item\n"
		"    fields:\n"
		"      sku: col(sku)\n"
		"      description: $file.name\n"
		"      brand: $now | default(unknown)\n"
		"      category: $file.mtime | default(unknown)\n";

	/* a caller that knows nothing: $file.name is the document name,
	 * the times are absent */
	T_OK(frun(map, NULL, NULL, "sku\nA\n", &c, &e), &e);
	HAS("\"description\":\"doc.in\",\"brand\":\"unknown\",\"category\":\"unknown\"");
	buf_release(&c.out);
}

static void load_error(const char *yaml, const char *pattern,
		       const char *where, const char *why, int *failed)
{
	struct mapping *m = NULL;
	struct err e = ERR_INIT;
	char msg[1400];

	if (t_write_file("bad.yaml", yaml) < 0)
		return;
	if (mapping_load("bad.yaml", &m, &e) == 0)
		mapping_check_patterns(m, &pattern, pattern ? 1 : 0,
				       "give a pattern", &e);
	mapping_free(m);
	err_format(&e, msg, sizeof(msg));
	if (!e.code || !strstr(msg, where) || !strstr(msg, why)) {
		fprintf(stderr, "  got '%s', want '%s' ... '%s'\n", msg, where,
			why);
		*failed = 1;
	}
}

T_TEST(mapping_facts_compile_errors)
{
	int failed = 0;
	static const char head[] =
		"input: { format: csv }\nrecords:\n  - kind: item\n    fields:\n";
	char y[512];

	snprintf(y, sizeof(y), "%s      sku: col(a)\n      brand: concat(\"x\", $file.stor)\n", head);
	load_error(y, PAT, "bad.yaml:6:26:",
		   "$file.stor is not a capture of the file pattern 'stock_{store}_{date:%Y%m%d}.csv' (captures: store, date",
		   &failed);
	load_error(y, "*.csv", "bad.yaml:6:26:",
		   "$file.stor is not a capture of the file pattern '*.csv' (it has no captures",
		   &failed);
	load_error(y, NULL, "bad.yaml:6:26:",
		   "$file.stor is a capture of the source's file pattern, but no pattern is given (give a pattern)",
		   &failed);
	snprintf(y, sizeof(y), "%s      sku: $run.ended_at\n", head);
	load_error(y, PAT, "bad.yaml:5:12:", "unknown variable '$run.ended_at'",
		   &failed);
	snprintf(y, sizeof(y), "%s      sku: $file.da-te\n", head);
	load_error(y, PAT, "bad.yaml:5:12:", "unknown variable '$file.da-te'",
		   &failed);
	load_error("input: { format: csv }\ncontext:\n  file.day: x\n"
		   "records:\n  - kind: item\n    fields:\n      sku: x\n",
		   PAT, "bad.yaml:3:3:", "are the file's facts", &failed);
	load_error("input: { format: csv }\ncontext:\n  now: x\n"
		   "records:\n  - kind: item\n    fields:\n      sku: x\n",
		   PAT, "bad.yaml:3:3:", "'now' is a built-in variable", &failed);
	T_ASSERT(!failed);
}

#define ISA(ctl) "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *261120*0600*^*00501*" ctl "*0*P*>~\n"

T_TEST(mapping_facts_edi_and_xml)
{
	struct fcollect c = {BUF_INIT(1 << 20), 0, 0, {0}};
	struct err e = ERR_INIT;
	static const char emap[] =
		"input: { format: x12, transaction: \"846\" }\n"
		"context:\n  as_of: $file.date | required\n"
		"records:\n  - kind: stock\n    each: LIN\n"
		"    fields:\n"
		"      sku: LIN.03\n      location: $file.store\n      state: on_hand\n"
		"      quantity: QTY[01=33].02 | decimal\n      as_of: $as_of\n"
		"      txn_id: concat($file.name, \"-\", LIN.01)\n";
	static const char ein[] =
		ISA("000000001")
		"GS*IB*SENDER*RECEIVER*20261120*0600*1*X*005010~\n"
		"ST*846*1~\nBIA*00*SI*X*20261120~\nLIN*1*VN*A1~\nQTY*33*4~\nSE*5*1~\n"
		"GE*1*1~\nIEA*1*000000001~\n";
	static const char xmap[] =
		"input: { format: xml }\n"
		"context:\n  day: $file.date\n"
		"records:\n  - kind: stock\n    each: /doc/line\n"
		"    fields:\n"
		"      sku: ./@sku\n      location: $file.store\n      state: on_hand\n"
		"      quantity: ./@qty | decimal\n      as_of: $day\n";

	T_OK(frun(emap, "stock_DC1_20261121.csv", PAT, ein, &c, &e), &e);
	T_EQ_INT(c.records, 1);
	HAS("\"sku\":\"A1\",\"location\":\"DC1\",\"state\":\"on_hand\",\"quantity\":\"4\",\"mode\":\"snapshot\",\"as_of\":\"2026-11-21T00:00:00Z\",\"txn_id\":\"stock_DC1_20261121.csv-1\"");
	T_OK(frun(xmap, "stock_S7_20261122.csv", PAT,
		  "<doc><line sku=\"B\" qty=\"2\"/></doc>\n", &c, &e),
	     &e);
	T_EQ_INT(c.records, 1);
	HAS("\"sku\":\"B\",\"location\":\"S7\",\"state\":\"on_hand\",\"quantity\":\"2\",\"mode\":\"snapshot\",\"as_of\":\"2026-11-22T00:00:00Z\"");
	buf_release(&c.out);
}

/* ---- lazy context --------------------------------------------------------- */

T_TEST(mapping_context_lazy_csv)
{
	struct fcollect c = {BUF_INIT(1 << 20), 0, 0, {0}};
	struct err e = ERR_INIT;
	/* The file name has no date: only the rows whose record reads
	 * $as_of (not the filtered ones, not the item rows) fail, each
	 * naming the variable. */
	static const char map[] =
		"input: { format: csv }\n"
		"context:\n"
		"  raw: '$file.name | match(\"_([0-9]{8})[.]\", 1) | required'\n"
		"  as_of: $raw | date(\"%Y%m%d\")\n"
		"records:\n"
		"  - kind: stock\n"
		"    when: col(t) == \"S\"\n"
		"    fields:\n"
		"      sku: col(sku)\n      location: L\n      state: on_hand\n"
		"      quantity: 1\n      as_of: $as_of\n"
		"  - kind: item\n"
		"    when: col(t) == \"I\"\n"
		"    fields:\n      sku: col(sku)\n";

	T_OK(frun(map, "stock.csv", NULL, "t,sku\nI,A\nS,B\nX,C\nS,D\n", &c, &e),
	     &e);
	T_EQ_INT(c.records, 1);
	T_EQ_INT(c.rejects, 2);
	HAS("{\"kind\":\"item\",\"sku\":\"A\"");
	/* the root cause is named, also for the variable built on it */
	HAS("{\"kind\":\"reject\",\"_file\":\"doc.in\",\"_line\":3,\"field\":\"raw\",\"reason\":\"context 'raw': required value is empty\",\"raw\":\"S,B\"}");
	HAS("{\"kind\":\"reject\",\"_file\":\"doc.in\",\"_line\":5,\"field\":\"raw\",\"reason\":\"context 'raw': required value is empty\",\"raw\":\"S,D\"}");
	/* filtered: row X only (row I made an item, rows S were rejected) */
	T_EQ_INT(c.st.input_records, 4);
	T_EQ_INT(c.st.records_out, 1);
	T_EQ_INT(c.st.rejects, 2);
	T_EQ_INT(c.st.filtered, 1);
	/* with a date in the name every row loads */
	T_OK(frun(map, "stock_20261120.csv", NULL, "t,sku\nS,B\nS,D\n", &c, &e),
	     &e);
	T_EQ_INT(c.records, 2);
	HAS("\"as_of\":\"2026-11-20T00:00:00Z\"");
	buf_release(&c.out);
}

/* An X12 file with an 846 and an 852 set mapped by an 846-style mapping
 * whose context requires BIA04: the 852 set has no BIA, so its records
 * are rejected (or filtered by when:) and the 846 records load; before,
 * the first 852 LIN failed the whole document. */
T_TEST(mapping_context_lazy_edi_mixed_sets)
{
	struct fcollect c = {BUF_INIT(1 << 20), 0, 0, {0}};
	struct err e = ERR_INIT;
	char map[1024];
	static const char fmt[] =
		"input: { format: x12, transaction: [\"846\", \"852\"] }\n"
		"context:\n  as_of: BIA.04 | date(\"%%Y%%m%%d\") | required\n"
		"records:\n  - kind: stock\n    each: LIN\n%s"
		"    fields:\n"
		"      sku: LIN.03\n      location: L1\n      state: on_hand\n"
		"      quantity: QTY[01=33].02 | decimal\n      as_of: $as_of\n";
	static const char in[] =
		ISA("000000002")
		"GS*IB*SENDER*RECEIVER*20261120*0600*2*X*005010~\n"
		"ST*846*1~\nBIA*00*SI*X*20261120~\nLIN*1*VN*A1~\nQTY*33*4~\n"
		"LIN*2*VN*A2~\nQTY*33*5~\nSE*7*1~\n"
		"ST*852*2~\nXQ*H*20261113*20261119~\nLIN*1*VN*B1~\nQTY*33*6~\n"
		"LIN*2*VN*B2~\nQTY*33*7~\nSE*7*2~\n"
		"ST*846*3~\nBIA*00*SI*Y*20261121~\nLIN*1*VN*C1~\nQTY*33*8~\nSE*5*3~\n"
		"GE*3*2~\nIEA*1*000000002~\n";

	snprintf(map, sizeof(map), fmt, "");
	T_OK(frun(map, NULL, NULL, in, &c, &e), &e);
	T_EQ_INT(c.records, 3);
	T_EQ_INT(c.rejects, 2);
	HAS("\"sku\":\"A1\",\"location\":\"L1\",\"state\":\"on_hand\",\"quantity\":\"4\",\"mode\":\"snapshot\",\"as_of\":\"2026-11-20T00:00:00Z\"");
	HAS("\"sku\":\"A2\"");
	/* the context belongs to its set: the third set has its own BIA */
	HAS("\"sku\":\"C1\",\"location\":\"L1\",\"state\":\"on_hand\",\"quantity\":\"8\",\"mode\":\"snapshot\",\"as_of\":\"2026-11-21T00:00:00Z\"");
	HAS("{\"kind\":\"reject\",\"_file\":\"doc.in\",\"_line\":12,\"_col\":1,\"_seg\":12,\"_offset\":275,\"field\":\"as_of\",\"reason\":\"context 'as_of': required value is empty\"");
	HAS("{\"kind\":\"reject\",\"_file\":\"doc.in\",\"_line\":14,\"_col\":1,\"_seg\":14,\"_offset\":298,\"field\":\"as_of\",\"reason\":\"context 'as_of': required value is empty\"");
	T_EQ_INT(c.st.filtered, 0);
	/* a when: that keeps only 846 records: the 852 LINs are filtered
	 * before anything reads the context */
	snprintf(map, sizeof(map), fmt, "    when: ST.01 == \"846\"\n");
	T_OK(frun(map, NULL, NULL, in, &c, &e), &e);
	T_EQ_INT(c.records, 3);
	T_EQ_INT(c.rejects, 0);
	T_EQ_INT(c.st.input_records, 5);
	T_EQ_INT(c.st.filtered, 2);
	buf_release(&c.out);
}

T_TEST(mapping_context_lazy_xml)
{
	struct fcollect c = {BUF_INIT(1 << 20), 0, 0, {0}};
	struct err e = ERR_INIT;
	static const char map[] =
		"input: { format: xml }\n"
		"context:\n  day: /doc/head/@day | required\n"
		"records:\n  - kind: stock\n    each: /doc/part/line\n"
		"    fields:\n"
		"      sku: ./@sku\n      location: L\n      state: on_hand\n"
		"      quantity: 1\n      as_of: $day | date\n";

	/* a header that comes after the first part: the lines before it
	 * are rejected naming the variable, the document goes on */
	T_OK(frun(map, NULL, NULL,
		  "<doc>\n<part><line sku=\"A\"/></part>\n<head day=\"2026-11-20\"/>\n"
		  "<part><line sku=\"B\"/></part></doc>\n",
		  &c, &e),
	     &e);
	T_EQ_INT(c.records, 1);
	T_EQ_INT(c.rejects, 1);
	HAS("\"_line\":2,\"field\":\"day\",\"reason\":\"context 'day': required value is empty\"");
	HAS("\"sku\":\"B\",\"location\":\"L\",\"state\":\"on_hand\",\"quantity\":\"1\",\"mode\":\"snapshot\",\"as_of\":\"2026-11-20T00:00:00Z\"");
	buf_release(&c.out);
}

/* Filtered counts input records, not records: two entries that each
 * keep half the rows filter nothing. */
T_TEST(mapping_filtered_counts_input_records_once)
{
	struct fcollect c = {BUF_INIT(1 << 20), 0, 0, {0}};
	struct err e = ERR_INIT;
	static const char map[] =
		"input: { format: csv }\n"
		"records:\n"
		"  - kind: item\n    when: col(t) == \"A\"\n    fields:\n      sku: col(sku)\n"
		"  - kind: item\n    when: col(t) == \"B\"\n    fields:\n      sku: col(sku) | required\n"
		"  - kind: item\n    when: col(t) == \"B\"\n    fields:\n      sku: concat(col(sku), \"-2\")\n";

	T_OK(frun(map, NULL, NULL, "t,sku\nA,1\nB,2\nC,3\nB,\nC,5\n", &c, &e), &e);
	T_EQ_INT(c.st.input_records, 5);
	T_EQ_INT(c.st.records_out, 3);
	T_EQ_INT(c.st.rejects, 1);
	T_EQ_INT(c.st.filtered, 2);
	buf_release(&c.out);
}
