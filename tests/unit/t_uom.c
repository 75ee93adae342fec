/* t_uom.c - units of measure (transforms/uom.h): composite units, pack
 * sizes, the uom table, the factor precedence (record, item master,
 * table), exact conversion of quantities and prices, and the reasons of
 * what cannot be converted. */
#include <string.h>

#include "lib/arena.h"
#include "transforms/model/canon.h"
#include "transforms/model/dec.h"
#include "transforms/model/uom.h"
#include "t.h"

static dec D(const char *s)
{
	dec d = 0;

	dec_parse(s, strlen(s), '.', 0, &d);
	return d;
}

static const char *F(dec d, char *out)
{
	dec_format(d, out);
	return out;
}

T_TEST(uom_parse_composites)
{
	struct uom_unit u;
	struct err e = ERR_INIT;
	char b[24];

	T_OK(uom_parse("CA>>12", &u, &e), &e);
	T_EQ_STR(u.code, "CA");
	T_EQ_STR(F(u.factor, b), "12");
	T_OK(uom_parse("CA", &u, &e), &e);
	T_EQ_STR(u.code, "CA");
	T_EQ_INT(u.factor, 0);
	T_OK(uom_parse("PK:1:6.5", &u, &e), &e); /* exponent 1 is fine */
	T_EQ_STR(u.code, "PK");
	T_EQ_STR(F(u.factor, b), "6.5");
	T_OK(uom_parse("CA>>", &u, &e), &e); /* empty components */
	T_EQ_STR(u.code, "CA");
	T_EQ_INT(u.factor, 0);
	T_ASSERT(uom_parse("CA>12", &u, &e) < 0); /* 12 is the exponent */
	T_EQ_INT(e.code, E_VALIDATE);
	T_EQ_STR(e.field, "uom");
	T_ASSERT(strstr(e.reason, "exponent") != NULL);
	err_clear(&e);
	T_ASSERT(uom_parse("CA>>0", &u, &e) < 0);
	T_ASSERT(strstr(e.reason, "above zero") != NULL);
	err_clear(&e);
	T_ASSERT(uom_parse("CA>>twelve", &u, &e) < 0);
	err_clear(&e);
	T_ASSERT(uom_parse("CA>>12>3", &u, &e) < 0);
	T_ASSERT(strstr(e.reason, "malformed composite") != NULL);
	err_clear(&e);
	T_ASSERT(uom_parse("", &u, &e) < 0);
	err_clear(&e);
	T_ASSERT(uom_parse("C A", &u, &e) < 0);
	err_clear(&e);
	T_ASSERT(uom_parse(">>12", &u, &e) < 0);
	err_clear(&e);
	T_ASSERT(uom_parse("ABCDEFGHIJKLMNOPQ", &u, &e) < 0); /* 17 > 16 */
}

T_TEST(uom_pack_sizes)
{
	struct uom_pack p[UOM_PACKS_MAX];
	size_t n;
	struct err e = ERR_INIT;
	char b[24];

	T_OK(uom_packs_parse("CA=12,PK=6", p, UOM_PACKS_MAX, &n, &e), &e);
	T_EQ_INT(n, 2);
	T_EQ_STR(p[0].code, "CA");
	T_EQ_STR(F(p[0].factor, b), "12");
	T_EQ_STR(p[1].code, "PK");
	T_EQ_STR(F(p[1].factor, b), "6");
	T_OK(uom_packs_parse(" CA = 12 , KG=0.5", p, UOM_PACKS_MAX, &n, &e),
	     &e);
	T_EQ_INT(n, 2);
	T_EQ_STR(F(p[1].factor, b), "0.5");
	T_OK(uom_packs_parse("", p, UOM_PACKS_MAX, &n, &e), &e);
	T_EQ_INT(n, 0);
	T_ASSERT(uom_packs_parse("CA=12,CA=6", p, UOM_PACKS_MAX, &n, &e) < 0);
	T_EQ_STR(e.field, "pack_sizes");
	T_ASSERT(strstr(e.reason, "twice") != NULL);
	err_clear(&e);
	T_ASSERT(uom_packs_parse("CA=0", p, UOM_PACKS_MAX, &n, &e) < 0);
	err_clear(&e);
	T_ASSERT(uom_packs_parse("CA12", p, UOM_PACKS_MAX, &n, &e) < 0);
	err_clear(&e);
	T_ASSERT(uom_packs_parse("CA=12,", p, UOM_PACKS_MAX, &n, &e) < 0);
	err_clear(&e);
	T_ASSERT(uom_packs_parse("CA=12,PK=6", p, 1, &n, &e) < 0);
}

