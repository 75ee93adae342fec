/* t_ack_read.c - received acknowledgments (transforms/formats/ack_read.h):
 * hand-written 997s (accepted, accepted with errors, rejected with AK3/
 * AK4), a 999 (IK3/IK4, partially accepted), TA1, CONTRLs (acknowledged,
 * rejected with UCM/UCS/UCD, acknowledged with errors), the files it must
 * refuse (a set that is no acknowledgment, a wrong SE01, AK2 without AK5,
 * an unknown status, CSV, an empty file), each naming file and line; and
 * the real 997/999 files of ../shared/data/x12 when they are there. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "transforms/formats/ack_read.h"
#include "t.h"

#define ISA_FROM_WMS                                                       \
	"ISA*00*          *00*          *ZZ*WMSPARTNER     *ZZ*STOCKPIPE     " \
	" *261120*0700*U*00401*000000077*0*P*>~\n"

static int rd(const char *text, struct ack_read_result *r, struct err *e)
{
	if (t_write_file("ack.x12", text) < 0)
		return -1;
	return ack_read_path("ack.x12", "ack.x12", r, e);
}

T_TEST(ack_read_997_accepted)
{
	struct ack_read_result r;
	struct err e = ERR_INIT;

	T_OK(rd(ISA_FROM_WMS "GS*FA*WMSPARTNER*STOCKPIPE*20261120*0700*77*X*"
		"004010~\nST*997*0001~\nAK1*IB*42~\nAK2*846*0042~\nAK5*A~\n"
		"AK9*A*1*1*1~\nSE*6*0001~\nGE*1*77~\nIEA*1*000000077~\n",
		&r, &e),
	     &e);
	T_EQ_INT(r.nacks, 2);
	T_EQ_INT(r.acks[0].level, ACK_LVL_GROUP);
	T_EQ_STR(r.acks[0].grp_control, "42");
	T_EQ_STR(r.acks[0].grp_id, "IB");
	T_EQ_INT(r.acks[0].status, ACK_ACCEPTED);
	T_EQ_INT(r.acks[0].naccepted, 1);
	T_EQ_INT(r.acks[1].level, ACK_LVL_SET);
	T_EQ_STR(r.acks[1].set_type, "846");
	T_EQ_STR(r.acks[1].set_control, "0042");
	T_EQ_STR(r.acks[1].grp_control, "42");
	T_EQ_INT(r.acks[1].status, ACK_ACCEPTED);
	T_EQ_STR(r.acks[1].type, "997");
	T_EQ_STR(r.acks[1].sender, "WMSPARTNER");
	T_EQ_INT(r.nerrs, 0);
	ack_read_release(&r);
}

T_TEST(ack_read_997_rejected_ak3_ak4)
{
	struct ack_read_result r;
	struct err e = ERR_INIT;
	char m[300];

	T_OK(rd(ISA_FROM_WMS "GS*FA*WMSPARTNER*STOCKPIPE*20261120*0700*77*X*"
		"004010~\nST*997*0001~\nAK1*IB*42~\nAK2*846*0042~\n"
		"AK3*LIN*5*LIN*8~\nAK4*3>1*234*7*BAD SKU~\nAK5*R*5~\n"
		"AK9*R*1*1*0~\nSE*8*0001~\nGE*1*77~\nIEA*1*000000077~\n",
		&r, &e),
	     &e);
	T_EQ_INT(r.nacks, 2);
	T_EQ_INT(r.acks[0].status, ACK_REJECTED);
	T_EQ_INT(r.acks[1].status, ACK_REJECTED);
	T_EQ_STR(r.acks[1].code, "R");
	T_EQ_INT(r.acks[1].nerr, 3);
	T_EQ_INT(r.nerrs, 3);
	T_EQ_STR(r.errs[0].kind, "AK3");
	T_EQ_STR(r.errs[0].seg_id, "LIN");
	T_EQ_INT(r.errs[0].seg_pos, 5);
	T_EQ_STR(r.errs[0].code, "8");
	T_EQ_INT(r.errs[0].line, 6);
	T_EQ_STR(r.errs[1].kind, "AK4");
	T_EQ_INT(r.errs[1].elem, 3);
	T_EQ_INT(r.errs[1].comp, 1);
	T_EQ_STR(r.errs[1].elem_ref, "234");
	T_EQ_STR(r.errs[1].code, "7");
	T_EQ_STR(r.errs[1].value, "BAD SKU");
	T_EQ_INT(r.errs[1].ack, 1);
	T_EQ_STR(r.errs[2].kind, "AK5");
	T_EQ_STR(r.errs[2].code, "5");
	ack_read_err_format(&r.errs[0], m, sizeof(m));
	T_EQ_STR(m, "AK3 segment LIN at position 5 (loop LIN): code 8");
	ack_read_err_format(&r.errs[1], m, sizeof(m));
	T_EQ_STR(m, "AK4 element 3:1 (ref 234): code 7, value 'BAD SKU'");
	ack_read_release(&r);
}

T_TEST(ack_read_997_accepted_with_errors)
{
	struct ack_read_result r;
	struct err e = ERR_INIT;

	T_OK(rd(ISA_FROM_WMS "GS*FA*WMSPARTNER*STOCKPIPE*20261120*0700*77*X*"
		"004010~\nST*997*0001~\nAK1*IB*42~\nAK2*846*0042~\n"
		"AK3*QTY*9**6~\nAK5*E~\nAK9*E*1*1*1~\nSE*7*0001~\nGE*1*77~\n"
		"IEA*1*000000077~\n",
		&r, &e),
	     &e);
	T_EQ_INT(r.acks[1].status, ACK_ACCEPTED_ERRORS);
	T_EQ_INT(r.acks[0].status, ACK_ACCEPTED_ERRORS);
	T_EQ_STR(ack_read_status_name(r.acks[1].status),
		 "accepted with errors");
	ack_read_release(&r);
}

T_TEST(ack_read_999_partial)
{
	struct ack_read_result r;
	struct err e = ERR_INIT;

	T_OK(rd("ISA*00*          *00*          *ZZ*WMSPARTNER     *ZZ*"
		"STOCKPIPE      *261120*0700*^*00501*000000078*0*P*:~\n"
		"GS*FA*WMS*SP*20261120*0700*78*X*005010X231~\n"
		"ST*999*0001*005010X231~\nAK1*IB*43*005010~\nAK2*846*0043~\n"
		"IK5*A~\nAK2*846*0044~\nIK3*QTY*12**8~\nCTX*LIN01:7~\n"
		"IK4*2*380*6*-5~\nIK5*R*5~\nAK9*P*2*2*1~\nSE*11*0001~\n"
		"GE*1*78~\nIEA*1*000000078~\n",
		&r, &e),
	     &e);
	T_EQ_INT(r.nacks, 3);
	T_EQ_STR(r.acks[0].type, "999");
	T_EQ_INT(r.acks[0].status, ACK_PARTIAL);
	T_EQ_INT(r.acks[1].status, ACK_ACCEPTED);
	T_EQ_STR(r.acks[2].set_control, "0044");
	T_EQ_INT(r.acks[2].status, ACK_REJECTED);
	T_EQ_INT(r.acks[2].nerr, 3);
	T_EQ_STR(r.errs[0].kind, "IK3");
	T_EQ_STR(r.errs[0].seg_id, "QTY");
	T_EQ_INT(r.errs[0].seg_pos, 12);
	T_EQ_STR(r.errs[1].kind, "IK4");
	T_EQ_STR(r.errs[1].elem_ref, "380");
	T_EQ_STR(r.errs[1].value, "-5");
	ack_read_release(&r);
}

T_TEST(ack_read_ta1)
{
	struct ack_read_result r;
	struct err e = ERR_INIT;

	T_OK(rd(ISA_FROM_WMS "TA1*000000042*261120*0600*R*022~\n"
		"IEA*0*000000077~\n",
		&r, &e),
	     &e);
	T_EQ_INT(r.nacks, 1);
	T_EQ_INT(r.acks[0].level, ACK_LVL_IC);
	T_EQ_STR(r.acks[0].type, "TA1");
	T_EQ_STR(r.acks[0].ic_control, "000000042");
	T_EQ_INT(r.acks[0].status, ACK_REJECTED);
	T_EQ_INT(r.nerrs, 1);
	T_EQ_STR(r.errs[0].code, "022");
	ack_read_release(&r);
}

#define UNB_FROM_ERP "UNA:+.? '\nUNB+UNOC:3+ERPPARTNER:14+STOCKPIPE:14+" \
		     "261120:0700+900'\n"

T_TEST(ack_read_contrl_accepted)
{
	struct ack_read_result r;
	struct err e = ERR_INIT;

	T_OK(rd(UNB_FROM_ERP "UNH+1+CONTRL:D:3:UN'\n"
		"UCI+55+STOCKPIPE:14+ERPPARTNER:14+7'\nUNT+3+1'\n"
		"UNZ+1+900'\n",
		&r, &e),
	     &e);
	T_EQ_INT(r.nacks, 1);
	T_EQ_STR(r.acks[0].format, "edifact");
	T_EQ_STR(r.acks[0].type, "CONTRL");
	T_EQ_STR(r.acks[0].ic_control, "55");
	T_EQ_INT(r.acks[0].status, ACK_ACCEPTED);
	T_EQ_STR(r.acks[0].sender, "ERPPARTNER");
	ack_read_release(&r);
}

T_TEST(ack_read_contrl_rejected_ucs_ucd)
{
	struct ack_read_result r;
	struct err e = ERR_INIT;
	char m[300];

	T_OK(rd(UNB_FROM_ERP "UNH+1+CONTRL:D:3:UN'\n"
		"UCI+55+STOCKPIPE:14+ERPPARTNER:14+4'\n"
		"UCM+55+INVRPT:D:96A:UN:EAN008+4'\nUCS+7+13'\nUCD+12+3:2'\n"
		"UNT+6+1'\nUNZ+1+900'\n",
		&r, &e),
	     &e);
	T_EQ_INT(r.nacks, 2);
	T_EQ_INT(r.acks[0].status, ACK_REJECTED);
	T_EQ_INT(r.acks[1].level, ACK_LVL_SET);
	T_EQ_STR(r.acks[1].set_control, "55");
	T_EQ_STR(r.acks[1].set_type, "INVRPT");
	T_EQ_STR(r.acks[1].ic_control, "55");
	T_EQ_INT(r.acks[1].status, ACK_REJECTED);
	T_EQ_INT(r.acks[1].nerr, 2);
	T_EQ_STR(r.errs[0].kind, "UCS");
	T_EQ_INT(r.errs[0].seg_pos, 7);
	T_EQ_STR(r.errs[0].code, "13");
	T_EQ_STR(r.errs[1].kind, "UCD");
	T_EQ_INT(r.errs[1].elem, 3);
	T_EQ_INT(r.errs[1].comp, 2);
	T_EQ_STR(r.errs[1].code, "12");
	ack_read_err_format(&r.errs[1], m, sizeof(m));
	T_EQ_STR(m, "UCD element 3:2: code 12");
	ack_read_release(&r);
}

T_TEST(ack_read_contrl_accepted_with_errors)
{
	struct ack_read_result r;
	struct err e = ERR_INIT;

	T_OK(rd(UNB_FROM_ERP "UNH+1+CONTRL:D:3:UN'\n"
		"UCI+55+STOCKPIPE:14+ERPPARTNER:14+7'\n"
		"UCM+55+INVRPT:D:96A:UN+7'\nUCS+4+35'\nUNT+5+1'\n"
		"UNZ+1+900'\n",
		&r, &e),
	     &e);
	T_EQ_INT(r.acks[0].status, ACK_ACCEPTED);
	T_EQ_INT(r.acks[1].status, ACK_ACCEPTED_ERRORS);
	ack_read_release(&r);
}

/* Each bad file: E_PARSE, the file's name and the line in err. */
static void bad(const char *text, unsigned long line, const char *what)
{
	struct ack_read_result r;
	struct err e = ERR_INIT;
	char m[1200];

	if (rd(text, &r, &e) == 0) {
		ack_read_release(&r);
		T_FAIL("read: %s", what);
	}
	ack_read_release(&r);
	err_format(&e, m, sizeof(m));
	if (e.code != E_PARSE || strcmp(e.file, "ack.x12") ||
	    e.line != line || !strstr(e.reason, what))
		T_FAIL("got '%s' (line %lu), expected line %lu and '%s'", m,
		       e.line, line, what);
}

