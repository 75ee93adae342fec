/* t_sniff.c - the content analysis (transforms/formats/sniff.h): the CSV
 * dialect from hand-written tricky heads (quoted newlines, CR-only line
 * ends, BOMs, UTF-16 LE/BE, semicolon with decimal commas, one column,
 * header only, a head cut inside a quoted field), the negative cases, and
 * the whole-file analysis of a CSV, an X12 and an XML file.
 */
#include <stdlib.h>
#include <string.h>

#include "t.h"
#include "lib/err.h"
#include "transforms/formats/sniff.h"

static int head(const char *s, size_t n, struct sniff_dialect *d)
{
	return sniff_head((const unsigned char *)s, n, d);
}

#define HEAD(lit, d) head(lit, sizeof(lit) - 1, d)

T_TEST(sniff_csv_quoted_newlines)
{
	struct sniff_dialect d;

	/* Counting per LF line saw 2, 1, 2 fields: "unknown" before. */
	T_EQ_INT(HEAD("sku,desc\nA,\"two\nlines\"\nB,x\n", &d), SNIFF_CSV);
	T_EQ_INT(d.delimiter, ',');
	T_EQ_INT(d.ncols, 2);
	T_EQ_INT(d.quote, '"');
	T_EQ_INT(d.quoted_newlines, 1);
	T_EQ_INT(d.eol, SNIFF_EOL_LF);
	T_EQ_INT(d.header, 1);
	T_EQ_STR(d.encoding, "UTF-8");
	T_EQ_INT(d.bom, 0);
}

T_TEST(sniff_csv_cr_only)
{
	struct sniff_dialect d;

	/* Classic Mac export: no LF at all. */
	T_EQ_INT(HEAD("sku;qty;store\rA-1;3;F012\rB-2;14;F012\r", &d),
		 SNIFF_CSV);
	T_EQ_INT(d.delimiter, ';');
	T_EQ_INT(d.ncols, 3);
	T_EQ_INT(d.eol, SNIFF_EOL_CR);
	T_EQ_INT(HEAD("a,b\r\n1,2\n3,4\r", &d), SNIFF_CSV);
	T_EQ_INT(d.eol, SNIFF_EOL_MIXED);
}

T_TEST(sniff_csv_bom)
{
	struct sniff_dialect d;

	T_EQ_INT(HEAD("\xEF\xBB\xBF" "foo,bar,baz\n1,2,3\n4,5,\xCA\xA4\n", &d),
		 SNIFF_CSV);
	T_EQ_INT(d.bom, 1);
	T_EQ_STR(d.encoding, "UTF-8");
	T_EQ_INT(d.ncols, 3);
	T_EQ_INT(d.header, 1);
	/* A BOM and blanks only: empty, as before. */
	T_EQ_INT(HEAD("\xEF\xBB\xBF \r\n", &d), SNIFF_EMPTY);
}

/* "sku,qty\r\nA,1\r\nB,2\r\n" as UTF-16 in byte order o, with a BOM or
 * not, into out; returns the length. */
static size_t utf16(char *out, int o, int bom)
{
	static const char txt[] = "sku\tqty\r\nA\t1\r\nB\t2\r\n";
	size_t i, k = 0;

	if (bom) {
		out[k++] = o == 'L' ? '\xFF' : '\xFE';
		out[k++] = o == 'L' ? '\xFE' : '\xFF';
	}
	for (i = 0; i < sizeof(txt) - 1; i++) {
		out[k++] = o == 'L' ? txt[i] : 0;
		out[k++] = o == 'L' ? 0 : txt[i];
	}
	return k;
}

T_TEST(sniff_csv_utf16)
{
	struct sniff_dialect d;
	char b[128];
	size_t n;

	n = utf16(b, 'L', 1);
	T_EQ_INT(head(b, n, &d), SNIFF_CSV);
	T_EQ_STR(d.encoding, "UTF-16"); /* iconv reads the BOM and drops it */
	T_EQ_INT(d.utf16, 'L');
	T_EQ_INT(d.bom, 1);
	T_EQ_INT(d.delimiter, '\t');
	T_EQ_INT(d.ncols, 2);
	T_EQ_INT(d.eol, SNIFF_EOL_CRLF);

	n = utf16(b, 'B', 1);
	T_EQ_INT(head(b, n, &d), SNIFF_CSV);
	T_EQ_INT(d.utf16, 'B');
	T_EQ_STR(d.encoding, "UTF-16");

	n = utf16(b, 'L', 0);
	T_EQ_INT(head(b, n, &d), SNIFF_CSV);
	T_EQ_STR(d.encoding, "UTF-16LE");
	T_EQ_INT(d.bom, 0);

	n = utf16(b, 'B', 0);
	T_EQ_INT(head(b, n, &d), SNIFF_CSV);
	T_EQ_STR(d.encoding, "UTF-16BE");
	T_EQ_INT(d.utf16, 'B');
	T_EQ_INT(d.ncols, 2);
}

