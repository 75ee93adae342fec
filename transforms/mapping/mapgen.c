/* mapgen.c - see mapgen.h.
 *
 * Each input kind is turned into a plan (where a record starts, which
 * expression feeds which canonical field, what is a guess) and one writer
 * prints the plan as YAML, so the layout of a generated mapping is the
 * same for CSV, EDI and XML. A field the file does not clearly carry is
 * left as a commented placeholder: a generated guess that rejects rows
 * would hide the records the analyst needs to see first. Only the
 * required fields of the kind get a placeholder value (marked TODO), so
 * the mapping runs.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mapgen.h"
#include "mapgen_int.h"

/* ---- names -------------------------------------------------------------- */

/* Lowercase ASCII letters and digits of name, German umlauts spelt out
 * (ä -> ae, ß -> ss), accents dropped; everything else removed. */
static void norm_name(const char *name, char *out, size_t n)
{
	const unsigned char *s = (const unsigned char *)name;
	size_t k = 0;

	for (; *s && k + 3 < n; s++) {
		if (isalnum(*s) && *s < 0x80) {
			out[k++] = (char)tolower(*s);
		} else if (*s == 0xc3 && s[1]) {
			const char *r = NULL;

			switch (s[1]) {
			case 0xa4: case 0x84: r = "ae"; break;
			case 0xb6: case 0x96: r = "oe"; break;
			case 0xbc: case 0x9c: r = "ue"; break;
			case 0x9f: r = "ss"; break;
			case 0xa0: case 0xa1: case 0xa2: r = "a"; break;
			case 0xa8: case 0xa9: case 0xaa: r = "e"; break;
			case 0xb2: case 0xb3: r = "o"; break;
			default: break;
			}
			s++;
			if (r)
				while (*r && k + 1 < n)
					out[k++] = *r++;
		}
	}
	out[k] = 0;
}

struct name_rule {
	const char *word;
	enum mapgen_field f;
};

/* Whole names first: a column called exactly "Mengeneinheit" is a unit,
 * although it contains "menge". */
