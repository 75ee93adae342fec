/* mapgen_csv.c - the plan for a CSV file: which column feeds which
 * canonical field, by header name first (docs/mapping.md "Starting a
 * mapping" lists the names) and by the sample values second (GTINs with
 * a valid check digit, dates, numbers), so a headerless POS export is
 * mapped too. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mapgen_int.h"

struct colinfo {
	enum mapgen_field by_name;
	int gtin;              /* every sample is a GTIN */
	int date;              /* every sample is a date of one format: */
	char date_fmt[32];     /* its date() format ("" ISO 8601) */
	int num;               /* -1 no number, else the widest number kind */
	int used;
};

static int gtin_shaped(const char *s)
{
	size_t n = strspn(s, "0123456789");

	return n >= 12 && n <= 14 && (!s[n] || s[n] == ' ');
}

static void classify(const struct mapgen_col *c, struct colinfo *ci,
		     int header)
{
	unsigned i;

	memset(ci, 0, sizeof(*ci));
	ci->by_name = header ? mapgen_name_field(c->name) : MGF_NONE;
	ci->gtin = c->nsample > 0;
	ci->num = c->nsample ? 0 : -1;
	for (i = 0; i < c->nsample; i++) {
		const char *s = c->sample[i];
		const char *f = mapgen_date_format(s);
		int k = mapgen_number_kind(s);

		while (*s == ' ')
			s++;
		/* test files and many real ones carry made-up numbers with
		 * wrong check digits: 12 to 14 digits are a GTIN's shape */
		if (!mapgen_is_gtin(s) && !gtin_shaped(s))
			ci->gtin = 0;
		if (!f || (i && (!ci->date || strcmp(f, ci->date_fmt)))) {
			ci->date = 0;
		} else if (!i) {
			ci->date = 1;
			str_copy_cut(ci->date_fmt, sizeof(ci->date_fmt), f);
		}
		if (k < 0 || ci->num < 0)
			ci->num = -1;
		else if (k > ci->num)
			ci->num = k;
	}
}

/* col(NAME) as the loader reads it, or col(N) for a headerless file or
 * a name that cannot be written inside quotes. */
static void col_ref(const struct mapgen_csv *c, size_t i, char *out,
		    size_t n)
{
	const char *name = c->col[i].name;
	const char *s;
	int plain = 1;

	if (!c->header || !name || !*name || strchr(name, '"') ||
	    strchr(name, '\n') || strchr(name, '\'')) {
		snprintf(out, n, "col(%zu)", i + 1);
		return;
	}
	for (s = name; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9' && s != name) || *s == '_' ||
		      (*s == '-' && s != name)))
			plain = 0;
	if (plain)
		snprintf(out, n, "col(%s)", name);
	else
		snprintf(out, n, "col(\"%s\")", name);
}

/* The `| decimal...` of a number kind (mapgen_number_kind). */
const char *mapgen_decimal(int kind)
{
	switch (kind) {
	case 1: return "decimal(comma:true)";
	case 2: return "decimal(comma:true, thousands:\".\")";
	case 3: return "decimal(thousands:\",\")";
	default: return "decimal";
	}
}

/* The best column for field f: by name first, else by value; numbers
 * are required where the field is one. -1 when none. */
static long pick(const struct mapgen_csv *c, struct colinfo *ci,
		 enum mapgen_field f)
{
	int number = f == MGF_QTY || f == MGF_PRICE;
	size_t i;

	for (i = 0; i < c->ncol; i++)
		if (!ci[i].used && ci[i].by_name == f &&
		    (!number || ci[i].num >= 0) &&
		    ((f != MGF_DATE && f != MGF_VALID_FROM && f != MGF_VALID_TO) || ci[i].date) && c->col[i].nonempty)
			return (long)i;
	return -1;
}

/* Headerless files (and columns no name explains): the values decide. A
 * GTIN column with many distinct values is the item; one with few (a
 * GLN repeated on every row) the location. */
