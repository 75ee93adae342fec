/* t_x12_reader.c - the X12 reader on small inline samples: delimiter
 * rules, repetition, several interchanges, BOM, wrapped lines, counts and
 * control numbers, error isolation, truncation, the segment bound. */
#include "lib/io.h"
#include "t_edi.h"

/* A 106-byte ISA with the given separators and version. */
static void isa(char *o, size_t n, char es, char rep, const char *ver,
		const char *ctl, char comp, char term)
{
	snprintf(o, n,
		 "ISA%c00%c          %c00%c          %cZZ%cSENDER         %cZZ%c"
		 "RECEIVER       %c240131%c1100%c%c%c%s%c%s%c0%cP%c%c%c",
		 es, es, es, es, es, es, es, es, es, es, es, rep, es, ver, es,
		 ctl, es, es, es, comp, term);
}

/* ISA + GS + one 846 per control in sets[] + GE + IEA, counts right. */
static void ic846(char *o, size_t n, const char *ctl, const char *const *sets,
		  int nsets)
{
	char h[200];
	size_t l;
	int i;

	isa(h, sizeof(h), '*', 'U', "00401", ctl, '>', '~');
	l = (size_t)snprintf(o, n, "%s\nGS*IB*SND*RCV*20240131*1100*7*X*004010~\n",
			     h);
	for (i = 0; i < nsets; i++)
		l += (size_t)snprintf(o + l, n - l,
				      "ST*846*%s~BIA*00*SI*R1*20240131~"
				      "LIN**UP*012345678905~QTY*33*12*EA~"
				      "SE*5*%s~\n",
				      sets[i], sets[i]);
	snprintf(o + l, n - l, "GE*%d*7~IEA*1*%s~\n", nsets, ctl);
}

static char seen[4096];

static void probe_values(const struct edi_event *ev, struct t_edi_sum *s)
{
	const struct edi_seg *g = ev->seg;
	size_t l = strlen(seen);

	(void)s;
	if (!strcmp(g->tag, "LIN") || !strcmp(g->tag, "QTY") ||
	    !strcmp(g->tag, "REF") || !strcmp(g->tag, "N1"))
		snprintf(seen + l, sizeof(seen) - l, "%s[%u]:%s|%s|%s|%u|%u;",
			 g->tag, g->nelem,
			 edi_seg_value(g, 1, 1, 1) ? edi_seg_value(g, 1, 1, 1)
						   : "(null)",
			 edi_seg_value(g, 2, 1, 2) ? edi_seg_value(g, 2, 1, 2)
						   : "(null)",
			 edi_seg_value(g, 2, 2, 1) ? edi_seg_value(g, 2, 2, 1)
						   : "(null)",
			 edi_seg_nrep(g, 2), edi_seg_ncomp(g, 2, 1));
}

T_TEST(x12_valid_846_envelope_values)
{
	char f[4096];
	const char *sets[] = {"0001", "0002"};
	struct t_edi_sum s;

	ic846(f, sizeof(f), "000000042", sets, 2);
	T_EDI_RUN(f, EDI_FMT_X12, &s);
	T_EQ_INT(s.rc, 0);
	T_EQ_INT(s.nerr, 0);
	T_EQ_INT(s.nic, 1);
	T_EQ_INT(s.ngroups, 1);
	T_EQ_INT(s.nsets, 2);
	T_EQ_STR(s.types, "846x2");
	T_EQ_STR(s.ok_sets, "0001 0002");
	T_EQ_INT(s.ic_ok, 1);
	T_EQ_INT(s.groups_ok, 1);
	T_EQ_STR(s.last_ic.ic_sender, "SENDER");
	T_EQ_STR(s.last_ic.ic_receiver, "RECEIVER");
	T_EQ_STR(s.last_ic.ic_sender_qual, "ZZ");
	T_EQ_STR(s.last_ic.ic_control, "000000042");
	T_EQ_STR(s.last_ic.ic_version, "00401");
	T_EQ_STR(s.last_ic.ic_date, "240131");
	T_EQ_INT(s.delims[0].elem, '*');
	T_EQ_INT(s.delims[0].comp, '>');
	T_EQ_INT(s.delims[0].rep, -1);
	T_EQ_INT(s.delims[0].seg, '~');
	T_EQ_INT(strlen(s.sha[0]), 64);
}

