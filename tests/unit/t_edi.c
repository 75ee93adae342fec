/* t_edi.c - edi.h's own functions, beside the readers (t_x12_reader,
 * t_edifact_reader) and the block scan (t_edi_scan): segment access on a
 * hand-built segment (absent vs empty values, repeats, components,
 * embedded NUL, out-of-range positions), the sniffer's less common
 * shapes, format and issue names at their bounds, an issue as a line and
 * as a struct err (file, segment number, field), and the charset table. */
#include <string.h>

#include "lib/err.h"
#include "transforms/formats/edi.h"
#include "t.h"

/* PO1 + "A\0B" + CA:12^EA + "" : element 2 has two repeats, the first
 * with two components; element 3 is present but empty. */
static const char seg_data[] = "PO1\0A\0B\0CA\0" "12\0EA\0";
static const struct edi_tok seg_tok[] = {
	{0, 3, 0, 1, 1},  /* PO1 */
	{4, 3, 1, 1, 1},  /* A\0B */
	{8, 2, 2, 1, 1},  /* CA */
	{11, 2, 2, 1, 2}, /* 12 */
	{14, 2, 2, 2, 1}, /* EA */
	{16, 0, 3, 1, 1}, /* "" (the final NUL of seg_data) */
};
static const uint32_t seg_first[] = {0, 1, 2, 5, 6};

static void make_seg(struct edi_seg *s)
{
	memset(s, 0, sizeof(*s));
	strcpy(s->tag, "PO1");
	s->data = seg_data;
	s->tok = seg_tok;
	s->ntok = 6;
	s->elem_first = seg_first;
	s->nelem = 3;
}

T_TEST(edi_seg_values_repeats_components)
{
	struct edi_seg s;
	size_t len = 0;
	const char *v;

	make_seg(&s);
	T_EQ_STR(edi_seg_value(&s, 0, 1, 1), "PO1");
	T_EQ_STR(edi_seg_value(&s, 2, 1, 1), "CA");
	T_EQ_STR(edi_seg_value(&s, 2, 1, 2), "12");
	T_EQ_STR(edi_seg_value(&s, 2, 2, 1), "EA");
	/* present but empty is "", absent is NULL */
	T_EQ_STR(edi_seg_value(&s, 3, 1, 1), "");
	T_ASSERT(edi_seg_value(&s, 2, 2, 2) == NULL);
	T_ASSERT(edi_seg_value(&s, 2, 3, 1) == NULL);
	T_ASSERT(edi_seg_value(&s, 4, 1, 1) == NULL);
	T_ASSERT(edi_seg_value(&s, 1, 0, 1) == NULL); /* 1-based */
	T_ASSERT(edi_seg_value(&s, 1, 1, 0) == NULL);
	T_ASSERT(edi_seg_value(NULL, 1, 1, 1) == NULL);
	/* the length carries a NUL that came from the file */
	v = edi_seg_value_len(&s, 1, 1, 1, &len);
	T_ASSERT(v != NULL);
	T_EQ_INT(len, 3);
	T_ASSERT(!memcmp(v, "A\0B", 3));
	v = edi_seg_value_len(&s, 3, 1, 1, &len);
	T_ASSERT(v != NULL);
	T_EQ_INT(len, 0);
	len = 99;
	T_ASSERT(edi_seg_value_len(&s, 9, 1, 1, &len) == NULL);
	T_EQ_INT(len, 99); /* untouched when absent */
	/* edi_seg_str: component 1 of repeat 1, "" when absent */
	T_EQ_STR(edi_seg_str(&s, 2), "CA");
	T_EQ_STR(edi_seg_str(&s, 3), "");
	T_EQ_STR(edi_seg_str(&s, 7), "");
}

T_TEST(edi_seg_counts)
{
	struct edi_seg s;

	make_seg(&s);
	T_EQ_INT(edi_seg_nrep(&s, 0), 1);
	T_EQ_INT(edi_seg_nrep(&s, 1), 1);
	T_EQ_INT(edi_seg_nrep(&s, 2), 2);
	T_EQ_INT(edi_seg_nrep(&s, 3), 1);
	T_EQ_INT(edi_seg_nrep(&s, 4), 0);
	T_EQ_INT(edi_seg_nrep(NULL, 1), 0);
	T_EQ_INT(edi_seg_ncomp(&s, 2, 1), 2);
	T_EQ_INT(edi_seg_ncomp(&s, 2, 2), 1);
	T_EQ_INT(edi_seg_ncomp(&s, 2, 3), 0);
	T_EQ_INT(edi_seg_ncomp(&s, 3, 1), 1);
	T_EQ_INT(edi_seg_ncomp(&s, 4, 1), 0);
	T_EQ_INT(edi_seg_ncomp(NULL, 1, 1), 0);
}

