/* gen_bench.c - deterministic benchmark inputs of a chosen size.
 *
 *   gen_bench FORMAT SIZE [SEED] > FILE
 *
 * FORMAT is one of
 *   csv       store stock CSV (mappings/stores/store_stock_csv.yaml):
 *             BOM, header `store,sku,qty,status,counted_at`, quoted SKUs
 *             (1 row in 8) and timestamps (1 in 20)
 *   x12-852   X12 852 product activity: one set per store (N9/N1 header,
 *             LIN + ZA*QA/ZA*QS per SKU)
 *   x12-846   X12 846 inventory advice: one set per store (BIA/DTM/N1
 *             header, LIN + PID + QTY per SKU, some QTY*02 on order)
 *   edifact   EDIFACT INVRPT (UNOC): one message per store (BGM/DTM/NAD+SU
 *             header, LIN + PIA + IMD + QTY + LOC per SKU); names and
 *             descriptions carry release characters (?+ ?: ?' ??)
 *   ubl       UBL 2.1 InventoryReport (mappings/xml/ubl_inventory_report.yaml):
 *             one document, retailer party header, InventoryReportLine
 *             per SKU, blocks of lines with their own InventoryLocation
 * SIZE is bytes with an optional K, M or G suffix (powers of 1024); the
 * output stops at the first store boundary at or past SIZE and then
 * closes its envelopes, so it is a little larger. SEED defaults to 42.
 *
 * Distributions, the same for every format: stores F001..F999 (codes the
 * bench's stores lookup maps), 200 to 3000 SKUs per store (most near the
 * low end), quantities mostly small (60% under 20, 30% under 200, 10% up
 * to 5000), status OK 90% / RES 7% / DMG 3% in the CSV. EDI files are
 * several interchanges (a new ISA/GS or UNB every 500 stores), as a VAN
 * concatenates them, so envelope headers repeat. Envelope counts and
 * control numbers are correct: every file is valid.
 *
 * The record count (stock lines) goes to stderr as "records N", which
 * bench.sh reads. The same arguments always give the same bytes
 * (splitmix64, no time, no locale).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng;

static uint64_t next(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Output with a byte count (the size target) over a big stdio buffer. */
static unsigned long long out_bytes;

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void out(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	if (n > 0)
		out_bytes += (unsigned long long)n;
}

static unsigned skus_per_store(void)
{
	uint64_t r = next();

	/* Skewed: most stores carry a few hundred SKUs, some thousands. */
	return 200 + (unsigned)((r % 2801) * (r % 2801) / 2800);
}

static unsigned quantity(uint64_t r)
{
	unsigned pick = (unsigned)(r % 100);

	r >>= 8;
	if (pick < 60)
		return (unsigned)(r % 20);
	if (pick < 90)
		return (unsigned)(r % 200);
	return (unsigned)(r % 5001);
}

/* The store of the i-th store block (1-based) and its SKU offset: after
 * F999 the codes wrap and the SKU range moves on, so no (store, sku)
 * pair repeats within a file. */
static unsigned store_code(unsigned long i)
{
	return (unsigned)((i - 1) % 999) + 1;
}

static unsigned long long sku_of(unsigned long store_i, unsigned k)
{
	unsigned long wrap = (store_i - 1) / 999;

	/* A permutation of 0..n-1 spread over a 1e6 catalogue. */
	return (unsigned long long)wrap * 1000000ULL +
	       ((unsigned long long)k * 7919ULL + store_i * 13ULL) % 1000000ULL;
}

static const char *const words[] = {
	"Mug", "Pan", "Knife", "Board", "Bowl", "Glass", "Plate", "Kettle",
	"Whisk", "Ladle", "Tray", "Jar", "Grater", "Sieve", "Spoon", "Fork",
};

static unsigned long long records;

static void gen_csv(unsigned long long want)
{
	unsigned long s;

	out("\xef\xbb\xbfstore,sku,qty,status,counted_at\n");
	for (s = 1; out_bytes < want; s++) {
		unsigned n = skus_per_store(), k;
		unsigned store = store_code(s);

		for (k = 0; k < n; k++) {
			uint64_t r = next();
			unsigned qty = quantity(r);
			unsigned pick = (unsigned)((r >> 20) % 100);
			const char *status = pick < 90 ? "OK" : pick < 97 ? "RES" : "DMG";
			unsigned hour = 6 + (unsigned)((r >> 28) % 4);
			unsigned min = (unsigned)((r >> 32) % 60);
			int qsku = ((r >> 40) % 8) == 0;
			int qts = ((r >> 44) % 20) == 0;

			out("F%03u,%sKW-%07llu%s,%u,%s,%s2026-11-20 %02u:%02u%s\n",
			    store, qsku ? "\"" : "", sku_of(s, k),
			    qsku ? "\"" : "", qty, status, qts ? "\"" : "", hour,
			    min, qts ? "\"" : "");
			records++;
		}
	}
}

