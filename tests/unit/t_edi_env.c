/* t_edi_env.c - the envelope engine (transforms/formats/edi_env.c) through
 * both readers: the same defect in an X12 and in an EDIFACT interchange
 * must give the same issue at the mirrored trailer element, named from
 * each standard's descriptor (SE02 != ST02 / UNT02 != UNH01), and the same
 * set, group and interchange outcomes. Plus what only one descriptor has:
 * DXE (control number first, counts sets), UNZ counting messages when
 * there are no groups, the UNG/UNH version fields. */
#include "t_edi.h"
#include "transforms/formats/edi_env.h"

#define ISA                                                                \
	"ISA*00*          *00*          *ZZ*SENDER         *ZZ*"            \
	"RECEIVER       *240131*1100*U*00401*000000001*0*P*>~\n"

/* ISA, GS, one 846 (4 segments ST..SE), then the trailers given. */
static void x12(char *o, size_t n, const char *se, const char *ge,
		const char *iea)
{
	snprintf(o, n,
		 ISA "GS*IB*SND*RCV*20240131*1100*7*X*004010~\n"
		     "ST*846*0001~BIA*00*SI*R1*20240131~QTY*33*12*EA~\n%s%s%s",
		 se, ge, iea);
}

/* UNB, UNG, one INVRPT (4 segments UNH..UNT), then the trailers given. */
static void edifact(char *o, size_t n, const char *unt, const char *une,
		    const char *unz)
{
	snprintf(o, n,
		 "UNB+UNOC:3+SND+RCV+240131:1100+000000001'\n"
		 "UNG+INVRPT+SND+RCV+240131:1100+7+UN+D:96A'\n"
		 "UNH+0001+INVRPT:D:96A:UN'BGM+35+R1+9'QTY+145:12'\n%s%s%s",
		 unt, une, unz);
}

struct mirror {
	const char *what;
	const char *x12[3], *edifact[3]; /* set, group, ic trailers */
	int severity, code;
	unsigned elem;
	const char *x12_seg, *edifact_seg;
	const char *x12_reason, *edifact_reason;
	unsigned long sets_ok, groups_ok, ic_ok;
};

static const struct mirror cases[] = {
	{"set control number", {"SE*4*0002~", "GE*1*7~", "IEA*1*000000001~"},
	 {"UNT+4+0002'", "UNE+1+7'", "UNZ+1+000000001'"}, EDI_ERROR,
	 EDI_I_CONTROL, 2, "SE", "UNT",
	 "SE02 != ST02 ('0002' vs header '0001')",
	 "UNT02 != UNH01 ('0002' vs header '0001')", 0, 0, 0},
	{"set segment count", {"SE*5*0001~", "GE*1*7~", "IEA*1*000000001~"},
	 {"UNT+5+0001'", "UNE+1+7'", "UNZ+1+000000001'"}, EDI_ERROR,
	 EDI_I_COUNT, 1, "SE", "UNT",
	 "SE01 segment count mismatch (says 5, actual 4)",
	 "UNT01 segment count mismatch (says 5, actual 4)", 0, 0, 0},
	{"group set count", {"SE*4*0001~", "GE*2*7~", "IEA*1*000000001~"},
	 {"UNT+4+0001'", "UNE+2+7'", "UNZ+1+000000001'"}, EDI_ERROR,
	 EDI_I_COUNT, 1, "GE", "UNE",
	 "GE01 set count mismatch (says 2, actual 1)",
	 "UNE01 message count mismatch (says 2, actual 1)", 1, 0, 0},
	{"group control number", {"SE*4*0001~", "GE*1*8~", "IEA*1*000000001~"},
	 {"UNT+4+0001'", "UNE+1+8'", "UNZ+1+000000001'"}, EDI_ERROR,
	 EDI_I_CONTROL, 2, "GE", "UNE", "GE02 != GS06 ('8' vs header '7')",
	 "UNE02 != UNG05 ('8' vs header '7')", 1, 0, 0},
	{"interchange group count",
	 {"SE*4*0001~", "GE*1*7~", "IEA*2*000000001~"},
	 {"UNT+4+0001'", "UNE+1+7'", "UNZ+2+000000001'"}, EDI_ERROR,
	 EDI_I_COUNT, 1, "IEA", "UNZ",
	 "IEA01 group count mismatch (says 2, actual 1)",
	 "UNZ01 group count mismatch (says 2, actual 1)", 1, 1, 0},
	{"interchange control number",
	 {"SE*4*0001~", "GE*1*7~", "IEA*1*000000002~"},
	 {"UNT+4+0001'", "UNE+1+7'", "UNZ+1+000000002'"}, EDI_ERROR,
	 EDI_I_CONTROL, 2, "IEA", "UNZ",
	 "IEA02 != ISA13 ('000000002' vs header '000000001')",
	 "UNZ02 != UNB05 ('000000002' vs header '000000001')", 1, 1, 0},
	{"zero padding only", {"SE*4*0001~", "GE*1*7~", "IEA*1*1~"},
	 {"UNT+4+0001'", "UNE+1+7'", "UNZ+1+1'"}, EDI_WARNING, EDI_I_PADDING,
	 2, "IEA", "UNZ",
	 "IEA02 != ISA13 (numerically equal, padding differs: '1' vs "
	 "'000000001')",
	 "UNZ02 != UNB05 (numerically equal, padding differs: '1' vs "
	 "'000000001')",
	 1, 1, 1},
	{"missing set trailer", {"", "GE*1*7~", "IEA*1*000000001~"},
	 {"", "UNE+1+7'", "UNZ+1+000000001'"}, EDI_ERROR,
	 EDI_I_MISSING_TRAILER, 0, "GE", "UNE",
	 "missing SE (ST02=0001 still open)",
	 "missing UNT (UNH01=0001 still open)", 0, 0, 0},
	{"missing group trailer", {"SE*4*0001~", "", "IEA*1*000000001~"},
	 {"UNT+4+0001'", "", "UNZ+1+000000001'"}, EDI_ERROR,
	 EDI_I_MISSING_TRAILER, 0, "IEA", "UNZ",
	 "missing GE (GS06=7 still open)", "missing UNE (UNG05=7 still open)",
	 1, 0, 0},
	{"missing interchange trailer", {"SE*4*0001~", "GE*1*7~", ""},
	 {"UNT+4+0001'", "UNE+1+7'", ""}, EDI_ERROR, EDI_I_MISSING_TRAILER, 0,
	 "", "", "missing IEA at end of data (end of data inside interchange 1)",
	 "missing UNZ at end of data (end of data inside interchange 1)", 1, 1,
	 0},
	{"trailer without header",
	 {"SE*4*0001~SE*1*0001~", "GE*1*7~", "IEA*1*000000001~"},
	 {"UNT+4+0001'UNT+1+0001'", "UNE+1+7'", "UNZ+1+000000001'"}, EDI_ERROR,
	 EDI_I_MISSING_HEADER, 0, "SE", "UNT", "SE without ST",
	 "UNT without UNH", 1, 0, 0},
};