T_TEST(x12_interchange_sha256_covers_its_bytes)
{
	char f[4096], hex[SHA256_HEX_LEN];
	const char *sets[] = {"0001"};
	struct t_edi_sum s;
	const char *end;

	ic846(f, sizeof(f), "000000042", sets, 1);
	T_EDI_RUN(f, EDI_FMT_X12, &s);
	/* From "ISA" to the IEA's terminator, as in the file. */
	end = strstr(f, "IEA*1*000000042~") + strlen("IEA*1*000000042~");
	T_ASSERT(sha256_hex_of(f, (size_t)(end - f), hex, NULL) == 0);
	T_EQ_STR(s.sha[0], hex);
}

T_TEST(x12_delimiters_from_isa_and_components)
{
	char h[200], f[4096];
	struct t_edi_sum s;

	/* '|' elements, '^' repetition (00501), ':' components, '\n' as
	 * terminator (CR/LF after a terminator ignored). */
	isa(h, sizeof(h), '|', '^', "00501", "000000001", ':', '\n');
	snprintf(f, sizeof(f),
		 "%sGS|IB|S|R|20240131|1100|1|X|005010\r\nST|846|1\n"
		 "LIN||UP:A^VN:B|x\nQTY|33|5\nN1|ST|Store 7\nSE|5|1\n"
		 "GE|1|1\nIEA|1|000000001\n",
		 h);
	seen[0] = '\0';
	t_edi_probe = probe_values;
	T_EDI_RUN(f, EDI_FMT_X12, &s);
	t_edi_probe = NULL;
	T_EQ_INT(s.nerr, 0);
	T_EQ_INT(s.delims[0].elem, '|');
	T_EQ_INT(s.delims[0].rep, '^');
	T_EQ_INT(s.delims[0].comp, ':');
	T_EQ_INT(s.delims[0].seg, '\n');
	/* LIN02 = "UP:A" ^ "VN:B": two repeats, two components each;
	 * LIN01 empty; absent values are NULL. */
	T_EQ_STR(seen, "LIN[3]:|A|VN|2|2;QTY[2]:33|(null)|(null)|1|1;"
		       "N1[2]:ST|(null)|(null)|1|1;");
}

T_TEST(x12_isa11_is_standards_id_before_00402)
{
	char h[200], f[2048];
	struct t_edi_sum s;

	/* 00401 with '^' in ISA11: not a repetition separator; '^' stays
	 * data. */
	isa(h, sizeof(h), '*', '^', "00401", "000000001", '>', '~');
	snprintf(f, sizeof(f),
		 "%sGS*IB*S*R*20240131*1100*1*X*004010~ST*846*1~"
		 "REF*ZZ*A^B~SE*3*1~GE*1*1~IEA*1*000000001~",
		 h);
	seen[0] = '\0';
	t_edi_probe = probe_values;
	T_EDI_RUN(f, EDI_FMT_X12, &s);
	t_edi_probe = NULL;
	T_EQ_INT(s.nerr, 0);
	T_EQ_INT(s.delims[0].rep, -1);
	T_EQ_STR(seen, "REF[2]:ZZ|(null)|(null)|1|1;");
	/* 00403 with 'U': a warning, no repetition separator. */
	isa(h, sizeof(h), '*', 'U', "00403", "000000001", '>', '~');
	snprintf(f, sizeof(f),
		 "%sGS*IB*S*R*20240131*1100*1*X*004010~ST*846*1~SE*2*1~"
		 "GE*1*1~IEA*1*000000001~",
		 h);
	T_EDI_RUN(f, EDI_FMT_X12, &s);
	T_EQ_INT(s.nerr, 0);
	T_EQ_INT(s.nwarn, 1);
	T_EQ_INT(s.first_warn.code, EDI_I_NOTE);
	T_EQ_INT(s.first_warn.elem, 11);
	T_EQ_INT(s.delims[0].rep, -1);
}

