/* mapgen_xml.c - the plan for an XML document: the record element is the
 * repeated element around the item identifier (UBL cac:Item/cac:...Item-
 * Identification/cbc:ID, openTRANS PRODUCT_ID/bmecat:SUPPLIER_PID, an
 * element named like a SKU or GTIN), the fields are its descendants named
 * like canonical fields, and header values (a date, a location) are read
 * by absolute path from what comes before the record. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mapgen_int.h"

#define MAX_NS 16

struct xctx {
	const struct mapgen_xml *x;
	const char *uri[MAX_NS];
	char prefix[MAX_NS][16];
	size_t nns;
};

static const struct {
	const char *uri, *prefix;
	int starts;
} known_ns[] = {
	{"urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2", "cac", 0},
	{"urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2", "cbc", 0},
	{"urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2", "ext", 0},
	{"http://www.opentrans.org/XMLSchema/", "ot", 1},
	{"http://www.bmecat.org/bmecat/", "bmecat", 1},
};

static int prefix_used(const struct xctx *c, const char *p)
{
	size_t i;

	for (i = 0; i < c->nns; i++)
		if (!strcmp(c->prefix[i], p))
			return 1;
	return 0;
}

/* A prefix for every namespace URI of the document: the usual ones for
 * UBL and openTRANS, the root's from its name ("inv" for
 * InventoryReport), ns1, ns2, ... for the rest. */
static int assign_ns(struct xctx *c, struct err *err)
{
	const struct mapgen_xml *x = c->x;
	size_t i, j, k;

	for (i = 0; i < x->nnode; i++) {
		const char *u = x->node[i].uri;
		char p[16] = "";

		if (!u || !*u)
			continue;
		for (j = 0; j < c->nns && strcmp(c->uri[j], u); j++)
			;
		if (j < c->nns)
			continue;
		if (c->nns == MAX_NS)
			return err_set(err, E_TOOBIG,
				       "more than %d namespaces in the document", MAX_NS);
		for (k = 0; k < sizeof(known_ns) / sizeof(known_ns[0]); k++)
			if (known_ns[k].starts ? !strncmp(u, known_ns[k].uri,
							  strlen(known_ns[k].uri))
					       : !strcmp(u, known_ns[k].uri))
				snprintf(p, sizeof(p), "%s", known_ns[k].prefix);
		if (!p[0] && x->node[i].parent < 0) {
			for (k = 0; k < 3 && x->node[i].local[k]; k++)
				p[k] = (char)(x->node[i].local[k] | 0x20);
			p[k] = 0;
			if (k < 2 || p[0] < 'a' || p[0] > 'z')
				p[0] = 0;
		}
		for (k = 1; !p[0] || prefix_used(c, p); k++)
			snprintf(p, sizeof(p), "ns%zu", k);
		c->uri[c->nns] = u;
		snprintf(c->prefix[c->nns++], sizeof(c->prefix[0]), "%s", p);
	}
	return 0;
}

static const char *prefix_of(const struct xctx *c, const char *uri)
{
	size_t i;

	for (i = 0; uri && *uri && i < c->nns; i++)
		if (!strcmp(c->uri[i], uri))
			return c->prefix[i];
	return NULL;
}

static void add_step(const struct xctx *c, const struct mapgen_xnode *n,
		     struct buf *b)
{
	const char *p = prefix_of(c, n->uri);

	if (n->attr)
		buf_addc(b, '@');
	if (p)
		buf_addf(b, "%s:", p);
	buf_adds(b, n->local);
}

/* The absolute path of node i. */
static void abs_path(const struct xctx *c, long i, struct buf *b)
{
	long chain[64];
	int n = 0;

	for (; i >= 0 && n < 64; i = c->x->node[i].parent)
		chain[n++] = i;
	while (n-- > 0) {
		buf_addc(b, '/');
		add_step(c, &c->x->node[chain[n]], b);
	}
}

/* The path of node i relative to its ancestor a ("." for a itself); an
 * unprefixed first step gets "./" so it is not read as a constant. */
static void rel_path(const struct xctx *c, long i, long a, struct buf *b)
{
	long chain[64];
	int n = 0;

	for (; i >= 0 && i != a && n < 64; i = c->x->node[i].parent)
		chain[n++] = i;
	if (!n) {
		buf_addc(b, '.');
		return;
	}
	if (!c->x->node[chain[n - 1]].attr && !prefix_of(c, c->x->node[chain[n - 1]].uri))
		buf_adds(b, "./");
	while (n-- > 0) {
		add_step(c, &c->x->node[chain[n]], b);
		if (n)
			buf_addc(b, '/');
	}
}