static void by_value(const struct mapgen_csv *c, struct colinfo *ci)
{
	size_t i, best = (size_t)-1;

	for (i = 0; i < c->ncol; i++)
		if (ci[i].by_name == MGF_NONE && ci[i].gtin &&
		    (best == (size_t)-1 || c->col[i].nsample > c->col[best].nsample))
			best = i;
	for (i = 0; i < c->ncol; i++) {
		if (ci[i].by_name != MGF_NONE)
			continue;
		if (ci[i].gtin)
			ci[i].by_name = i == best ? MGF_GTIN : MGF_LOCATION;
		else if (ci[i].date)
			ci[i].by_name = MGF_DATE;
	}
	if (c->header)
		return;
	/* the first plain number after the identifiers is a quantity, the
	 * next an amount */
	for (i = 0; i < c->ncol; i++)
		if (ci[i].by_name == MGF_NONE && ci[i].num >= 0 &&
		    i > best && best != (size_t)-1) {
			ci[i].by_name = MGF_QTY;
			break;
		}
	for (; i < c->ncol; i++)
		if (ci[i].by_name == MGF_NONE && ci[i].num >= 0) {
			ci[i].by_name = MGF_PRICE;
			break;
		}
}

static void input_block(const struct mapgen_in *in, struct plan *p)
{
	const struct mapgen_csv *c = &in->csv;
	size_t n = 0, k = sizeof(p->input);
	char *o = p->input;

	n += (size_t)snprintf(o + n, k - n, "  format: csv\n  header: %s\n",
			      c->header ? "true" : "false");
	if (c->delimiter == '\t')
		n += (size_t)snprintf(o + n, k - n, "  delimiter: tab\n");
	else
		n += (size_t)snprintf(o + n, k - n, "  delimiter: \"%c\"\n",
				      c->delimiter ? c->delimiter : ',');
	if (c->quote == '\'' && n < k)
		n += (size_t)snprintf(o + n, k - n, "  quote: \"'\"\n");
	if (c->encoding && *c->encoding && strcasecmp(c->encoding, "utf-8") &&
	    n < k)
		n += (size_t)snprintf(o + n, k - n, "  encoding: %s\n",
				      c->encoding);
	if (c->skip_lines && n < k)
		snprintf(o + n, k - n, "  skip_lines: %u\n", c->skip_lines);
}

/* A text field: col(X) | trim. */
static void text_field(struct plan *p, const struct mapgen_csv *c,
		       struct colinfo *ci, enum mapgen_field f, enum pf pf)
{
	char ref[300], e[700];
	long i = pick(c, ci, f);

	if (i < 0)
		return;
	ci[i].used = 1;
	col_ref(c, (size_t)i, ref, sizeof(ref));
	snprintf(e, sizeof(e), "%s | trim", ref);
	mapgen_plan_set(p, pf, e, NULL);
}

/* The item identifier: a SKU column, else the GTIN, else a guess. */
static void sku_field(struct plan *p, const struct mapgen_csv *c,
		      struct colinfo *ci)
{
	char ref[300], e[700], note[700];
	long i = pick(c, ci, MGF_SKU), g;
	size_t k;

	if (i >= 0) {
		ci[i].used = 1;
		col_ref(c, (size_t)i, ref, sizeof(ref));
		snprintf(e, sizeof(e), "%s | trim | required", ref);
		mapgen_plan_set(p, PF_SKU, e, NULL);
		return;
	}
	if ((g = pick(c, ci, MGF_GTIN)) >= 0) {
		col_ref(c, (size_t)g, ref, sizeof(ref));
		snprintf(e, sizeof(e), "%s | trim | required", ref);
		mapgen_plan_set(p, PF_SKU, e,
				"no item number column: the GTIN is the SKU (a lookup can\n"
				"translate it to yours, docs/mapping.md section 6)");
		return;
	}
	/* the fullest column, as a starting point the analyst replaces */
	for (k = 0, i = 0; k < c->ncol; k++)
		if (c->col[k].nonempty > c->col[i].nonempty)
			i = (long)k;
	col_ref(c, (size_t)i, ref, sizeof(ref));
	snprintf(e, sizeof(e), "%s | trim | required", ref);
	snprintf(note, sizeof(note),
		 "TODO: no column is named like an item number (sku, article,\n"
		 "EAN, GTIN, ...): %s, the fullest column, is a guess.", ref);
	mapgen_plan_set(p, PF_SKU, e, note);
}

static void number_field(struct plan *p, const struct mapgen_csv *c,
			 struct colinfo *ci, enum mapgen_field f, enum pf pf)
{
	char ref[300], e[700];
	long i = pick(c, ci, f);

	if (i < 0)
		return;
	ci[i].used = 1;
	col_ref(c, (size_t)i, ref, sizeof(ref));
	snprintf(e, sizeof(e), "%s | trim | %s | required", ref,
		 mapgen_decimal(ci[i].num));
	mapgen_plan_set(p, pf, e, NULL);
}