static const struct name_rule exact_names[] = {
	{"sku", MGF_SKU}, {"skuid", MGF_SKU}, {"article", MGF_SKU},
	{"articleno", MGF_SKU}, {"articlenumber", MGF_SKU},
	{"articlecode", MGF_SKU}, {"articleid", MGF_SKU},
	{"artikel", MGF_SKU}, {"artikelnr", MGF_SKU},
	{"artikelnummer", MGF_SKU}, {"artnr", MGF_SKU}, {"artno", MGF_SKU},
	{"item", MGF_SKU}, {"itemno", MGF_SKU}, {"itemnumber", MGF_SKU},
	{"itemid", MGF_SKU}, {"itemcode", MGF_SKU}, {"productnumber", MGF_SKU},
	{"productno", MGF_SKU}, {"productid", MGF_SKU},
	{"productcode", MGF_SKU}, {"matnr", MGF_SKU}, {"material", MGF_SKU},
	{"materialnumber", MGF_SKU}, {"materialnr", MGF_SKU},
	{"partnumber", MGF_SKU}, {"partno", MGF_SKU}, {"plu", MGF_SKU},
	{"supplierpid", MGF_SKU}, {"buyerpid", MGF_SKU},
	{"supplieraid", MGF_SKU}, {"byart", MGF_SKU}, {"codice", MGF_SKU},
	{"referencia", MGF_SKU}, {"artikelnummer", MGF_SKU},
	{"gtin", MGF_GTIN}, {"ean", MGF_GTIN}, {"upc", MGF_GTIN},
	{"ean13", MGF_GTIN}, {"ean8", MGF_GTIN}, {"eancode", MGF_GTIN},
	{"gtinean", MGF_GTIN}, {"barcode", MGF_GTIN}, {"gtin13", MGF_GTIN},
	{"gtin14", MGF_GTIN}, {"eannr", MGF_GTIN}, {"eannummer", MGF_GTIN},
	{"internationalpid", MGF_GTIN}, {"isbn", MGF_GTIN},
	{"suppliersku", MGF_SUPPLIER_SKU}, {"vendorsku", MGF_SUPPLIER_SKU},
	{"supplierarticle", MGF_SUPPLIER_SKU},
	{"vendoritem", MGF_SUPPLIER_SKU}, {"mpn", MGF_SUPPLIER_SKU},
	{"lieferantenartikel", MGF_SUPPLIER_SKU},
	{"lieferantenartikelnummer", MGF_SUPPLIER_SKU},
	{"manufacturerpartnumber", MGF_SUPPLIER_SKU},
	{"description", MGF_DESC}, {"name", MGF_DESC}, {"title", MGF_DESC},
	{"productname", MGF_DESC}, {"itemname", MGF_DESC},
	{"bezeichnung", MGF_DESC}, {"artikelbezeichnung", MGF_DESC},
	{"beschreibung", MGF_DESC}, {"designation", MGF_DESC},
	{"descrizione", MGF_DESC}, {"descripcion", MGF_DESC},
	{"omschrijving", MGF_DESC}, {"kurztext", MGF_DESC},
	{"maktx", MGF_DESC}, {"descriptionshort", MGF_DESC},
	{"brand", MGF_BRAND}, {"marke", MGF_BRAND}, {"brandname", MGF_BRAND},
	{"manufacturer", MGF_BRAND}, {"hersteller", MGF_BRAND},
	{"marque", MGF_BRAND},
	{"category", MGF_CATEGORY}, {"categories", MGF_CATEGORY},
	{"warengruppe", MGF_CATEGORY}, {"productgroup", MGF_CATEGORY},
	{"kategorie", MGF_CATEGORY}, {"matkl", MGF_CATEGORY},
	{"uom", MGF_UOM}, {"unit", MGF_UOM}, {"einheit", MGF_UOM},
	{"mengeneinheit", MGF_UOM}, {"unitofmeasure", MGF_UOM},
	{"me", MGF_UOM}, {"meins", MGF_UOM}, {"baseuom", MGF_UOM},
	{"orderunit", MGF_UOM}, {"unitcode", MGF_UOM},
	{"packsize", MGF_PACK}, {"vpe", MGF_PACK}, {"casepack", MGF_PACK},
	{"verpackungseinheit", MGF_PACK},
	{"status", MGF_STATUS}, {"productstatus", MGF_STATUS},
	{"location", MGF_LOCATION}, {"locationid", MGF_LOCATION},
	{"store", MGF_LOCATION}, {"storeid", MGF_LOCATION},
	{"storecode", MGF_LOCATION}, {"warehouse", MGF_LOCATION},
	{"site", MGF_LOCATION}, {"branch", MGF_LOCATION},
	{"filiale", MGF_LOCATION}, {"filialnr", MGF_LOCATION},
	{"lager", MGF_LOCATION}, {"lagerort", MGF_LOCATION},
	{"standort", MGF_LOCATION}, {"shop", MGF_LOCATION},
	{"werk", MGF_LOCATION}, {"plant", MGF_LOCATION}, {"loc", MGF_LOCATION},
	{"gln", MGF_LOCATION}, {"retailercustomerparty", MGF_LOCATION}, {"werks", MGF_LOCATION}, {"lgort", MGF_LOCATION},
	{"qty", MGF_QTY}, {"quantity", MGF_QTY}, {"stock", MGF_QTY},
	{"onhand", MGF_QTY}, {"menge", MGF_QTY}, {"bestand", MGF_QTY},
	{"available", MGF_QTY}, {"inventory", MGF_QTY}, {"soh", MGF_QTY},
	{"quantite", MGF_QTY}, {"cantidad", MGF_QTY}, {"quantita", MGF_QTY},
	{"aantal", MGF_QTY}, {"voorraad", MGF_QTY}, {"delqua", MGF_QTY},
	{"labst", MGF_QTY}, {"verfuegbar", MGF_QTY}, {"units", MGF_QTY},
	{"date", MGF_DATE}, {"datum", MGF_DATE}, {"asof", MGF_DATE},
	{"countedat", MGF_DATE}, {"timestamp", MGF_DATE},
	{"updatedat", MGF_DATE}, {"stand", MGF_DATE}, {"stichtag", MGF_DATE},
	{"docdtm", MGF_DATE}, {"issuedate", MGF_DATE},
	{"price", MGF_PRICE}, {"preis", MGF_PRICE}, {"kbetr", MGF_PRICE},
	{"cost", MGF_PRICE}, {"amount", MGF_PRICE}, {"prix", MGF_PRICE},
	{"prezzo", MGF_PRICE}, {"precio", MGF_PRICE}, {"prijs", MGF_PRICE},
	{"currency", MGF_CURRENCY}, {"currencycode", MGF_CURRENCY},
	{"currencyid", MGF_CURRENCY}, {"waehrung", MGF_CURRENCY},
	{"cur", MGF_CURRENCY}, {"curr", MGF_CURRENCY}, {"devise", MGF_CURRENCY},
	{"valuta", MGF_CURRENCY}, {"moneda", MGF_CURRENCY},
	{"konwa", MGF_CURRENCY}, {"pricecurrency", MGF_CURRENCY},
	{"validfrom", MGF_VALID_FROM}, {"datefrom", MGF_VALID_FROM},
	{"gueltigab", MGF_VALID_FROM}, {"datab", MGF_VALID_FROM},
	{"startdate", MGF_VALID_FROM},
	{"validto", MGF_VALID_TO}, {"dateuntil", MGF_VALID_TO},
	{"dateuntill", MGF_VALID_TO}, {"gueltigbis", MGF_VALID_TO},
	{"datbi", MGF_VALID_TO}, {"enddate", MGF_VALID_TO},
	{"region", MGF_REGION}, {"state", MGF_REGION}, {"province", MGF_REGION},
	{"bundesland", MGF_REGION}, {"county", MGF_REGION},
	{"locationtype", MGF_LOCTYPE}, {"storetype", MGF_LOCTYPE},
	{"sitetype", MGF_LOCTYPE}, {"standorttyp", MGF_LOCTYPE},
	{"storename", MGF_DESC}, {"locationname", MGF_DESC},
	{"sitename", MGF_DESC}, {"filialname", MGF_DESC},
};

