/* t_mapping_edi.c - X12 and EDIFACT paths in mappings: qualifiers (also in
 * LIN's repeating pairs), composites by position and by id, repeats,
 * occurrences, envelope values, HL parents, explode, sets committed only
 * when well-formed (a broken set is one located reject, its siblings
 * load), the per-set buffer cap, the interchange hook (skip, reject),
 * compile errors at file:line:col and documents that fail whole. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "transforms/mapping/mapping.h"
#include "t.h"

struct ecollect {
	struct buf out;
	unsigned long records, rejects, starts, ends;
	int skip;            /* hook: skip interchanges at start */
	int reject_end;      /* hook: reject skipped ones at the end */
	char last_sha[65];
	/* records whose sku came with its length (nul_free) */
	unsigned long len_known;
	/* records whose _where came with its length, and those where that
	 * length or its plain mark was wrong */
	unsigned long where_known, where_bad;
};

static int e_rec(void *ud, const struct canon_record *r, struct err *err)
{
	struct ecollect *c = ud;

	int sku = canon_field_index(r->kind, "sku");

	(void)err;
	c->records++;
	if (sku >= 0 && r->v[sku] && r->len[sku])
		c->len_known++;
	if (r->lin.where && r->lin_len[CANON_LIN_WHERE]) {
		unsigned want = canon_text_len(r->lin.where,
					       strlen(r->lin.where));

		c->where_known++;
		c->where_bad += r->lin_len[CANON_LIN_WHERE] != want;
	}
	return canon_to_jsonl(r, &c->out);
}

static int e_rej(void *ud, const struct mapping_reject *rj, struct err *err)
{
	struct ecollect *c = ud;

	(void)err;
	c->rejects++;
	return mapping_reject_to_jsonl(rj, &c->out);
}

static int e_ic(void *ud, int phase, const struct mapping_interchange *ic,
		char *why, size_t whyn, struct err *err)
{
	struct ecollect *c = ud;

	(void)err;
	if (phase == MAPPING_IC_START) {
		c->starts++;
		buf_addf(&c->out, "[start %s %s %s]\n", ic->sender,
			 ic->receiver, ic->control);
		return c->skip;
	}
	c->ends++;
	snprintf(c->last_sha, sizeof(c->last_sha), "%s", ic->sha256);
	buf_addf(&c->out, "[end sets=%lu ok=%d skipped=%d]\n", ic->sets,
		 ic->ok, ic->skipped);
	if (ic->skipped && c->reject_end) {
		snprintf(why, whyn, "seen before with other content");
		return 1;
	}
	return 0;
}

/* erun() of an input of n bytes (it may hold NUL bytes). */
static int erun_n(const char *mapping_text, const char *input, size_t n,
		  int hook, struct ecollect *c, struct err *e)
{
	struct mapping *m = NULL;
	struct mapping_sink sink = {e_rec, e_rej, c, hook ? e_ic : NULL, NULL, 0};
	struct mapping_doc doc = {"src", "in.edi", "in.edi",
				  "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210", NULL};
	FILE *f;
	int rc;

	buf_reset(&c->out);
	c->records = c->rejects = c->starts = c->ends = c->len_known = 0;
	c->where_known = c->where_bad = 0;
	if (t_write_file("m.yaml", mapping_text))
		return -1;
	f = fopen("in.edi", "wb");
	if (!f)
		return -1;
	if (fwrite(input, 1, n, f) != n) {
		fclose(f);
		return -1;
	}
	if (fclose(f))
		return -1;
	if (mapping_load("m.yaml", &m, e))
		return -1;
	rc = mapping_run(m, &doc, &sink, NULL, e);
	mapping_free(m);
	return rc;
}

static int erun(const char *mapping_text, const char *input, int hook,
		struct ecollect *c, struct err *e)
{
	return erun_n(mapping_text, input, strlen(input), hook, c, e);
}

#define HAS(s) T_ASSERT(strstr(c.out.ptr ? c.out.ptr : "", (s)) != NULL)
#define HASNT(s) T_ASSERT(strstr(c.out.ptr ? c.out.ptr : "", (s)) == NULL)

#define ISA(ctl) "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *261120*0600*^*00501*" ctl "*0*P*>~\n"

static const char x12_map[] =
	"input: { format: x12, transaction: \"852\" }\n"
	"records:\n"
	"  - kind: stock\n"
	"    each: LIN\n"
	"    until: [CTT]\n"
	"    explode: SDQ.pairs(03)\n"
	"    fields:\n"
	"      sku: LIN[02=VN].03 | required\n"
	"      location: pair.id\n"
	"      state: 'ZA.01 | map(QA: on_hand, QS: skip)'\n"
	"      quantity: pair.value | decimal\n"
	"      as_of: '\"2026-11-20\" | date'\n"
	"      txn_id: concat(ISA.06, \"/\", GS.06, \"/\", ST.02, \"/\", REF.02[*], \"/\", REF.02[2], \"/\", N1[01=ST].04, \"/\", ZA[2].01, \"/\", pair.index)\n"
	"    when: state != \"skip\"\n";

T_TEST(mapping_edi_x12_paths_pairs_explode_envelope)
{
	struct ecollect c = {BUF_INIT(1 << 20), 0, 0, 0, 0, 0, 0, "", 0, 0, 0};
	struct err e = ERR_INIT;
	static const char in[] =
		ISA("000000007")
		"GS*PD*SENDER*RECEIVER*20261120*0600*77*X*005010~\n"
		"ST*852*0001~\n"
		"N1*ST*Store*92*S42~\n"
		"REF*IA*A^B^C~\n"
		"LIN*1*UP*0001*VN*V-1~\n"
		"ZA*QA~\n"
		"SDQ*EA*92*L1*5*L2*6~\n"
		"ZA*QS~\n"
		"SDQ*EA*92*L1*1~\n"
		"LIN*2*VN*V-2~\n"
		"ZA*QA~\n"
		"SDQ*EA*92*L3*7~\n"
		"CTT*2~\n"
		"SE*13*0001~\n"
		"GE*1*77~\n"
		"IEA*1*000000007~\n";

	T_OK(erun(x12_map, in, 0, &c, &e), &e);
	T_EQ_INT(c.records, 3);
	T_EQ_INT(c.rejects, 0);
	/* VN found in LIN04 (after UP in 02), envelope trimmed, all and
	 * one repeat, a qualified N1, occurrence LIN[2], pair index */
	HAS("\"sku\":\"V-1\",\"location\":\"L1\",\"state\":\"on_hand\",\"quantity\":\"5\"");
	HAS("\"txn_id\":\"SENDER/77/0001/A,B,C/B/S42/QS/1\"");
	HAS("\"location\":\"L2\",\"state\":\"on_hand\",\"quantity\":\"6\"");
	HAS("\"sku\":\"V-2\",\"location\":\"L3\"");
	HASNT("\"quantity\":\"1\"");          /* the QS pair is filtered */
	HAS("\"_line\":8,\"_where\":\"ic 000000007 set 0001 SDQ#6\"");
	buf_release(&c.out);
}