T_TEST(uom_table_rows_and_errors)
{
	static const char ok[] = "# comment\nfactor,to,from,note\n"
				 "12,EA,CA,a case\n\n1000,G,KG,\n";
	struct uom_table *t = NULL;
	struct err e = ERR_INIT;
	const char *bad;
	dec f;
	char b[24];

	T_OK(uom_table_parse("u.csv", ok, sizeof(ok) - 1, &t, &e), &e);
	T_EQ_INT(uom_table_size(t), 2);
	T_ASSERT(uom_table_factor(t, "CA", "EA", &f) == 1);
	T_EQ_STR(F(f, b), "12");
	T_ASSERT(uom_table_factor(t, "EA", "CA", &f) == 0); /* one way */
	uom_table_free(t);
	t = NULL;
	bad = "from,to,factor\nCA,EA,12\nCA,EA,6\n";
	T_ASSERT(uom_table_parse("u.csv", bad, strlen(bad), &t, &e) < 0);
	T_EQ_INT(e.code, E_CONFIG);
	T_EQ_INT(e.line, 3);
	T_ASSERT(strstr(e.reason, "twice") != NULL);
	err_clear(&e);
	bad = "from,to,factor\nCA,EA,-1\n";
	T_ASSERT(uom_table_parse("u.csv", bad, strlen(bad), &t, &e) < 0);
	T_EQ_INT(e.line, 2);
	err_clear(&e);
	bad = "from,to\nCA,EA\n";
	T_ASSERT(uom_table_parse("u.csv", bad, strlen(bad), &t, &e) < 0);
	err_clear(&e);
	bad = "from,to,factor\nCA,EA,1\0\n";
	T_ASSERT(uom_table_parse("u.csv", bad, 24, &t, &e) < 0);
	T_ASSERT(strstr(e.reason, "NUL") != NULL);
	T_ASSERT(t == NULL);
}

T_TEST(uom_factor_precedence_record_item_table)
{
	static const char tab[] = "from,to,factor\nCA,EA,8\nKG,G,1000\n";
	struct uom_table *t = NULL;
	struct uom_pack packs[1] = {{"CA", DEC_FROM_INT(10)}};
	struct uom_sources s;
	struct uom_conv c;
	struct err e = ERR_INIT;
	char b[24];

	T_OK(uom_table_parse("u.csv", tab, sizeof(tab) - 1, &t, &e), &e);
	memset(&s, 0, sizeof(s));
	s.sku = "X";
	s.packs = packs;
	s.npacks = 1;
	s.table = t;
	/* 1. the record: composite, or its pack_size */
	T_OK(uom_resolve("CA>>12", NULL, &s, &c, &e), &e);
	T_EQ_INT(c.origin, UOM_RECORD);
	T_EQ_STR(F(c.factor, b), "12");
	T_EQ_STR(c.base, "EA");
	T_OK(uom_resolve("CA", "24", &s, &c, &e), &e);
	T_EQ_INT(c.origin, UOM_RECORD);
	T_EQ_STR(F(c.factor, b), "24");
	/* 2. the item master's pack sizes */
	T_OK(uom_resolve("CA", NULL, &s, &c, &e), &e);
	T_EQ_INT(c.origin, UOM_ITEM);
	T_EQ_STR(F(c.factor, b), "10");
	/* 3. the uom table */
	s.npacks = 0;
	T_OK(uom_resolve("CA", NULL, &s, &c, &e), &e);
	T_EQ_INT(c.origin, UOM_TABLE);
	T_EQ_STR(F(c.factor, b), "8");
	/* the base unit itself, or no unit: nothing to convert */
	T_OK(uom_resolve("EA", NULL, &s, &c, &e), &e);
	T_EQ_INT(c.origin, UOM_SAME);
	T_OK(uom_resolve(NULL, NULL, &s, &c, &e), &e);
	T_EQ_INT(c.origin, UOM_SAME);
	/* the base unit: item master, else the mapping's, else EA */
	s.map_base = "G";
	T_OK(uom_resolve("KG", NULL, &s, &c, &e), &e);
	T_EQ_STR(c.base, "G");
	T_EQ_STR(F(c.factor, b), "1000");
	s.item_base = "KG";
	T_OK(uom_resolve("KG", NULL, &s, &c, &e), &e);
	T_EQ_INT(c.origin, UOM_SAME);
	/* nothing covers it: the reason names unit, base and item */
	s.item_base = NULL;
	s.map_base = NULL;
	T_ASSERT(uom_resolve("KG", NULL, &s, &c, &e) < 0);
	T_EQ_INT(e.code, E_VALIDATE);
	T_EQ_STR(e.field, "uom");
	T_EQ_STR(e.reason, "cannot convert 'KG' to base unit 'EA' of item "
			   "'X': no factor in the record, the item master or "
			   "the uom lookup");
	err_clear(&e);
	/* the record contradicting itself, and a pack size without a unit */
	T_ASSERT(uom_resolve("CA>>12", "6", &s, &c, &e) < 0);
	T_EQ_STR(e.field, "pack_size");
	err_clear(&e);
	T_ASSERT(uom_resolve(NULL, "6", &s, &c, &e) < 0);
	T_EQ_STR(e.field, "pack_size");
	err_clear(&e);
	T_ASSERT(uom_resolve("ZZ>9", NULL, &s, &c, &e) < 0);
	T_EQ_STR(e.field, "uom");
	uom_table_free(t);
}