/* Then parts of names, in this order: "Lagerbestand" is a quantity
 * before it is a warehouse, "price_net_eur" a price, "GTIN/EAN" a GTIN. */
static const struct name_rule part_names[] = {
	{"gtin", MGF_GTIN}, {"ean", MGF_GTIN}, {"upc", MGF_GTIN},
	{"barcode", MGF_GTIN},
	{"suppliersku", MGF_SUPPLIER_SKU}, {"vendorsku", MGF_SUPPLIER_SKU},
	{"lieferantenart", MGF_SUPPLIER_SKU},
	{"sku", MGF_SKU}, {"artikelnummer", MGF_SKU}, {"articlenumber", MGF_SKU},
	{"artnr", MGF_SKU}, {"itemnumber", MGF_SKU}, {"itemidentifier", MGF_SKU},
	{"productnumber", MGF_SKU}, {"productid", MGF_SKU}, {"matnr", MGF_SKU},
	{"currency", MGF_CURRENCY}, {"waehrung", MGF_CURRENCY},
	{"validfrom", MGF_VALID_FROM}, {"gueltigab", MGF_VALID_FROM},
	{"validto", MGF_VALID_TO}, {"gueltigbis", MGF_VALID_TO},
	{"mengeneinheit", MGF_UOM}, {"unitofmeasure", MGF_UOM},
	{"price", MGF_PRICE}, {"preis", MGF_PRICE}, {"prix", MGF_PRICE},
	{"prezzo", MGF_PRICE}, {"precio", MGF_PRICE}, {"prijs", MGF_PRICE},
	{"qty", MGF_QTY}, {"quantity", MGF_QTY}, {"quantit", MGF_QTY},
	{"menge", MGF_QTY}, {"bestand", MGF_QTY}, {"onhand", MGF_QTY},
	{"stock", MGF_QTY},
	{"date", MGF_DATE}, {"datum", MGF_DATE}, {"dtm", MGF_DATE},
	{"store", MGF_LOCATION}, {"warehouse", MGF_LOCATION},
	{"location", MGF_LOCATION}, {"filiale", MGF_LOCATION},
	{"lager", MGF_LOCATION}, {"standort", MGF_LOCATION},
	{"description", MGF_DESC}, {"bezeichnung", MGF_DESC},
	{"brand", MGF_BRAND}, {"marke", MGF_BRAND}, {"hersteller", MGF_BRAND},
	{"categor", MGF_CATEGORY}, {"warengruppe", MGF_CATEGORY},
	{"productgroup", MGF_CATEGORY},
};

enum mapgen_field mapgen_name_field(const char *name)
{
	char n[96];
	size_t i;

	if (!name)
		return MGF_NONE;
	norm_name(name, n, sizeof(n));
	if (!n[0])
		return MGF_NONE;
	for (i = 0; i < sizeof(exact_names) / sizeof(exact_names[0]); i++)
		if (!strcmp(n, exact_names[i].word))
			return exact_names[i].f;
	for (i = 0; i < sizeof(part_names) / sizeof(part_names[0]); i++)
		if (strstr(n, part_names[i].word))
			return part_names[i].f;
	return MGF_NONE;
}

const char *mapgen_field_name(enum mapgen_field f)
{
	static const char *const names[MGF_COUNT] = {
		"", "sku", "gtin", "supplier_sku", "description", "brand",
		"category", "uom", "pack_size", "status", "location",
		"quantity", "as_of", "amount", "currency", "valid_from",
		"valid_to", "region", "type",
	};

	return (unsigned)f < MGF_COUNT ? names[f] : "";
}

/* ---- values ------------------------------------------------------------- */

static int all_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return n > 0;
}

int mapgen_is_gtin(const char *s)
{
	size_t n = s ? strlen(s) : 0, i;
	int sum = 0;

	if ((n != 8 && n != 12 && n != 13 && n != 14) || !all_digits(s, n))
		return 0;
	/* GS1 check digit: weights 3, 1, 3, ... from the right, check
	 * digit excluded. */
	for (i = 0; i + 1 < n; i++)
		sum += (s[n - 2 - i] - '0') * (i % 2 ? 1 : 3);
	return (10 - sum % 10) % 10 == s[n - 1] - '0';
}

