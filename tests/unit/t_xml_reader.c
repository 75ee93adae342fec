/* t_xml_reader.c - the streaming XML reader on hostile and real input:
 * events, names and lines; DOCTYPE refused; XXE and billion laughs never
 * expanded; depth, text and name bounds; encodings; the shared corpus. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "transforms/formats/xml_reader.h"
#include "t.h"

/* Reads path to the end; returns the xml_reader_next() result (0 or -1)
 * with the number of START events in *nel and the text of all TEXT
 * events (up to outn bytes) in out. */
static int rd(const char *path, const struct xml_reader_opts *o,
	      unsigned long *nel, char *out, size_t outn, struct err *e)
{
	struct xml_reader *r;
	const struct xml_event *ev;
	int fd = open(path, O_RDONLY), n;
	size_t used = 0;

	*nel = 0;
	if (out)
		out[0] = '\0';
	if (fd < 0)
		return -2;
	if (xml_reader_open_fd(&r, fd, path, o, e)) {
		close(fd);
		return -1;
	}
	while ((n = xml_reader_next(r, &ev, e)) == 1) {
		if (ev->qname && strlen(ev->qname) != ev->qlen) {
			n = err_set(e, E_INTERNAL, "qlen %zu of %s", ev->qlen,
				    ev->qname);
			break;
		}
		if (ev->type == XML_EV_START)
			(*nel)++;
		if (ev->type == XML_EV_TEXT && out && used + ev->len < outn) {
			memcpy(out + used, ev->text, ev->len);
			used += ev->len;
			out[used] = '\0';
		}
	}
	xml_reader_free(r);
	close(fd);
	return n;
}

T_TEST(xml_events_names_attributes_lines)
{
	struct xml_reader *r;
	const struct xml_event *ev;
	struct err e = ERR_INIT;
	int fd;

	T_ASSERT(t_write_file("a.xml",
			      "<?xml version=\"1.0\"?>\n"
			      "<r xmlns=\"urn:d\" xmlns:p=\"urn:p\">\n"
			      "  <p:a x=\"1\" p:y=\"&lt;2&gt;\">t&amp;u</p:a>\n"
			      "  <b/>\n"
			      "</r>\n") == 0);
	fd = open("a.xml", O_RDONLY);
	T_OK(xml_reader_open_fd(&r, fd, "a.xml", NULL, &e), &e);
	T_EQ_INT(xml_reader_next(r, &ev, &e), 1);
	T_EQ_INT(ev->type, XML_EV_START);
	T_EQ_STR(ev->local, "r");
	T_EQ_STR(ev->ns, "urn:d");
	T_EQ_INT(ev->depth, 1);
	T_EQ_INT(ev->line, 2);
	T_EQ_INT(ev->nattrs, 0); /* namespace declarations are not attributes */
	T_EQ_INT(xml_reader_next(r, &ev, &e), 1);
	T_EQ_STR(ev->qname, "p:a");
	T_EQ_STR(ev->ns, "urn:p");
	T_EQ_INT(ev->line, 3);
	T_EQ_INT(ev->nattrs, 2);
	T_EQ_STR(ev->attrs[0].local, "x");
	T_ASSERT(ev->attrs[0].ns == NULL);
	T_EQ_STR(ev->attrs[0].value, "1");
	T_EQ_STR(ev->attrs[1].ns, "urn:p");
	T_EQ_STR(ev->attrs[1].value, "<2>");
	T_EQ_INT(xml_reader_next(r, &ev, &e), 1);
	T_EQ_INT(ev->type, XML_EV_TEXT);
	T_EQ_STR(ev->text, "t&u");
	T_EQ_INT(xml_reader_next(r, &ev, &e), 1);
	T_EQ_INT(ev->type, XML_EV_END);
	T_EQ_INT(xml_reader_next(r, &ev, &e), 1);
	T_EQ_STR(ev->local, "b");
	T_EQ_INT(ev->depth, 2);
	T_EQ_INT(xml_reader_next(r, &ev, &e), 1);  /* the empty element's END */
	T_EQ_INT(ev->type, XML_EV_END);
	T_EQ_STR(ev->local, "b");
	T_EQ_INT(xml_reader_next(r, &ev, &e), 1);
	T_EQ_INT(ev->type, XML_EV_END);
	T_EQ_INT(ev->depth, 1);
	T_EQ_INT(xml_reader_next(r, &ev, &e), 0);
	T_EQ_INT(xml_reader_elements(r), 3);
	xml_reader_free(r);
	close(fd);
}