/* Paths outside the loop read the nearest earlier segment that is in no
 * loop of the record's anchor; the context follows the same rule, so it
 * changes where a header segment comes between loops (and is the same
 * for the loops between two such segments). */
T_TEST(mapping_edi_header_between_loops_and_context)
{
	struct ecollect c = {BUF_INIT(1 << 20), 0, 0, 0, 0, 0, 0, "", 0, 0, 0};
	struct err e = ERR_INIT;
	static const char map[] =
		"input: { format: x12 }\n"
		"context:\n  day: DTM[01=405].02 | date(\"%Y%m%d\")\n"
		"records:\n  - kind: stock\n    each: LIN\n    until: [N1, DTM, CTT]\n"
		"    fields:\n"
		"      sku: LIN.03\n      location: N1[01=ST].04\n      state: on_hand\n"
		"      quantity: QTY[01=33].02 | decimal\n      as_of: $day\n"
		"      txn_id: concat(REF[01=IA].02, \"/\", DTM[01=405].02)\n";
	static const char in[] =
		ISA("000000009")
		"GS*IB*SENDER*RECEIVER*20261120*0600*9*X*005010~\n"
		"ST*846*1~\nREF*IA*R1~\nDTM*405*20261101~\nN1*ST*A*92*S1~\n"
		"LIN*1*VN*A1~\nQTY*33*1~\nREF*IA*IN-LOOP~\nLIN*2*VN*A2~\nQTY*33*2~\n"
		"N1*ST*B*92*S2~\nLIN*3*VN*B1~\nQTY*33*3~\n"
		"DTM*405*20261102~\nLIN*4*VN*B2~\nQTY*33*4~\nLIN*5*VN*B3~\nQTY*33*5~\n"
		"CTT*5~\nSE*19*1~\n"
		"ST*846*2~\nN1*ST*C*92*S3~\nLIN*1*VN*C1~\nQTY*33*6~\nSE*5*2~\n"
		"GE*2*9~\nIEA*1*000000009~\n";

	T_OK(erun(map, in, 0, &c, &e), &e);
	T_EQ_INT(c.records, 5);
	T_EQ_INT(c.rejects, 1);
	/* the loop's own REF*IA first; the next loop reads the header's */
	HAS("\"sku\":\"A1\",\"location\":\"S1\",\"state\":\"on_hand\",\"quantity\":\"1\",\"mode\":\"snapshot\",\"as_of\":\"2026-11-01T00:00:00Z\",\"txn_id\":\"IN-LOOP/20261101\"");
	HAS("\"sku\":\"A2\",\"location\":\"S1\",\"state\":\"on_hand\",\"quantity\":\"2\",\"mode\":\"snapshot\",\"as_of\":\"2026-11-01T00:00:00Z\",\"txn_id\":\"R1/20261101\"");
	HAS("\"sku\":\"B1\",\"location\":\"S2\",\"state\":\"on_hand\",\"quantity\":\"3\",\"mode\":\"snapshot\",\"as_of\":\"2026-11-01T00:00:00Z\"");
	HAS("\"sku\":\"B2\",\"location\":\"S2\",\"state\":\"on_hand\",\"quantity\":\"4\",\"mode\":\"snapshot\",\"as_of\":\"2026-11-02T00:00:00Z\",\"txn_id\":\"R1/20261102\"");
	HAS("\"sku\":\"B3\",\"location\":\"S2\",\"state\":\"on_hand\",\"quantity\":\"5\",\"mode\":\"snapshot\",\"as_of\":\"2026-11-02T00:00:00Z\"");
	/* the next set has no DTM: its context is not the last set's */
	/* named with the expression and what the set lacks, at the
	 * physical line:col of the loop's LIN (issue 17) */
	HAS("\"_line\":24,\"_col\":1,\"_seg\":24,\"_offset\":414,\"field\":\"as_of\",\"reason\":\"field 'as_of' (m.yaml:13:14 `$day`) is empty: no DTM segment in this set\"");
	HASNT("\"sku\":\"C1\"");
	buf_release(&c.out);
}

/* Records of different each: anchors come out in input order of their
 * loops' first segments; on the same segment, in the order the records
 * are listed. (N1*S2 is inside A1's LIN loop, so A1 reads it and B1
 * reads the header's N1*S1.) */
T_TEST(mapping_edi_records_in_loop_order)
{
	struct ecollect c = {BUF_INIT(1 << 20), 0, 0, 0, 0, 0, 0, "", 0, 0, 0};
	struct err e = ERR_INIT;
	static const char map[] =
		"input: { format: x12 }\n"
		"records:\n"
		"  - kind: location\n    each: N1\n    fields:\n"
		"      location_id: N1.04\n"
		"  - kind: stock\n    each: LIN\n    fields:\n"
		"      sku: LIN.03\n      location: N1.04\n      state: on_hand\n"
		"      quantity: QTY.02 | decimal\n      as_of: '\"2026-11-20\" | date'\n"
		"  - kind: item\n    each: LIN\n    explode: QTY\n    fields:\n"
		"      sku: concat(LIN.03, \"-\", pair.index)\n";
	static const char in[] =
		ISA("000000010")
		"GS*IB*SENDER*RECEIVER*20261120*0600*10*X*005010~\n"
		"ST*846*1~\nN1*ST*A*92*S1~\nLIN*1*VN*A1~\nQTY*33*1~\n"
		"N1*ST*B*92*S2~\nLIN*2*VN*B1~\nQTY*33*2~\nQTY*33*3~\nSE*9*1~\n"
		"GE*1*10~\nIEA*1*000000010~\n";
	const char *want[] = {
		"\"location_id\":\"S1\"", "\"sku\":\"A1\",\"location\":\"S2\"",
		"\"sku\":\"A1-1\"", "\"location_id\":\"S2\"",
		"\"sku\":\"B1\",\"location\":\"S1\"", "\"sku\":\"B1-1\"",
		"\"sku\":\"B1-2\""};
	const char *p;
	size_t i;

	T_OK(erun(map, in, 0, &c, &e), &e);
	T_EQ_INT(c.records, 7);
	T_EQ_INT(c.rejects, 0);
	p = c.out.ptr;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const char *q = strstr(p, want[i]);

		if (!q)
			T_FAIL("'%s' missing or out of order in:\n%s", want[i],
			       c.out.ptr);
		p = q + 1;
	}
	buf_release(&c.out);
}

