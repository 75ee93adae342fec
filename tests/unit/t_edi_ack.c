/* t_edi_ack.c - acknowledgments from the mapping driver's verdicts: an
 * X12 999 for a group with a missing SE and a wrong GE01 (IK3 code 3,
 * IK5*R*2, AK9 with code 5), an unsupported set (AK5*R*1), the DEX
 * envelope and skipped interchanges unacknowledged, an EDIFACT CONTRL with
 * a UNG group (UCF) and an unsupported message type (UCM 4+14), release
 * characters in values, control number range and file names. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "transforms/formats/edi_ack.h"
#include "transforms/mapping/mapping.h"
#include "t.h"

static int a_rec(void *ud, const struct canon_record *r, struct err *err)
{
	(void)ud, (void)r, (void)err;
	return 0;
}

static int a_rej(void *ud, const struct mapping_reject *rj, struct err *err)
{
	(void)ud, (void)rj, (void)err;
	return 0;
}

static int a_skip(void *ud, int phase, const struct mapping_interchange *ic,
		  char *why, size_t whyn, struct err *err)
{
	(void)ud, (void)ic, (void)why, (void)whyn, (void)err;
	return phase == MAPPING_IC_START;
}

/* Maps input through mapping_text collecting verdicts into c. */
static int arun(const char *mapping_text, const char *input, int skip,
		struct edi_ack_coll *c, struct err *e)
{
	struct mapping *m = NULL;
	struct mapping_sink sink = {a_rec, a_rej, NULL, skip ? a_skip : NULL, NULL, 0};
	struct mapping_doc doc = {"src", "in.edi", "in.edi",
				  "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210", NULL};
	int rc;

	if (t_write_file("m.yaml", mapping_text) || t_write_file("in.edi", input))
		return -1;
	if (mapping_load("m.yaml", &m, e))
		return -1;
	rc = mapping_run_verdicts(m, &doc, &sink, edi_ack_verdict, c, NULL, e);
	mapping_free(m);
	return rc;
}

static const char x12_map[] =
	"input: { format: x12, transaction: \"852\" }\n"
	"records:\n"
	"  - kind: stock\n"
	"    each: LIN\n"
	"    fields:\n"
	"      sku: LIN.03 | required\n"
	"      location: '\"L1\"'\n"
	"      state: '\"on_hand\"'\n"
	"      quantity: ZA.02 | decimal\n"
	"      as_of: '\"2026-11-20\" | date'\n";

#define HAS(s) T_ASSERT(strstr(b.ptr, (s)) != NULL)

T_TEST(edi_ack_x12_999_missing_trailer_unsupported_group_count)
{
	struct edi_ack_coll *c = NULL;
	struct err e = ERR_INIT;
	struct buf b = BUF_INIT(1 << 20);
	struct edi_ack_key k;
	char name[128];
	static const char in[] =
		"ISA*00*          *00*          *01*SEND/ER        *ZZ*RECEIVER       *261120*0600*^*00501*000000009*0*T*>~\n"
		"GS*PD*APPSEND*APPRECV*20261120*0600*91*X*005010~\n"
		"ST*852*0001~\n"
		"LIN**UP*A~\n"
		"ZA*QA*1*EA~\n"
		"SE*4*0001~\n"
		"ST*846*0002~\n"
		"LIN**UP*B~\n"
		"SE*3*0002~\n"
		"ST*852*0003~\n"
		"LIN**UP*C~\n"
		"GE*4*91~\n"
		"IEA*1*000000009~\n";

	T_OK(edi_ack_new(&c, EDI_ACK_X12_AUTO, 1, &e), &e);
	T_OK(arun(x12_map, in, 0, c, &e), &e);
	T_EQ_INT(edi_ack_count(c), 1);
	edi_ack_key(c, 0, &k);
	T_EQ_STR(k.type, "999");
	T_EQ_STR(k.group, "91");
	T_EQ_STR(k.control, "000000009");
	T_EQ_STR(k.counter, "x12:ZZ:RECEIVER:01:SEND/ER");
	T_EQ_INT(k.sets, 3);
	T_EQ_INT(k.accepted, 1);
	T_ASSERT(edi_ack_render(c, 0, 0, 0, &b, name, sizeof(name), &e) < 0);
	T_ASSERT(edi_ack_render(c, 0, 1000000000, 0, &b, name, sizeof(name), &e) < 0);
	err_clear(&e);
	T_OK(edi_ack_render(c, 0, 42, 1795154400, &b, name, sizeof(name), &e), &e);
	T_EQ_STR(name, "999_SEND_ER_000000042.x12");
	/* reversed, usage T kept; '/' is '_' in the file name */
	HAS("ISA*00*          *00*          *ZZ*RECEIVER       *01*SEND/ER        *261120*0600*^*00501*000000042*0*T*>~\n");
	HAS("GS*FA*APPRECV*APPSEND*20261120*0600*42*X*005010~\n");
	HAS("ST*999*0001*005010X231A1~\nAK1*PD*91*005010~\n");
	HAS("AK2*852*0001~\nIK5*A~\n");
	HAS("AK2*846*0002~\nIK5*R*1~\n");
	HAS("AK2*852*0003~\nIK3*SE*3**3~\nIK5*R*2~\n");
	HAS("AK9*P*3*3*1*5~\n");
	HAS("SE*11*0001~\nGE*1*42~\nIEA*1*000000042~\n");
	edi_ack_free(c);

	/* 997 forced; a skipped (duplicate) interchange gets nothing */
	T_OK(edi_ack_new(&c, EDI_ACK_997, 1, &e), &e);
	T_OK(arun(x12_map, in, 1, c, &e), &e);
	T_EQ_INT(edi_ack_count(c), 0);
	edi_ack_free(c);
	T_OK(edi_ack_new(&c, EDI_ACK_X12_NONE, 1, &e), &e);
	T_OK(arun(x12_map, in, 0, c, &e), &e);
	T_EQ_INT(edi_ack_count(c), 0);
	edi_ack_free(c);
	buf_release(&b);
}