T_TEST(x12_two_interchanges_different_delimiters_bom)
{
	char h1[200], h2[200], f[4096];
	struct t_edi_sum s;

	isa(h1, sizeof(h1), '*', 'U', "00401", "000000001", '>', '~');
	isa(h2, sizeof(h2), '+', '^', "00501", "000000002", ':', '\'');
	snprintf(f, sizeof(f),
		 "\xEF\xBB\xBF  \n%s\nGS*IB*S*R*20240131*1100*1*X*004010~\n"
		 "ST*846*1~QTY*33*1~SE*3*1~\nGE*1*1~\nIEA*1*000000001~\n\n"
		 "%s\r\nGS+IB+S+R+20240131+1100+2+X+005010'\r\n"
		 "ST+852+9'ZA+QA+5:EA'SE+3+9'GE+1+2'IEA+1+000000002'\r\n",
		 h1, h2);
	T_EDI_RUN(f, EDI_FMT_X12, &s);
	T_EQ_INT(s.nerr, 0);
	T_EQ_INT(s.nic, 2);
	T_EQ_STR(s.types, "846x1,852x1");
	T_EQ_INT(s.delims[0].elem, '*');
	T_EQ_INT(s.delims[1].elem, '+');
	T_EQ_INT(s.delims[1].comp, ':');
	T_EQ_INT(s.delims[1].rep, '^');
	T_EQ_INT(s.delims[1].seg, '\'');
	T_EQ_INT(s.ic_ok, 2);
	T_ASSERT(strcmp(s.sha[0], s.sha[1]) != 0);
}

T_TEST(x12_wrapped_lines_and_wrapped_isa)
{
	char h[200], f[4096];
	struct t_edi_sum s;
	size_t l;

	isa(h, sizeof(h), '*', 'U', "00401", "000000001", '>', '~');
	/* Break the ISA after 50 bytes and the data every 30. */
	l = (size_t)snprintf(f, sizeof(f), "%.50s\n%s", h, h + 50);
	snprintf(f + l, sizeof(f) - l,
		 "GS*IB*S*R*20240131*1100*1*X*00\n4010~ST*846*1~QTY*33*1\r\n2*EA~"
		 "SE*3*1~GE*1*1~IEA*1*000000001~");
	seen[0] = '\0';
	t_edi_probe = probe_values;
	T_EDI_RUN(f, EDI_FMT_X12, &s);
	t_edi_probe = NULL;
	T_EQ_INT(s.nerr, 0);
	T_EQ_INT(s.nsets, 1);
	T_EQ_STR(seen, "QTY[3]:33|(null)|(null)|1|1;");
	T_ASSERT(strstr(s.codes, "wrapped") != NULL);
}

T_TEST(x12_bad_counts_and_controls)
{
	char h[200], f[4096];
	struct t_edi_sum s;

	isa(h, sizeof(h), '*', 'U', "00401", "000000001", '>', '~');
	snprintf(f, sizeof(f),
		 "%sGS*IB*S*R*20240131*1100*5*X*004010~ST*846*1~QTY*33*1~"
		 "SE*4*2~GE*2*6~IEA*3*000000009~",
		 h);
	T_EDI_RUN(f, EDI_FMT_X12, &s);
	T_EQ_INT(s.rc, 0);
	T_EQ_STR(s.codes, "count control count control count control");
	T_EQ_INT(s.first_err.code, EDI_I_COUNT);
	T_EQ_INT(s.first_err.elem, 1);
	T_EQ_STR(s.first_err.seg_id, "SE");
	T_EQ_INT(s.first_err.seg_in_file, 5);
	T_EQ_INT(s.first_err.seg_in_set, 3);
	T_EQ_STR(s.first_err.set_control, "1");
	T_EQ_STR(s.bad_sets, "1");
	T_EQ_INT(s.ic_bad, 1);
	T_EQ_INT(s.groups_bad, 1);
	/* Zero padding only: a warning. */
	snprintf(f, sizeof(f),
		 "%sGS*IB*S*R*20240131*1100*5*X*004010~ST*846*1~SE*2*0001~"
		 "GE*1*005~IEA*1*1~",
		 h);
	T_EDI_RUN(f, EDI_FMT_X12, &s);
	T_EQ_INT(s.nerr, 0);
	T_EQ_STR(s.codes, "padding padding padding");
}

