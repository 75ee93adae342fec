/* stage.c - the table of stages; see stage.h. */
#include "stage.h"
#include "pipeline/engine.h"

#include <stddef.h>
#include <string.h>

/* In pipeline order. */
static const struct stage_ops *const table[] = {
	&stage_fetch, &stage_unpack, &stage_map,    &stage_load,
	&stage_acks,  &stage_post,   &stage_render, &stage_deliver,
};

#define NSTAGES (sizeof(table) / sizeof(table[0]))

const struct stage_ops *stage_find(const char *name)
{
	size_t i;

	for (i = 0; i < NSTAGES; i++)
		if (!strcmp(table[i]->name, name))
			return table[i];
	return NULL;
}

const struct stage_ops *stage_of(int st)
{
	static const struct stage_ops *const by_units[] = {
		[ST_FETCH] = &stage_fetch, [ST_UNPACK] = &stage_unpack,
		[ST_MAP] = &stage_map,     [ST_LOAD] = &stage_load,
		[ST_RENDER] = &stage_render, [ST_DELIVER] = &stage_deliver,
	};

	if (st < ST_FETCH || st > ST_DELIVER)
		return NULL;
	return by_units[st];
}