T_TEST(mapping_edi_broken_set_is_one_reject_siblings_load)
{
	struct ecollect c = {BUF_INIT(1 << 20), 0, 0, 0, 0, 0, 0, "", 0, 0, 0};
	struct err e = ERR_INIT;
	static const char map[] =
		"input: { format: x12, max_set_segments: 6 }\n"
		"records:\n  - kind: stock\n    each: LIN\n    fields:\n"
		"      sku: LIN.03\n      location: X\n      state: on_hand\n"
		"      quantity: QTY[01=33].02 | decimal\n      as_of: '\"2026-11-20\" | date'\n";
	static const char in[] =
		ISA("000000008")
		"GS*IB*SENDER*RECEIVER*20261120*0600*8*X*005010~\n"
		"ST*846*1~\nLIN*1*VN*A~\nQTY*33*1~\nSE*4*1~\n"
		"ST*846*2~\nLIN*1*VN*B~\nQTY*33*2~\nSE*9*2~\n"          /* SE01 wrong */
		"ST*846*3~\nLIN*1*VN*C~\nQTY*33*3~\nLIN*2*VN*D~\nQTY*33*4~\nLIN*3*VN*E~\nQTY*33*5~\nSE*8*3~\n" /* over the cap */
		"ST*846*4~\nLIN*1*VN*F~\nQTY*33*x~\nSE*4*4~\n"          /* a field reject */
		"GE*4*8~\nIEA*1*000000008~\n";

	T_OK(erun(map, in, 0, &c, &e), &e);
	T_EQ_INT(c.records, 1);
	T_EQ_INT(c.rejects, 3);
	HAS("\"sku\":\"A\"");
	HASNT("\"sku\":\"B\"");
	HAS("{\"kind\":\"reject\",\"_file\":\"in.edi\",\"_line\":10,\"_col\":4,\"_seg\":10,\"_offset\":230,\"field\":\"SE01\",\"reason\":\"interchange 1 (000000008), set 846 2: segment 10 (SE, #4 in set), element SE01: ");
	HAS("the set is not loaded\",\"raw\":\"SE*9*2~\"}");
	HAS("the set is larger than input.max_set_segments (6) at segment 17");
	/* the QTY element the value came from, not the loop's LIN */
	HAS("\"_line\":21,\"_col\":8,\"_seg\":21,\"_offset\":348,\"field\":\"quantity\",\"reason\":\"field 'quantity': not a number: 'x'\",\"raw\":\"LIN*1*VN*F~QTY*33*x~\"");
	buf_release(&c.out);
}

T_TEST(mapping_edi_hl_parents)
{
	struct ecollect c = {BUF_INIT(1 << 20), 0, 0, 0, 0, 0, 0, "", 0, 0, 0};
	struct err e = ERR_INIT;
	static const char map[] =
		"input: { format: x12, transaction: \"856\" }\n"
		"records:\n  - kind: stock\n    each: HL[03=I]\n    fields:\n"
		"      sku: LIN[02=UP].03\n"
		"      location: 'parent(HL[03=O]).N1[01=ST].04 if parent(HL[03=O]).N1[01=ST].04 is not empty else parent(HL[03=S]).N1[01=ST].04'\n"
		"      state: in_transit\n      mode: delta\n"
		"      quantity: SN1.02 | decimal\n"
		"      as_of: parent(HL[03=S]).DTM[01=011].02 | date(\"%Y%m%d\")\n"
		"      txn_id: concat(parent(HL[03=O]).PRF.01, \"-\", HL.01, \"-\", TD5.05)\n";
	static const char in[] =
		ISA("000000009")
		"GS*SH*SENDER*RECEIVER*20261120*0600*9*X*005010~\n"
		"ST*856*1~\nBSN*00*S1*20261119*1640~\n"
		"HL*1**S~\nTD5*B*2*DHL*M*Freight~\nDTM*011*20261119~\nN1*ST*DC*UL*DC1~\n"
		"HL*2*1*O~\nPRF*PO1~\n"
		"HL*3*2*I~\nLIN**UP*111~\nSN1**5*EA~\n"
		"HL*4*1*O~\nPRF*PO2~\nN1*ST*Shop*UL*SHOP~\n"
		"HL*5*4*I~\nLIN**UP*222~\nSN1**7*EA~\n"
		"SE*18*1~\nGE*1*9~\nIEA*1*000000009~\n";

	T_OK(erun(map, in, 0, &c, &e), &e);
	T_EQ_INT(c.records, 2);
	HAS("\"sku\":\"111\",\"location\":\"DC1\",\"state\":\"in_transit\",\"quantity\":\"5\",\"mode\":\"delta\",\"as_of\":\"2026-11-19T00:00:00Z\",\"txn_id\":\"PO1-3-Freight\"");
	HAS("\"sku\":\"222\",\"location\":\"SHOP\"");
	HAS("\"txn_id\":\"PO2-5-Freight\"");
	buf_release(&c.out);
}

T_TEST(mapping_edi_edifact_composites_ids_levels)
{
	struct ecollect c = {BUF_INIT(1 << 20), 0, 0, 0, 0, 0, 0, "", 0, 0, 0};
	struct err e = ERR_INIT;
	static const char map[] =
		"input: { format: edifact, message: SLSRPT }\n"
		"context:\n  d: DTM[C507.01=137].C507.02\n"
		"records:\n  - kind: stock\n    each: LIN\n    until: [LOC]\n    fields:\n"
		"      sku: LIN.C212.7140\n"
		"      location: LOC[01=162].C517.3225\n      state: on_hand\n      mode: delta\n"
		"      quantity: QTY[C186.01=153].C186.02 | decimal | negate\n"
		"      as_of: $d | date(\"%Y%m%d\")\n"
		"      txn_id: concat(UNB.S002.0004, \"-\", UNB.02.01, \"-\", UNB.0020, \"-\", UNH.0062, \"-\", UNH.S009.0065, \"-\", LIN.1082)\n";
	static const char in[] =
		"UNA:+.? '"
		"UNB+UNOC:3+SND:14+RCV:14+261120:2200+IC1'"
		"UNH+M1+SLSRPT:D:96A:UN'"
		"DTM+137:20261120:102'"
		"LOC+162+S1::9'"
		"LIN+1++E1:EN'QTY+153:3'"
		"LIN+2++E2:EN'QTY+153:1'"
		"LOC+162+S2::9'"
		"LIN+3++E1:EN'QTY+153:2'"
		"UNT+11+M1'UNZ+1+IC1'";

	T_OK(erun(map, in, 1, &c, &e), &e);
	T_EQ_INT(c.records, 3);
	HAS("[start SND RCV IC1]");
	HAS("[end sets=1 ok=1 skipped=0]");
	T_EQ_INT((long)strlen(c.last_sha), 64);
	HAS("\"sku\":\"E1\",\"location\":\"S1\",\"state\":\"on_hand\",\"quantity\":\"-3\"");
	HAS("\"sku\":\"E2\",\"location\":\"S1\"");
	HAS("\"sku\":\"E1\",\"location\":\"S2\",\"state\":\"on_hand\",\"quantity\":\"-2\"");
	HAS("\"txn_id\":\"SND-SND-IC1-M1-SLSRPT-3\"");
	/* the hook skips the interchange, then rejects it at its UNB */
	c.skip = 1;
	c.reject_end = 1;
	T_OK(erun(map, in, 1, &c, &e), &e);
	T_EQ_INT(c.records, 0);
	T_EQ_INT(c.rejects, 1);
	HAS("[end sets=1 ok=1 skipped=1]");
	/* UNA and UNB on line 1: the UNB starts at column 10 */
	HAS("\"_line\":1,\"_col\":10,\"_seg\":1,\"_offset\":9,\"field\":\"UNB05\",\"reason\":\"interchange 1 (IC1) from SND to RCV: seen before with other content\",\"raw\":\"UNB+UNOC:3+SND:14+RCV:14+261120:2200+IC1'\"");
	buf_release(&c.out);
}