static int is_under(const struct mapgen_xml *x, long i, long a)
{
	for (i = x->node[i].parent; i >= 0; i = x->node[i].parent)
		if (i == a)
			return 1;
	return 0;
}

static int depth_below(const struct mapgen_xml *x, long i, long a)
{
	int d = 0;

	for (; i >= 0 && i != a; i = x->node[i].parent)
		d++;
	return d;
}

static int ends_with(const char *s, const char *suf)
{
	size_t n = strlen(s), k = strlen(suf);

	return n >= k && !strcmp(s + n - k, suf);
}

/* What a node means, with UBL's and openTRANS's identifiers by their
 * parents' names. *rank orders identifiers (lower is better). */
static enum mapgen_field node_field(const struct mapgen_xml *x, long i,
				    int *rank)
{
	const struct mapgen_xnode *n = &x->node[i];
	const char *par = n->parent >= 0 ? x->node[n->parent].local : "";

	*rank = 5;
	if (!strcmp(n->local, "ID") && ends_with(par, "ItemIdentification")) {
		if (!strcmp(par, "BuyersItemIdentification"))
			return *rank = 0, MGF_SKU;
		if (!strcmp(par, "SellersItemIdentification"))
			return *rank = 1, MGF_SKU;
		if (!strcmp(par, "StandardItemIdentification"))
			return MGF_GTIN;
		if (!strcmp(par, "ManufacturersItemIdentification"))
			return MGF_SUPPLIER_SKU;
		return MGF_NONE;
	}
	if (!strcmp(n->local, "BUYER_PID"))
		return *rank = 0, MGF_SKU;
	if (!strcmp(n->local, "SUPPLIER_PID") || !strcmp(n->local, "SUPPLIER_AID"))
		return *rank = 1, MGF_SKU;
	if (!strcmp(n->local, "ID") || !strcmp(n->local, "id"))
		return MGF_NONE;
	return mapgen_name_field(n->local);
}

/* A line-like element name, for documents with one line only. */
static int line_like(const char *l)
{
	static const char *const names[] = {"line", "item", "ARTICLE",
					    "PRODUCT", "E1EDP01", "E1EDL24",
					    "ITEM", "Line_item", "article",
					    "product", NULL};
	int i;

	if (ends_with(l, "Line") || ends_with(l, "_ITEM") ||
	    ends_with(l, "LineItem"))
		return 1;
	for (i = 0; names[i]; i++)
		if (!strcmp(l, names[i]))
			return 1;
	return 0;
}

/* The record element around the identifier i: the nearest ancestor that
 * repeats within its parent, else the nearest line-like one, else the
 * root's child on the way. */
static long record_of(const struct mapgen_xml *x, long i)
{
	long a, last = -1;

	for (a = x->node[i].parent; a >= 0; a = x->node[a].parent) {
		long p = x->node[a].parent;

		if (p >= 0 && x->node[a].count > x->node[p].count)
			return a;
	}
	for (a = x->node[i].parent; a >= 0; a = x->node[a].parent) {
		if (line_like(x->node[a].local))
			return a;
		if (x->node[a].parent >= 0)
			last = a;
	}
	return last >= 0 ? last : 0;
}

/* A node with a value for field f: itself, or (an aggregate such as
 * cac:InventoryLocation) its first descendant with text, an ID first. */
static long valued(const struct mapgen_xml *x, long i)
{
	size_t k;
	long first = -1;

	if (x->node[i].sample)
		return i;
	for (k = (size_t)i + 1; k < x->nnode; k++)
		if (is_under(x, (long)k, i) && x->node[k].sample && !x->node[k].attr) {
			if (!strcmp(x->node[k].local, "ID"))
				return (long)k;
			if (first < 0)
				first = (long)k;
		}
	return first;
}

static int fits(const struct mapgen_xnode *n, enum mapgen_field f)
{
	if (f == MGF_QTY || f == MGF_PRICE)
		return mapgen_number_kind(n->sample) >= 0;
	if (f == MGF_DATE || f == MGF_VALID_FROM || f == MGF_VALID_TO)
		return mapgen_date_format(n->sample) != NULL;
	return 1;
}

/* The node for field f inside record a (shallowest first), or before
 * a in the document when outside is set; -1 when none. */
