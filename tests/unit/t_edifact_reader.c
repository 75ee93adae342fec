/* t_edifact_reader.c - the EDIFACT reader on small inline samples: UNA
 * and defaults, release characters, syntax-4 repetition, charsets,
 * several interchanges, wrapped lines, counts and references, error
 * isolation, truncation, the segment bound. */
#include "t_edi.h"

static char seen[4096];

/* Records QTY/LIN/FTX/NAD/IMD values: e1c1|e1c2|e2r1c1|e2r2c1|nrep(2). */
static void probe(const struct edi_event *ev, struct t_edi_sum *s)
{
	const struct edi_seg *g = ev->seg;
	size_t l = strlen(seen);
	const char *v[4];
	int i;

	(void)s;
	if (strcmp(g->tag, "QTY") && strcmp(g->tag, "FTX") &&
	    strcmp(g->tag, "NAD") && strcmp(g->tag, "IMD") &&
	    strcmp(g->tag, "LIN"))
		return;
	v[0] = edi_seg_value(g, 1, 1, 1);
	v[1] = edi_seg_value(g, 1, 1, 2);
	v[2] = edi_seg_value(g, 2, 1, 1);
	v[3] = edi_seg_value(g, 2, 2, 1);
	snprintf(seen + l, sizeof(seen) - l, "%s:", g->tag);
	for (i = 0; i < 4; i++) {
		l = strlen(seen);
		snprintf(seen + l, sizeof(seen) - l, "%s|",
			 v[i] ? v[i] : "(null)");
	}
	l = strlen(seen);
	snprintf(seen + l, sizeof(seen) - l, "%u;", edi_seg_nrep(g, 2));
}

static int run_probe(const char *f, struct t_edi_sum *s)
{
	int rc;

	seen[0] = '\0';
	t_edi_probe = probe;
	rc = t_edi_run_mem(f, strlen(f), EDI_FMT_EDIFACT, NULL, s);
	t_edi_probe = NULL;
	return rc;
}

#define INVRPT(ref)                                                       \
	"UNH+" ref "+INVRPT:D:96A:UN:EAN008'BGM+35+" ref "+9'"            \
	"DTM+137:20240131:102'LIN+1++4000862141404:SRS'QTY+145:12'"       \
	"UNT+6+" ref "'"

T_TEST(edifact_valid_invrpt_defaults_no_una)
{
	struct t_edi_sum s;

	T_ASSERT(run_probe("UNB+UNOC:3+5412345678908:14+8712345678906:14+"
			   "240131:1100+IC0001'\r\n" INVRPT("M1") "\r\n"
			   INVRPT("M2") "UNZ+2+IC0001'\r\n",
			   &s) == 0);
	T_EQ_INT(s.rc, 0);
	T_EQ_INT(s.nerr, 0);
	T_EQ_INT(s.nwarn, 0);
	T_EQ_INT(s.nic, 1);
	T_EQ_INT(s.nsets, 2);
	T_EQ_STR(s.types, "INVRPTx2");
	T_EQ_STR(s.ok_sets, "M1 M2");
	T_EQ_STR(s.last_ic.ic_sender, "5412345678908");
	T_EQ_STR(s.last_ic.ic_sender_qual, "14");
	T_EQ_STR(s.last_ic.ic_receiver, "8712345678906");
	T_EQ_STR(s.last_ic.ic_control, "IC0001");
	T_EQ_STR(s.last_ic.charset, "UNOC");
	T_EQ_STR(s.last_ic.syntax_version, "3");
	T_EQ_STR(s.last_ic.ic_date, "240131");
	T_EQ_STR(s.last_ic.ic_time, "1100");
	T_EQ_INT(s.last_ic.una, 0);
	T_EQ_INT(s.delims[0].elem, '+');
	T_EQ_INT(s.delims[0].comp, ':');
	T_EQ_INT(s.delims[0].seg, '\'');
	T_EQ_INT(s.delims[0].rel, '?');
	T_EQ_INT(s.delims[0].rep, -1);
	T_EQ_STR(seen, "LIN:1|(null)||(null)|1;"
		       "QTY:145|12|(null)|(null)|0;"
		       "LIN:1|(null)||(null)|1;"
		       "QTY:145|12|(null)|(null)|0;");
	T_EQ_INT(strlen(s.sha[0]), 64);
}