static const char ef_map[] =
	"input: { format: edifact, message: INVRPT }\n"
	"records:\n"
	"  - kind: stock\n"
	"    each: LIN\n"
	"    fields:\n"
	"      sku: LIN.03 | required\n"
	"      location: '\"L1\"'\n"
	"      state: '\"on_hand\"'\n"
	"      quantity: QTY.C186.02 | decimal\n"
	"      as_of: '\"2026-11-20\" | date'\n";

T_TEST(edi_ack_edifact_contrl_groups_unsupported_release)
{
	struct edi_ack_coll *c = NULL;
	struct err e = ERR_INIT;
	struct buf b = BUF_INIT(1 << 20);
	struct edi_ack_key k;
	char name[128];
	static const char in[] =
		"UNB+UNOC:4+SEND?+ER:14+RECV:ZZZ+20261120:0600+IC?'7'\n"
		"UNG+INVRPT+GS+GR+261120:0600+G1+UN+D:96A'\n"
		"UNH+M1+INVRPT:D:96A:UN'\n"
		"LIN+1++A:SRS'\n"
		"QTY+145:3'\n"
		"UNT+4+M1'\n"
		"UNH+M2+PRICAT:D:96A:UN'\n"
		"UNT+2+M2'\n"
		"UNE+2+G1'\n"
		"UNZ+1+IC?'7'\n";

	T_OK(edi_ack_new(&c, EDI_ACK_X12_AUTO, 1, &e), &e);
	T_OK(arun(ef_map, in, 0, c, &e), &e);
	T_EQ_INT(edi_ack_count(c), 1);
	edi_ack_key(c, 0, &k);
	T_EQ_STR(k.type, "CONTRL");
	T_EQ_STR(k.group, "");
	T_EQ_STR(k.control, "IC'7");
	T_EQ_INT(k.accepted, 1);
	T_OK(edi_ack_render(c, 0, 5, 1795154400, &b, name, sizeof(name), &e), &e);
	T_EQ_STR(name, "CONTRL_SEND_ER_000000005.edi");
	HAS("UNB+UNOC:4+RECV:ZZZ+SEND?+ER:14+20261120:0600+5'\n");
	HAS("UNH+1+CONTRL:4:1:UN'\n");
	HAS("UCI+IC?'7+SEND?+ER:14+RECV:ZZZ+7'\n");
	HAS("UCF+G1+GS+GR+7'\n");
	HAS("UCM+M1+INVRPT:D:96A:UN+7'\n");
	HAS("UCM+M2+PRICAT:D:96A:UN+4+14+UNH+0065'\n");
	HAS("UNT+6+1'\nUNZ+1+5'\n");
	edi_ack_free(c);
	/* edifact: none */
	T_OK(edi_ack_new(&c, EDI_ACK_X12_AUTO, 0, &e), &e);
	T_OK(arun(ef_map, in, 0, c, &e), &e);
	T_EQ_INT(edi_ack_count(c), 0);
	edi_ack_free(c);
	buf_release(&b);
}