T_TEST(xml_doctype_refused_with_position)
{
	struct err e = ERR_INIT;
	unsigned long n;

	T_ASSERT(t_write_file("d.xml",
			      "<?xml version=\"1.0\"?>\n<!-- <!DOCTYPE in a comment is text -->\n"
			      "  <!DOCTYPE r [ <!ENTITY a \"b\"> ]>\n<r>x</r>\n") == 0);
	T_EQ_INT(rd("d.xml", NULL, &n, NULL, 0, &e), -1);
	T_EQ_INT(e.code, E_PARSE);
	T_EQ_INT(e.line, 3);
	T_EQ_INT(e.col, 3);
	T_ASSERT(strstr(e.reason, "DOCTYPE") != NULL);
	T_EQ_INT(n, 0);
}

static const char xxe_doc[] =
	"<?xml version=\"1.0\"?>\n"
	"<!DOCTYPE r [ <!ENTITY x SYSTEM \"file://%s/canary.txt\"> ]>\n"
	"<r>&x;</r>\n";

T_TEST(xml_xxe_is_never_loaded)
{
	struct xml_reader_opts o;
	struct err e = ERR_INIT;
	char doc[8192], text[256];
	unsigned long n;

	T_ASSERT(t_write_file("canary.txt", "SECRET-CANARY\n") == 0);
	snprintf(doc, sizeof(doc), xxe_doc, t_dir);
	T_ASSERT(t_write_file("x.xml", doc) == 0);
	/* Refused by default, before libxml2 sees the DOCTYPE. */
	T_EQ_INT(rd("x.xml", NULL, &n, text, sizeof(text), &e), -1);
	T_ASSERT(strstr(e.reason, "DOCTYPE") != NULL);
	/* Allowed: the DTD is parsed, the entity is never expanded. */
	xml_reader_opts_init(&o);
	o.allow_doctype = 1;
	err_clear(&e);
	T_EQ_INT(rd("x.xml", &o, &n, text, sizeof(text), &e), -1);
	T_ASSERT(strstr(e.reason, "entity reference '&x;' is not expanded") != NULL);
	T_ASSERT(strstr(text, "SECRET") == NULL);
	/* An external DTD is not loaded either. */
	snprintf(doc, sizeof(doc),
		 "<?xml version=\"1.0\"?>\n<!DOCTYPE r SYSTEM \"file://%s/canary.txt\">\n<r>ok</r>\n",
		 t_dir);
	T_ASSERT(t_write_file("y.xml", doc) == 0);
	err_clear(&e);
	T_OK(rd("y.xml", &o, &n, text, sizeof(text), &e), &e);
	T_EQ_STR(text, "ok");
}