T_TEST(x12_broken_set_isolated_good_sibling_delivered)
{
	char h[200], f[4096];
	struct t_edi_sum s;

	isa(h, sizeof(h), '*', 'U', "00401", "000000001", '>', '~');
	/* Set 1 good; set 2 says 9 segments; set 3 has no SE; set 4 good. */
	snprintf(f, sizeof(f),
		 "%sGS*IB*S*R*20240131*1100*5*X*004010~"
		 "ST*846*0001~QTY*33*1~SE*3*0001~"
		 "ST*846*0002~QTY*33*1~SE*9*0002~"
		 "ST*846*0003~QTY*33*1~"
		 "ST*846*0004~QTY*33*1~SE*3*0004~"
		 "GE*4*5~IEA*1*000000001~",
		 h);
	T_EDI_RUN(f, EDI_FMT_X12, &s);
	T_EQ_INT(s.nsets, 4);
	T_EQ_STR(s.ok_sets, "0001 0004");
	T_EQ_STR(s.bad_sets, "0002 0003");
	T_EQ_STR(s.codes, "count missing-trailer");
	T_EQ_INT(s.ic_bad, 1);
}

T_TEST(x12_truncated_and_garbage)
{
	char h[200], f[2048], g[8192];
	struct t_edi_sum s;
	size_t n, cut;

	isa(h, sizeof(h), '*', 'U', "00401", "000000001", '>', '~');
	n = (size_t)snprintf(f, sizeof(f),
			     "%sGS*IB*S*R*20240131*1100*5*X*004010~ST*846*1~"
			     "QTY*33*1~SE*3*1~GE*1*5~IEA*1*000000001~",
			     h);
	/* Cut anywhere: never fails, never loops, always some error
	 * unless only the final terminator is missing. */
	for (cut = 0; cut < n; cut++) {
		T_ASSERT(t_edi_run_mem(f, cut, EDI_FMT_X12, NULL, &s) == 0);
		T_EQ_INT(s.rc, 0);
		if (cut == n - 1)
			T_EQ_INT(s.nerr, 0); /* IEA without '~': warning */
		else
			T_ASSERT(s.nerr > 0);
	}
	T_ASSERT(t_edi_run_mem(f, n - 30, EDI_FMT_X12, NULL, &s) == 0);
	T_ASSERT(strstr(s.codes, "missing-trailer") != NULL);
	/* Junk before and between interchanges: resynchronised. */
	snprintf(g, sizeof(g), "hello\x01\x02 junk\n%s\n\x7f\xff garbage text\n%s",
		 f, f);
	T_EDI_RUN(g, EDI_FMT_X12, &s);
	T_EQ_INT(s.nic, 2);
	T_EQ_INT(s.ic_ok, 2);
	T_EQ_STR(s.codes, "outside outside");
	T_EQ_INT(s.first_err.ic_index, 0);
	/* Nothing readable at all. */
	T_ASSERT(t_edi_run_mem("\x00\x01\x02 no edi here", 16, EDI_FMT_X12,
			       NULL, &s) == 0);
	T_EQ_INT(s.nic, 0);
	T_ASSERT(strstr(s.codes, "no-interchange") != NULL);
}

T_TEST(x12_bad_isa_variants)
{
	char h[200], f[2048];
	struct t_edi_sum s;

	/* Terminator is a letter: unreadable, skipped. */
	isa(h, sizeof(h), '*', 'U', "00401", "000000001", '>', 'G');
	snprintf(f, sizeof(f), "%sS*IB~", h);
	T_EDI_RUN(f, EDI_FMT_X12, &s);
	T_EQ_INT(s.nic, 1);
	T_EQ_INT(s.first_err.code, EDI_I_BAD_HEADER);
	T_ASSERT(strstr(s.codes, "unreadable") != NULL);
	/* ISA16 missing: '~' ends the ISA and every line. */
	isa(h, sizeof(h), '*', 'U', "00401", "000000001", '~', '\n');
	snprintf(f, sizeof(f),
		 "%sGS*IB*S*R*20240131*1100*5*X*004010~\nST*846*1~\n"
		 "QTY*33*1~\nSE*3*1~\nGE*1*5~\nIEA*1*000000001~\n",
		 h);
	T_EDI_RUN(f, EDI_FMT_X12, &s);
	T_EQ_STR(s.codes, "bad-header");
	T_EQ_INT(s.first_err.elem, 16);
	T_EQ_INT(s.first_err.seg_in_file, 1);
	T_EQ_INT(s.delims[0].seg, '~');
	T_EQ_INT(s.delims[0].comp, -1);
	T_EQ_INT(s.nsets, 1);
}