static void date_field(struct plan *p, const struct mapgen_in *in,
		       struct colinfo *ci, enum mapgen_field f, enum pf pf,
		       int required)
{
	const struct mapgen_csv *c = &in->csv;
	char ref[300], e[700];
	long i = pick(c, ci, f);

	if (i < 0) {
		if (required)
			mapgen_plan_as_of(p, in, "no date column");
		return;
	}
	ci[i].used = 1;
	col_ref(c, (size_t)i, ref, sizeof(ref));
	if (*ci[i].date_fmt)
		snprintf(e, sizeof(e), "%s | trim | date(\"%s\")%s", ref,
			 ci[i].date_fmt, required ? " | required" : "");
	else
		snprintf(e, sizeof(e), "%s | trim | date%s", ref,
			 required ? " | required" : "");
	mapgen_plan_set(p, pf, e,
			"local times are read as UTC: add tz:\"Europe/Berlin\" (or the\n"
			"partner's zone) to date()");
}

/* The currency: a column, else a price column's name (price_net_eur),
 * else a placeholder. */
static void currency_field(struct plan *p, const struct mapgen_csv *c,
			   struct colinfo *ci, long amount_col)
{
	static const char *const iso[] = {"eur", "usd", "chf", "gbp", "sek",
					  "dkk", "nok", "pln", "czk", NULL};
	char ref[300], e[700], nm[64];
	long i = pick(c, ci, MGF_CURRENCY);
	size_t k, n;

	if (i >= 0) {
		ci[i].used = 1;
		col_ref(c, (size_t)i, ref, sizeof(ref));
		snprintf(e, sizeof(e), "%s | trim | upper | required", ref);
		mapgen_plan_set(p, PF_CURRENCY, e, NULL);
		return;
	}
	if (amount_col >= 0 && c->header && c->col[amount_col].name) {
		snprintf(nm, sizeof(nm), "%s", c->col[amount_col].name);
		n = strlen(nm);
		for (k = 0; iso[k]; k++)
			if (n > 3 && !strcasecmp(nm + n - 3, iso[k])) {
				char cur[4] = {0};

				for (n = 0; n < 3; n++)
					cur[n] = (char)(iso[k][n] - 'a' + 'A');
				mapgen_plan_set(p, PF_CURRENCY, cur,
						"from the price column's name");
				return;
			}
	}
	mapgen_plan_set(p, PF_CURRENCY, "EUR",
			"TODO: no currency column; EUR is a placeholder");
}

/* The rest of the columns, named in a comment so nothing is hidden. */
static void unused_columns(struct plan *p, const struct mapgen_csv *c,
			   const struct colinfo *ci)
{
	size_t i, shown = 0;

	for (i = 0; i < c->ncol; i++) {
		char ref[300];

		if (ci[i].used)
			continue;
		col_ref(c, i, ref, sizeof(ref));
		if (shown++ == 0)
			mapgen_plan_found(p, "\nColumns not mapped:");
		mapgen_plan_found(p, " %s%s", ref,
				  ci[i].by_name != MGF_NONE ? "" : "");
		if (c->col[i].nsample)
			mapgen_plan_found(p, "='%.24s'", c->col[i].sample[0]);
	}
}

static void stock_fields(struct plan *p, const struct mapgen_in *in,
			 struct colinfo *ci)
{
	const struct mapgen_csv *c = &in->csv;
	char ref[300], e[700];
	long i;

	number_field(p, c, ci, MGF_QTY, PF_QUANTITY);
	if ((i = pick(c, ci, MGF_LOCATION)) >= 0) {
		ci[i].used = 1;
		col_ref(c, (size_t)i, ref, sizeof(ref));
		snprintf(e, sizeof(e), "%s | trim | required", ref);
		mapgen_plan_set(p, PF_LOCATION, e, NULL);
	} else {
		mapgen_plan_set(p, PF_LOCATION, "UNKNOWN",
				"TODO: no location column (store, warehouse, Filiale, ...);\n"
				"a constant, $file | match(...) or a lookup decides");
	}
	mapgen_plan_set(p, PF_STATE, "on_hand",
			"TODO: the state of the quantity (on_hand, reserved, ...)");
	if ((i = pick(c, ci, MGF_STATUS)) >= 0) {
		char note[800];
		size_t n;
		unsigned k;

		ci[i].used = 1;
		col_ref(c, (size_t)i, ref, sizeof(ref));
		n = (size_t)snprintf(note, sizeof(note),
				     "TODO: %s may say the state: '%s | trim | upper | map(...)'\n(values seen:",
				     ref, ref);
		for (k = 0; k < c->col[i].nsample && n < sizeof(note); k++)
			n += (size_t)snprintf(note + n, sizeof(note) - n, " %s",
					      c->col[i].sample[k]);
		if (n < sizeof(note))
			snprintf(note + n, sizeof(note) - n, ")");
		mapgen_plan_set(p, PF_STATE, "on_hand", note);
	}
	date_field(p, in, ci, MGF_DATE, PF_AS_OF, 1);
	if ((i = pick(c, ci, MGF_UOM)) >= 0) {
		ci[i].used = 1;
		col_ref(c, (size_t)i, ref, sizeof(ref));
		snprintf(e, sizeof(e), "%s | trim | upper", ref);
		mapgen_plan_hint(p, PF_UOM, e);
	}
}