static void expect_load_error(const char *text, const char *where,
			      const char *what, int *failed)
{
	struct mapping *m = NULL;
	struct err e = ERR_INIT;
	char msg[1400];

	if (t_write_file("bad.yaml", text)) {
		*failed = 1;
		return;
	}
	if (mapping_load("bad.yaml", &m, &e) == 0) {
		fprintf(stderr, "    compiled, expected %s %s\n", where, what);
		mapping_free(m);
		*failed = 1;
		return;
	}
	err_format(&e, msg, sizeof(msg));
	if (e.code != E_CONFIG || !strstr(msg, where) || !strstr(msg, what)) {
		fprintf(stderr, "    got '%s', want %s ...%s...\n", msg, where, what);
		*failed = 1;
	}
}

#define XH "input: { format: x12 }\nrecords:\n  - kind: item\n    each: LIN\n    fields:\n"
#define FH "input: { format: edifact }\nrecords:\n  - kind: item\n    each: LIN\n    fields:\n"

T_TEST(mapping_edi_compile_errors_at_file_line_col)
{
	int failed = 0;

	expect_load_error(FH "      sku: QTY[C999.01=1].C186.02\n", "bad.yaml:6:12:",
			  "segment QTY has no element C999 (elements: C186:6063,6060,6411)", &failed);
	expect_load_error(FH "      sku: UNB.S002.0009\n", "bad.yaml:6:12:",
			  "component 0009 is not in UNB element 2", &failed);
	expect_load_error(XH "      sku: IEA.02\n", "bad.yaml:6:12:",
			  "IEA comes after the records", &failed);
	expect_load_error(XH "      sku: pair.id\n", "bad.yaml:6:12:",
			  "pair.id needs explode:", &failed);
	expect_load_error(XH "      sku: parent(HL[03=S]).TD5.05\n", "bad.yaml:6:12:",
			  "needs a record with each: HL", &failed);
	expect_load_error(XH "      sku: LIN.C212\n", "bad.yaml:6:12:",
			  "X12 paths use positions", &failed);
	expect_load_error(XH "      sku: 'concat(\"a\", N1[01=].02)'\n", "bad.yaml:6:",
			  "a condition needs a value", &failed);
	expect_load_error(FH "      sku: UNH.S009.01 | concat(ISA.06)\n", "bad.yaml:6:",
			  "ISA is an X12 segment; this mapping reads edifact", &failed);
	expect_load_error("input: { format: x12 }\nrecords:\n  - kind: item\n    each: ST\n    until: [CTT]\n    fields:\n      sku: ST.02\n",
			  "bad.yaml:5:12:", "until: closes loops", &failed);
	expect_load_error("input: { format: x12 }\nrecords:\n  - kind: item\n    each: LIN\n    explode: SDQ.pairs(x)\n    fields:\n      sku: ST.02\n",
			  "bad.yaml:5:14:", "SDQ.pairs(NN)", &failed);
	expect_load_error("input: { format: csv }\nrecords:\n  - kind: item\n    until: [CTT]\n    fields:\n      sku: col(1)\n",
			  "bad.yaml:4:5:", "unknown key 'until' in a record", &failed);
	expect_load_error("input: { format: x12, message: INVRPT }\nrecords: []\n",
			  "bad.yaml:1:", "unknown key 'message' in input", &failed);
	T_ASSERT(!failed);
}

T_TEST(mapping_edi_documents_that_fail_whole)
{
	struct ecollect c = {BUF_INIT(1 << 16), 0, 0, 0, 0, 0, 0, "", 0, 0, 0};
	struct err e = ERR_INIT;

	T_EQ_INT(erun(x12_map, "UNA:+.? 'UNB+UNOC:3+S+R+261120:2200+1'UNZ+0+1'", 0, &c, &e), -1);
	T_EQ_INT(e.code, E_PARSE);
	T_ASSERT(strstr(e.reason, "this is an edifact file, but the mapping reads x12") != NULL);
	err_clear(&e);
	T_EQ_INT(erun(x12_map, "ISA*00*garbage without any terminator at all", 0, &c, &e), -1);
	T_EQ_INT(e.code, E_PARSE);
	T_ASSERT(strstr(e.reason, "no readable interchange: unreadable ISA") != NULL);
	err_clear(&e);
	buf_release(&c.out);
}

/* Found by tests/fuzz/fuzz_map.c (corpus map/regress-edifact-released-
 * unb): a segment whose tag is spelled with the release character
 * ("?UNB") reads as UNB, but the reader opens no interchange for it. It
 * must not start a second interchange at the sink (two starts, one end)
 * nor replace the open interchange's header. */
