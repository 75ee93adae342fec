/* mapgen_int.h - what the per-format planners of mapgen share: the plan
 * (where a record starts, the expression for each canonical field and
 * why) that mapgen.c writes as YAML. */
#ifndef STOCKPIPE_MAPGEN_INT_H
#define STOCKPIPE_MAPGEN_INT_H

#include "mapgen.h"

/* Every canonical field of item, price and stock (docs/mapping.md 2). */
enum pf {
	PF_SKU, PF_GTIN, PF_DESCRIPTION, PF_BRAND, PF_CATEGORY, PF_BASE_UOM,
	PF_PACK_SIZE, PF_STATUS, PF_SUPPLIER_ID, PF_SUPPLIER_SKU,
	PF_PACK_SIZES, PF_LOCATION, PF_STATE, PF_QUANTITY, PF_MODE,
	PF_PRICE_LIST, PF_CURRENCY, PF_AMOUNT, PF_VALID_FROM, PF_VALID_TO,
	PF_KIND, PF_UOM, PF_AS_OF, PF_TXN_ID,
	PF_LOCATION_ID, PF_TYPE, PF_NAME, PF_REGION, PF_TIMEZONE,
	PF_COUNT
};

struct plan {
	enum mapgen_kind kind;     /* MAPGEN_AUTO until a planner decides */
	char name[64];
	char description[200];
	char why[600];             /* why this kind (top comment) */
	char found[1200];          /* what the file has (top comment) */
	char input[1400];          /* the lines under input:, indented */
	char ctx[800];             /* the lines under context:, or "" */
	char each[600], until[64], explode[64], when[200];
	char expr[PF_COUNT][800];  /* "" = placeholder */
	char note[PF_COUNT][800];  /* comment above the field */
	char hint[PF_COUNT][200];  /* placeholder text */
};

const char *mapgen_pf_name(enum pf f);
void mapgen_plan_set(struct plan *p, enum pf f, const char *expr,
		     const char *note);
void mapgen_plan_hint(struct plan *p, enum pf f, const char *hint);
void mapgen_plan_found(struct plan *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void mapgen_plan_as_of(struct plan *p, const struct mapgen_in *in,
		       const char *what);

/* The type: expression for the party qualifier codes ("ST SU BT",
 * space separated) read by path (N1.01, NAD.01, ./PARTNER_Q): a map()
 * of the known ones into p's type, with a TODO note naming the others
 * (they get the default, store). No known one: a commented placeholder.
 * all = 0: codes are only the ones seen, others may occur (they get
 * store too). what names the qualifier position in the note ("N101"). */
void mapgen_plan_party_type(struct plan *p, const char *path,
			    const char *codes, int all, const char *what);

/* The `decimal...` function for a mapgen_number_kind(). */
const char *mapgen_decimal(int kind);

int mapgen_plan_csv(const struct mapgen_in *in, struct plan *p,
		    struct err *err);
int mapgen_plan_edi(const struct mapgen_in *in, struct plan *p,
		    struct err *err);
int mapgen_plan_xml(const struct mapgen_in *in, struct plan *p,
		    struct err *err);

#endif