static int two(const char *s, int lo, int hi)
{
	int v;

	if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]))
		return 0;
	v = (s[0] - '0') * 10 + (s[1] - '0');
	return v >= lo && v <= hi;
}

static int year4(const char *s)
{
	return all_digits(s, 4) && (s[0] == '1' || s[0] == '2') &&
	       (s[1] == '9' || s[1] == '0');
}

/* A time part after a date: " HH:MM" or " HH:MM:SS" (returns the
 * format suffix) or "" for nothing; NULL when something else follows. */
static const char *time_tail(const char *t)
{
	if (!*t)
		return "";
	if (*t != ' ' || !two(t + 1, 0, 23) || t[3] != ':' ||
	    !two(t + 4, 0, 59))
		return NULL;
	if (!t[6])
		return " %H:%M";
	if (t[6] == ':' && two(t + 7, 0, 60) && !t[9])
		return " %H:%M:%S";
	return NULL;
}

const char *mapgen_date_format(const char *v)
{
	static char fmt[32];
	const char *tt;
	char s[40];
	size_t n;

	if (!v)
		return NULL;
	while (*v == ' ')
		v++;
	n = strlen(v);
	while (n && v[n - 1] == ' ')
		n--;
	if (n < 8 || n >= sizeof(s))
		return NULL;
	memcpy(s, v, n);
	s[n] = 0;
	if (year4(s) && s[4] == '-' && two(s + 5, 1, 12) && s[7] == '-' &&
	    two(s + 8, 1, 31)) {
		if (s[10] == 'T')
			return "";
		if (!(tt = time_tail(s + 10)))
			return NULL;
		snprintf(fmt, sizeof(fmt), "%%Y-%%m-%%d%s", tt);
		return fmt;
	}
	if (n == 8 && year4(s) && two(s + 4, 1, 12) && two(s + 6, 1, 31))
		return "%Y%m%d";
	if (two(s, 1, 31) && (s[2] == '.' || s[2] == '-' || s[2] == '/') &&
	    two(s + 3, 1, 12) && s[5] == s[2] && year4(s + 6)) {
		if (!(tt = time_tail(s + 10)))
			return NULL;
		snprintf(fmt, sizeof(fmt), "%%d%c%%m%c%%Y%s", s[2], s[2], tt);
		return fmt;
	}
	if (two(s, 1, 12) && s[2] == '/' && two(s + 3, 13, 31) &&
	    s[5] == '/' && year4(s + 6) && (tt = time_tail(s + 10))) {
		snprintf(fmt, sizeof(fmt), "%%m/%%d/%%Y%s", tt);
		return fmt;
	}
	return NULL;
}

int mapgen_number_kind(const char *v)
{
	size_t i = 0, digits = 0, dots = 0, commas = 0, after = 0;
	int last = 0;

	if (!v)
		return -1;
	while (v[i] == ' ')
		i++;
	if (v[i] == '-' || v[i] == '+')
		i++;
	for (; v[i] && v[i] != ' '; i++) {
		if (isdigit((unsigned char)v[i])) {
			digits++;
			after++;
		} else if (v[i] == '.' || v[i] == ',') {
			if (v[i] == '.')
				dots++;
			else
				commas++;
			last = v[i];
			after = 0;
		} else {
			return -1;
		}
	}
	while (v[i] == ' ')
		i++;
	if (v[i] || !digits)
		return -1;
	if (!dots && !commas)
		return 0;
	if (dots && commas)
		return last == ',' ? 2 : 3;
	/* "1.234.567" are thousands; one "48.000" is a decimal point */
	if (dots > 1)
		return 2;
	if (commas > 1)
		return 3;
	(void)after;
	return commas ? 1 : 0;
}

/* ---- qualifiers --------------------------------------------------------- */

struct qual_rule {
	const char *q;
	enum mapgen_field f;
	int rank;
};

static const struct qual_rule x12_idq[] = {
	{"SK", MGF_SKU, 0}, {"BP", MGF_SKU, 1}, {"IN", MGF_SKU, 2},
	{"PN", MGF_SKU, 3}, {"CB", MGF_SKU, 4}, {"PI", MGF_SKU, 5},
	{"UP", MGF_GTIN, 0}, {"EN", MGF_GTIN, 1}, {"UK", MGF_GTIN, 2},
	{"UA", MGF_GTIN, 3}, {"UI", MGF_GTIN, 4}, {"EO", MGF_GTIN, 5},
	{"VN", MGF_SUPPLIER_SKU, 0}, {"VP", MGF_SUPPLIER_SKU, 1},
	{"VA", MGF_SUPPLIER_SKU, 2}, {"MG", MGF_SUPPLIER_SKU, 3},
	{"SA", MGF_SUPPLIER_SKU, 4}, {"VC", MGF_SUPPLIER_SKU, 5},
	{"IB", MGF_SUPPLIER_SKU, 6},
};