#define STORES_PER_INTERCHANGE 500

static void gen_x12(unsigned long long want, int is852)
{
	unsigned long s = 0, icn = 777, sets = 0;
	int open = 0;

	while (out_bytes < want || !s) {
		unsigned n, k, nseg;
		unsigned store;

		if (!open) {
			out("ISA*00*          *00*          *ZZ*ACMESUPPLY     *ZZ*"
			    "STOCKPIPE      *261120*0600*%s*%s*%09lu*0*P*>~\n",
			    is852 ? "^" : "U", is852 ? "00501" : "00401", icn);
			out("GS*%s*ACMESUPPLY*STOCKPIPE*20261120*0600*%lu*X*%s~\n",
			    is852 ? "PD" : "IB", icn,
			    is852 ? "005010" : "004010");
			open = 1;
			sets = 0;
		}
		s++;
		sets++;
		store = store_code(s);
		n = skus_per_store();
		if (is852) {
			out("ST*852*%04lu~\nXQ*H*20261113*20261119~\n"
			    "N9*IA*STORE%05lu~\nN1*RL*Kuechenwelt Filiale %u*92*F%03u~\n",
			    sets, s, store, store);
			nseg = 4;
		} else {
			out("ST*846*%04lu~\nBIA*00*SI*INV%lu*20261120~\n"
			    "DTM*405*20261120*0600~\nN1*ST*Kuechenwelt Filiale %u*92*F%03u~\n",
			    sets, s, store, store);
			nseg = 4;
		}
		for (k = 0; k < n; k++) {
			uint64_t r = next();
			unsigned q = quantity(r);
			unsigned long long upc = (r >> 12) % 100000000000ULL;

			if (is852) {
				out("LIN**UP*0%011llu*VN*KW-%07llu~\n"
				    "ZA*QA*%u*EA~\nZA*QS*%u*EA~\n",
				    upc, sku_of(s, k), q, q / 7);
				nseg += 3;
			} else {
				out("LIN*%u*UP*0%011llu*VN*KW-%07llu~\n"
				    "PID*F****%s %s %u~\nQTY*33*%u*EA~\n",
				    k + 1, upc, sku_of(s, k),
				    words[r >> 60], words[(r >> 56) & 15],
				    (unsigned)(r % 1000), q);
				nseg += 3;
				if ((r >> 50) % 10 == 0) {
					out("QTY*02*%u*EA~\n", q / 3 + 1);
					nseg++;
				}
			}
			records++;
		}
		out("SE*%u*%04lu~\n", nseg + 1, sets);
		if (sets == STORES_PER_INTERCHANGE || out_bytes >= want) {
			out("GE*%lu*%lu~\nIEA*1*%09lu~\n", sets, icn, icn);
			icn++;
			open = 0;
		}
	}
}

/* EDIFACT text with release characters: a store or item name that
 * contains the service characters themselves. */
static const char *const edi_names[] = {
	"Kuechen?+Co", "Topf?:Deckel", "Koch?'s Welt", "Preis??frei",
	"Brau ?+ Soehne", "Glas & Porzellan", "Messer?:Block 3tlg",
	"Back?'n Mehr",
};

static void gen_edifact(unsigned long long want)
{
	unsigned long s = 0, icn = 777, msgs = 0;
	int open = 0;

	out("UNA:+.? '\n");
	while (out_bytes < want || !s) {
		unsigned n, k, nseg;
		unsigned store;

		if (!open) {
			out("UNB+UNOC:3+5412345000013:14+4012345000009:14+"
			    "261120:0600+BENCH%lu'\n", icn);
			open = 1;
			msgs = 0;
		}
		s++;
		msgs++;
		store = store_code(s);
		n = skus_per_store();
		out("UNH+M%lu+INVRPT:D:96A:UN:EAN008'\nBGM+35+INV%lu+9'\n"
		    "DTM+137:20261120:102'\nNAD+SU+40123450%05u::9++%s %u'\n",
		    msgs, s, store, edi_names[s & 7], store);
		nseg = 4;
		for (k = 0; k < n; k++) {
			uint64_t r = next();
			unsigned q = quantity(r);

			out("LIN+%u++4%012llu:SRS'\nPIA+5+KW-%07llu:SA'\n"
			    "IMD+F++:::%s %s'\nQTY+145:%u'\nLOC+18+F%03u::92'\n",
			    k + 1, (unsigned long long)((r >> 8) % 1000000000000ULL),
			    sku_of(s, k), edi_names[(r >> 61) & 7],
			    words[(r >> 56) & 15], q, store);
			nseg += 5;
			records++;
		}
		out("UNT+%u+M%lu'\n", nseg + 1, msgs);
		if (msgs == STORES_PER_INTERCHANGE || out_bytes >= want) {
			out("UNZ+%lu+BENCH%lu'\n", msgs, icn);
			icn++;
			open = 0;
		}
	}
}