T_TEST(xml_billion_laughs_refused_fast)
{
	struct xml_reader_opts o;
	struct err e = ERR_INIT;
	struct buf b = BUF_INIT(1 << 16);
	struct timespec t0, t1;
	unsigned long n;
	int i, j, allow;

	buf_adds(&b, "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol0 \"lol\">\n");
	for (i = 1; i < 10; i++) {
		buf_addf(&b, " <!ENTITY lol%d \"", i);
		for (j = 0; j < 10; j++)
			buf_addf(&b, "&lol%d;", i - 1);
		buf_adds(&b, "\">\n");
	}
	buf_adds(&b, "]>\n<lolz>&lol9;</lolz>\n");
	T_ASSERT(t_write_file("bl.xml", b.ptr) == 0);
	buf_release(&b);
	for (allow = 0; allow < 2; allow++) {
		xml_reader_opts_init(&o);
		o.allow_doctype = allow;
		err_clear(&e);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		T_EQ_INT(rd("bl.xml", &o, &n, NULL, 0, &e), -1);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		T_EQ_INT(e.code, E_PARSE);
		T_ASSERT((t1.tv_sec - t0.tv_sec) * 1000000000L +
			 (t1.tv_nsec - t0.tv_nsec) < 1000000000L);
	}
}

T_TEST(xml_depth_text_and_name_bounds)
{
	struct xml_reader_opts o;
	struct err e = ERR_INIT;
	struct buf b = BUF_INIT(1 << 24);
	unsigned long n;
	int i;

	for (i = 0; i < 10000; i++)
		buf_adds(&b, "<a>");
	for (i = 0; i < 10000; i++)
		buf_adds(&b, "</a>");
	T_ASSERT(t_write_file("deep.xml", b.ptr) == 0);
	T_EQ_INT(rd("deep.xml", NULL, &n, NULL, 0, &e), -1);
	T_EQ_INT(e.code, E_TOOBIG);
	T_ASSERT(strstr(e.reason, "nested deeper than 128") != NULL);
	T_EQ_INT(n, 128);

	buf_reset(&b);
	buf_adds(&b, "<r>\n<t>");
	for (i = 0; i < (2 << 20) / 64; i++)
		buf_adds(&b, "0123456789012345678901234567890123456789012345678901234567890123");
	buf_adds(&b, "</t></r>\n");
	T_ASSERT(t_write_file("big.xml", b.ptr) == 0);
	err_clear(&e);
	T_EQ_INT(rd("big.xml", NULL, &n, NULL, 0, &e), -1);
	T_EQ_INT(e.code, E_TOOBIG);
	T_ASSERT(strstr(e.reason, "text node of 2097152 bytes") != NULL);
	xml_reader_opts_init(&o);
	o.max_text = 4 << 20;
	err_clear(&e);
	T_OK(rd("big.xml", &o, &n, NULL, 0, &e), &e);

	buf_reset(&b);
	buf_adds(&b, "<r><");
	for (i = 0; i < 2000; i++)
		buf_addc(&b, 'n');
	buf_adds(&b, "/></r>");
	T_ASSERT(t_write_file("name.xml", b.ptr) == 0);
	err_clear(&e);
	T_EQ_INT(rd("name.xml", NULL, &n, NULL, 0, &e), -1);
	T_EQ_INT(e.code, E_TOOBIG);
	T_ASSERT(strstr(e.reason, "name of 2000 bytes") != NULL);
	buf_release(&b);
}