/* Runs one side of a case; returns NULL or what differs. */
static const char *check_side(const struct mirror *m, int fmt, char *why,
			      size_t whyn)
{
	char in[1024];
	struct t_edi_sum s;
	const struct edi_issue *is;
	const char *seg = fmt == EDI_FMT_X12 ? m->x12_seg : m->edifact_seg;
	const char *reason =
		fmt == EDI_FMT_X12 ? m->x12_reason : m->edifact_reason;

	if (fmt == EDI_FMT_X12)
		x12(in, sizeof(in), m->x12[0], m->x12[1], m->x12[2]);
	else
		edifact(in, sizeof(in), m->edifact[0], m->edifact[1],
			m->edifact[2]);
	if (t_edi_run_mem(in, strlen(in), fmt, NULL, &s) != 0 || s.rc != 0)
		return "reader failed";
	is = m->severity == EDI_ERROR ? &s.first_err : &s.first_warn;
	if (m->severity == EDI_ERROR ? s.nerr != 1 : s.nerr != 0 || s.nwarn != 1)
		snprintf(why, whyn, "%lu errors, %lu warnings (%.200s)", s.nerr,
			 s.nwarn, s.codes);
	else if (is->code != m->code || is->elem != m->elem ||
		 strcmp(is->seg_id, seg) || strcmp(is->reason, reason))
		snprintf(why, whyn, "issue %s at %s elem %u: '%s'",
			 edi_issue_name(is->code), is->seg_id, is->elem,
			 is->reason);
	else if (s.sets_ok != m->sets_ok || s.groups_ok != m->groups_ok ||
		 s.ic_ok != m->ic_ok)
		snprintf(why, whyn, "ok sets/groups/ic %lu/%lu/%lu",
			 s.sets_ok, s.groups_ok, s.ic_ok);
	else
		return NULL;
	return why;
}

T_TEST(edi_env_valid_both_standards)
{
	char in[1024];
	struct t_edi_sum s;

	x12(in, sizeof(in), "SE*4*0001~", "GE*1*7~", "IEA*1*000000001~");
	T_EDI_RUN(in, EDI_FMT_X12, &s);
	T_EQ_STR(s.codes, "");
	T_EQ_INT(s.sets_ok + s.groups_ok + s.ic_ok, 3);
	edifact(in, sizeof(in), "UNT+4+0001'", "UNE+1+7'",
		"UNZ+1+000000001'");
	T_EDI_RUN(in, EDI_FMT_EDIFACT, &s);
	T_EQ_STR(s.codes, "");
	T_EQ_INT(s.sets_ok + s.groups_ok + s.ic_ok, 3);
	/* The header fields the descriptors name (GS06/UNG05, UNG07:1-2,
	 * UNH02:2-5). */
	T_EQ_STR(s.last_ic.grp_control, "7");
	T_EQ_STR(s.last_ic.grp_version, "D:96A");
	T_EQ_STR(s.last_ic.grp_time, "1100");
	T_EQ_STR(s.last_ic.set_type, "INVRPT");
	T_EQ_STR(s.last_ic.set_version, "D:96A:UN");
}