T_TEST(edifact_una_and_release_characters)
{
	struct t_edi_sum s;

	/* UNA with = * , ! and ~; then escapes of every delimiter. */
	T_ASSERT(run_probe("UNA=*,! ~UNB*UNOA=3*S*R*240131=1100*7~"
			   "UNH*1*INVRPT=D=96A=UN~"
			   "FTX*AAA*a!~b!*c!=d!!e*f~QTY*145=1,5~UNT*4*1~"
			   "UNZ*1*7~",
			   &s) == 0);
	T_EQ_INT(s.nerr, 0);
	T_EQ_INT(s.delims[0].elem, '*');
	T_EQ_INT(s.delims[0].comp, '=');
	T_EQ_INT(s.delims[0].dec, ',');
	T_EQ_INT(s.delims[0].rel, '!');
	T_EQ_INT(s.delims[0].seg, '~');
	T_EQ_INT(s.last_ic.una, 1);
	T_EQ_STR(seen, "FTX:AAA|(null)|a~b*c=d!e|(null)|1;"
		       "QTY:145|1,5|(null)|(null)|0;");
	/* Default release '?': ?' ?+ ?: ?? */
	T_ASSERT(run_probe("UNB+UNOA:3+S+R+240131:1100+7'UNH+1+ORDERS:D:96A:UN'"
			   "FTX+AAA+it?'s 1?+1?:2 ?" "?'UNT+3+1'UNZ+1+7'",
			   &s) == 0);
	T_EQ_INT(s.nerr, 0);
	T_EQ_STR(seen, "FTX:AAA|(null)|it's 1+1:2 ?|(null)|1;");
}

T_TEST(edifact_syntax4_repetition)
{
	struct t_edi_sum s;

	/* Syntax 4 without UNA: '*' repeats. */
	T_ASSERT(run_probe("UNB+UNOC:4+S+R+20240131:1100+9'UNH+1+INVRPT:D:01B:UN'"
			   "NAD+SU+A*B:x'UNT+3+1'UNZ+1+9'",
			   &s) == 0);
	T_EQ_INT(s.nerr, 0);
	T_EQ_INT(s.delims[0].rep, '*');
	T_EQ_STR(seen, "NAD:SU|(null)|A|B|2;");
	/* Syntax 3: '*' is data. */
	T_ASSERT(run_probe("UNB+UNOC:3+S+R+20240131:1100+9'UNH+1+INVRPT:D:01B:UN'"
			   "NAD+SU+A*B:x'UNT+3+1'UNZ+1+9'",
			   &s) == 0);
	T_EQ_INT(s.delims[0].rep, -1);
	T_EQ_STR(seen, "NAD:SU|(null)|A*B|(null)|1;");
	/* Syntax 4 with UNA repetition '^'. */
	T_ASSERT(run_probe("UNA:+.?^'UNB+UNOC:4+S+R+20240131:1100+9'"
			   "UNH+1+INVRPT:D:01B:UN'NAD+SU+A^B*C'UNT+3+1'"
			   "UNZ+1+9'",
			   &s) == 0);
	T_EQ_INT(s.delims[0].rep, '^');
	T_EQ_STR(seen, "NAD:SU|(null)|A|B*C|2;");
}