static long find_field(const struct mapgen_xml *x, long a, enum mapgen_field f,
		       int outside)
{
	long best = -1;
	int bd = 1 << 20;
	size_t k;

	for (k = 0; k < x->nnode; k++) {
		int r, d;
		long v;

		if (outside ? ((long)k >= a || is_under(x, (long)k, a) ||
			       is_under(x, a, (long)k))
			    : !is_under(x, (long)k, a))
			continue;
		if (node_field(x, (long)k, &r) != f || (v = valued(x, (long)k)) < 0)
			continue;
		if (!fits(&x->node[v], f))
			continue;
		d = depth_below(x, v, outside ? -1 : a);
		if (d < bd) {
			bd = d;
			best = v;
		}
	}
	return best;
}

struct xplan {
	struct xctx c;
	long rec;          /* the record element */
	long id;           /* its identifier node */
	enum mapgen_field idf;
};

static int choose_record(struct xplan *xp, const char *file, struct err *err)
{
	const struct mapgen_xml *x = xp->c.x;
	static const enum mapgen_field order[] = {MGF_SKU, MGF_SUPPLIER_SKU,
						  MGF_GTIN};
	size_t k, o;
	int br = 1 << 20;

	xp->rec = xp->id = -1;
	for (o = 0; o < 3 && xp->id < 0; o++)
		for (k = 0; k < x->nnode; k++) {
			int r;

			if (node_field(x, (long)k, &r) != order[o] ||
			    !x->node[k].sample)
				continue;
			if (xp->id < 0 || r < br ||
			    (r == br && x->node[record_of(x, (long)k)].count >
					    x->node[xp->rec].count)) {
				xp->id = (long)k;
				xp->rec = record_of(x, (long)k);
				xp->idf = order[o];
				br = r;
			}
		}
	if (xp->id < 0)
		return err_set(err, E_PARSE,
			       "%s: no element names an item (an ID under cac:Item, SUPPLIER_PID, BUYER_PID, or an element named like sku, article, EAN, GTIN): no item, price or stock record can be made from it",
			       file);
	if (x->node[xp->rec].attr)
		xp->rec = x->node[xp->rec].parent;
	return 0;
}

/* fields: name -> a path inside the record, or an absolute one. */
static int set_path(struct plan *p, struct xplan *xp, enum pf pf,
		    enum mapgen_field f, const char *tail, int outside_too)
{
	const struct mapgen_xml *x = xp->c.x;
	struct buf b = BUF_INIT(4096);
	long n = find_field(x, xp->rec, f, 0);
	int out = 0;

	if (n < 0 && outside_too) {
		n = find_field(x, xp->rec, f, 1);
		out = 1;
	}
	if (n < 0)
		return 0;
	if (out)
		abs_path(&xp->c, n, &b);
	else
		rel_path(&xp->c, n, xp->rec, &b);
	if (f == MGF_QTY || f == MGF_PRICE) {
		buf_addf(&b, " | %s | required",
			 mapgen_decimal(mapgen_number_kind(x->node[n].sample)));
	} else if (f == MGF_DATE || f == MGF_VALID_FROM || f == MGF_VALID_TO) {
		const char *fmt = mapgen_date_format(x->node[n].sample);

		if (fmt && *fmt)
			buf_addf(&b, " | trim | date(\"%s\")", fmt);
		else
			buf_adds(&b, " | trim | date");
		if (pf == PF_AS_OF)
			buf_adds(&b, " | required");
	} else {
		buf_adds(&b, tail);
	}
	if (!b.err)
		mapgen_plan_set(p, pf, b.ptr, NULL);
	buf_release(&b);
	return 1;
}

static void id_fields(struct plan *p, struct xplan *xp)
{
	struct buf b = BUF_INIT(4096);

	rel_path(&xp->c, xp->id, xp->rec, &b);
	buf_adds(&b, " | trim | required");
	mapgen_plan_set(p, PF_SKU, b.ptr,
			xp->idf == MGF_SKU ? NULL
			: xp->idf == MGF_GTIN ? "the GTIN is the SKU (a lookup can translate it)"
			: "the supplier's number is the SKU (a lookup can translate it)");
	buf_release(&b);
	if (p->kind != MAPGEN_ITEM)
		return;
	if (xp->idf != MGF_GTIN)
		set_path(p, xp, PF_GTIN, MGF_GTIN, " | trim", 0);
	if (xp->idf == MGF_SKU)
		set_path(p, xp, PF_SUPPLIER_SKU, MGF_SUPPLIER_SKU, " | trim", 0);
	set_path(p, xp, PF_DESCRIPTION, MGF_DESC, " | trim", 0);
	set_path(p, xp, PF_BRAND, MGF_BRAND, " | trim", 0);
}