T_TEST(sniff_csv_semicolon_decimal_comma)
{
	struct sniff_dialect d;

	/* Commas in every value, one per record: the semicolon still wins
	 * (more fields, same agreement). */
	T_EQ_INT(HEAD("\"20080331\";\"8712345001472\";\"2\";\"27,000\"\r\n"
		      "\"20080331\";\"8712345001473\";\"1\";\"12,500\"\r\n",
		      &d),
		 SNIFF_CSV);
	T_EQ_INT(d.delimiter, ';');
	T_EQ_INT(d.ncols, 4);
	T_EQ_INT(d.header, 0); /* numbers are no column names */
	T_EQ_INT(d.eol, SNIFF_EOL_CRLF);
	/* Unquoted decimal commas, '|' lists inside fields. */
	T_EQ_INT(HEAD("id;price;tags\n1;3,50;a|b\n2;2,00;c|d\n3;1,25;e\n", &d),
		 SNIFF_CSV);
	T_EQ_INT(d.delimiter, ';');
	T_EQ_INT(d.ncols, 3);
}

T_TEST(sniff_csv_one_column_and_header_only)
{
	struct sniff_dialect d;

	T_EQ_INT(HEAD("sku\nA1\nB2\nC3\n", &d), SNIFF_CSV);
	T_EQ_INT(d.ncols, 1);
	T_EQ_INT(d.header, 1);
	/* A text note is no list (and was "unknown" before). */
	T_EQ_INT(HEAD("Notes\nISAAC said\nno edi here\n", &d), SNIFF_UNKNOWN);
	/* One line of one word is not enough to call it anything. */
	T_EQ_INT(HEAD("hello world", &d), SNIFF_UNKNOWN);
	/* A header without data is a CSV with its columns. */
	T_EQ_INT(HEAD("sku;qty;location\r\n", &d), SNIFF_CSV);
	T_EQ_INT(d.delimiter, ';');
	T_EQ_INT(d.ncols, 3);
	T_EQ_INT(d.header, 1);
}

T_TEST(sniff_csv_escapes_and_ragged)
{
	struct sniff_dialect d;

	T_EQ_INT(HEAD("sku,json\nA,\"{\"\"q\"\":1}\"\nB,\"{}\"\n", &d),
		 SNIFF_CSV);
	T_EQ_INT(d.escape, '"');
	T_EQ_INT(HEAD("sku,name\nA,\"say \\\"hi\\\" now\"\nB,x\n", &d),
		 SNIFF_CSV);
	T_EQ_INT(d.escape, '\\');
	/* Rows longer and shorter than the header: the header's count is
	 * still the one most records have. */
	T_EQ_INT(HEAD("column_a,column_b,column_c\n1,27,,\"too long\"\n"
		      ",\"too short\"\n0,mixed,17\n", &d),
		 SNIFF_CSV);
	T_EQ_INT(d.ncols, 3);
	/* Two records that disagree are no evidence. */
	T_EQ_INT(HEAD("a,b,c\n1,2\n", &d), SNIFF_UNKNOWN);
}

T_TEST(sniff_csv_head_cut_in_a_quote)
{
	struct sniff_dialect d;
	char *b = malloc(SNIFF_HEAD_MAX);
	size_t k = 0;
	int i = 0, fmt;

	T_ASSERT(b != NULL);
	k += (size_t)snprintf(b, SNIFF_HEAD_MAX, "sku,qty,desc\n");
	while (k + 200 < SNIFF_HEAD_MAX)
		k += (size_t)snprintf(b + k, SNIFF_HEAD_MAX - k,
				      "A%d,%d,\"line one\nline two, long\"\n",
				      i, i), i++;
	/* The head ends inside a quoted field of a record that goes on. */
	memset(b + k, 'x', SNIFF_HEAD_MAX - k);
	memcpy(b + k, "Z,1,\"open", 9);
	fmt = head(b, SNIFF_HEAD_MAX, &d);
	free(b);
	T_EQ_INT(fmt, SNIFF_CSV);
	T_EQ_INT(d.ncols, 3);
	T_EQ_INT(d.quoted_newlines, 1);
}

