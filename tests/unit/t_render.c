/* t_render.c - available-to-sell arithmetic per target. */
#include <string.h>

#include "../../pipeline/config.h"
#include "../../pipeline/render.h"
#include "t.h"

static struct cfg_target target(void)
{
	struct cfg_target t;

	memset(&t, 0, sizeof(t));
	t.sellable_mask = 1u << 0; /* on_hand */
	t.subtract_mask = 1u << 1; /* reserved */
	t.allocation_pct = 100;
	return t;
}

T_TEST(render_atp_rules)
{
	struct cfg_target t = target();
	dec s[7] = {0};
	int neg;

	s[0] = DEC_FROM_INT(10);    /* on_hand */
	s[1] = DEC_FROM_INT(3);     /* reserved */
	s[2] = DEC_FROM_INT(50);    /* in_transit: not sellable by default */
	s[3] = DEC_FROM_INT(40);    /* damaged: never */
	s[4] = DEC_FROM_INT(40);    /* quarantined: never */
	s[5] = DEC_FROM_INT(40);    /* return_pending: never */
	T_EQ_INT(render_atp(&t, s, &neg), DEC_FROM_INT(7));
	T_EQ_INT(neg, 0);
	t.safety_abs = DEC_FROM_INT(2);
	T_EQ_INT(render_atp(&t, s, &neg), DEC_FROM_INT(5));
	t.safety_abs = DEC_FROM_INT(20); /* never below zero */
	T_EQ_INT(render_atp(&t, s, &neg), 0);
	t.safety_abs = 0;
	t.safety_pct = 10; /* 7 - 0.7 = 6.3 -> 6 whole units */
	T_EQ_INT(render_atp(&t, s, &neg), DEC_FROM_INT(6));
	t.safety_pct = 0;
	t.allocation_pct = 50; /* 3.5 -> 3 */
	T_EQ_INT(render_atp(&t, s, &neg), DEC_FROM_INT(3));
	t.allocation_pct = 100;
	t.sellable_mask |= 1u << 2; /* opt in to in_transit */
	T_EQ_INT(render_atp(&t, s, &neg), DEC_FROM_INT(57));
}

T_TEST(render_atp_negative_publishes_zero)
{
	struct cfg_target t = target();
	dec s[7] = {0};
	int neg;

	s[0] = DEC_FROM_INT(-4);
	T_EQ_INT(render_atp(&t, s, &neg), 0);
	T_EQ_INT(neg, 1);
	s[0] = DEC_FROM_INT(2);
	s[1] = DEC_FROM_INT(5); /* more reserved than on hand */
	T_EQ_INT(render_atp(&t, s, &neg), 0);
	s[0] = 2500000; /* 2.5 units on hand, nothing reserved */
	s[1] = 0;
	T_EQ_INT(render_atp(&t, s, &neg), DEC_FROM_INT(2));
}

T_TEST(render_atp_cap_packs_and_row_safety)
{
	struct cfg_target t = target();
	dec s[7] = {0};
	int neg;

	s[0] = DEC_FROM_INT(100);
	/* a cap: never more than 40 on this channel */
	t.has_cap = 1;
	t.cap = DEC_FROM_INT(40);
	T_EQ_INT(render_atp_ex(&t, s, 0, 0, 0, &neg), DEC_FROM_INT(40));
	t.has_cap = 0;
	/* whole packs of 12: 100 -> 96 */
	t.round_pack = 1;
	T_EQ_INT(render_atp_ex(&t, s, 0, 0, DEC_FROM_INT(12), &neg),
		 DEC_FROM_INT(96));
	/* unknown pack size: whole units */
	T_EQ_INT(render_atp_ex(&t, s, 0, 0, 0, &neg), DEC_FROM_INT(100));
	t.round_pack = 0;
	/* per-row extra safety stock adds to the target's: 100 - 2 - 5 - 10% */
	t.safety_abs = DEC_FROM_INT(2);
	T_EQ_INT(render_atp_ex(&t, s, DEC_FROM_INT(5), 10, 0, &neg),
		 DEC_FROM_INT(83));
	/* cap after allocation, rounding last: 50% of 100 = 50, cap 45,
	 * packs of 6 -> 42 */
	t.safety_abs = 0;
	t.allocation_pct = 50;
	t.has_cap = 1;
	t.cap = DEC_FROM_INT(45);
	t.round_pack = 1;
	T_EQ_INT(render_atp_ex(&t, s, 0, 0, DEC_FROM_INT(6), &neg),
		 DEC_FROM_INT(42));
}

T_TEST(render_stale_source_rule)
{
	struct config *cfg = NULL;
	struct state *st = NULL;
	struct err e = ERR_INIT;
	char why[512];
	int stale = -1;
	int64_t t0 = 1795154400; /* 2026-11-20T06:00:00Z */

	T_ASSERT(t_write_file("stockpipe.yaml",
			      "state_dir: st\n"
			      "sources:\n"
			      "  - { name: stores, path: in, mapping: m.yaml }\n"
			      "  - { name: wms, path: in, mapping: m.yaml }\n"
			      "authority:\n"
			      "  on_hand: [stores]\n"
			      "  in_transit: [wms]\n"
			      "targets:\n"
			      "  - name: web\n"
			      "    path: out\n"
			      "    mapping: o.yaml\n"
			      "    stale_after: 1h\n") == 0);
	T_OK(config_load("stockpipe.yaml", NULL, &cfg, &e), &e);
	T_OK(state_open("st", &st, &e), &e);
	/* never delivered: stale */
	T_OK(render_source_stale(st, cfg, &cfg->targets[0], t0, &stale, why,
				 sizeof(why), &e), &e);
	T_EQ_INT(stale, 1);
	T_ASSERT(strstr(why, "'stores'") != NULL);
	/* delivered 30 minutes ago: fresh */
	T_OK(state_source_fetched(st, "stores", t0 - 1800, &e), &e);
	T_OK(render_source_stale(st, cfg, &cfg->targets[0], t0, &stale, why,
				 sizeof(why), &e), &e);
	T_EQ_INT(stale, 0);
	/* two hours later it is stale again; wms (in_transit) does not count
	 * because this target does not publish in_transit */
	T_OK(render_source_stale(st, cfg, &cfg->targets[0], t0 + 7200, &stale,
				 why, sizeof(why), &e), &e);
	T_EQ_INT(stale, 1);
	T_ASSERT(strstr(why, "'stores'") && strstr(why, "on_hand"));
	state_close(st);
	config_free(cfg);
}
