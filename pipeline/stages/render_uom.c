/* render_uom.c - see render_uom.h. */
#include "render_uom.h"

#include <string.h>

#include "pipeline/store/state_uom.h"
#include "transforms/model/uom.h"

/* q / f rounded toward negative infinity at DEC_DIGITS decimals. */
static int down(dec q, dec f, dec *out)
{
	__int128 num = (__int128)q * DEC_SCALE, r = num / f;

	if (num % f != 0 && num < 0)
		r--;
	if (r > INT64_MAX || r < INT64_MIN)
		return -1;
	*out = (dec)r;
	return 0;
}

/* Copies a unit code into unit (UOM_CODE_MAX + 1 bytes), cut as the
 * snprintf it replaces did: it runs for every row of every render. */
static void unit_copy(char *unit, const char *code)
{
	size_t n = strnlen(code, UOM_CODE_MAX);

	memcpy(unit, code, n);
	unit[n] = '\0';
}

int render_uom_row(struct state *st, const struct cfg_target *t,
		   const char *sku, const char *item_base, dec *atp, dec *q,
		   size_t n, char *unit, struct err *err)
{
	const char *base = item_base && *item_base ? item_base
						   : UOM_DEFAULT_BASE;
	dec f;
	size_t i;

	unit_copy(unit, base);
	if (!t->uom || !strcmp(t->uom, base))
		return 0;
	if (state_uom_factor(st, sku, t->uom, &f, err) < 0)
		return -1;
	if (f <= 0) {
		if (t->uom_keep_base)
			return 0;
		return err_set(err, E_VALIDATE,
			       "target '%s' publishes in '%s': item '%s' has "
			       "no factor for unit '%s' (its base unit is "
			       "'%s'; give the item master pack_sizes, or set "
			       "uom_missing: base)",
			       t->name, t->uom, sku, t->uom, base);
	}
	if (down(*atp, f, atp) < 0)
		goto overflow;
	for (i = 0; i < n; i++)
		if (down(q[i], f, &q[i]) < 0)
			goto overflow;
	unit_copy(unit, t->uom);
	return 0;
overflow:
	return err_set(err, E_VALIDATE,
		       "item '%s': quantity out of range in "
		       "'%s'",
		       sku, t->uom);
}