T_TEST(mapping_edi_released_unb_is_not_an_interchange)
{
	struct ecollect c = {BUF_INIT(1 << 20), 0, 0, 0, 0, 0, 0, "", 0, 0, 0};
	struct err e = ERR_INIT;
	static const char map[] =
		"input: { format: edifact, message: SLSRPT }\n"
		"context:\n  d: DTM[C507.01=137].C507.02\n"
		"records:\n  - kind: stock\n    each: LIN\n    fields:\n"
		"      sku: LIN.C212.7140\n      location: S1\n"
		"      state: on_hand\n      mode: delta\n"
		"      quantity: QTY[C186.01=153].C186.02 | decimal\n"
		"      as_of: $d | date(\"%Y%m%d\")\n"
		"      txn_id: concat(UNB.0020, \"-\", LIN.1082)\n";
	static const char in[] =
		"UNA:+.? '"
		"UNB+UNOC:3+SND:14+RCV:14+261120:2200+IC1'"
		"UNH+M1+SLSRPT:D:96A:UN'"
		"DTM+137:20261120:102'"
		"?UNB+UNOC:3+X:14+Y:14+261120:2200+IC2'"
		"LIN+1++E1:EN'QTY+153:3'"
		"UNT+5+M1'UNZ+1+IC1'";

	T_OK(erun(map, in, 1, &c, &e), &e);
	T_EQ_INT(c.starts, 1);
	T_EQ_INT(c.ends, 1);
	HAS("[start SND RCV IC1]");
	HASNT("[start X");
	HAS("\"txn_id\":\"IC1-1\"");
	buf_release(&c.out);
}

/* child(), sibling() and parent() over EDIFACT LIN sub-lines (C829.1082
 * names the parent line) and X12 HL levels: a line reads its sub-lines,
 * a sub-line its parent and its sibling sub-lines; a top-level line has
 * no siblings; the search for children stops at the next top-level line. */
T_TEST(mapping_edi_related_loops)
{
	struct ecollect c = {BUF_INIT(1 << 20), 0, 0, 0, 0, 0, 0, "", 0, 0, 0};
	struct err e = ERR_INIT;
	static const char map[] =
		"input: { format: edifact, message: PRICAT }\n"
		"records:\n  - kind: item\n    each: LIN\n    fields:\n"
		"      sku: LIN.C212.7140\n"
		"      pack_size: child(LIN).QTY[C186.01=59].C186.02 | default(1)\n"
		"      description: concat(\"p=\", parent(LIN).LIN.C212.7140, \" s=\", sibling(LIN).LIN.C212.7140, \" c2=\", child(LIN[C212.7143=UP]).LIN.C212.7140)\n"
		"      txn_id: LIN.1082\n";
	static const char in[] =
		"UNB+UNOC:3+S:14+R:14+261120:0700+IC1'\n"
		"UNH+1+PRICAT:D:96A:UN:EAN008'\n"
		"LIN+1++A:EN'\nQTY+59:1'\n"
		"LIN+2++B:EN+1:1'\nQTY+59:6'\n"
		"LIN+3++C:UP+1:1'\nQTY+59:8'\n"
		"LIN+4++D:EN'\n"
		"LIN+5++E:EN+1:1'\nQTY+59:99'\n"
		"UNT+11+1'\nUNZ+1+IC1'\n";

	T_OK(erun(map, in, 0, &c, &e), &e);
	T_EQ_INT(c.records, 5);
	/* A's own QTY is not its child's; E (after the top-level D) is
	 * no child of A, though it names A as its parent. */
	HAS("\"sku\":\"A\",\"description\":\"p= s= c2=C\",\"base_uom\":\"EA\",\"pack_size\":\"6\"");
	HAS("\"sku\":\"B\",\"description\":\"p=A s=C c2=\"");
	HAS("\"sku\":\"C\",\"description\":\"p=A s=B c2=\"");
	HAS("\"sku\":\"D\",\"description\":\"p= s= c2=\",\"base_uom\":\"EA\",\"pack_size\":\"1\"");
	HAS("\"sku\":\"E\",\"description\":\"p=A s=B c2=\"");

	static const char xmap[] =
		"input: { format: x12, transaction: \"856\" }\n"
		"records:\n  - kind: item\n    each: HL[03=O]\n    fields:\n"
		"      sku: PRF.01\n"
		"      description: concat(child(HL[03=I]).LIN[02=UP].03, \"/\", sibling(HL).PRF.01)\n";
	static const char xin[] =
		ISA("000000009")
		"GS*SH*SENDER*RECEIVER*20261120*0600*9*X*005010~\n"
		"ST*856*1~\nHL*1**S~\n"
		"HL*2*1*O~\nPRF*PO1~\nHL*3*2*P~\nHL*4*3*I~\nLIN**UP*111~\n"
		"HL*5*1*O~\nPRF*PO2~\n"
		"SE*10*1~\nGE*1*9~\nIEA*1*000000009~\n";

	T_OK(erun(xmap, xin, 0, &c, &e), &e);
	T_EQ_INT(c.records, 2);
	/* child() is a direct child: the item under the pack is not found */
	HAS("\"sku\":\"PO1\",\"description\":\"/PO2\"");
	HAS("\"sku\":\"PO2\",\"description\":\"/PO1\"");
	buf_release(&c.out);
}

T_TEST(mapping_edi_related_loops_compile_errors)
{
	int failed = 0;

	expect_load_error(FH "      sku: child(QTY).QTY.01\n", "bad.yaml:6:12:",
			  "child() follows the CPS hierarchy or the LIN sub-lines (C829): child(LIN)", &failed);
	expect_load_error(FH "      sku: sibling(CPS).QTY.01\n", "bad.yaml:6:12:",
			  "sibling(CPS...) needs a record with each: CPS (the loop whose siblings are followed)", &failed);
	expect_load_error(FH "      sku: child(LIN)\n", "bad.yaml:6:12:",
			  "child(...) is followed by a path: child(LIN).QTY[C186.01=59].C186.02", &failed);
	expect_load_error(XH "      sku: child(LIN).QTY.01\n", "bad.yaml:6:12:",
			  "child() follows the HL hierarchy (HL01 id, HL02 parent): child(HL[03=S])", &failed);
	T_ASSERT(!failed);
}

/* ------------------------------------------------------------------ */
/* Compiled path reads against the general ones                         */

#include <dirent.h>
#include <sys/stat.h>

#include "transforms/mapping/mapping_edi_int.h"

/* Maps input with mapping file mf with the compiled reads and the
 * memo of parts fixed per context, without the compiled reads
 * (map_edi_compiled = 0: every path by the general rules) and without
 * the memo (map_memo_on = 0: every part evaluated per record), and
 * compares everything that comes out: records, rejects with their
 * locations and reasons, the interchange hooks, the return code and the
 * error. Returns 1 when all runs agree, 0 when not (a message says
 * which file), and counts the records compared. */