static int root_is(const struct mapgen_xml *x, const char *const *words)
{
	int i;

	for (i = 0; x->nnode && words[i]; i++)
		if (strcasestr(x->node[0].local, words[i]))
			return 1;
	return 0;
}

static void choose_kind(struct plan *p, struct xplan *xp)
{
	static const char *const stock[] = {"inventory", "stock", "bestand",
					    "productactivity", "availability", NULL};
	static const char *const price[] = {"catalog", "pricat", "price",
					    "preis", NULL};
	const struct mapgen_xml *x = xp->c.x;

	if (p->kind != MAPGEN_AUTO) {
		snprintf(p->why, sizeof(p->why), "kind %s: as asked (--kind).",
			 mapgen_kind_name(p->kind));
		return;
	}
	if (root_is(x, stock) && find_field(x, xp->rec, MGF_QTY, 0) >= 0) {
		p->kind = MAPGEN_STOCK;
		snprintf(p->why, sizeof(p->why),
			 "kind stock: %s reports quantities per item.", x->node[0].local);
	} else if (root_is(x, price) && find_field(x, xp->rec, MGF_PRICE, 0) >= 0) {
		p->kind = MAPGEN_PRICE;
		snprintf(p->why, sizeof(p->why),
			 "kind price: %s is a catalogue with prices.", x->node[0].local);
	} else {
		p->kind = MAPGEN_ITEM;
		snprintf(p->why, sizeof(p->why),
			 "kind item: %s lists items but is no stock report or price catalogue.",
			 x->node[0].local);
	}
	str_copy_cut(p->why + strlen(p->why), sizeof(p->why) - strlen(p->why),
		     " Another kind: --kind stock|item|price.");
}

static void input_block(struct plan *p, const struct xctx *c)
{
	size_t i, n;

	n = (size_t)snprintf(p->input, sizeof(p->input), "  format: xml\n");
	if (c->nns && n < sizeof(p->input))
		n += (size_t)snprintf(p->input + n, sizeof(p->input) - n,
				      "  namespaces:\n");
	for (i = 0; i < c->nns && n < sizeof(p->input); i++)
		n += (size_t)snprintf(p->input + n, sizeof(p->input) - n,
				      "    %s: %s\n", c->prefix[i], c->uri[i]);
}

/* The location: in the record, else before it (a header party); a
 * location only some records have falls back to the header's (or to a
 * placeholder), as a UBL line's cac:InventoryLocation does. */
static void location_field(struct plan *p, struct xplan *xp)
{
	const struct mapgen_xml *x = xp->c.x;
	long in = find_field(x, xp->rec, MGF_LOCATION, 0);
	long out = find_field(x, xp->rec, MGF_LOCATION, 1);
	struct buf b = BUF_INIT(4096), o = BUF_INIT(4096);

	if (out >= 0)
		abs_path(&xp->c, out, &o);
	else
		buf_adds(&o, "UNKNOWN");
	if (in >= 0) {
		rel_path(&xp->c, in, xp->rec, &b);
		if (x->node[in].count >= x->node[xp->rec].count) {
			buf_adds(&b, " | trim | required");
		} else {
			char *r = strdup(b.ptr);

			buf_addf(&b, " | trim if %s is not empty else %s | trim",
				 r ? r : "", o.ptr);
			free(r);
		}
	} else {
		buf_add(&b, o.ptr, o.len);
		buf_adds(&b, out >= 0 ? " | trim | required" : "");
	}
	if (!b.err && !o.err)
		mapgen_plan_set(p, PF_LOCATION, b.ptr,
				out >= 0 || in >= 0 ? "a lookup can translate the location code"
				: "TODO: no element names a location (InventoryLocation, store,\n"
				  "warehouse, ...); a constant or a lookup decides");
	buf_release(&b);
	buf_release(&o);
}

static void stock_fields(const struct mapgen_in *in, struct plan *p,
			 struct xplan *xp)
{
	set_path(p, xp, PF_QUANTITY, MGF_QTY, "", 0);
	location_field(p, xp);
	mapgen_plan_set(p, PF_STATE, "on_hand",
			"TODO: the state of the quantity (on_hand, in_transit, ...)");
	if (!set_path(p, xp, PF_AS_OF, MGF_DATE, "", 1))
		mapgen_plan_as_of(p, in, "no date element before the records");
}