T_TEST(sniff_not_csv)
{
	struct sniff_dialect d;
	unsigned char bin[512];
	size_t i;

	for (i = 0; i < sizeof(bin); i++)
		bin[i] = (unsigned char)(i * 37 + 11);
	T_EQ_INT(sniff_head(bin, sizeof(bin), &d), SNIFF_UNKNOWN);
	T_EQ_INT(HEAD("ISA*00*          *00~", &d), SNIFF_X12);
	T_EQ_INT(HEAD("UNA:+.? 'UNB+UNOC:3+X+Y'", &d), SNIFF_EDIFACT);
	T_EQ_INT(HEAD("<?xml version=\"1.0\"?><a/>", &d), SNIFF_XML);
	/* Latin-1 and Windows-1252 are named, not taken for UTF-8. */
	T_EQ_INT(HEAD("a,b,c\n1,2,3\n4,5,\xA9\n", &d), SNIFF_CSV);
	T_EQ_STR(d.encoding, "ISO-8859-1");
	T_EQ_INT(HEAD("a,b\n1,\x80 5\n2,x\n", &d), SNIFF_CSV);
	T_EQ_STR(d.encoding, "WINDOWS-1252");
}

T_TEST(sniff_describe_line)
{
	struct sniff_dialect d;
	char o[200];

	T_EQ_INT(HEAD("sku;qty\r\nA;1\r\n", &d), SNIFF_CSV);
	sniff_describe(SNIFF_CSV, &d, o, sizeof(o));
	T_EQ_STR(o, "csv (delimiter ';', 2 columns with a header, encoding "
		    "UTF-8, line ends CRLF)");
	sniff_describe(SNIFF_CSV, &d, o, 12);
	T_EQ_STR(o, "csv (del...");
	T_EQ_STR(sniff_format_name(SNIFF_ARCHIVE), "archive");
	T_EQ_STR(sniff_eol_name(SNIFF_EOL_CR), "CR");
}

T_TEST(sniff_file_csv)
{
	struct err e = ERR_INIT;
	struct sniff *s = NULL;
	const struct sniff_csv *c;

	T_ASSERT(t_write_file("in.csv",
			      "sku;qty;note\r\nA-1;3;\"two\r\nlines\"\r\n"
			      "B-2;14;x;extra\r\nA-1;5;\r\nC-3;0;y\r\n") == 0);
	T_OK(sniff_file("in.csv", NULL, NULL, &s, &e), &e);
	c = &s->u.csv;
	T_EQ_INT(s->format, SNIFF_CSV);
	T_EQ_INT(s->dialect.delimiter, ';');
	T_EQ_INT(c->ncols, 3);
	T_EQ_STR(c->cols[0].name, "sku");
	T_EQ_STR(c->cols[2].name, "note");
	T_EQ_INT(c->rows, 4);
	T_EQ_INT(c->lines, 6);
	/* distinct samples: A-1 once */
	T_EQ_INT(c->cols[0].nsamples, 3);
	T_EQ_STR(c->cols[0].samples[0], "A-1");
	T_EQ_STR(c->cols[0].samples[1], "B-2");
	T_EQ_STR(c->cols[2].samples[0], "two\r\nlines");
	T_EQ_INT(c->cols[2].nonempty, 3);
	T_EQ_INT(c->nbad, 1);
	T_EQ_INT(c->bad[0].line, 4);
	T_EQ_INT(c->bad[0].index, 2);
	T_EQ_INT(c->bad[0].nfields, 4);
	T_EQ_STR(c->bad[0].why, "4 fields, the header has 3");
	T_EQ_INT(s->valid, 0);
	sniff_free(s);
}