enum mapgen_field mapgen_x12_idq(const char *q, int *rank)
{
	size_t i;

	for (i = 0; q && i < sizeof(x12_idq) / sizeof(x12_idq[0]); i++)
		if (!strcmp(q, x12_idq[i].q)) {
			if (rank)
				*rank = x12_idq[i].rank;
			return x12_idq[i].f;
		}
	if (rank)
		*rank = 99;
	return MGF_NONE;
}

static int rank_in(const char *q, const char *const *list)
{
	int i;

	for (i = 0; q && list[i]; i++)
		if (!strcmp(q, list[i]))
			return i;
	return -1;
}

int mapgen_qty_rank(int x12, const char *q)
{
	/* X12 673: 33 available, 17 on hand, QA on hand (852 ZA), 63 on
	 * order; EDIFACT 6063: 145 actual stock, 198 stock, 1 discrete, 12
	 * despatched, 46 delivered, 153 sold (SLSRPT), 21 ordered. */
	static const char *const x[] = {"33", "17", "QA", "63", "38", "02",
					"QS", NULL};
	static const char *const e[] = {"145", "198", "1", "12", "46",
					"153", "21", "47", "113", NULL};

	return rank_in(q, x12 ? x : e);
}

int mapgen_price_rank(int x12, const char *q)
{
	/* X12 CTP02: RES resale, CON contract, UCP unit cost, NET, WHL
	 * wholesale, MSR suggested retail; EDIFACT PRI C509 5125: AAA net
	 * calculation, AAB gross, AAE information, AAF, INV, CAL. */
	static const char *const x[] = {"RES", "CON", "UCP", "NET", "WHL",
					"MSR", "PRP", "CAT", NULL};
	static const char *const e[] = {"AAA", "AAB", "AAE", "AAF", "INV",
					"CAL", "CT", NULL};

	return rank_in(q, x12 ? x : e);
}

const char *mapgen_dtm_format(const char *code)
{
	static const struct {
		const char *code, *fmt;
	} t[] = {
		{"102", "%Y%m%d"}, {"101", "%y%m%d"}, {"203", "%Y%m%d%H%M"},
		{"204", "%Y%m%d%H%M%S"}, {"201", "%y%m%d%H%M"},
	};
	size_t i;

	for (i = 0; code && i < sizeof(t) / sizeof(t[0]); i++)
		if (!strcmp(code, t[i].code))
			return t[i].fmt;
	return NULL;
}

/* ---- parties ------------------------------------------------------------ */

/* X12 98 and EDIFACT 3035 share most two-letter codes for the parties
 * a retailer keeps as locations. */
static const struct {
	const char *q, *type;
} party_types[] = {
	{"ST", "store"}, {"BY", "store"}, {"DP", "store"}, {"SN", "store"},
	{"UC", "store"}, {"CN", "store"}, {"OB", "store"},
	{"SU", "supplier"}, {"SF", "supplier"}, {"SE", "supplier"},
	{"VN", "supplier"}, {"MF", "supplier"}, {"CZ", "supplier"},
	{"SH", "supplier"},
	{"WH", "dc"}, {"DC", "dc"}, {"WD", "dc"},
	/* SAP partner functions (IDoc PARTNER_Q, PARVW), openTRANS roles */
	{"WE", "store"}, {"AG", "store"}, {"LF", "supplier"},
	{"buyer", "store"}, {"delivery", "store"}, {"supplier", "supplier"},
};

const char *mapgen_party_type(const char *q)
{
	size_t i;

	for (i = 0; q && i < sizeof(party_types) / sizeof(party_types[0]); i++)
		if (!strcmp(q, party_types[i].q))
			return party_types[i].type;
	return NULL;
}