T_TEST(x12_segment_length_bound)
{
	char h[200], f[8192];
	struct t_edi_sum s;
	struct edi_opts o = {300, 0};
	size_t l;

	isa(h, sizeof(h), '*', 'U', "00401", "000000001", '>', '~');
	l = (size_t)snprintf(f, sizeof(f),
			     "%sGS*IB*S*R*20240131*1100*5*X*004010~ST*846*1~"
			     "MSG*",
			     h);
	memset(f + l, 'x', 400);
	snprintf(f + l + 400, sizeof(f) - l - 400, "~SE*3*1~GE*1*5~IEA*1*1~");
	T_ASSERT(t_edi_run_mem(f, strlen(f), EDI_FMT_X12, &o, &s) == 0);
	T_EQ_INT(s.rc, -1);
	T_EQ_INT(s.err.code, E_TOOBIG);
	T_ASSERT(strstr(s.err.reason, "segment 4 (MSG)") != NULL);
	/* The same file within a larger bound is fine. */
	o.max_segment = 1024;
	T_ASSERT(t_edi_run_mem(f, strlen(f), EDI_FMT_X12, &o, &s) == 0);
	T_EQ_INT(s.rc, 0);
	T_EQ_INT(s.nerr, 0);
}

T_TEST(x12_sniff)
{
	T_EQ_INT(edi_sniff((const unsigned char *)"\xEF\xBB\xBF ISA*00", 10),
		 EDI_FMT_X12);
	T_EQ_INT(edi_sniff((const unsigned char *)"UNA:+.? 'UNB", 12),
		 EDI_FMT_EDIFACT);
	T_EQ_INT(edi_sniff((const unsigned char *)"<?xml version", 13),
		 EDI_FMT_XML);
	T_EQ_INT(edi_sniff((const unsigned char *)"a;b;c\n1;2;3\n", 12),
		 EDI_FMT_CSV);
	T_EQ_INT(edi_sniff((const unsigned char *)" \n\t", 3), EDI_FMT_EMPTY);
	T_EQ_INT(edi_sniff((const unsigned char *)"hello world", 11),
		 EDI_FMT_UNKNOWN);
}

/* A NUL byte read anywhere sets nul_seen, which the mapping trusts to
 * take each value's length as its strlen (mapping_edi_run.c): clean
 * input leaves it 0; a NUL inside a value, one between segments and
 * one in the third 64 KiB read (core_fill checks every read, not the
 * first) each set it. */