T_TEST(xml_encodings_and_invalid_bytes)
{
	struct err e = ERR_INIT;
	char text[256];
	unsigned long n;

	T_ASSERT(t_write_file("l1.xml",
			      "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<r>M\xfcller</r>\n") == 0);
	T_OK(rd("l1.xml", NULL, &n, text, sizeof(text), &e), &e);
	T_EQ_STR(text, "M\xc3\xbcller");
	T_ASSERT(t_write_file("u8.xml",
			      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<r>\n <a>M\xfcller</a>\n</r>\n") == 0);
	T_EQ_INT(rd("u8.xml", NULL, &n, text, sizeof(text), &e), -1);
	T_EQ_INT(e.code, E_PARSE);
	T_EQ_INT(e.line, 3);
	T_ASSERT(strstr(e.reason, "0xFC") != NULL);
	T_ASSERT(t_write_file("cp.xml",
			      "<?xml version=\"1.0\" encoding=\"windows-1252\"?>\n<r>\n<a>ok</a>\n <a>x\x81y</a>\n</r>\n") == 0);
	err_clear(&e);
	T_EQ_INT(rd("cp.xml", NULL, &n, text, sizeof(text), &e), -1);
	T_EQ_INT(e.line, 4);
	T_ASSERT(strstr(e.reason, "0x81") != NULL);
	T_ASSERT(strstr(text, "x") == NULL); /* the bad text never arrives */
}

T_TEST(xml_malformed_and_compressed_fail)
{
	struct err e = ERR_INIT;
	unsigned long n;
	static const unsigned char gz[] = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00,
					   0x00, 0x00, 0x00, 0x03, 0xb3, 0x29,
					   0xb2, 0x03, 0x00};
	FILE *f;

	T_ASSERT(t_write_file("t.xml", "<r>\n<a>1</a>\n<b>") == 0);
	T_EQ_INT(rd("t.xml", NULL, &n, NULL, 0, &e), -1);
	T_EQ_INT(e.code, E_PARSE);
	T_ASSERT(t_write_file("m.xml", "<r>\n<a>1</b>\n</r>") == 0);
	err_clear(&e);
	T_EQ_INT(rd("m.xml", NULL, &n, NULL, 0, &e), -1);
	T_EQ_INT(e.line, 2);
	T_ASSERT(strstr(e.reason, "mismatch") != NULL);
	/* gzip bytes are read as they are, never decompressed */
	f = fopen("z.xml", "wb");
	T_ASSERT(f && fwrite(gz, 1, sizeof(gz), f) == sizeof(gz));
	fclose(f);
	err_clear(&e);
	T_EQ_INT(rd("z.xml", NULL, &n, NULL, 0, &e), -1);
	T_EQ_INT(e.code, E_PARSE);
	T_EQ_INT(n, 0);
}

/* Every XML file of the shared corpus reads to the end, with the number
 * of elements xmllint --stream counts. */
T_TEST(xml_shared_corpus)
{
	static const struct {
		const char *path;
		unsigned long elements;
	} files[] = {
		{"edifact-xml/smooks_INVOIC_D96A_as_xml_61KB.xml", 1062},
		{"idoc/ballerina_DELVRY03_DESADV_idoc.xml", 24},
		{"opentrans/opentrans21_DispatchNotification_Plica.xml", 61},
		{"opentrans/opentrans21_Order_example.xml", 634},
		{"other/bots_856_asn_flat_xml_16KB.xml", 367},
		{"ubl/Consip_Catalogo_UBL_italian.xml", 441},
		{"ubl/UBL-DespatchAdvice-2.0-Example.xml", 120},
		{"ubl/UBL-InventoryReport-2.1-Example.xml", 92},
		{"ubl/UBL-Invoice-2.0-Example-NS1_prefixes-Bob-Harry-Sally.xml", 187},
		{"ubl/UBL-Order-2.1-Example.xml", 250},
		{"ubl/UBL-ProductActivity-2.1-Example-2.xml", 108},
		{"ubl/UBL-ReceiptAdvice-2.0-Example.xml", 105},
		{"ubl/UBL-RetailEvent-2.1-Example.xml", 114},
		{"ubl/UBL-TradeItemLocationProfile-2.1-Example.xml", 100},
	};
	const char *src = getenv("STOCKPIPE_SRCDIR");
	char p[4096];
	size_t i;

	snprintf(p, sizeof(p), "%s/../shared/data/xml", src ? src : ".");
	if (access(p, R_OK))
		T_SKIP("shared data not present (%s)", p);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct err e = ERR_INIT;
		unsigned long n;
		int rc;

		snprintf(p, sizeof(p), "%s/../shared/data/xml/%s",
			 src ? src : ".", files[i].path);
		rc = rd(p, NULL, &n, NULL, 0, &e);
		if (rc == -2) {
			printf("  skip: %s absent\n", files[i].path);
			continue;
		}
		if (rc != 0) {
			char m[1200];

			err_format(&e, m, sizeof(m));
			T_FAIL("%s: %s", files[i].path, m);
		}
		if (n != files[i].elements)
			T_FAIL("%s: %lu elements, expected %lu", files[i].path,
			       n, files[i].elements);
	}
}