static int sniff(const char *s, size_t n)
{
	return edi_sniff((const unsigned char *)s, n);
}

T_TEST(edi_sniff_shapes)
{
	static const char dxs[] = "DXS*1234567890*DX*004010UCS*1~";
	static const char ebcdic[] = "\xC9\xE2\xC1\x5C";
	static const char junk_isa[] =
		"From: partner\nSubject: stock\n\nISA*00*          *00~";
	static const char junk_unb[] = "hello\nUNB+UNOC:3+X+Y'";
	static const char bare[] = "BGM+380+123'DTM+137:20240101:102'";
	static const char isa_word[] = "Notes\nISAAC said\nno edi here\n";
	static const char csv_uneven[] = "a,b,c\n1,2\n";
	static const char csv_tab[] = "sku\tqty\nA\t1\nB\t2\n";
	static const char bom_only[] = "\xEF\xBB\xBF \r\n";

	T_EQ_INT(sniff(dxs, sizeof(dxs) - 1), EDI_FMT_X12);
	T_EQ_INT(sniff(ebcdic, 4), EDI_FMT_X12);
	T_EQ_INT(sniff(junk_isa, sizeof(junk_isa) - 1), EDI_FMT_X12);
	T_EQ_INT(sniff(junk_unb, sizeof(junk_unb) - 1), EDI_FMT_EDIFACT);
	T_EQ_INT(sniff("UNH+1+INVRPT'", 13), EDI_FMT_EDIFACT);
	T_EQ_INT(sniff(bare, sizeof(bare) - 1), EDI_FMT_EDIFACT);
	/* after junk lines, "ISA" starting a word is no header */
	T_EQ_INT(sniff(isa_word, sizeof(isa_word) - 1), EDI_FMT_UNKNOWN);
	T_EQ_INT(sniff(csv_uneven, sizeof(csv_uneven) - 1), EDI_FMT_UNKNOWN);
	T_EQ_INT(sniff(csv_tab, sizeof(csv_tab) - 1), EDI_FMT_CSV);
	T_EQ_INT(sniff(bom_only, sizeof(bom_only) - 1), EDI_FMT_EMPTY);
	T_EQ_INT(sniff("", 0), EDI_FMT_EMPTY);
	/* a header cut below four bytes is not taken for one */
	T_EQ_INT(sniff("ISA", 3), EDI_FMT_UNKNOWN);
}

T_TEST(edi_names_at_bounds)
{
	T_EQ_STR(edi_format_name(EDI_FMT_X12), "x12");
	T_EQ_STR(edi_format_name(EDI_FMT_EDIFACT), "edifact");
	T_EQ_STR(edi_format_name(EDI_FMT_XML), "xml");
	T_EQ_STR(edi_format_name(EDI_FMT_CSV), "csv");
	T_EQ_STR(edi_format_name(EDI_FMT_EMPTY), "empty");
	T_EQ_STR(edi_format_name(EDI_FMT_UNKNOWN), "unknown");
	T_EQ_STR(edi_format_name(99), "unknown");
	T_EQ_STR(edi_issue_name(EDI_I_BAD_HEADER), "bad-header");
	T_EQ_STR(edi_issue_name(EDI_I_COUNT), "count");
	T_EQ_STR(edi_issue_name(EDI_I_CONTROL), "control");
	T_EQ_STR(edi_issue_name(EDI_I_NOTE), "note");
	T_EQ_STR(edi_issue_name(0), "?");
	T_EQ_STR(edi_issue_name(-1), "?");
	T_EQ_STR(edi_issue_name(EDI_I_NOTE + 1), "?");
}

static void make_issue(struct edi_issue *is)
{
	memset(is, 0, sizeof(*is));
	is->severity = EDI_ERROR;
	is->code = EDI_I_CONTROL;
	is->ic_index = 1;
	strcpy(is->ic_control, "000000049");
	is->seg_in_file = 35;
	is->seg_in_ic = 35;
	strcpy(is->seg_id, "IEA");
	is->elem = 2;
	is->line = 40;
	strcpy(is->reason, "IEA02 '48' does not match ISA13 '000000049'");
}