T_TEST(edi_env_mirrored_envelope_checks)
{
	size_t i;
	char why[512];
	const char *bad;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bad = check_side(&cases[i], EDI_FMT_X12, why, sizeof(why));
		if (bad)
			T_FAIL("%s, X12: %s", cases[i].what, bad);
		bad = check_side(&cases[i], EDI_FMT_EDIFACT, why, sizeof(why));
		if (bad)
			T_FAIL("%s, EDIFACT: %s", cases[i].what, bad);
	}
}

/* DXS/DXE: DXE01 is the control number (checked first), DXE02 counts
 * sets; a GS inside is an error. */
T_TEST(edi_env_dex_trailer)
{
	struct t_edi_sum s;

	T_EDI_RUN("DXS*SUP*DX*004010UCS*77*RCV~ST*894*0001~G82*D*1~"
		  "SE*3*0001~DXE*78*2~",
		  EDI_FMT_X12, &s);
	T_EQ_STR(s.codes, "control count");
	T_EQ_STR(s.first_err.reason, "DXE01 != DXS04 ('78' vs header '77')");
	T_EQ_INT(s.first_err.elem, 1);
	T_EQ_INT(s.sets_ok, 1);
	T_EQ_INT(s.ic_bad, 1);
	T_EDI_RUN("DXS*SUP*DX*004010UCS*77*RCV~GS*IB*S*R*20240131*1100*7*X*4~"
		  "GE*0*7~DXE*77*0~",
		  EDI_FMT_X12, &s);
	T_EQ_STR(s.first_err.reason, "GS inside a DXS/DXE envelope");
	T_EQ_INT(s.first_err.code, EDI_I_UNEXPECTED);
}

/* Without UNG, UNZ01 counts messages; the X12 descriptor instead wants a
 * GS around every ST. */
T_TEST(edi_env_groups_optional_only_in_edifact)
{
	struct t_edi_sum s;

	T_EDI_RUN("UNB+UNOC:3+S+R+240131:1100+5'UNH+1+INVRPT:D:96A:UN'"
		  "UNT+2+1'UNH+2+INVRPT:D:96A:UN'UNT+2+2'UNZ+1+5'",
		  EDI_FMT_EDIFACT, &s);
	T_EQ_STR(s.first_err.reason,
		 "UNZ01 message count mismatch (says 1, actual 2)");
	T_EQ_INT(s.sets_ok, 2);
	T_EDI_RUN(ISA "ST*846*0001~SE*2*0001~IEA*0*000000001~", EDI_FMT_X12,
		  &s);
	T_EQ_STR(s.first_err.reason, "ST outside a functional group (no GS)");
	T_EQ_INT(s.nerr, 1);
}

/* env_fields joins components while present and cuts to the field like
 * snprintf: UNH02:2-5 into set_version[24]. */
T_TEST(edi_env_fields_join_and_cut)
{
	struct t_edi_sum s;

	T_EDI_RUN("UNB+UNOC:3+S+R+240131:1100+5'"
		  "UNH+1+INVRPT:ABCDEFGHIJKLMNOPQRST:UVWXYZ:9'UNT+2+1'"
		  "UNZ+1+5'",
		  EDI_FMT_EDIFACT, &s);
	T_EQ_INT(sizeof(s.last_ic.set_version), 24);
	T_EQ_STR(s.last_ic.set_version, "ABCDEFGHIJKLMNOPQRST:UV");
	T_EDI_RUN("UNB+UNOC:3+S+R+240131:1100+5'UNH+1+INVRPT'UNT+2+1'"
		  "UNZ+1+5'",
		  EDI_FMT_EDIFACT, &s);
	T_EQ_STR(s.last_ic.set_version, "");
	T_EQ_STR(s.codes, "");
}

/* The descriptors state the mirror: every trailer's count in element 1
 * and control number in element 2, but DXE's the other way round. */
T_TEST(edi_env_descriptor_tables)
{
	const struct edi_env_desc *d[3] = {&edi_env_x12, &edi_env_dex,
					   &edi_env_edifact};
	int i;

	for (i = 0; i < 3; i++) {
		T_EQ_INT(d[i]->set.trl.count_elem, 1);
		T_EQ_INT(d[i]->set.trl.ctl_elem, 2);
		T_EQ_INT(d[i]->grp.trl.count_elem, 1);
		T_ASSERT(d[i]->header != NULL);
	}
	/* env_lead must mark every envelope tag's first letter, or the
	 * engine would take that trailer for content. */
	for (i = 0; i < 3; i++) {
		const char *tags[5] = {d[i]->grp.hdr, d[i]->grp.trl.tag,
				       d[i]->set.hdr, d[i]->set.trl.tag,
				       d[i]->ic.tag};
		int k;

		for (k = 0; k < 5; k++)
			T_ASSERT(d[i]->env_lead[(unsigned char)tags[k][0]]);
	}
	T_EQ_STR(edi_env_x12.ic.ctl_name, "ISA13");
	T_EQ_STR(edi_env_edifact.ic.ctl_name, "UNB05");
	T_EQ_INT(edi_env_dex.ic.ctl_elem, 1);
	T_EQ_INT(edi_env_dex.ic.count_elem, 2);
}