T_TEST(ack_read_refuses_bad_files)
{
	bad(ISA_FROM_WMS "GS*PO*A*B*20261120*0700*77*X*004010~\n"
	    "ST*850*0001~\nBEG*00*SA*1~\nSE*3*0001~\nGE*1*77~\n"
	    "IEA*1*000000077~\n",
	    3, "transaction set '850' is not an acknowledgment");
	if (t_failed)
		return;
	bad(ISA_FROM_WMS "GS*FA*A*B*20261120*0700*77*X*004010~\n"
	    "ST*997*0001~\nAK1*IB*42~\nAK9*A*1*1*1~\nSE*9*0001~\nGE*1*77~\n"
	    "IEA*1*000000077~\n",
	    6, "SE01");
	if (t_failed)
		return;
	bad(ISA_FROM_WMS "GS*FA*A*B*20261120*0700*77*X*004010~\n"
	    "ST*997*0001~\nAK1*IB*42~\nAK2*846*0042~\nAK9*A*1*1*1~\n"
	    "SE*5*0001~\nGE*1*77~\nIEA*1*000000077~\n",
	    5, "AK2 without its AK5");
	if (t_failed)
		return;
	bad(ISA_FROM_WMS "GS*FA*A*B*20261120*0700*77*X*004010~\n"
	    "ST*997*0001~\nAK1*IB*42~\nAK9*Q*1*1*1~\nSE*4*0001~\nGE*1*77~\n"
	    "IEA*1*000000077~\n",
	    5, "AK901 status 'Q'");
	if (t_failed)
		return;
	bad(UNB_FROM_ERP "UNH+1+CONTRL:D:3:UN'\nUCM+55+INVRPT:D:96A:UN+4'\n"
	    "UNT+3+1'\nUNZ+1+900'\n",
	    4, "UCM before the UCI");
	if (t_failed)
		return;
	bad("sku,qty\nA,1\n", 1, "not X12");
	if (t_failed)
		return;
	bad("", 1, "not X12");
}