static void price_fields(struct plan *p, struct xplan *xp)
{
	set_path(p, xp, PF_AMOUNT, MGF_PRICE, "", 0);
	if (!set_path(p, xp, PF_CURRENCY, MGF_CURRENCY, " | trim | required", 1))
		mapgen_plan_set(p, PF_CURRENCY, "EUR",
				"TODO: no currency element or currencyID; EUR is a placeholder");
}

/* ---- parties (kind location) ------------------------------------------- */

/* A party element: UBL cac:Party, openTRANS PARTY, IDoc E1ADRM1 (a
 * delivery's partner addresses), E1EDKA1 / E1EDPA1 (an order's). */
static int party_elem(const struct mapgen_xnode *n)
{
	static const char *const names[] = {"Party", "PARTY", "E1ADRM1",
					    "E1EDKA1", "E1EDPA1", NULL};
	int i;

	for (i = 0; !n->attr && names[i]; i++)
		if (!strcmp(n->local, names[i]))
			return 1;
	return 0;
}

/* The shallowest descendant of a (or a itself for attributes) with a
 * value whose local name is one of names, earlier names first; -1. */
static long find_named(const struct mapgen_xml *x, long a,
		       const char *const *names)
{
	int i;

	for (i = 0; names[i]; i++) {
		long best = -1;
		int bd = 1 << 20;
		size_t k;

		for (k = (size_t)a + 1; k < x->nnode; k++)
			if (x->node[k].sample && !strcmp(x->node[k].local, names[i]) &&
			    is_under(x, (long)k, a) && depth_below(x, (long)k, a) < bd) {
				bd = depth_below(x, (long)k, a);
				best = (long)k;
			}
		if (best >= 0)
			return best;
	}
	return -1;
}

static const char *const party_ids[] = {"PARTNER_ID", "PARTN", "PARTY_ID",
					"ID", "EndpointID", "CompanyID",
					"GLN", "ILN", NULL};

/* The party element with an id that occurs most often (the first of
 * those in document order); -1 when none. */
static long choose_party(const struct mapgen_xml *x)
{
	long best = -1;
	size_t k;

	for (k = 0; k < x->nnode; k++)
		if (party_elem(&x->node[k]) && find_named(x, (long)k, party_ids) >= 0 &&
		    (best < 0 || x->node[k].count > x->node[best].count))
			best = (long)k;
	return best;
}

/* "rel | tail" of node n inside the party a into the plan. */
static void party_path(struct plan *p, const struct xctx *c, enum pf f,
		       long n, long a, const char *tail, const char *note)
{
	struct buf b = BUF_INIT(4096);

	rel_path(c, n, a, &b);
	buf_adds(&b, tail);
	if (!b.err)
		mapgen_plan_set(p, f, b.ptr, note);
	buf_release(&b);
}

static void party_type(struct plan *p, const struct xctx *c, long a)
{
	static const char *const quals[] = {"PARTNER_Q", "PARVW",
					    "PARTY_ROLE", NULL};
	const struct mapgen_xml *x = c->x;
	long q = find_named(x, a, quals);
	const char *par = x->node[a].parent >= 0 ? x->node[x->node[a].parent].local : "";
	struct buf b = BUF_INIT(4096);

	if (q >= 0) {
		rel_path(c, q, a, &b);
		if (!b.err)
			mapgen_plan_party_type(p, b.ptr, x->node[q].sample, 0,
					       x->node[q].local);
		buf_release(&b);
		return;
	}
	/* UBL says the role in the enclosing element's name */
	if (strstr(par, "Supplier") || strstr(par, "Seller") ||
	    strstr(par, "Despatch"))
		mapgen_plan_set(p, PF_TYPE, "supplier", "the party is a supplier by its element");
	else if (strstr(par, "Customer") || strstr(par, "Buyer") ||
		 strstr(par, "Delivery"))
		mapgen_plan_set(p, PF_TYPE, "store", "the party is a customer by its element");
}

static int xml_location(const struct mapgen_in *in, struct plan *p,
			struct xplan *xp, long a)
{
	static const char *const names[] = {"NAME1", "NAME", "Name",
					    "RegistrationName", NULL};
	static const char *const regions[] = {"REGION", "REGIO",
					      "CountrySubentity", "STATE", NULL};
	const struct mapgen_xml *x = xp->c.x;
	struct buf b = BUF_INIT(4096);
	long n;