/* What the SAX2 reader must give as xmlTextReader's tree did: one text
 * for text, CDATA and character references together, a comment ends a
 * text, '&' in an attribute arrives as '&' (libxml2 hands the SAX layer
 * "&#38;"), whitespace-only text is not reported, and lines past 65,535
 * (a tree node's 16 bits) are exact. */
T_TEST(xml_sax_text_attrs_and_big_lines)
{
	struct xml_reader *r;
	const struct xml_event *ev;
	struct err e = ERR_INIT;
	struct buf b = BUF_INIT(1 << 20);
	char texts[8][32];
	unsigned long line = 0;
	int fd, n, nt = 0, i;

	buf_adds(&b, "<r a=\"x&amp;y&#38;z &lt;\">a<![CDATA[<b>]]>&#99;&amp;d<!--c-->e\n  <s/>  \n");
	for (i = 0; i < 70000; i++)
		buf_addc(&b, '\n');
	buf_adds(&b, "<t>f</t></r>\n");
	T_ASSERT(t_write_file("sx.xml", b.ptr) == 0);
	buf_release(&b);
	fd = open("sx.xml", O_RDONLY);
	T_OK(xml_reader_open_fd(&r, fd, "sx.xml", NULL, &e), &e);
	T_EQ_INT(xml_reader_next(r, &ev, &e), 1);
	T_EQ_INT(ev->nattrs, 1);
	T_EQ_STR(ev->attrs[0].value, "x&y&z <");
	T_EQ_INT(ev->attrs[0].len, 7);
	while ((n = xml_reader_next(r, &ev, &e)) == 1) {
		if (ev->type == XML_EV_TEXT && nt < 8)
			snprintf(texts[nt++], sizeof(texts[0]), "%s", ev->text);
		if (ev->type == XML_EV_START && !strcmp(ev->local, "t"))
			line = ev->line;
	}
	T_OK(n, &e);
	T_EQ_INT(nt, 3);
	T_EQ_STR(texts[0], "a<b>c&d");
	T_EQ_STR(texts[1], "e\n  ");
	T_EQ_STR(texts[2], "f");
	T_EQ_INT(line, 70003);
	xml_reader_free(r);
	close(fd);
}

/* Whitespace-only text is dropped by a word-at-a-time test (all_blank):
 * for texts of 0..40 bytes made of spaces, tabs, newlines and CRs, with
 * one visible byte (or none) at every position, the reader reports a
 * text exactly when a byte loop finds a non-blank byte, and reports it
 * whole (CRs as libxml2 normalises them). */