/* The real 997/999 files of the shared corpus, read where they are. */
T_TEST(ack_read_shared_corpus)
{
	static const char *const dirs[] = {"997", "999"};
	char base[4096], path[8192];
	const char *src = getenv("STOCKPIPE_SRCDIR");
	int i, nread = 0;

	/* as t_edi_corpus.c: ../shared/data next to the repository */
	snprintf(base, sizeof(base), "%s/../shared/data/x12",
		 src ? src : ".");
	for (i = 0; i < 2; i++) {
		DIR *d;
		struct dirent *de;

		snprintf(path, sizeof(path), "%s/%s", base, dirs[i]);
		if (!(d = opendir(path)))
			continue;
		while ((de = readdir(d))) {
			struct ack_read_result r;
			struct err e = ERR_INIT;
			char f[8192 + 256], m[1200];

			if (de->d_name[0] == '.')
				continue;
			snprintf(f, sizeof(f), "%s/%s", path, de->d_name);
			if (ack_read_path(f, de->d_name, &r, &e) < 0) {
				err_format(&e, m, sizeof(m));
				ack_read_release(&r);
				closedir(d);
				T_FAIL("%s: %s", f, m);
			}
			T_ASSERT(r.nacks > 0);
			if (!strcmp(de->d_name, "staedi_simple999.edi")) {
				T_EQ_INT(r.nacks, 4);
				T_EQ_INT(r.acks[0].status, ACK_PARTIAL);
				T_EQ_STR(r.acks[2].set_control, "0002");
				T_EQ_INT(r.acks[2].status, ACK_REJECTED);
			}
			if (!strcmp(de->d_name,
				    "staedi_extraDelimiter997_repetitions.edi")) {
				T_EQ_INT(r.acks[1].status, ACK_REJECTED);
				T_EQ_STR(r.errs[0].seg_id, "NM1");
			}
			ack_read_release(&r);
			nread++;
		}
		closedir(d);
	}
	if (!nread)
		T_SKIP("no 997/999 files under %s (shared corpus absent)",
		       base);
}