static int compiled_same(const char *mf, const char *input,
			 unsigned long *nrec)
{
	struct ecollect c[3];
	const char *base = strrchr(input, '/');
	int rc[3], k, same;
	struct err e[3];

	for (k = 0; k < 3; k++) {
		struct mapping *m = NULL;
		struct mapping_sink sink = {e_rec, e_rej, &c[k], e_ic, NULL, 0};
		struct mapping_doc doc = {"src", base ? base + 1 : input, input,
					  "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210",
					  NULL};

		memset(&c[k], 0, sizeof(c[k]));
		buf_init(&c[k].out, 64u << 20);
		err_clear(&e[k]);
		if (mapping_load(mf, &m, &e[k])) {
			int j;

			printf("  %s: %s\n", mf, e[k].reason);
			for (j = 0; j <= k; j++)
				buf_release(&c[j].out);
			return 0;
		}
		map_edi_compiled = k != 1;
		map_memo_on = k != 2;
		rc[k] = mapping_run(m, &doc, &sink, NULL, &e[k]);
		map_edi_compiled = 1;
		map_memo_on = 1;
		mapping_free(m);
	}
	same = 1;
	for (k = 1; k < 3; k++)
		if (rc[0] != rc[k] || c[0].out.len != c[k].out.len ||
		    (c[0].out.len &&
		     memcmp(c[0].out.ptr, c[k].out.ptr, c[0].out.len)) ||
		    strcmp(e[0].reason, e[k].reason)) {
			printf("  %s differ: %s on %s\n",
			       k == 1 ? "compiled and general reads"
				      : "runs with and without the memo",
			       mf, input);
			same = 0;
		}
	/* the sink never fails: -1 is the document's own failure */
	if (rc[0] && !e[0].reason[0]) {
		printf("  no reason for the failure of %s on %s\n", mf, input);
		same = 0;
	}
	*nrec += c[0].records + c[0].rejects;
	for (k = 0; k < 3; k++)
		buf_release(&c[k].out);
	return same;
}

/* Regular files under dir (recursively) into paths (at most max). */
static size_t edi_files(const char *dir, char (*paths)[512], size_t n,
			size_t max)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return n;
	while ((de = readdir(d)) && n < max) {
		char p[512];
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(p, sizeof(p), "%s/%s", dir, de->d_name) >=
		    sizeof(p)) {
			printf("  path too long, not compared: %s/%s\n", dir,
			       de->d_name);
			continue;
		}
		if (stat(p, &st))
			continue;
		if (S_ISDIR(st.st_mode))
			n = edi_files(p, paths, n, max);
		else if (S_ISREG(st.st_mode))
			snprintf(paths[n++], sizeof(paths[0]), "%s", p);
	}
	closedir(d);
	return n;
}

/* Every shipped EDI mapping (mappings/edi) and a mapping of the shapes
 * the shipped ones do not use (occurrence [N], a header path in the
 * context, pairs with a qualifier, a repeated element read whole and
 * cut), on the samples (samples/edi), the fuzz seeds (tests/corpus) and the real-world
 * corpus (../shared/data, when present): the compiled reads give what
 * the general ones give, byte for byte. */
T_TEST(mapping_edi_compiled_reads_match_general)
{
	static char inputs[600][512];
	static const char shapes[] =
		"input: { format: x12, transaction: \"852\" }\n"
		"context:\n"
		"  period: XQ.03\n"
		"records:\n"
		"  - kind: stock\n"
		"    each: LIN\n"
		"    until: [CTT]\n"
		"    fields:\n"
		"      sku: LIN[02=VN].03 | default(none)\n"
		"      location: concat(N9[01=IA].02, \"-\", SDQ[2].03, \"-\", ZA[2].01)\n"
		"      state: on_hand\n"
		"      quantity: SDQ.04 | decimal | default(0)\n"
		"      as_of: '$period | date(\"%Y%m%d\")'\n"
		"      uom: SDQ.01 | default(EA)\n"
		"      txn_id: concat(ISA.13, GS.06, ST.02, LIN.03, REF.02, XQ.02)\n";
	const char *src = getenv("STOCKPIPE_SRCDIR");
	char dir[512], mf[800];
	size_t nin = 0, i, nmap = 0, nshared;
	unsigned long nrec = 0;
	DIR *d;
	struct dirent *de;

	if (!src)
		src = ".";
	snprintf(dir, sizeof(dir), "%s/samples/edi", src);
	nin = edi_files(dir, inputs, nin, 600);
	snprintf(dir, sizeof(dir), "%s/tests/corpus/map", src);
	nin = edi_files(dir, inputs, nin, 600);
	snprintf(dir, sizeof(dir), "%s/tests/corpus/x12", src);
	nin = edi_files(dir, inputs, nin, 600);
	snprintf(dir, sizeof(dir), "%s/tests/corpus/edifact", src);
	nin = edi_files(dir, inputs, nin, 600);
	nshared = nin;
	snprintf(dir, sizeof(dir), "%s/../shared/data/x12", src);
	nin = edi_files(dir, inputs, nin, 600);
	snprintf(dir, sizeof(dir), "%s/../shared/data/edifact", src);
	nin = edi_files(dir, inputs, nin, 600);
	T_ASSERT(nshared > 5);
	snprintf(dir, sizeof(dir), "%s/mappings/edi", src);
	T_ASSERT((d = opendir(dir)) != NULL);
	if (!d)
		return;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);

		if (l < 6 || strcmp(de->d_name + l - 5, ".yaml"))
			continue;
		T_ASSERT((size_t)snprintf(mf, sizeof(mf), "%s/%s", dir,
					  de->d_name) < sizeof(mf));
		nmap++;
		for (i = 0; i < nin; i++)
			T_ASSERT(compiled_same(mf, inputs[i], &nrec));
	}
	closedir(d);
	T_ASSERT(nmap >= 5);
	T_ASSERT(t_write_file("shapes.yaml", shapes) == 0);
	for (i = 0; i < nin; i++)
		T_ASSERT(compiled_same("shapes.yaml", inputs[i], &nrec));
	/* the comparison saw records, not only failed documents */
	T_ASSERT(nrec > 50);
	printf("  %zu mappings + shapes x %zu inputs (%zu from ../shared/data), "
	       "%lu records and rejects compared\n",
	       nmap, nin, nin - nshared, nrec);
}

/* The memo of parts fixed per context (expr_mark_memo): the txn_id's
 * concat() prefix and a header field are kept per set, anchor and
 * free-segment prefix. Two sets of one interchange with other control
 * numbers and header stores, a second interchange whose set has the
 * first one's control number, and a loop with its own N1 (that record
 * reads it, the next reads the header's again) each get their own
 * values; a fixed part that fails rejects every record that reads it. */