T_TEST(x12_nul_seen_only_after_a_nul_byte)
{
	const char *sets[] = {"0001", "0002"};
	char f[4096], *big, *p;
	struct t_edi_sum s;
	size_t l, n, i;

	ic846(f, sizeof(f), "000000042", sets, 2);
	l = strlen(f);
	T_EDI_RUN(f, EDI_FMT_X12, &s);
	T_EQ_INT(s.rc, 0);
	T_EQ_INT(s.nul_seen, 0);
	/* inside the first LIN's product code */
	p = strstr(f, "012345678905");
	T_ASSERT(p != NULL);
	p[3] = '\0';
	T_ASSERT(t_edi_run_mem(f, l, EDI_FMT_X12, NULL, &s) == 0);
	T_EQ_INT(s.rc, 0);
	T_EQ_INT(s.nul_seen, 1);
	p[3] = '3';
	/* between segments (junk the reader skips) */
	p = strstr(f, "GE*");
	T_ASSERT(p != NULL);
	memmove(p + 1, p, strlen(p) + 1);
	*p = '\0';
	T_ASSERT(t_edi_run_mem(f, l + 1, EDI_FMT_X12, NULL, &s) == 0);
	T_EQ_INT(s.nul_seen, 1);
	/* 3 000 sets (about 180 KB): the NUL in the last one */
	n = 3000 * 80 + 400;
	big = malloc(n);
	T_ASSERT(big != NULL);
	isa(f, sizeof(f), '*', 'U', "00401", "000000043", '>', '~');
	l = (size_t)snprintf(big, n, "%sGS*IB*SND*RCV*20240131*1100*7*X*"
			     "004010~\n", f);
	for (i = 0; i < 3000; i++)
		l += (size_t)snprintf(big + l, n - l,
				      "ST*846*%04zu~LIN**UP*012345678905~"
				      "QTY*33*12*EA~SE*4*%04zu~\n", i, i);
	l += (size_t)snprintf(big + l, n - l, "GE*3000*7~IEA*1*000000043~\n");
	T_ASSERT(l > 2 * 64 * 1024 && l < n);
	T_ASSERT(t_edi_run_mem(big, l, EDI_FMT_X12, NULL, &s) == 0);
	T_EQ_INT(s.rc, 0);
	T_EQ_INT(s.nsets, 3000);
	T_EQ_INT(s.nerr, 0);
	T_EQ_INT(s.nul_seen, 0);
	p = strstr(big + l - 200, "012345678905");
	T_ASSERT(p != NULL);
	p[5] = '\0';
	T_ASSERT(t_edi_run_mem(big, l, EDI_FMT_X12, NULL, &s) == 0);
	T_EQ_INT(s.nsets, 3000);
	T_EQ_INT(s.nul_seen, 1);
	free(big);
}

static void probe_lines(const struct edi_event *ev, struct t_edi_sum *s)
{
	size_t l = strlen(seen);

	(void)s;
	snprintf(seen + l, sizeof(seen) - l, "%s:%lu ", ev->seg->tag,
		 ev->seg->line);
}

/* The physical line of each segment whatever comes between segments:
 * nothing, one LF (core_skip_ws_inline's fast case), CRLF, blank lines,
 * a blank before the LF, a NUL; the last segments without a newline. */
T_TEST(x12_segment_lines_across_separators)
{
	char h[200], f[2048];
	struct t_edi_sum s;
	size_t l;

	isa(h, sizeof(h), '*', 'U', "00401", "000000042", '>', '~');
	snprintf(f, sizeof(f),
		 "%s\nGS*IB*SND*RCV*20240131*1100*7*X*004010~\n"
		 "ST*846*0001~BIA*00*SI*R1*20240131~\n\n"
		 "LIN**UP*012345678905~\r\nQTY*33*12*EA~ \n"
		 "SE*5*0001~\n\n\nGE*1*7~IEA*1*000000042~",
		 h);
	seen[0] = '\0';
	t_edi_probe = probe_lines;
	T_EDI_RUN(f, EDI_FMT_X12, &s);
	t_edi_probe = NULL;
	T_EQ_INT(s.rc, 0);
	T_EQ_INT(s.nerr, 0);
	T_EQ_STR(seen, "ISA:1 GS:2 ST:3 BIA:3 LIN:5 QTY:6 SE:7 GE:10 IEA:10 ");
	/* a NUL between segments: junk, the lines still counted */
	l = (size_t)snprintf(f, sizeof(f),
		 "%s\nGS*IB*SND*RCV*20240131*1100*7*X*004010~\n"
		 "ST*846*0001~\n%cBIA*00*SI*R1*20240131~\n"
		 "LIN**UP*012345678905~\nQTY*33*12*EA~\n"
		 "SE*5*0001~\nGE*1*7~\nIEA*1*000000042~\n",
		 h, 1);
	*strchr(f, '\1') = '\0';
	seen[0] = '\0';
	t_edi_probe = probe_lines;
	T_ASSERT(l < sizeof(f));
	T_ASSERT(t_edi_run_mem(f, l, EDI_FMT_X12, NULL, &s) == 0);
	t_edi_probe = NULL;
	T_EQ_STR(seen, "ISA:1 GS:2 ST:3 BIA:4 LIN:5 QTY:6 SE:7 GE:8 IEA:9 ");
}