static void gen_ubl(unsigned long long want)
{
	unsigned long s, line = 0;

	out("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<InventoryReport xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:InventoryReport-2\"\n"
	    "    xmlns:cac=\"urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2\"\n"
	    "    xmlns:cbc=\"urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2\">\n"
	    "    <cbc:UBLVersionID>2.1</cbc:UBLVersionID>\n"
	    "    <cbc:ID>IR-BENCH-20261120</cbc:ID>\n"
	    "    <cbc:IssueDate>2026-11-20</cbc:IssueDate>\n"
	    "    <cbc:IssueTime>06:30:00+01:00</cbc:IssueTime>\n"
	    "    <cbc:Note>Benchmark stock count &amp; reconciliation</cbc:Note>\n"
	    "    <cac:RetailerCustomerParty>\n"
	    "        <cac:Party>\n"
	    "            <cac:PartyIdentification>\n"
	    "                <cbc:ID schemeID=\"store\">F001</cbc:ID>\n"
	    "            </cac:PartyIdentification>\n"
	    "            <cac:PartyName><cbc:Name>K&#252;chenwelt Zentrale</cbc:Name></cac:PartyName>\n"
	    "        </cac:Party>\n"
	    "    </cac:RetailerCustomerParty>\n");
	for (s = 1; out_bytes < want; s++) {
		unsigned n = skus_per_store(), k;
		unsigned store = store_code(s);

		for (k = 0; k < n; k++) {
			uint64_t r = next();

			line++;
			out("    <cac:InventoryReportLine>\n"
			    "        <cbc:ID>%lu</cbc:ID>\n"
			    "        <cbc:Quantity unitCode=\"%s\">%u</cbc:Quantity>\n"
			    "        <cac:Item>\n"
			    "            <cbc:Description>%s %s%s</cbc:Description>\n"
			    "            <cac:SellersItemIdentification>\n"
			    "                <cbc:ID>KW-%07llu</cbc:ID>\n"
			    "            </cac:SellersItemIdentification>\n"
			    "        </cac:Item>\n",
			    line, (r >> 40) % 10 ? "H87" : "C62", quantity(r),
			    words[r >> 60], words[(r >> 56) & 15],
			    (r >> 52) % 16 ? "" : " &amp; Deckel",
			    sku_of(s, k));
			/* The first store's lines use the header party. */
			if (s > 1)
				out("        <cac:InventoryLocation><cbc:ID>F%03u</cbc:ID></cac:InventoryLocation>\n",
				    store);
			out("    </cac:InventoryReportLine>\n");
			records++;
		}
	}
	out("</InventoryReport>\n");
}

static int usage(void)
{
	fprintf(stderr, "usage: gen_bench csv|x12-852|x12-846|edifact|ubl "
			"SIZE[K|M|G] [SEED]\n");
	return 64;
}

int main(int argc, char **argv)
{
	static char obuf[1 << 17];
	unsigned long long want;
	char *end;

	if (argc < 3 || argc > 4)
		return usage();
	want = strtoull(argv[2], &end, 10);
	switch (*end) {
	case 'G': case 'g': want <<= 30; end++; break;
	case 'M': case 'm': want <<= 20; end++; break;
	case 'K': case 'k': want <<= 10; end++; break;
	default: break;
	}
	if (*end || !want)
		return usage();
	rng = argc > 3 ? strtoull(argv[3], NULL, 10) : 42;
	setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
	if (!strcmp(argv[1], "csv"))
		gen_csv(want);
	else if (!strcmp(argv[1], "x12-852"))
		gen_x12(want, 1);
	else if (!strcmp(argv[1], "x12-846"))
		gen_x12(want, 0);
	else if (!strcmp(argv[1], "edifact"))
		gen_edifact(want);
	else if (!strcmp(argv[1], "ubl"))
		gen_ubl(want);
	else
		return usage();
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("gen_bench");
		return 74;
	}
	fprintf(stderr, "records %llu\n", records);
	return 0;
}