T_TEST(edi_issue_format_lines)
{
	struct edi_issue is;
	char out[600];

	make_issue(&is);
	edi_issue_format(&is, "in/po.x12", out, sizeof(out));
	T_EQ_STR(out, "in/po.x12: interchange 1 (000000049), segment 35 "
		      "(IEA, #35 in interchange), line 40, element IEA02: "
		      "error: IEA02 '48' does not match ISA13 '000000049'");
	/* inside a set, as a warning, no element, no file */
	is.severity = EDI_WARNING;
	is.seg_in_set = 4;
	strcpy(is.set_control, "0001");
	strcpy(is.seg_id, "PO1");
	is.elem = 0;
	strcpy(is.reason, "x");
	edi_issue_format(&is, NULL, out, sizeof(out));
	T_EQ_STR(out, "-: interchange 1 (000000049), segment 35 (PO1, #35 "
		      "in interchange, #4 in set 0001), line 40: warning: x");
	/* not about a segment */
	memset(&is, 0, sizeof(is));
	is.severity = EDI_ERROR;
	is.code = EDI_I_OUTSIDE;
	strcpy(is.reason, "y");
	edi_issue_format(&is, "f", out, sizeof(out));
	T_EQ_STR(out, "f: interchange 0, between interchanges, line 0: "
		      "error: y");
	is.code = EDI_I_MISSING_TRAILER;
	edi_issue_format(&is, "f", out, sizeof(out));
	T_EQ_STR(out, "f: interchange 0, end of data, line 0: error: y");
	/* a short buffer is cut, still terminated */
	edi_issue_format(&is, "f", out, 5);
	T_EQ_STR(out, "f: i");
}

T_TEST(edi_issue_to_err_fields)
{
	struct edi_issue is;
	struct err e = ERR_INIT;

	make_issue(&is);
	edi_issue_to_err(&is, "in/po.x12", &e);
	T_EQ_INT(e.code, E_PARSE);
	T_EQ_STR(e.file, "in/po.x12");
	T_EQ_INT(e.line, 35);
	T_EQ_STR(e.field, "IEA02");
	T_EQ_STR(e.reason, "interchange 1: IEA02 '48' does not match ISA13 "
			   "'000000049'");
	/* a segment without element: the field is the segment's tag */
	err_clear(&e);
	is.elem = 0;
	edi_issue_to_err(&is, "f", &e);
	T_EQ_STR(e.field, "IEA");
	/* end of data: no segment, no field */
	err_clear(&e);
	is.seg_in_file = 0;
	is.seg_id[0] = 0;
	is.ic_index = 2;
	edi_issue_to_err(&is, "f", &e);
	T_EQ_INT(e.line, 0);
	T_EQ_STR(e.field, "");
	T_ASSERT(!strncmp(e.reason, "interchange 2: ", 15));
}

T_TEST(edi_charset_table)
{
	int u = -1;

	T_EQ_STR(edi_charset_iconv("UNOC", &u), "ISO-8859-1");
	T_EQ_INT(u, 0);
	T_EQ_STR(edi_charset_iconv("UNOY", &u), "UTF-8");
	T_EQ_INT(u, 1);
	T_EQ_STR(edi_charset_iconv("UNOA", &u), "ASCII");
	T_EQ_INT(u, 1); /* bytes >= 0x80 are tried as UTF-8 first */
	T_EQ_STR(edi_charset_iconv("UNOL", &u), "ISO-8859-15");
	T_EQ_INT(u, 0);
	T_EQ_STR(edi_charset_iconv("KECA", &u), "EUC-KR");
	T_EQ_INT(u, 0);
	T_EQ_STR(edi_charset_iconv("UNOW", NULL), "UTF-8"); /* utf8 optional */
	u = 7;
	T_ASSERT(edi_charset_iconv("UNOZ", &u) == NULL);
	T_ASSERT(edi_charset_iconv("unoc", &u) == NULL); /* exact code */
	T_ASSERT(edi_charset_iconv("", &u) == NULL);
	T_ASSERT(edi_charset_iconv(NULL, &u) == NULL);
	T_EQ_INT(u, 7); /* untouched for an unknown one */
}