static void item_fields(struct plan *p, const struct mapgen_csv *c,
			struct colinfo *ci)
{
	char ref[300], e[700];
	long i;

	text_field(p, c, ci, MGF_GTIN, PF_GTIN);
	text_field(p, c, ci, MGF_DESC, PF_DESCRIPTION);
	text_field(p, c, ci, MGF_BRAND, PF_BRAND);
	text_field(p, c, ci, MGF_CATEGORY, PF_CATEGORY);
	text_field(p, c, ci, MGF_SUPPLIER_SKU, PF_SUPPLIER_SKU);
	/* numbers and codes as suggestions: a wrong guess would reject rows */
	if ((i = pick(c, ci, MGF_UOM)) >= 0) {
		ci[i].used = 1;
		col_ref(c, (size_t)i, ref, sizeof(ref));
		snprintf(e, sizeof(e), "%s | trim | upper | map(...)", ref);
		mapgen_plan_hint(p, PF_BASE_UOM, e);
	}
	if ((i = pick(c, ci, MGF_PACK)) >= 0) {
		ci[i].used = 1;
		col_ref(c, (size_t)i, ref, sizeof(ref));
		snprintf(e, sizeof(e), "%s | trim | decimal", ref);
		mapgen_plan_hint(p, PF_PACK_SIZE, e);
	}
	if ((i = pick(c, ci, MGF_STATUS)) >= 0) {
		ci[i].used = 1;
		col_ref(c, (size_t)i, ref, sizeof(ref));
		snprintf(e, sizeof(e), "%s | trim | lower | map(...)", ref);
		mapgen_plan_hint(p, PF_STATUS, e);
	}
}

static void price_fields(struct plan *p, const struct mapgen_in *in,
			 struct colinfo *ci)
{
	const struct mapgen_csv *c = &in->csv;
	long a = pick(c, ci, MGF_PRICE);

	number_field(p, c, ci, MGF_PRICE, PF_AMOUNT);
	currency_field(p, c, ci, a);
	date_field(p, in, ci, MGF_VALID_FROM, PF_VALID_FROM, 0);
	date_field(p, in, ci, MGF_VALID_TO, PF_VALID_TO, 0);
}

/* kind location: the location column is the id, a name column the
 * name; a type column only as a suggestion (its codes are the
 * partner's). */
static void location_fields(struct plan *p, const struct mapgen_csv *c,
			    struct colinfo *ci)
{
	char ref[300], e[700], note[700];
	long i = pick(c, ci, MGF_LOCATION);
	size_t k;
	unsigned j;

	if (i >= 0) {
		ci[i].used = 1;
		col_ref(c, (size_t)i, ref, sizeof(ref));
		snprintf(e, sizeof(e), "%s | trim | required", ref);
		mapgen_plan_set(p, PF_LOCATION_ID, e, NULL);
	} else {
		for (k = 0, i = 0; k < c->ncol; k++)
			if (c->col[k].nonempty > c->col[i].nonempty)
				i = (long)k;
		ci[i].used = 1;
		col_ref(c, (size_t)i, ref, sizeof(ref));
		snprintf(e, sizeof(e), "%s | trim | required", ref);
		snprintf(note, sizeof(note),
			 "TODO: no column is named like a location (store, location,\n"
			 "warehouse, Filiale, GLN, ...): %s, the fullest column, is a guess.",
			 ref);
		mapgen_plan_set(p, PF_LOCATION_ID, e, note);
	}
	text_field(p, c, ci, MGF_DESC, PF_NAME);
	text_field(p, c, ci, MGF_REGION, PF_REGION);
	if ((i = pick(c, ci, MGF_LOCTYPE)) >= 0) {
		size_t n;

		ci[i].used = 1;
		col_ref(c, (size_t)i, ref, sizeof(ref));
		snprintf(e, sizeof(e), "%s | trim | lower | map(...)", ref);
		mapgen_plan_hint(p, PF_TYPE, e);
		n = (size_t)snprintf(note, sizeof(note),
				     "TODO: map the partner's types to store, dc, supplier,\n"
				     "virtual (values seen:");
		for (j = 0; j < c->col[i].nsample && n < sizeof(note); j++)
			n += (size_t)snprintf(note + n, sizeof(note) - n, " %s",
					      c->col[i].sample[j]);
		if (n < sizeof(note))
			snprintf(note + n, sizeof(note) - n, ")");
		str_copy_cut(p->note[PF_TYPE], sizeof(p->note[PF_TYPE]), note);
	}
}