T_TEST(xml_blank_text_test_matches_a_byte_loop)
{
	static const char fill[4][5] = { "    ", "\n   ", "\t \n ", "\r\n \r" };
	static const char *vis[] = { "x", "!", "\xc2\xa0" };
	struct buf b = BUF_INIT(1 << 22);
	struct xml_reader *r;
	const struct xml_event *ev;
	struct err e = ERR_INIT;
	char (*want)[48] = calloc(20000, sizeof(*want));
	char got[48];
	size_t nel = 0, cur = 0, len, k, f, v, bad = 0;
	int fd, n, in_e = 0;

	T_ASSERT(want != NULL);
	buf_adds(&b, "<r>");
	for (f = 0; f < 4; f++)
		for (len = 0; len <= 40; len++)
			for (v = 0; v < 3; v++)
				for (k = 0; k <= len && nel < 20000; k++) {
					char t[48], *w = want[nel++];
					size_t o = 0, j;

					/* k == len: blanks only */
					for (j = 0; j < len; j++)
						t[j] = fill[f][j % 4];
					t[len] = '\0';
					buf_adds(&b, "<e>");
					buf_add(&b, t, k);
					if (k < len)
						buf_adds(&b, vis[v]);
					buf_add(&b, t + k + (k < len), len - k - (k < len));
					buf_adds(&b, "</e>");
					if (k == len) {
						w[0] = '\0';
						continue;
					}
					/* the text as libxml2 hands it on */
					for (j = 0; j < len; j++) {
						if (j == k) {
							o += (size_t)sprintf(w + o, "%s", vis[v]);
							continue;
						}
						if (t[j] == '\r' && j + 1 < len && j + 1 != k &&
						    t[j + 1] == '\n')
							continue;
						w[o++] = t[j] == '\r' ? '\n' : t[j];
					}
					w[o] = '\0';
				}
	buf_adds(&b, "</r>\n");
	T_ASSERT(t_write_file("bl.xml", b.ptr) == 0);
	buf_release(&b);
	fd = open("bl.xml", O_RDONLY);
	T_OK(xml_reader_open_fd(&r, fd, "bl.xml", NULL, &e), &e);
	got[0] = '\0';
	while ((n = xml_reader_next(r, &ev, &e)) == 1) {
		if (ev->type == XML_EV_START && ev->depth == 2) {
			in_e = 1;
			got[0] = '\0';
		} else if (ev->type == XML_EV_TEXT && in_e) {
			snprintf(got, sizeof(got), "%s", ev->text);
		} else if (ev->type == XML_EV_END && ev->depth == 2) {
			if (cur < nel && strcmp(got, want[cur]) && bad++ < 5)
				T_FAIL("text %zu: got \"%s\", want \"%s\"", cur,
				       got, want[cur]);
			cur++;
			in_e = 0;
		}
	}
	T_OK(n, &e);
	T_EQ_INT(cur, nel);
	T_EQ_INT(nel, 4 * 3 * (41 * 42 / 2)); /* fills x visible x (len + 1) */
	xml_reader_free(r);
	close(fd);
	free(want);
}

/* The XML mapping keeps each value's length (mapping_xml.c sets
 * nul_free): no text or attribute value the reader gives may hold a NUL.
 * A raw NUL byte or a reference to U+0000, in text or in an attribute,
 * in XML 1.0 or 1.1, fails the document and no event carries one. */
T_TEST(xml_nul_never_read)
{
	static const struct { const char *doc; size_t len; } bad[] = {
		{ "<r a=\"x&#0;y\">t</r>", 19 },
		{ "<r>t&#0;u</r>", 13 },
		{ "<r>t&#x0;u</r>", 14 },
		{ "<r>t\0u</r>", 10 },
		{ "<r a=\"x\0y\">t</r>", 16 },
		{ "<?xml version=\"1.1\"?><r>t&#x0;u</r>", 35 },
	};
	size_t i, j;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct xml_reader *r;
		const struct xml_event *ev;
		struct err e = ERR_INIT;
		int fd, n;

		fd = open("nul.xml", O_WRONLY | O_CREAT | O_TRUNC, 0600);
		T_ASSERT(fd >= 0);
		T_ASSERT(write(fd, bad[i].doc, bad[i].len) == (ssize_t)bad[i].len);
		close(fd);
		fd = open("nul.xml", O_RDONLY);
		T_OK(xml_reader_open_fd(&r, fd, "nul.xml", NULL, &e), &e);
		while ((n = xml_reader_next(r, &ev, &e)) == 1) {
			if (ev->type == XML_EV_TEXT && strlen(ev->text) != ev->len)
				T_FAIL("document %zu: a NUL in a text", i);
			for (j = 0; ev->type == XML_EV_START && j < ev->nattrs; j++)
				if (strlen(ev->attrs[j].value) != ev->attrs[j].len)
					T_FAIL("document %zu: a NUL in an attribute", i);
		}
		if (n != -1)
			T_FAIL("document %zu was read to its end", i);
		xml_reader_free(r);
		close(fd);
	}
}
