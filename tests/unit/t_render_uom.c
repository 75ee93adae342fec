/* t_render_uom.c - a target's `uom:` at render (pipeline/stages/
 * render_uom.h): quantities divided by the item's pack size and rounded
 * down (never above the stock, negatives toward minus infinity), the
 * base unit kept when the target wants none or its own base, the item
 * without that pack size failing with its name or staying in base units
 * under `uom_missing: base`, and a result out of range refused. */
#include <string.h>

#include "pipeline/config.h"
#include "pipeline/stages/render_uom.h"
#include "pipeline/store/state.h"
#include "pipeline/store/state_uom.h"
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

/* A store where SKU1 comes in cases of 12 and packs of 2.5. */
static int open_store(struct state **st, struct err *e)
{
	struct uom_pack p[2];

	memset(p, 0, sizeof(p));
	strcpy(p[0].code, "CA");
	p[0].factor = DEC_FROM_INT(12);
	strcpy(p[1].code, "PK");
	p[1].factor = D("2.5");
	if (state_open("st", st, e) < 0)
		return -1;
	if (state_begin(*st, e) < 0 ||
	    state_uom_packs_set(*st, "SKU1", p, 2, NULL, 1, e) < 0 ||
	    state_commit(*st, e) < 0)
		return -1;
	return 0;
}

static void target(struct cfg_target *t, const char *uom, int keep)
{
	memset(t, 0, sizeof(*t));
	t->name = "shop";
	t->uom = uom;
	t->uom_keep_base = keep;
}

T_TEST(render_uom_divides_and_rounds_down)
{
	struct state *st = NULL;
	struct err e = ERR_INIT;
	struct cfg_target t;
	dec atp = DEC_FROM_INT(25), q[3] = {DEC_FROM_INT(24), DEC_FROM_INT(0),
					    DEC_FROM_INT(-1)};
	char unit[UOM_CODE_MAX + 1], b[32];

	T_OK(open_store(&st, &e), &e);
	target(&t, "CA", 0);
	T_OK(render_uom_row(st, &t, "SKU1", "EA", &atp, q, 3, unit, &e), &e);
	state_close(st);
	T_EQ_STR(unit, "CA");
	/* 25 / 12 = 2.083333|33: cut, never rounded up past the stock */
	T_EQ_STR(F(atp, b), "2.083333");
	T_EQ_STR(F(q[0], b), "2");
	T_EQ_STR(F(q[1], b), "0");
	/* -1 / 12 = -0.083333|33 rounds toward minus infinity */
	T_EQ_STR(F(q[2], b), "-0.083334");
}

T_TEST(render_uom_fractional_pack)
{
	struct state *st = NULL;
	struct err e = ERR_INIT;
	struct cfg_target t;
	dec atp = DEC_FROM_INT(10), q[1] = {DEC_FROM_INT(1)};
	char unit[UOM_CODE_MAX + 1], b[32];

	T_OK(open_store(&st, &e), &e);
	target(&t, "PK", 0);
	T_OK(render_uom_row(st, &t, "SKU1", NULL, &atp, q, 1, unit, &e), &e);
	state_close(st);
	T_EQ_STR(unit, "PK");
	T_EQ_STR(F(atp, b), "4");
	T_EQ_STR(F(q[0], b), "0.4");
}

T_TEST(render_uom_base_unit_untouched)
{
	struct state *st = NULL;
	struct err e = ERR_INIT;
	struct cfg_target t;
	dec atp = DEC_FROM_INT(25), q[1] = {DEC_FROM_INT(7)};
	char unit[UOM_CODE_MAX + 1];

	T_OK(open_store(&st, &e), &e);
	/* no uom: the item's base unit, EA when the item has none */
	target(&t, NULL, 0);
	T_OK(render_uom_row(st, &t, "SKU1", NULL, &atp, q, 1, unit, &e), &e);
	T_EQ_STR(unit, UOM_DEFAULT_BASE);
	T_OK(render_uom_row(st, &t, "SKU1", "", &atp, q, 1, unit, &e), &e);
	T_EQ_STR(unit, UOM_DEFAULT_BASE);
	T_OK(render_uom_row(st, &t, "SKU1", "KG", &atp, q, 1, unit, &e), &e);
	T_EQ_STR(unit, "KG");
	/* the target's unit is the item's base: nothing to divide */
	target(&t, "CA", 0);
	T_OK(render_uom_row(st, &t, "SKU1", "CA", &atp, q, 1, unit, &e), &e);
	state_close(st);
	T_EQ_STR(unit, "CA");
	T_EQ_INT(atp, DEC_FROM_INT(25));
	T_EQ_INT(q[0], DEC_FROM_INT(7));
}

T_TEST(render_uom_missing_factor_names_item)
{
	struct state *st = NULL;
	struct err e = ERR_INIT;
	struct cfg_target t;
	dec atp = DEC_FROM_INT(25), q[1] = {DEC_FROM_INT(7)};
	char unit[UOM_CODE_MAX + 1];
	int rc;

	T_OK(open_store(&st, &e), &e);
	target(&t, "PL", 0);
	rc = render_uom_row(st, &t, "SKU1", "EA", &atp, q, 1, unit, &e);
	T_EQ_INT(rc, -1);
	T_EQ_INT(e.code, E_VALIDATE);
	T_ASSERT(strstr(e.reason, "target 'shop'"));
	T_ASSERT(strstr(e.reason, "item 'SKU1'"));
	T_ASSERT(strstr(e.reason, "unit 'PL'"));
	T_ASSERT(strstr(e.reason, "uom_missing: base"));
	/* an item the master does not know at all fails the same way */
	err_clear(&e);
	target(&t, "CA", 0);
	rc = render_uom_row(st, &t, "NOSUCH", "EA", &atp, q, 1, unit, &e);
	T_EQ_INT(rc, -1);
	T_ASSERT(strstr(e.reason, "item 'NOSUCH'"));
	/* uom_missing: base keeps the row in its base unit, untouched */
	err_clear(&e);
	target(&t, "PL", 1);
	T_OK(render_uom_row(st, &t, "SKU1", "EA", &atp, q, 1, unit, &e), &e);
	state_close(st);
	T_EQ_STR(unit, "EA");
	T_EQ_INT(atp, DEC_FROM_INT(25));
	T_EQ_INT(q[0], DEC_FROM_INT(7));
}

T_TEST(render_uom_out_of_range)
{
	struct state *st = NULL;
	struct err e = ERR_INIT;
	struct cfg_target t;
	struct uom_pack p;
	dec atp = INT64_MAX, q[1] = {0};
	char unit[UOM_CODE_MAX + 1];
	int rc;

	/* a pack of 0.5 doubles the quantity: the largest dec overflows */
	memset(&p, 0, sizeof(p));
	strcpy(p.code, "HF");
	p.factor = D("0.5");
	T_OK(state_open("st", &st, &e), &e);
	T_OK(state_begin(st, &e), &e);
	T_OK(state_uom_packs_set(st, "SKU2", &p, 1, NULL, 1, &e), &e);
	T_OK(state_commit(st, &e), &e);
	target(&t, "HF", 0);
	rc = render_uom_row(st, &t, "SKU2", NULL, &atp, q, 1, unit, &e);
	state_close(st);
	T_EQ_INT(rc, -1);
	T_EQ_INT(e.code, E_VALIDATE);
	T_ASSERT(strstr(e.reason, "item 'SKU2'"));
	T_ASSERT(strstr(e.reason, "out of range"));
}