void mapgen_plan_party_type(struct plan *p, const char *path,
			    const char *codes, int all, const char *what)
{
	/* EDI codes are at most 24 distinct values of <= 3 characters
	 * (sniff max_quals); an XML one is a single sample: both fit */
	char known[400] = "", other[300] = "", e[800], note[800];
	const char *c = codes;
	size_t nk = 0, no = 0;

	while (c && *c) {
		size_t len = strcspn(c, " ");
		char q[64];
		const char *t;

		if (len && len < sizeof(q)) {
			memcpy(q, c, len);
			q[len] = 0;
			if ((t = mapgen_party_type(q)) && nk + len + 16 < sizeof(known))
				nk += (size_t)snprintf(known + nk, sizeof(known) - nk,
						       "%s%s:%s", nk ? ", " : "", q, t);
			else if (!t && no + len + 2 < sizeof(other))
				no += (size_t)snprintf(other + no, sizeof(other) - no,
						       "%s%s", no ? " " : "", q);
		}
		c += len;
		while (*c == ' ')
			c++;
	}
	if (!nk) {
		snprintf(e, sizeof(e), "%s | map(%s:store, ...)", path,
			 other[0] ? other : "XX");
		snprintf(note, sizeof(note),
			 "TODO: the %s qualifier%s %s %s no known type (ST/BY store,\n"
			 "SU/SF supplier, WH dc): every party is a store (the default)",
			 what, strchr(other, ' ') ? "s" : "", other[0] ? other : "(none)",
			 strchr(other, ' ') ? "have" : "has");
		mapgen_plan_hint(p, PF_TYPE, e);
		str_copy_cut(p->note[PF_TYPE], sizeof(p->note[PF_TYPE]), note);
		return;
	}
	snprintf(e, sizeof(e), "%s | map(%s%s)", path, known,
		 other[0] || !all ? ", default:store" : "");
	if (!all)
		snprintf(note, sizeof(note),
			 "the party's role (%s); TODO: only %s was seen as a sample,\n"
			 "other codes get store (default:store)", what, codes);
	else if (other[0])
		snprintf(note, sizeof(note),
			 "the party's role (%s); TODO: %s %s no known type and\n"
			 "%s store (default:store)", what, other,
			 strchr(other, ' ') ? "have" : "has",
			 strchr(other, ' ') ? "get" : "gets");
	else
		snprintf(note, sizeof(note),
			 "the party's role (%s); another code rejects the party", what);
	mapgen_plan_set(p, PF_TYPE, e, note);
}

/* ---- kinds -------------------------------------------------------------- */

const char *mapgen_kind_name(enum mapgen_kind k)
{
	switch (k) {
	case MAPGEN_STOCK: return "stock";
	case MAPGEN_ITEM: return "item";
	case MAPGEN_PRICE: return "price";
	case MAPGEN_LOCATION: return "location";
	default: return NULL;
	}
}

int mapgen_kind_parse(const char *s)
{
	if (!s)
		return -1;
	if (!strcmp(s, "stock"))
		return MAPGEN_STOCK;
	if (!strcmp(s, "item"))
		return MAPGEN_ITEM;
	if (!strcmp(s, "price"))
		return MAPGEN_PRICE;
	if (!strcmp(s, "location"))
		return MAPGEN_LOCATION;
	return -1;
}

/* ---- the plan and its writer -------------------------------------------- */

/* The canonical fields of each kind in the order of docs/mapping.md
 * section 2, required ones marked. */
static const struct kind_field {
	enum mapgen_kind kind;
	enum pf f;
	int required;
	const char *hint;
} kind_fields[] = {
	{MAPGEN_ITEM, PF_SKU, 1, ""},
	{MAPGEN_ITEM, PF_GTIN, 0, "the GTIN/EAN"},
	{MAPGEN_ITEM, PF_DESCRIPTION, 0, "the item's text"},
	{MAPGEN_ITEM, PF_BRAND, 0, ""},
	{MAPGEN_ITEM, PF_CATEGORY, 0, ""},
	{MAPGEN_ITEM, PF_BASE_UOM, 0, "default EA"},
	{MAPGEN_ITEM, PF_PACK_SIZE, 0, "default 1"},
	{MAPGEN_ITEM, PF_STATUS, 0, "active | inactive | discontinued"},
	{MAPGEN_ITEM, PF_SUPPLIER_ID, 0, ""},
	{MAPGEN_ITEM, PF_SUPPLIER_SKU, 0, ""},
	{MAPGEN_ITEM, PF_AS_OF, 0, ""},
	{MAPGEN_ITEM, PF_TXN_ID, 0, "default: file hash, line, record"},
	{MAPGEN_ITEM, PF_PACK_SIZES, 0, "\"CA=12,PK=6\""},
	{MAPGEN_PRICE, PF_SKU, 1, ""},
	{MAPGEN_PRICE, PF_PRICE_LIST, 0, "default \"default\""},
	{MAPGEN_PRICE, PF_CURRENCY, 1, ""},
	{MAPGEN_PRICE, PF_AMOUNT, 1, ""},
	{MAPGEN_PRICE, PF_VALID_FROM, 0, ""},
	{MAPGEN_PRICE, PF_VALID_TO, 0, ""},
	{MAPGEN_PRICE, PF_KIND, 0, "regular | promo"},
	{MAPGEN_PRICE, PF_AS_OF, 0, ""},
	{MAPGEN_PRICE, PF_TXN_ID, 0, "default: file hash, line, record"},
	{MAPGEN_PRICE, PF_UOM, 0, "the unit the amount is for"},
	{MAPGEN_PRICE, PF_PACK_SIZE, 0, ""},
	{MAPGEN_STOCK, PF_SKU, 1, ""},
	{MAPGEN_STOCK, PF_LOCATION, 1, ""},
	{MAPGEN_STOCK, PF_STATE, 1, ""},
	{MAPGEN_STOCK, PF_QUANTITY, 1, ""},
	{MAPGEN_STOCK, PF_MODE, 0, "snapshot | delta, default snapshot"},
	{MAPGEN_STOCK, PF_AS_OF, 1, ""},
	{MAPGEN_STOCK, PF_TXN_ID, 0, "default: file hash, line, record"},
	{MAPGEN_STOCK, PF_UOM, 0, "a code such as CA, or CA>>12"},
	{MAPGEN_STOCK, PF_PACK_SIZE, 0, ""},
	{MAPGEN_LOCATION, PF_LOCATION_ID, 1, ""},
	{MAPGEN_LOCATION, PF_TYPE, 0, "store | dc | supplier | virtual, default store"},
	{MAPGEN_LOCATION, PF_NAME, 0, "the party's name"},
	{MAPGEN_LOCATION, PF_REGION, 0, ""},
	{MAPGEN_LOCATION, PF_TIMEZONE, 0, "\"Europe/Berlin\" (the location's zone)"},
	{MAPGEN_LOCATION, PF_AS_OF, 0, ""},
	{MAPGEN_LOCATION, PF_TXN_ID, 0, "default: file hash, line, record"},
};