static void choose_kind(struct plan *p, const struct mapgen_csv *c,
			struct colinfo *ci)
{
	long q = pick(c, ci, MGF_QTY), a = pick(c, ci, MGF_PRICE);
	long l = pick(c, ci, MGF_LOCATION);

	if (p->kind == MAPGEN_AUTO) {
		if (q >= 0) {
			p->kind = MAPGEN_STOCK;
			snprintf(p->why, sizeof(p->why),
				 "kind stock: column %zu (%s) holds quantities.",
				 (size_t)q + 1, c->header ? c->col[q].name : "no header");
		} else if (a >= 0) {
			p->kind = MAPGEN_PRICE;
			snprintf(p->why, sizeof(p->why),
				 "kind price: column %zu (%s) holds prices and none quantities.",
				 (size_t)a + 1, c->header ? c->col[a].name : "no header");
		} else if (l >= 0 && pick(c, ci, MGF_SKU) < 0 &&
			   pick(c, ci, MGF_GTIN) < 0) {
			p->kind = MAPGEN_LOCATION;
			snprintf(p->why, sizeof(p->why),
				 "kind location: column %zu (%s) names locations and no column\n"
				 "names items, quantities or prices.",
				 (size_t)l + 1, c->header ? c->col[l].name : "no header");
		} else {
			p->kind = MAPGEN_ITEM;
			snprintf(p->why, sizeof(p->why),
				 "kind item: no column holds quantities or prices.");
		}
		str_copy_cut(p->why + strlen(p->why),
			     sizeof(p->why) - strlen(p->why),
			     " Another kind: --kind stock|item|price.");
	} else {
		snprintf(p->why, sizeof(p->why), "kind %s: as asked (--kind).",
			 mapgen_kind_name(p->kind));
	}
}

int mapgen_plan_csv(const struct mapgen_in *in, struct plan *p,
		    struct err *err)
{
	const struct mapgen_csv *c = &in->csv;
	struct colinfo ci[512];
	size_t i, n = c->ncol < 512 ? c->ncol : 512;

	if (!c->ncol || !c->rows)
		return err_set(err, E_PARSE,
			       "%s: no data rows (a CSV file needs at least one row to map)",
			       in->file);
	for (i = 0; i < n; i++)
		classify(&c->col[i], &ci[i], c->header);
	by_value(c, ci);
	choose_kind(p, c, ci);
	if (p->kind == MAPGEN_STOCK && pick(c, ci, MGF_QTY) < 0)
		return err_set(err, E_CONFIG,
			       "%s: no column holds quantities, so no stock record can be made (columns are named like qty, quantity, stock, on hand, Menge, Bestand)",
			       in->file);
	if (p->kind == MAPGEN_PRICE && pick(c, ci, MGF_PRICE) < 0)
		return err_set(err, E_CONFIG,
			       "%s: no column holds prices, so no price record can be made (columns are named like price, amount, Preis)",
			       in->file);
	mapgen_plan_found(p, "The file: CSV, %zu column(s)%s, %lu row(s).",
			  c->ncol, c->header ? " with a header" : " without a header",
			  c->rows);
	input_block(in, p);
	if (p->kind == MAPGEN_LOCATION) {
		location_fields(p, c, ci);
		unused_columns(p, c, ci);
		return 0;
	}
	sku_field(p, c, ci);
	if (p->kind == MAPGEN_STOCK)
		stock_fields(p, in, ci);
	else if (p->kind == MAPGEN_PRICE)
		price_fields(p, in, ci);
	else
		item_fields(p, c, ci);
	unused_columns(p, c, ci);
	return 0;
}