	input_block(p, &xp->c);
	abs_path(&xp->c, a, &b);
	if (b.err)
		return -1;
	str_copy_cut(p->each, sizeof(p->each), b.ptr);
	buf_release(&b);
	n = find_named(x, a, party_ids);
	party_path(p, &xp->c, PF_LOCATION_ID, n, a, " | trim | required",
		   "the party's id; a lookup can translate it");
	party_type(p, &xp->c, a);
	if ((n = find_named(x, a, names)) >= 0)
		party_path(p, &xp->c, PF_NAME, n, a, " | trim", NULL);
	if ((n = find_named(x, a, regions)) >= 0)
		party_path(p, &xp->c, PF_REGION, n, a, " | trim",
			   "the state or province; street, city and postal code are not\n"
			   "mapped (the canonical location has no address)");
	if (p->kind == MAPGEN_AUTO) {
		p->kind = MAPGEN_LOCATION;
		snprintf(p->why, sizeof(p->why),
			 "kind location: %s names no item but parties (%s). The other\n"
			 "kinds need items.", x->node[0].local, x->node[a].local);
	} else {
		snprintf(p->why, sizeof(p->why), "kind location: as asked (--kind).");
	}
	mapgen_plan_found(p, "The file: XML, root %s, %lu %s element(s) (one record each).",
			  in->xml.node[0].local, x->node[a].count, x->node[a].local);
	return 0;
}

int mapgen_plan_xml(const struct mapgen_in *in, struct plan *p,
		    struct err *err)
{
	struct xplan xp;
	struct buf b = BUF_INIT(4096);

	memset(&xp, 0, sizeof(xp));
	xp.c.x = &in->xml;
	if (!in->xml.nnode)
		return err_set(err, E_PARSE, "%s: no elements", in->file);
	if (assign_ns(&xp.c, err) < 0)
		return -1;
	if (p->kind == MAPGEN_LOCATION || p->kind == MAPGEN_AUTO) {
		long a = choose_party(xp.c.x);

		if (a < 0 && p->kind == MAPGEN_LOCATION)
			return err_set(err, E_CONFIG,
				       "%s: no party element with an id (UBL cac:Party, openTRANS PARTY, IDoc E1ADRM1/E1EDKA1), so no location record can be made",
				       in->file);
		/* a document with items maps its items; parties only when
		 * asked or when there is nothing else */
		if (a >= 0 && (p->kind == MAPGEN_LOCATION ||
			       choose_record(&xp, in->file, err) < 0)) {
			err_clear(err);
			if (xml_location(in, p, &xp, a) < 0)
				return err_set(err, E_TOOBIG, "path too long");
			return 0;
		}
	}
	if (choose_record(&xp, in->file, err) < 0) {
		if (p->kind == MAPGEN_AUTO) {
			err_clear(err);
			err_set(err, E_PARSE,
				"%s: no element names an item (an ID under cac:Item, SUPPLIER_PID, BUYER_PID, or an element named like sku, article, EAN, GTIN) and no party element has an id (UBL cac:Party, openTRANS PARTY, IDoc E1ADRM1/E1EDKA1): no item, price, stock or location record can be made from it",
				in->file);
		}
		return -1;
	}
	choose_kind(p, &xp);
	if (p->kind == MAPGEN_STOCK && find_field(xp.c.x, xp.rec, MGF_QTY, 0) < 0)
		return err_set(err, E_CONFIG,
			       "%s: the record element has no quantity (an element named like Quantity, QUANTITY, qty, Menge)",
			       in->file);
	if (p->kind == MAPGEN_PRICE && find_field(xp.c.x, xp.rec, MGF_PRICE, 0) < 0)
		return err_set(err, E_CONFIG,
			       "%s: the record element has no price (an element named like PriceAmount, PRICE_AMOUNT, price)",
			       in->file);
	input_block(p, &xp.c);
	abs_path(&xp.c, xp.rec, &b);
	if (b.err)
		return err_set(err, b.err, "path too long");
	str_copy_cut(p->each, sizeof(p->each), b.ptr);
	buf_release(&b);
	id_fields(p, &xp);
	if (p->kind == MAPGEN_STOCK)
		stock_fields(in, p, &xp);
	else if (p->kind == MAPGEN_PRICE)
		price_fields(p, &xp);
	mapgen_plan_found(p, "The file: XML, root %s, %lu %s element(s) (one record each).",
			  in->xml.node[0].local, in->xml.node[xp.rec].count,
			  in->xml.node[xp.rec].local);
	return 0;
}