T_TEST(mapping_edi_memo_per_set_and_interchange)
{
	struct ecollect c = {BUF_INIT(1 << 20), 0, 0, 0, 0, 0, 0, "", 0, 0, 0};
	struct err e = ERR_INIT;
	static const char map[] =
		"input: { format: x12, transaction: \"852\" }\n"
		"records:\n"
		"  - kind: stock\n"
		"    each: LIN\n"
		"    until: [CTT]\n"
		"    fields:\n"
		"      sku: LIN.03\n"
		"      location: N1[01=ST].04 | lower\n"
		"      state: on_hand\n"
		"      quantity: ZA.02 | decimal\n"
		"      as_of: '\"2026-11-20\" | date'\n"
		"      txn_id: concat(ISA.13, \"/\", GS.06, \"/\", ST.02, \"/\", N1[01=ST].04, \"/\", LIN.03)\n";
	static const char bad[] =
		"input: { format: x12, transaction: \"852\" }\n"
		"records:\n"
		"  - kind: stock\n"
		"    each: LIN\n"
		"    until: [CTT]\n"
		"    fields:\n"
		"      sku: LIN.03\n"
		"      location: S\n"
		"      state: on_hand\n"
		"      quantity: N1[01=ST].04 | decimal\n"
		"      as_of: '\"2026-11-20\" | date'\n";
	static const char in[] =
		ISA("000000007")
		"GS*PD*SENDER*RECEIVER*20261120*0600*77*X*005010~\n"
		"ST*852*0001~\n"
		"N1*ST*Store*92*S1~\n"
		"LIN*1*VN*A~\n"
		"ZA*QA*5~\n"
		"LIN*2*VN*B~\n"
		"N1*ST*Other*92*S9~\n"
		"ZA*QA*6~\n"
		"LIN*3*VN*C~\n"
		"ZA*QA*7~\n"
		"CTT*3~\n"
		"SE*11*0001~\n"
		"ST*852*0002~\n"
		"N1*ST*Store*92*S2~\n"
		"LIN*1*VN*D~\n"
		"ZA*QA*8~\n"
		"CTT*1~\n"
		"SE*6*0002~\n"
		"GE*2*77~\n"
		"IEA*1*000000007~\n"
		ISA("000000008")
		"GS*PD*SENDER*RECEIVER*20261120*0600*78*X*005010~\n"
		"ST*852*0001~\n"
		"N1*ST*Store*92*S1~\n"
		"LIN*1*VN*E~\n"
		"ZA*QA*9~\n"
		"CTT*1~\n"
		"SE*6*0001~\n"
		"GE*1*78~\n"
		"IEA*1*000000008~\n";

	T_OK(erun(map, in, 0, &c, &e), &e);
	T_EQ_INT(c.records, 5);
	T_EQ_INT(c.rejects, 0);
	HAS("\"sku\":\"A\",\"location\":\"s1\"");
	HAS("\"txn_id\":\"000000007/77/0001/S1/A\"");
	/* the loop's own N1, then the header's again */
	HAS("\"sku\":\"B\",\"location\":\"s9\"");
	HAS("\"txn_id\":\"000000007/77/0001/S9/B\"");
	HAS("\"sku\":\"C\",\"location\":\"s1\"");
	HAS("\"txn_id\":\"000000007/77/0001/S1/C\"");
	/* the next set of the interchange */
	HAS("\"sku\":\"D\",\"location\":\"s2\"");
	HAS("\"txn_id\":\"000000007/77/0002/S2/D\"");
	/* the next interchange, with the first set's control number */
	HAS("\"sku\":\"E\",\"location\":\"s1\"");
	HAS("\"txn_id\":\"000000008/78/0001/S1/E\"");
	/* not a number, once per record, each at the header's N1 */
	T_OK(erun(bad, in, 0, &c, &e), &e);
	T_EQ_INT(c.records, 0);
	T_EQ_INT(c.rejects, 5);
	HAS("\"reason\":\"field 'quantity': not a number: 'S9'\"");
	T_ASSERT(strstr(c.out.ptr, "not a number: 'S1'") !=
		 strrchr(c.out.ptr, '\n')); /* more than one S1 reject */
	buf_release(&c.out);
}

/* A header segment between two loops (until: N1 ends a loop there)
 * starts a new context: the second loop reads the new one. And EDIFACT:
 * two messages of one interchange, then a second interchange, each
 * with its own UNB/UNH numbers in the txn_id prefix. */
T_TEST(mapping_edi_memo_new_header_and_edifact_messages)
{
	struct ecollect c = {BUF_INIT(1 << 20), 0, 0, 0, 0, 0, 0, "", 0, 0, 0};
	struct err e = ERR_INIT;
	static const char xmap[] =
		"input: { format: x12, transaction: \"852\" }\n"
		"records:\n"
		"  - kind: stock\n"
		"    each: LIN\n"
		"    until: [CTT, N1]\n"
		"    fields:\n"
		"      sku: LIN.03\n"
		"      location: N1[01=ST].04 | lower\n"
		"      state: on_hand\n"
		"      quantity: ZA.02 | decimal\n"
		"      as_of: '\"2026-11-20\" | date'\n"
		"      txn_id: concat(ST.02, \"/\", N1[01=ST].04, \"/\", LIN.03)\n";
	static const char xin[] =
		ISA("000000007")
		"GS*PD*SENDER*RECEIVER*20261120*0600*77*X*005010~\n"
		"ST*852*0001~\n"
		"N1*ST*Store*92*S1~\n"
		"LIN*1*VN*A~\n"
		"ZA*QA*5~\n"
		"N1*ST*Store*92*S2~\n"
		"LIN*2*VN*B~\n"
		"ZA*QA*6~\n"
		"CTT*2~\n"
		"SE*9*0001~\n"
		"GE*1*77~\n"
		"IEA*1*000000007~\n";
	static const char fmap[] =
		"input: { format: edifact, message: INVRPT }\n"
		"records:\n  - kind: stock\n    each: LIN\n    fields:\n"
		"      sku: LIN.C212.7140\n"
		"      location: NAD[01=SU].C082.3039 | upper\n"
		"      state: on_hand\n"
		"      quantity: QTY[C186.01=145].C186.02 | decimal\n"
		"      as_of: '\"2026-11-20\" | date'\n"
		"      txn_id: concat(UNB.S002.0004, \"-\", UNB.0020, \"-\", UNH.0062, \"-\", LIN.1082)\n";
	static const char fin[] =
		"UNA:+.? '"
		"UNB+UNOC:3+SND:14+RCV:14+261120:2200+IC1'"
		"UNH+M1+INVRPT:D:96A:UN'"
		"NAD+SU+g1::9'"
		"LIN+1++E1:EN'QTY+145:3'"
		"LIN+2++E2:EN'QTY+145:4'"
		"UNT+7+M1'"
		"UNH+M2+INVRPT:D:96A:UN'"
		"NAD+SU+g2::9'"
		"LIN+1++E3:EN'QTY+145:5'"
		"UNT+5+M2'"
		"UNZ+2+IC1'"
		"UNB+UNOC:3+SND2:14+RCV:14+261120:2200+IC2'"
		"UNH+M1+INVRPT:D:96A:UN'"
		"NAD+SU+g1::9'"
		"LIN+1++E4:EN'QTY+145:6'"
		"UNT+5+M1'"
		"UNZ+1+IC2'";

	T_OK(erun(xmap, xin, 0, &c, &e), &e);
	T_EQ_INT(c.records, 2);
	HAS("\"sku\":\"A\",\"location\":\"s1\"");
	HAS("\"txn_id\":\"0001/S1/A\"");
	HAS("\"sku\":\"B\",\"location\":\"s2\"");
	HAS("\"txn_id\":\"0001/S2/B\"");
	T_OK(erun(fmap, fin, 0, &c, &e), &e);
	T_EQ_INT(c.records, 4);
	T_EQ_INT(c.rejects, 0);
	HAS("\"sku\":\"E1\",\"location\":\"G1\"");
	HAS("\"txn_id\":\"SND-IC1-M1-1\"");
	HAS("\"sku\":\"E2\",\"location\":\"G1\"");
	HAS("\"txn_id\":\"SND-IC1-M1-2\"");
	HAS("\"sku\":\"E3\",\"location\":\"G2\"");
	HAS("\"txn_id\":\"SND-IC1-M2-1\"");
	HAS("\"sku\":\"E4\",\"location\":\"G1\"");
	HAS("\"txn_id\":\"SND2-IC2-M1-1\"");
	buf_release(&c.out);
}