T_TEST(edifact_charsets_to_utf8)
{
	struct t_edi_sum s;

	/* UNOC (Latin-1) 0xE9 -> U+00E9; UNOE (ISO 8859-5) 0xB0 -> U+0410. */
	T_ASSERT(run_probe("UNB+UNOC:3+S+R+240131:1100+1'UNH+1+INVRPT:D:96A:UN'"
			   "IMD+F+Caf\xe9'UNT+3+1'UNZ+1+1'",
			   &s) == 0);
	T_EQ_INT(s.nerr, 0);
	T_EQ_INT(s.nwarn, 0);
	T_EQ_STR(seen, "IMD:F|(null)|Caf\xc3\xa9|(null)|1;");
	T_ASSERT(run_probe("UNB+UNOE:3+S+R+240131:1100+1'UNH+1+INVRPT:D:96A:UN'"
			   "IMD+F+\xb0\xb1'UNT+3+1'UNZ+1+1'",
			   &s) == 0);
	T_EQ_INT(s.nerr, 0);
	T_EQ_STR(seen, "IMD:F|(null)|\xd0\x90\xd0\x91|(null)|1;");
	/* UNOA with UTF-8 inside: kept, one warning. */
	T_ASSERT(run_probe("UNB+UNOA:3+S+R+240131:1100+1'UNH+1+INVRPT:D:96A:UN'"
			   "IMD+F+M\xc3\xbcller'IMD+F+\xc3\xa9'UNT+4+1'UNZ+1+1'",
			   &s) == 0);
	T_EQ_INT(s.nerr, 0);
	T_EQ_INT(s.nwarn, 1);
	T_EQ_INT(s.first_warn.code, EDI_I_CHARSET);
	T_EQ_STR(seen, "IMD:F|(null)|M\xc3\xbcller|(null)|1;"
		       "IMD:F|(null)|\xc3\xa9|(null)|1;");
	/* UNOW (UTF-8) with an invalid byte: read as Latin-1, warned. */
	T_ASSERT(run_probe("UNB+UNOW:4+S+R+20240131:1100+1'UNH+1+INVRPT:D:01B:UN'"
			   "IMD+F+\xe9t\xe9'UNT+3+1'UNZ+1+1'",
			   &s) == 0);
	T_EQ_INT(s.nerr, 0);
	T_EQ_INT(s.nwarn, 1);
	T_EQ_STR(seen, "IMD:F|(null)|\xc3\xa9t\xc3\xa9|(null)|1;");
	T_EQ_STR(edi_charset_iconv("UNOD", NULL), "ISO-8859-2");
	T_ASSERT(edi_charset_iconv("UNOQ", NULL) == NULL);
}

/* UTF-8 declared and a surrogate (ED A0 80) in the data: the shared
 * validator refuses it as the CSV reader does, so it is read as Latin-1
 * and warned; the old EDIFACT-only check let it through as UTF-8. */
T_TEST(edifact_utf8_refuses_surrogates)
{
	struct t_edi_sum s;

	T_ASSERT(run_probe("UNB+UNOW:4+S+R+20240131:1100+1'UNH+1+INVRPT:D:01B:UN'"
			   "IMD+F+a\xed\xa0\x80'UNT+3+1'UNZ+1+1'",
			   &s) == 0);
	T_EQ_INT(s.nerr, 0);
	T_EQ_INT(s.nwarn, 1);
	T_EQ_INT(s.first_warn.code, EDI_I_CHARSET);
	/* The warning names the segment, the element and the byte. */
	T_EQ_STR(s.first_warn.seg_id, "IMD");
	T_EQ_STR(s.first_warn.reason, "bytes not valid in UNOW (read as "
				      "Latin-1), the first in IMD02: 0xED");
	T_EQ_STR(seen, "IMD:F|(null)|a\xc3\xad\xc2\xa0\xc2\x80|(null)|1;");
	/* Past U+10FFFF (F4 90 80 80) likewise. */
	T_ASSERT(run_probe("UNB+UNOW:4+S+R+20240131:1100+1'UNH+1+INVRPT:D:01B:UN'"
			   "IMD+F+\xf4\x90\x80\x80'UNT+3+1'UNZ+1+1'",
			   &s) == 0);
	T_EQ_INT(s.nwarn, 1);
	T_EQ_STR(seen, "IMD:F|(null)|\xc3\xb4\xc2\x90\xc2\x80\xc2\x80|(null)|1;");
}

T_TEST(edifact_several_interchanges_own_una)
{
	struct t_edi_sum s;

	T_ASSERT(run_probe("UNA:+.? 'UNB+UNOA:2+S+R+240131:1100+1'"
			   "UNH+1+INVRPT:D:96A:UN'QTY+1:2'UNT+3+1'UNZ+1+1'\n"
			   "UNA|*,! #UNB*UNOA|2*S*R*240131|1100*2#"
			   "UNH*1*INVRPT|D|96A|UN#QTY*1|3,5#UNT*3*1#UNZ*1*2#\n"
			   "UNB+UNOA:2+S+R+240131:1100+3'UNH+1+INVRPT:D:96A:UN'"
			   "QTY+1:4'UNT+3+1'UNZ+1+3'",
			   &s) == 0);
	T_EQ_INT(s.nerr, 0);
	T_EQ_INT(s.nic, 3);
	T_EQ_INT(s.delims[0].elem, '+');
	T_EQ_INT(s.delims[1].elem, '*');
	T_EQ_INT(s.delims[1].comp, '|');
	T_EQ_INT(s.delims[1].dec, ',');
	/* No UNA in the third: defaults again, not the second's. */
	T_EQ_INT(s.delims[2].elem, '+');
	T_EQ_STR(seen, "QTY:1|2|(null)|(null)|0;QTY:1|3,5|(null)|(null)|0;"
		       "QTY:1|4|(null)|(null)|0;");
}