T_TEST(sniff_file_x12)
{
	struct err e = ERR_INIT;
	struct sniff *s = NULL;
	const struct sniff_elem *p;
	const struct sniff_edi *x;

	/* 00406: '-' is the repetition separator; REF*BM*999999-001 is
	 * split by the standard, and inspect says so. GS08 004010 differs
	 * from ISA12 00406. IEA01 says 2 groups, there is 1. */
	T_ASSERT(t_write_file("in.x12",
		"ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       "
		"*261120*0600*-*00406*000000001*0*P*>~\n"
		"GS*IB*SENDER*RECEIVER*20261120*0600*1*X*004010~\n"
		"ST*846*0001~\nBIA*00*MM*INV1*20261120~\nREF*BM*999999-001~\n"
		"LIN*1*UP*012345678905~\nQTY*33*120*EA~\n"
		"LIN*2*UP*012345678906~\nQTY*33*5*EA~\nQTY*17*1*EA~\n"
		"SE*9*0001~\nGE*1*1~\nIEA*2*000000001~\n") == 0);
	T_OK(sniff_file("in.x12", NULL, NULL, &s, &e), &e);
	x = &s->u.edi;
	T_EQ_INT(s->format, SNIFF_X12);
	T_EQ_STR(s->message, "846");
	T_EQ_STR(s->message_version, "004010");
	T_EQ_STR(x->version, "00406");
	T_EQ_INT(x->delims.rep, '-');
	T_EQ_INT(x->nmessages, 1);
	T_EQ_INT(x->nics, 1);
	T_EQ_INT(x->ics[0].declared_groups, 2);
	T_EQ_INT(x->ics[0].groups, 1);
	p = sniff_edi_elem(s, "QTY", 1, 1);
	T_ASSERT(p != NULL);
	T_EQ_INT(p->is_code, 1);
	T_EQ_INT(p->ncodes, 2);
	T_EQ_STR(p->codes[0].value, "33");
	T_EQ_INT(p->codes[0].n, 2);
	p = sniff_edi_elem(s, "LIN", 2, 1);
	T_ASSERT(p != NULL && p->is_code && p->ncodes == 1);
	p = sniff_edi_elem(s, "LIN", 1, 1); /* line numbers: no qualifier */
	T_ASSERT(p != NULL && !p->is_code);
	p = sniff_edi_elem(s, "REF", 2, 1);
	T_ASSERT(p != NULL && p->repeated);
	T_EQ_STR(p->sample, "999999");
	T_EQ_INT(x->rep_splits, 1);
	{
		unsigned i;
		int rep = 0, ver = 0, count = 0;

		for (i = 0; i < x->nfindings; i++) {
			rep += !strcmp(x->findings[i].code, "repetition") &&
			       strstr(x->findings[i].text, "'999999', '001'");
			ver += !strcmp(x->findings[i].code, "version");
			count += !strcmp(x->findings[i].code, "count");
		}
		T_EQ_INT(rep, 1);
		T_EQ_INT(ver, 1);
		T_EQ_INT(count, 1);
	}
	T_EQ_INT(s->valid, 0); /* the IEA01 count is an error */
	sniff_free(s);
}

T_TEST(sniff_file_xml)
{
	struct err e = ERR_INIT;
	struct sniff *s = NULL;
	const struct sniff_xml *x;
	unsigned i;
	int line_id = 0, unit = 0;

	T_ASSERT(t_write_file("in.xml",
		"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n"
		"<Inv xmlns=\"urn:i\" xmlns:cbc=\"urn:c\">"
		"<cbc:ID>7</cbc:ID><Line><cbc:ID>1</cbc:ID>"
		"<cbc:Qty unitCode=\"EA\">3</cbc:Qty></Line>"
		"<Line><cbc:ID>2</cbc:ID></Line></Inv>\n") == 0);
	T_OK(sniff_file("in.xml", NULL, NULL, &s, &e), &e);
	x = &s->u.xml;
	T_EQ_INT(s->format, SNIFF_XML);
	T_EQ_STR(s->message, "Inv");
	T_EQ_STR(s->message_version, "urn:i");
	T_EQ_STR(x->encoding, "ISO-8859-1");
	T_EQ_INT(x->nns, 2);
	for (i = 0; i < x->npaths; i++) {
		if (!strcmp(x->paths[i].path, "/Inv/Line/cbc:ID")) {
			line_id = (int)x->paths[i].n;
			T_EQ_STR(x->paths[i].sample, "1");
			T_EQ_STR(x->paths[i].ns, "urn:c");
		}
		if (!strcmp(x->paths[i].path, "/Inv/Line/cbc:Qty/@unitCode")) {
			unit = 1;
			T_EQ_STR(x->paths[i].sample, "EA");
		}
	}
	T_EQ_INT(line_id, 2);
	T_EQ_INT(unit, 1);
	T_EQ_INT(s->valid, 1);
	sniff_free(s);
}