/* While the reader has read no NUL byte, every record keeps each
 * value's length (run->nul_free; validation then marks plain values and
 * the JSON line copies them); a file with a NUL byte anywhere maps its
 * values as C strings, cut at the NUL, as before: the same bytes
 * either way. */
T_TEST(mapping_edi_value_lengths_kept_until_a_nul_byte)
{
	struct ecollect c = {BUF_INIT(1 << 20), 0, 0, 0, 0, 0, 0, "", 0, 0, 0};
	struct err e = ERR_INIT;
	static const char map[] =
		"input: { format: x12, transaction: \"852\" }\n"
		"records:\n"
		"  - kind: stock\n"
		"    each: LIN\n"
		"    fields:\n"
		"      sku: LIN[02=VN].03 | required\n"
		"      location: N1[01=ST].04\n"
		"      state: on_hand\n"
		"      quantity: ZA.02 | decimal\n"
		"      as_of: '\"2026-11-20\" | date'\n"
		"      txn_id: concat(ISA.06, \"/\", ST.02, \"/\", LIN.01)\n";
	static const char in[] =
		ISA("000000007")
		"GS*PD*SENDER*RECEIVER*20261120*0600*77*X*005010~\n"
		"ST*852*0001~\n"
		"N1*ST*Store*92*S42~\n"
		"LIN*1*VN*V-1X~\n"
		"ZA*QA*5~\n"
		"LIN*2*VN*V-2X~\n"
		"ZA*QA*6~\n"
		"SE*7*0001~\n"
		"GE*1*77~\n"
		"IEA*1*000000007~\n";
	char nul[sizeof(in)];
	char *p;

	T_OK(erun(map, in, 0, &c, &e), &e);
	T_EQ_INT(c.records, 2);
	T_EQ_INT(c.len_known, 2);
	T_EQ_INT(c.where_known, 2);
	T_EQ_INT(c.where_bad, 0);
	HAS("\"sku\":\"V-1X\",\"location\":\"S42\",\"state\":\"on_hand\","
	    "\"quantity\":\"5\",\"mode\":\"snapshot\"");
	HAS("\"txn_id\":\"SENDER/0001/2\"");
	/* the second SKU V-2<NUL>: both records are C strings now */
	memcpy(nul, in, sizeof(in));
	p = strstr(nul, "V-2X");
	T_ASSERT(p != NULL);
	p[3] = '\0';
	T_OK(erun_n(map, nul, sizeof(in) - 1, 0, &c, &e), &e);
	T_EQ_INT(c.records, 2);
	T_EQ_INT(c.rejects, 0);
	T_EQ_INT(c.len_known, 0);
	HAS("\"sku\":\"V-1X\",\"location\":\"S42\"");
	HAS("\"sku\":\"V-2\",\"location\":\"S42\"");
	buf_release(&c.out);
}

/* The _where text comes with its length and plain mark (set_where):
 * right for control numbers that need a JSON escape and for those that
 * do not, across sets and segment numbers that grow by more than one. */
T_TEST(mapping_edi_where_lengths_match_the_text)
{
	struct ecollect c = {BUF_INIT(1 << 20), 0, 0, 0, 0, 0, 0, "", 0, 0, 0};
	struct err e = ERR_INIT;
	static const char map[] =
		"input: { format: x12, transaction: \"852\" }\n"
		"records:\n"
		"  - kind: stock\n"
		"    each: LIN\n"
		"    fields:\n"
		"      sku: LIN[02=VN].03 | required\n"
		"      location: L\n"
		"      state: on_hand\n"
		"      quantity: ZA.02 | decimal\n"
		"      as_of: '\"2026-11-20\" | date'\n"
		"      txn_id: concat(ST.02, \"/\", LIN.01)\n";
	static const char in[] =
		ISA("00000\"\\07")
		"GS*PD*SENDER*RECEIVER*20261120*0600*77*X*005010~\n"
		"ST*852*0001~\n"
		"LIN*1*VN*V-1~\n"
		"ZA*QA*5~\n"
		"ZA*QS*1~\n"
		"LIN*2*VN*V-2~\n"
		"ZA*QA*6~\n"
		"SE*7*0001~\n"
		"ST*852*00\"2~\n"
		"LIN*3*VN*V-3~\n"
		"ZA*QA*7~\n"
		"SE*4*00\"2~\n"
		"ST*852*0003~\n"
		"LIN*4*VN*V-4~\n"
		"ZA*QA*8~\n"
		"SE*4*0003~\n"
		"GE*3*77~\n"
		"IEA*1*00000\"\\07~\n";

	T_OK(erun(map, in, 0, &c, &e), &e);
	T_EQ_INT(c.records, 4);
	T_EQ_INT(c.where_known, 4);
	T_EQ_INT(c.where_bad, 0);
	HAS("\"_where\":\"ic 00000\\\"\\\\07 set 0001 LIN#5\"");
	HAS("\"_where\":\"ic 00000\\\"\\\\07 set 00\\\"2 LIN#2\"");
	HAS("\"_where\":\"ic 00000\\\"\\\\07 set 0003 LIN#2\"");
	buf_release(&c.out);
}