T_TEST(uom_exact_quantities_and_prices)
{
	dec out;
	int r;
	char b[24];

	T_OK(uom_qty(D("5"), D("12"), &out, &r), NULL);
	T_EQ_STR(F(out, b), "60");
	T_EQ_INT(r, 0);
	T_OK(uom_qty(D("2.5"), D("12"), &out, &r), NULL);
	T_EQ_STR(F(out, b), "30");
	T_OK(uom_qty(D("0.1"), D("0.3"), &out, &r), NULL);
	T_EQ_STR(F(out, b), "0.03"); /* exact, no binary fractions */
	T_EQ_INT(r, 0);
	/* past six decimals: half to even */
	T_OK(uom_qty(D("0.000001"), D("0.5"), &out, &r), NULL);
	T_EQ_STR(F(out, b), "0");
	T_EQ_INT(r, 1);
	T_OK(uom_qty(D("0.000003"), D("0.5"), &out, &r), NULL);
	T_EQ_STR(F(out, b), "0.000002");
	T_OK(uom_qty(D("-0.000003"), D("0.5"), &out, &r), NULL);
	T_EQ_STR(F(out, b), "-0.000002");
	T_ASSERT(uom_qty(D("9000000000000"), D("1000000"), &out, &r) < 0);
	/* a price per case is a price per base unit divided by the factor */
	T_OK(uom_price(D("24"), D("12"), &out, &r), NULL);
	T_EQ_STR(F(out, b), "2");
	T_EQ_INT(r, 0);
	T_OK(uom_price(D("10"), D("3"), &out, &r), NULL);
	T_EQ_STR(F(out, b), "3.333333");
	T_EQ_INT(r, 1);
	T_OK(uom_price(D("20"), D("3"), &out, &r), NULL);
	T_EQ_STR(F(out, b), "6.666667");
	T_OK(uom_price(D("0.000005"), D("2"), &out, &r), NULL);
	T_EQ_STR(F(out, b), "0.000002"); /* 2.5 millionths: to even */
	T_OK(uom_price(D("0.000007"), D("2"), &out, &r), NULL);
	T_EQ_STR(F(out, b), "0.000004"); /* 3.5 millionths: to even */
	T_OK(uom_from_base(D("60"), D("12"), &out, &r), NULL);
	T_EQ_STR(F(out, b), "5");
	T_ASSERT(uom_price(D("1"), 0, &out, &r) < 0);
}

T_TEST(uom_canon_validates_units)
{
	struct arena a;
	struct err e = ERR_INIT;
	struct canon_record r;

	arena_init(&a, 4096, 0);
	memset(&r, 0, sizeof(r));
	r.kind = CANON_STOCK;
	r.v[STOCK_SKU] = "A";
	r.v[STOCK_LOCATION] = "L";
	r.v[STOCK_STATE] = "on_hand";
	r.v[STOCK_QUANTITY] = "5";
	r.v[STOCK_AS_OF] = "2026-11-20T06:00:00Z";
	r.v[STOCK_UOM] = "CA>>12";
	T_OK(canon_validate(&r, &a, &e), &e);
	T_EQ_STR(r.v[STOCK_UOM], "CA>>12"); /* kept: converted at load */
	r.v[STOCK_UOM] = "CA>12";
	T_ASSERT(canon_validate(&r, &a, &e) < 0);
	T_EQ_STR(e.field, "uom");
	err_clear(&e);
	memset(&r, 0, sizeof(r));
	r.kind = CANON_ITEM;
	r.v[ITEM_SKU] = "A";
	r.v[ITEM_PACK_SIZES] = "CA=12,PK=six";
	T_ASSERT(canon_validate(&r, &a, &e) < 0);
	T_EQ_STR(e.field, "pack_sizes");
	arena_release(&a);
}