T_TEST(edifact_wrapped_lines)
{
	struct t_edi_sum s;

	T_ASSERT(run_probe("UNB+UNOA:3+S+R+24013\n1:1100+1'\nUNH+1+INVRPT:D:9\r\n"
			   "6A:UN'\nQTY+14\n5:12'\nUNT+3+1'\nUNZ+1+1'\n",
			   &s) == 0);
	T_EQ_INT(s.nerr, 0);
	T_EQ_INT(s.nwarn, 1);
	T_EQ_INT(s.first_warn.code, EDI_I_WRAPPED);
	T_EQ_STR(s.last_ic.ic_date, "240131");
	T_EQ_STR(seen, "QTY:145|12|(null)|(null)|0;");
}

T_TEST(edifact_counts_refs_and_isolation)
{
	struct t_edi_sum s;

	/* M1 good, M2 count wrong, M3 reference wrong, M4 no UNT, M5 good;
	 * UNZ01 wrong too. */
	T_ASSERT(run_probe("UNB+UNOA:3+S+R+240131:1100+IC9'"
			   "UNH+M1+INVRPT:D:96A:UN'QTY+1:1'UNT+3+M1'"
			   "UNH+M2+INVRPT:D:96A:UN'QTY+1:2'UNT+4+M2'"
			   "UNH+M3+INVRPT:D:96A:UN'QTY+1:3'UNT+3+MX'"
			   "UNH+M4+INVRPT:D:96A:UN'QTY+1:4'"
			   "UNH+M5+INVRPT:D:96A:UN'QTY+1:5'UNT+3+M5'"
			   "UNZ+4+IC9'",
			   &s) == 0);
	T_EQ_INT(s.nsets, 5);
	T_EQ_STR(s.ok_sets, "M1 M5");
	T_EQ_STR(s.bad_sets, "M2 M3 M4");
	T_EQ_STR(s.codes, "count control missing-trailer count");
	T_EQ_INT(s.first_err.seg_in_file, 7);
	T_EQ_STR(s.first_err.seg_id, "UNT");
	T_EQ_INT(s.first_err.elem, 1);
	T_EQ_STR(s.first_err.set_control, "M2");
	T_EQ_STR(s.first_err.ic_control, "IC9");
	T_EQ_INT(s.ic_bad, 1);
	/* Groups: UNE01 counts messages, UNZ01 counts groups. */
	T_ASSERT(run_probe("UNB+UNOA:3+S+R+240131:1100+1'UNG+INVRPT+S+R+"
			   "240131:1100+G1+UN+D:96A'UNH+1+INVRPT:D:96A:UN'"
			   "UNT+2+1'UNH+2+INVRPT:D:96A:UN'UNT+2+2'UNE+2+G1'"
			   "UNZ+1+1'",
			   &s) == 0);
	T_EQ_INT(s.nerr, 0);
	T_EQ_INT(s.ngroups, 1);
	T_EQ_INT(s.groups_ok, 1);
	T_ASSERT(run_probe("UNB+UNOA:3+S+R+240131:1100+1'UNG+INVRPT+S+R+"
			   "240131:1100+G1+UN+D:96A'UNH+1+INVRPT:D:96A:UN'"
			   "UNT+2+1'UNE+3+G2'UNZ+2+2'",
			   &s) == 0);
	T_EQ_STR(s.codes, "count control count control");
}