static const char *const pf_names[PF_COUNT] = {
	"sku", "gtin", "description", "brand", "category", "base_uom",
	"pack_size", "status", "supplier_id", "supplier_sku", "pack_sizes",
	"location", "state", "quantity", "mode", "price_list", "currency",
	"amount", "valid_from", "valid_to", "kind", "uom", "as_of", "txn_id",
	"location_id", "type", "name", "region", "timezone",
};

const char *mapgen_pf_name(enum pf f)
{
	return (unsigned)f < PF_COUNT ? pf_names[f] : "";
}

void mapgen_plan_set(struct plan *p, enum pf f, const char *expr, const char *note)
{
	str_copy_cut(p->expr[f], sizeof(p->expr[f]), expr);
	str_copy_cut(p->note[f], sizeof(p->note[f]), note ? note : "");
}

void mapgen_plan_hint(struct plan *p, enum pf f, const char *hint)
{
	if (!p->expr[f][0])
		str_copy_cut(p->hint[f], sizeof(p->hint[f]), hint);
}

void mapgen_plan_found(struct plan *p, const char *fmt, ...)
{
	size_t n = strlen(p->found);
	va_list ap;

	if (n + 2 >= sizeof(p->found))
		return;
	va_start(ap, fmt);
	vsnprintf(p->found + n, sizeof(p->found) - n, fmt, ap);
	va_end(ap);
}

/* A YAML plain scalar that the loader reads back unchanged, else the
 * text in single quotes (docs/mapping.md section 14). */
static void yaml_scalar(struct buf *b, const char *s)
{
	int quote = !*s || strchr("'\"{[&*!|>%@`#,?-:", *s) ||
		    strstr(s, ": ") || strstr(s, " #") ||
		    s[strlen(s) - 1] == ':' || s[strlen(s) - 1] == ' ';

	if (!quote) {
		buf_adds(b, s);
		return;
	}
	buf_addc(b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			buf_addc(b, '\'');
		buf_addc(b, *s);
	}
	buf_addc(b, '\'');
}

/* A comment block: every line of text prefixed with "# " at indent,
 * long lines wrapped at a blank. */
static void comment(struct buf *b, const char *indent, const char *text)
{
	const size_t width = 76 - strlen(indent);
	const char *s = text, *e;

	while (*s) {
		e = strchr(s, '\n');
		if (!e)
			e = s + strlen(s);
		if ((size_t)(e - s) > width) {
			const char *w = s + width;

			while (w > s && *w != ' ')
				w--;
			if (w > s)
				e = w;
		}
		buf_adds(b, indent);
		buf_adds(b, "#");
		if (e > s)
			buf_addc(b, ' ');
		buf_add(b, s, (size_t)(e - s));
		buf_addc(b, '\n');
		s = *e ? e + 1 : e;
	}
}

static void write_fields(const struct plan *p, struct buf *b)
{
	size_t i, w = 0;

	for (i = 0; i < sizeof(kind_fields) / sizeof(kind_fields[0]); i++)
		if (kind_fields[i].kind == p->kind &&
		    strlen(pf_names[kind_fields[i].f]) > w)
			w = strlen(pf_names[kind_fields[i].f]);
	for (i = 0; i < sizeof(kind_fields) / sizeof(kind_fields[0]); i++) {
		const struct kind_field *k = &kind_fields[i];
		const char *name = pf_names[k->f];

		if (k->kind != p->kind)
			continue;
		if (p->note[k->f][0])
			comment(b, "      ", p->note[k->f]);
		if (p->expr[k->f][0]) {
			buf_addf(b, "      %s:%*s", name,
				 (int)(w + 1 - strlen(name)), "");
			yaml_scalar(b, p->expr[k->f]);
			buf_addc(b, '\n');
		} else {
			buf_addf(b, "      # %s: %s\n", name,
				 p->hint[k->f][0] ? p->hint[k->f]
						  : k->hint[0] ? k->hint : "...");
		}
	}
}