T_TEST(edifact_truncated_garbage_and_no_unb)
{
	static const char f[] =
		"UNA:+.? 'UNB+UNOA:3+S+R+240131:1100+1'UNH+1+INVRPT:D:96A:UN'"
		"QTY+1:1'UNT+3+1'UNZ+1+1'";
	struct t_edi_sum s;
	size_t cut, n = strlen(f);
	char g[1024];

	for (cut = 0; cut < n; cut++) {
		T_ASSERT(t_edi_run_mem(f, cut, EDI_FMT_EDIFACT, NULL, &s) == 0);
		T_EQ_INT(s.rc, 0);
		if (cut < n - 1)
			T_ASSERT(s.nerr > 0);
	}
	/* Junk lines before, between and after. */
	snprintf(g, sizeof(g), "#header line\r\n%s\r\n--junk--\r\n%s\r\n\x1a",
		 f, f);
	T_EDI_RUN(g, EDI_FMT_EDIFACT, &s);
	T_EQ_INT(s.nic, 2);
	T_EQ_INT(s.ic_ok, 2);
	T_EQ_STR(s.codes, "outside outside trailing");
	/* A message without UNB is still read and checked. */
	T_EDI_RUN("UNH+1+INVRPT:D:96A:UN'QTY+1:1'UNT+3+1'", EDI_FMT_EDIFACT,
		  &s);
	T_EQ_INT(s.nic, 1);
	T_EQ_INT(s.nsets, 1);
	T_EQ_STR(s.codes, "missing-header missing-trailer");
	T_EQ_INT(s.first_err.seg_in_ic, 1);
	T_EQ_STR(s.first_err.seg_id, "UNH");
	/* Segment without terminator to the end of data. */
	T_EDI_RUN("UNB+UNOA:1+S+R+240131:1100+1\nUNH+1+X:D:96A:UN\n",
		  EDI_FMT_EDIFACT, &s);
	T_EQ_INT(s.first_err.code, EDI_I_NO_TERMINATOR);
	T_EQ_STR(s.first_err.seg_id, "UNB");
}

T_TEST(edifact_segment_length_bound)
{
	char f[4096];
	struct t_edi_sum s;
	struct edi_opts o = {300, 0};
	size_t l;

	l = (size_t)snprintf(f, sizeof(f),
			     "UNB+UNOA:3+S+R+240131:1100+1'UNH+1+INVRPT:D:96A:UN'"
			     "FTX+AAA+");
	memset(f + l, 'x', 500);
	snprintf(f + l + 500, sizeof(f) - l - 500, "'UNT+3+1'UNZ+1+1'");
	T_ASSERT(t_edi_run_mem(f, strlen(f), EDI_FMT_EDIFACT, &o, &s) == 0);
	T_EQ_INT(s.rc, -1);
	T_EQ_INT(s.err.code, E_TOOBIG);
	T_ASSERT(strstr(s.err.reason, "segment 3 (FTX)") != NULL);
	o.max_segment = 0;
	T_ASSERT(t_edi_run_mem(f, strlen(f), EDI_FMT_EDIFACT, &o, &s) == 0);
	T_EQ_INT(s.rc, 0);
	T_EQ_INT(s.nerr, 0);
}

/* As x12_nul_seen_only_after_a_nul_byte: the mapping's nul_free rests
 * on it for EDIFACT too. A value with a release character goes through
 * the byte-wise tokenizer, so the NUL after one is read there. */
T_TEST(edifact_nul_seen_only_after_a_nul_byte)
{
	char f[1024];
	struct t_edi_sum s;
	char *p;
	size_t l;

	l = (size_t)snprintf(f, sizeof(f), "%s",
			     "UNB+UNOC:3+5412345678908:14+8712345678906:14+"
			     "240131:1100+IC0001'\r\n" INVRPT("M1") "\r\n"
			     "UNZ+1+IC0001'\r\n");
	T_ASSERT(t_edi_run_mem(f, l, EDI_FMT_EDIFACT, NULL, &s) == 0);
	T_EQ_INT(s.rc, 0);
	T_EQ_INT(s.nerr, 0);
	T_EQ_INT(s.nul_seen, 0);
	p = strstr(f, "4000862141404");
	T_ASSERT(p != NULL);
	p[2] = '\0';
	T_ASSERT(t_edi_run_mem(f, l, EDI_FMT_EDIFACT, NULL, &s) == 0);
	T_EQ_INT(s.rc, 0);
	T_EQ_INT(s.nul_seen, 1);
	/* after a release character */
	p[1] = '?';
	T_ASSERT(t_edi_run_mem(f, l, EDI_FMT_EDIFACT, NULL, &s) == 0);
	T_EQ_INT(s.nul_seen, 1);
	p[1] = '0';
	p[2] = '0';
	/* between segments */
	p = strstr(f, "UNZ");
	T_ASSERT(p != NULL);
	p[-1] = '\0';
	T_ASSERT(t_edi_run_mem(f, l, EDI_FMT_EDIFACT, NULL, &s) == 0);
	T_EQ_INT(s.nul_seen, 1);
}