static void write_plan(const struct mapgen_in *in, const struct plan *p,
		       struct buf *b)
{
	buf_addf(b, "# Starting mapping written by `stockpipe map new` from %s.\n",
		 in->file);
	comment(b, "", p->why);
	comment(b, "", "Check every field against the partner's documentation; lines\n"
		"marked TODO are placeholders that only make the mapping run, and\n"
		"commented fields were not found in the file (docs/mapping.md).");
	if (p->found[0])
		comment(b, "", p->found);
	buf_adds(b, "mapping: ");
	yaml_scalar(b, p->name);
	buf_addc(b, '\n');
	buf_adds(b, "description: ");
	yaml_scalar(b, p->description);
	buf_adds(b, "\ninput:\n");
	buf_adds(b, p->input);
	if (p->ctx[0]) {
		buf_adds(b, "context:\n");
		buf_adds(b, p->ctx);
	}
	buf_addf(b, "records:\n  - kind: %s\n", mapgen_kind_name(p->kind));
	if (p->each[0]) {
		buf_adds(b, "    each: ");
		yaml_scalar(b, p->each);
		buf_addc(b, '\n');
	}
	if (p->until[0])
		buf_addf(b, "    until: %s\n", p->until);
	if (p->explode[0])
		buf_addf(b, "    explode: %s\n", p->explode);
	if (p->when[0]) {
		buf_adds(b, "    when: ");
		yaml_scalar(b, p->when);
		buf_addc(b, '\n');
	}
	buf_adds(b, "    fields:\n");
	write_fields(p, b);
	if (in->test_input && in->test_expect) {
		buf_adds(b, "tests:\n  - input: ");
		yaml_scalar(b, in->test_input);
		buf_adds(b, "\n    expect: ");
		yaml_scalar(b, in->test_expect);
		buf_addc(b, '\n');
	} else {
		buf_adds(b, "# tests: written with --output FILE (a test case and its golden)\n");
	}
}

/* The mapping's name from the file name: letters, digits and '-'. */
static void plan_name(struct plan *p, const char *file)
{
	const char *dot = strrchr(file, '.');
	size_t n = dot && dot != file ? (size_t)(dot - file) : strlen(file);
	size_t i, k = 0;

	for (i = 0; i < n && k + 1 < sizeof(p->name); i++) {
		unsigned char c = (unsigned char)file[i];

		if (isalnum(c) && c < 0x80)
			p->name[k++] = (char)tolower(c);
		else if (k && p->name[k - 1] != '-')
			p->name[k++] = '-';
	}
	while (k && p->name[k - 1] == '-')
		k--;
	p->name[k] = 0;
	if (!k)
		str_copy_cut(p->name, sizeof(p->name), "new-mapping");
}

/* The as_of of last resort: when the pipeline fetched the file, and in
 * `map test` (which knows no clock) the day the mapping was written. */
void mapgen_plan_as_of(struct plan *p, const struct mapgen_in *in,
			 const char *what)
{
	char e[160], n[300];

	snprintf(e, sizeof(e), "$file.fetched_at | default(\"%sT00:00:00Z\")",
		 in->today && *in->today ? in->today : "2026-01-01");
	snprintf(n, sizeof(n),
		 "TODO: %s; as_of is when the file was fetched (in map test, the\n"
		 "day this mapping was written).", what);
	mapgen_plan_set(p, PF_AS_OF, e, n);
}

int mapgen_write(const struct mapgen_in *in, enum mapgen_kind kind,
		 enum mapgen_kind *chosen, struct buf *out, struct err *err)
{
	struct plan *p = calloc(1, sizeof(*p));
	int rc = -1;

	if (!p)
		return err_set(err, E_NOMEM, "out of memory");
	plan_name(p, in->file);
	p->kind = kind;
	if (!strcmp(in->format, "csv"))
		rc = mapgen_plan_csv(in, p, err);
	else if (!strcmp(in->format, "x12") || !strcmp(in->format, "edifact"))
		rc = mapgen_plan_edi(in, p, err);
	else if (!strcmp(in->format, "xml"))
		rc = mapgen_plan_xml(in, p, err);
	else
		err_set(err, E_PARSE, "%s: format '%s' has no records to map",
			in->file, in->format);
	if (rc < 0)
		goto cleanup;
	if (!p->description[0])
		snprintf(p->description, sizeof(p->description),
			 "%s records from %s (stockpipe map new)",
			 mapgen_kind_name(p->kind), in->file);
	write_plan(in, p, out);
	if (out->err) {
		rc = err_set(err, out->err, "the mapping does not fit in memory");
		goto cleanup;
	}
	if (chosen)
		*chosen = p->kind;
	rc = 0;
cleanup:
	free(p);
	return rc;
}
