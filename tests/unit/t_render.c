/* t_render.c - available-to-sell arithmetic per target; rows a target's
 * format cannot carry (on_bad_row: reject | fail); an XML header written
 * before its counted rows. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/io.h"
#include "pipeline/config.h"
#include "pipeline/stages/render.h"
#include "pipeline/stages/render_share.h"
#include "pipeline/store/state.h"
#include "transforms/model/canon.h"
#include "transforms/outbound/outbound.h"
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

/* ---- bad rows (on_bad_row) -------------------------------------------- */

/* Loads an item (description may be NULL) and an on_hand snapshot. */
static int put_row(struct state *st, int64_t doc, const char *sku,
		   const char *desc, const char *qty, const char *as_of,
		   struct err *e)
{
	struct canon_record r;
	struct load_stats ls;
	char txn[64];

	memset(&ls, 0, sizeof(ls));
	memset(&r, 0, sizeof(r));
	r.kind = CANON_ITEM;
	r.v[ITEM_SKU] = sku;
	r.v[ITEM_DESCRIPTION] = desc;
	r.v[ITEM_AS_OF] = as_of;
	if (state_load_record(st, doc, &r, &ls, e) < 0)
		return -1;
	memset(&r, 0, sizeof(r));
	snprintf(txn, sizeof(txn), "%s/%s", sku, as_of);
	r.kind = CANON_STOCK;
	r.v[STOCK_SKU] = sku;
	r.v[STOCK_LOCATION] = "F012";
	r.v[STOCK_STATE] = "on_hand";
	r.v[STOCK_QUANTITY] = qty;
	r.v[STOCK_MODE] = "snapshot";
	r.v[STOCK_AS_OF] = as_of;
	r.v[STOCK_TXN_ID] = txn;
	r.lin.source = "stores";
	r.lin.file = "stock.csv";
	r.lin.line = 2;
	return state_load_record(st, doc, &r, &ls, e);
}

static int ready_ctl(void *ud, const char *key, struct outbound_env *env,
		     int *skip, struct err *err)
{
	(void)ud;
	(void)key;
	(void)err;
	*skip = 0;
	env->control = 7;
	return 0;
}

static const char x12_846[] =
	"outbound: t846\nkind: stock\nformat: x12\n"
	"envelope:\n"
	"  sender: { qualifier: ZZ, id: ME }\n"
	"  receiver: { qualifier: ZZ, id: YOU }\n"
	"  version: \"00401\"\n"
	"  transaction: \"846\"\n"
	"  usage: T\n"
	"  line_end: lf\n"
	"header:\n"
	"  - BIA: [\"00\", SI, \"STK{$control}\", \"{$date}\"]\n"
	"segments:\n"
	"  - LIN: [\"\", SK, \"{sku}\"]\n"
	"  - PID: [F, \"\", \"\", \"\", \"{description}\"]\n"
	"    when: description is not empty\n"
	"  - QTY: [\"33\", \"{available}\", EA]\n"
	"trailer:\n"
	"  - CTT: [\"{$rows}\"]\n";

static const char edifact_invrpt[] =
	"outbound: tinv\nkind: stock\nformat: edifact\n"
	"envelope:\n"
	"  sender: { id: ME, qualifier: ZZZ }\n"
	"  receiver: { id: YOU, qualifier: ZZZ }\n"
	"  syntax: UNOC:3\n"
	"  message: INVRPT\n"
	"  version: D:96A:UN\n"
	"  usage: T\n"
	"header:\n"
	"  - BGM: [\"35\", \"INV{$control}\", \"9\"]\n"
	"segments:\n"
	"  - LIN: []\n"
	"  - PIA: [\"5\", [\"{sku}\", SA]]\n"
	"  - IMD: [F, \"\", [\"\", \"\", \"\", \"{description}\"]]\n"
	"    when: description is not empty\n"
	"  - QTY: [[\"145\", \"{available}\"]]\n"
	"trailer:\n"
	"  - CNT: [[\"2\", \"{$rows}\"]]\n";

/* Segments from the first line starting with first through the first
 * line starting with last (one segment a line). */
static int count_segs(const char *doc, const char *first, const char *last)
{
	const char *p = doc;
	int n = 0, in = 0;

	for (; *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p)) {
		if (!in && !strncmp(p, first, strlen(first)))
			in = 1;
		if (in)
			n++;
		if (in && !strncmp(p, last, strlen(last)))
			break;
	}
	return n;
}

static int count_lines(const char *s, const char *prefix)
{
	int n = 0;

	for (; s && *s; s = strchr(s, '\n') ? strchr(s, '\n') + 1 : "")
		if (!strncmp(s, prefix, strlen(prefix)))
			n++;
	return n;
}

/* Renders target t through the mapping o.yaml into out (rejects to
 * rej/web.jsonl whatever t's name); rc of render_target. */
static int render_to(struct state *st, struct cfg_target *t,
		     const char *out, const char *prev, struct render_stats *rs,
		     struct err *e)
{
	struct outbound *ob = NULL;
	struct outbound_env env;
	char key[65], sha[65];
	int rc;

	if (outbound_load("o.yaml", &ob, e) < 0)
		return -1;
	memset(&env, 0, sizeof(env));
	env.target = t->name;
	env.now = 1795154400; /* 2026-11-20T06:00:00Z */
	sha[0] = '\0';
	rc = render_target(st, t, ob, &env, out, prev, "rej/web.jsonl",
			   ready_ctl, NULL, key, sha, rs, e);
	outbound_free(ob);
	return rc;
}

T_TEST(render_x12_bad_row_rejected)
{
	struct cfg_target t = target();
	struct state *st = NULL;
	struct err e = ERR_INIT;
	struct render_stats rs;
	const char *doc, *rej, *pub;
	char want[64];
	int segs;

	t.name = "web";
	T_ASSERT(t_write_file("o.yaml", x12_846) == 0);
	T_OK(state_open("st", &st, &e), &e);
	T_OK(put_row(st, 1, "A1", "Kanne", "4", "2026-11-20T05:00:00Z", &e),
	     &e);
	T_OK(put_row(st, 1, "AB~12", "Tasse", "5", "2026-11-20T05:00:00Z",
		     &e), &e);
	T_OK(put_row(st, 1, "C3", "Deckel\x01", "6", "2026-11-20T05:00:00Z",
		     &e), &e);
	T_OK(put_row(st, 1, "D4", NULL, "7", "2026-11-20T05:00:00Z", &e), &e);
	T_OK(render_to(st, &t, "out.x12", NULL, &rs, &e), &e);
	T_EQ_INT(rs.rows, 2);
	T_EQ_INT(rs.rejects, 2);
	T_ASSERT(strstr(rs.first_reject, "LIN03: ") == rs.first_reject);
	doc = t_read_file("out.x12");
	T_ASSERT(doc != NULL);
	/* the good rows, and nothing of the bad ones */
	T_ASSERT(strstr(doc, "\nLIN**SK*A1~\n") && strstr(doc, "\nLIN**SK*D4~\n"));
	T_ASSERT(!strstr(doc, "AB~12") && !strstr(doc, "C3"));
	T_EQ_INT(count_lines(doc, "LIN*"), 2);
	/* CTT01 = rows written; SE01 = ST..SE */
	T_ASSERT(strstr(doc, "\nCTT*2~\n") != NULL);
	segs = count_segs(doc, "ST*", "SE*");
	snprintf(want, sizeof(want), "\nSE*%d*0007~\n", segs);
	T_ASSERT(strstr(doc, want) != NULL);
	T_EQ_INT(segs, 2 + 1 + 2 * 3 - 1 + 1); /* ST BIA, A1 LIN PID QTY, D4 LIN QTY, CTT SE */
	rej = t_read_file("rej/web.jsonl");
	T_ASSERT(rej != NULL);
	T_EQ_INT(count_lines(rej, "{\"kind\":\"reject\",\"target\":\"web\","), 2);
	T_ASSERT(strstr(rej, "\"sku\":\"AB~12\",\"location\":\"\",\"field\":\"LIN03\",\"reason\":\"row sku 'AB~12': value 'AB~12' contains the segment terminator '~'"));
	T_ASSERT(strstr(rej, "\"sku\":\"C3\",\"location\":\"\",\"field\":\"PID05\",\"reason\":\"row sku 'C3': value 'Deckel\\u0001' contains the control character 01\""));
	T_ASSERT(strstr(rej, "\"values\":{\"sku\":\"AB~12\",\"location\":\"\",\"available\":\"5\",\"on_hand\":\"5\""));
	T_ASSERT(strstr(rej, "\"_file\":\"o.yaml\",\"_line\":14,\"_col\":20,"));
	/* the published picture holds the rows the target got */
	pub = t_read_file("out.x12.pub");
	T_ASSERT(pub != NULL);
	T_EQ_STR(pub, "A1\t\t4\nD4\t\t7\n");
	state_close(st);
}

T_TEST(render_edifact_bad_row_rejected)
{
	struct cfg_target t = target();
	struct state *st = NULL;
	struct err e = ERR_INIT;
	struct render_stats rs;
	const char *doc, *rej;
	char want[64];
	int segs;

	t.name = "web";
	T_ASSERT(t_write_file("o.yaml", edifact_invrpt) == 0);
	T_OK(state_open("st", &st, &e), &e);
	/* EDIFACT has a release character: ' + : ? are carried */
	T_OK(put_row(st, 1, "A'1+", "Glas+Deckel O'Neill?", "4",
		     "2026-11-20T05:00:00Z", &e), &e);
	/* a control character, a character UNOC (ISO 8859-1) lacks and
	 * bytes that are not UTF-8 are not */
	T_OK(put_row(st, 1, "B2", "Tab\there", "5", "2026-11-20T05:00:00Z",
		     &e), &e);
	T_OK(put_row(st, 1, "C3", "\xe2\x82\xac 5", "6",
		     "2026-11-20T05:00:00Z", &e), &e);
	T_OK(put_row(st, 1, "D4", "bad \xff", "6", "2026-11-20T05:00:00Z",
		     &e), &e);
	T_OK(put_row(st, 1, "E5", NULL, "8", "2026-11-20T05:00:00Z", &e), &e);
	T_OK(render_to(st, &t, "out.edi", NULL, &rs, &e), &e);
	T_EQ_INT(rs.rows, 2);
	T_EQ_INT(rs.rejects, 3);
	doc = t_read_file("out.edi");
	T_ASSERT(doc != NULL);
	T_ASSERT(strstr(doc, "PIA+5+A?'1?+:SA'") != NULL);
	T_ASSERT(strstr(doc, "IMD+F++:::Glas?+Deckel O?'Neill?" "?'") != NULL);
	T_ASSERT(strstr(doc, "PIA+5+E5:SA'") != NULL);
	T_ASSERT(!strstr(doc, "B2") && !strstr(doc, "C3") && !strstr(doc, "D4"));
	T_ASSERT(strstr(doc, "CNT+2:2'") != NULL);
	segs = count_segs(doc, "UNH+", "UNT+");
	snprintf(want, sizeof(want), "UNT+%d+7'", segs);
	T_ASSERT(strstr(doc, want) != NULL);
	T_EQ_INT(segs, 2 + 4 + 3 + 2); /* UNH BGM, LIN PIA IMD QTY, LIN PIA QTY, CNT UNT */
	rej = t_read_file("rej/web.jsonl");
	T_ASSERT(rej != NULL);
	T_ASSERT(strstr(rej, "\"sku\":\"B2\",\"location\":\"\",\"field\":\"IMD03-4\",\"reason\":\"row sku 'B2': value 'Tab\\there' contains the control character 09\""));
	T_ASSERT(strstr(rej, "\"sku\":\"C3\"") && strstr(rej, "U+20AC"));
	T_ASSERT(strstr(rej, "\"sku\":\"D4\"") && strstr(rej, "is not valid UTF-8"));
	/* the reject file stays UTF-8: the bad byte is U+FFFD there */
	T_ASSERT(strstr(rej, "\"description\":\"bad \xef\xbf\xbd\"") != NULL);
	T_ASSERT(!strchr(rej, '\xff'));
	state_close(st);
}

T_TEST(render_bad_row_fail_is_a_data_error)
{
	struct cfg_target t = target();
	struct state *st = NULL;
	struct err e = ERR_INIT;
	struct render_stats rs;

	t.name = "web";
	t.bad_row_fail = 1;
	T_ASSERT(t_write_file("o.yaml", x12_846) == 0);
	T_OK(state_open("st", &st, &e), &e);
	T_OK(put_row(st, 1, "A1", "Kanne", "4", "2026-11-20T05:00:00Z", &e),
	     &e);
	T_OK(put_row(st, 1, "AB~12", "Tasse", "5", "2026-11-20T05:00:00Z",
		     &e), &e);
	T_EQ_INT(render_to(st, &t, "out.x12", NULL, &rs, &e), -1);
	T_EQ_INT(e.code, E_VALIDATE);
	T_EQ_STR(e.field, "LIN03");
	T_EQ_STR(e.file, "o.yaml");
	T_ASSERT(strstr(e.reason, "target 'web', row sku 'AB~12': value 'AB~12' contains the segment terminator '~'") == e.reason);
	/* nothing published, no reject file */
	T_ASSERT(access("out.x12", F_OK) != 0 && access("out.x12.pub", F_OK) != 0);
	T_ASSERT(access("rej/web.jsonl", F_OK) != 0);
	/* per location: the location is named too; a CSV number column's
	 * error (which outbound does not name the row in) gets the row */
	err_clear(&e);
	t.per_location = 1;
	T_ASSERT(t_write_file("o.yaml",
		"outbound: c\nkind: stock\nformat: csv\n"
		"columns:\n"
		"  - { name: sku, value: sku }\n"
		"  - { name: n, value: description, type: number }\n") == 0);
	T_EQ_INT(render_to(st, &t, "out.csv", NULL, &rs, &e), -1);
	T_EQ_INT(e.code, E_VALIDATE);
	T_EQ_STR(e.field, "n");
	T_ASSERT(strstr(e.reason, "target 'web', row sku 'A1', location 'F012': not a number: 'Kanne'") == e.reason);
	state_close(st);
}

T_TEST(render_rejected_row_stays_out_of_the_picture)
{
	struct cfg_target t = target();
	struct state *st = NULL;
	struct err e = ERR_INIT;
	struct render_stats rs;
	const char *doc;

	t.name = "web";
	t.delta = 1;
	T_ASSERT(t_write_file("o.yaml", x12_846) == 0);
	T_OK(state_open("st", &st, &e), &e);
	T_OK(put_row(st, 1, "A1", "Kanne", "4", "2026-11-20T05:00:00Z", &e),
	     &e);
	T_OK(put_row(st, 1, "B2", "Tasse*gross", "5", "2026-11-20T05:00:00Z",
		     &e), &e);
	T_OK(render_to(st, &t, "d1.x12", NULL, &rs, &e), &e);
	T_EQ_INT(rs.rows, 1);
	T_EQ_INT(rs.rejects, 1);
	T_EQ_STR(t_read_file("d1.x12.pub"), "A1\t\t4\n");
	/* fixed at the source, quantity unchanged: the delta sends it */
	T_OK(put_row(st, 2, "B2", "Tasse gross", "5", "2026-11-20T06:00:00Z",
		     &e), &e);
	T_OK(render_to(st, &t, "d2.x12", "d1.x12.pub", &rs, &e), &e);
	T_EQ_INT(rs.rows, 1);
	T_EQ_INT(rs.rejects, 0);
	doc = t_read_file("d2.x12");
	T_ASSERT(doc && strstr(doc, "\nLIN**SK*B2~\nPID*F****Tasse gross~\n"));
	T_ASSERT(!strstr(doc, "A1"));
	T_EQ_STR(t_read_file("d2.x12.pub"), "A1\t\t4\nB2\t\t5\n");
	/* no bad row: the earlier attempt's reject file is gone */
	T_ASSERT(access("rej/web.jsonl", F_OK) != 0);
	state_close(st);
}

T_TEST(render_item_bad_row_rejected)
{
	struct cfg_target t = target();
	struct state *st = NULL;
	struct err e = ERR_INIT;
	struct render_stats rs;
	const char *doc, *rej;

	t.name = "hub";
	T_ASSERT(t_write_file("o.yaml",
		"outbound: t832\nkind: item\nformat: x12\n"
		"envelope:\n"
		"  sender: { qualifier: ZZ, id: ME }\n"
		"  receiver: { qualifier: ZZ, id: YOU }\n"
		"  version: \"00401\"\n"
		"  transaction: \"832\"\n"
		"  usage: T\n"
		"  line_end: lf\n"
		"header:\n"
		"  - BCT: [PC]\n"
		"segments:\n"
		"  - LIN: [\"\", SK, \"{sku}\"]\n"
		"  - PID: [F, \"\", \"\", \"\", \"{description}\"]\n"
		"    when: description is not empty\n"
		"trailer:\n"
		"  - CTT: [\"{$rows}\"]\n") == 0);
	T_OK(state_open("st", &st, &e), &e);
	T_OK(put_row(st, 1, "A1", "Kanne", "4", "2026-11-20T05:00:00Z", &e),
	     &e);
	T_OK(put_row(st, 1, "B2", "Glas*Deckel", "5", "2026-11-20T05:00:00Z",
		     &e), &e);
	T_OK(render_to(st, &t, "out.x12", NULL, &rs, &e), &e);
	T_EQ_INT(rs.rows, 1);
	T_EQ_INT(rs.rejects, 1);
	doc = t_read_file("out.x12");
	T_ASSERT(doc && strstr(doc, "\nLIN**SK*A1~\nPID*F****Kanne~\nCTT*1~\nSE*6*0007~\n"));
	T_ASSERT(!strstr(doc, "B2"));
	rej = t_read_file("rej/web.jsonl");
	T_ASSERT(rej && strstr(rej, "\"target\":\"hub\"") &&
		 strstr(rej, "\"sku\":\"B2\",\"location\":\"\",\"field\":\"PID05\"") &&
		 strstr(rej, "the element separator '*'"));
	state_close(st);
}

static const char xml_feed[] =
	"outbound: feed\nkind: stock\nformat: xml\n"
	"xml:\n"
	"  root: Feed\n"
	"  attributes: { offers: $rows, created: $now }\n"
	"  record: Offer\n"
	"columns:\n"
	"  - { name: \"@sku\", value: sku }\n"
	"  - { name: Title, value: description }\n"
	"  - { name: Qty, value: available, type: number }\n";

/* A run's XML target counts its rows first (count_first) and writes its
 * header before them: no body file (a folder in its place does not stop
 * it), the same bytes as the body file's way. A row left out makes the
 * count wrong: rendered again the body file's way (which the folder
 * then stops). */
T_TEST(render_xml_header_before_counted_rows)
{
	struct cfg_target t = target();
	struct state *st = NULL;
	struct err e = ERR_INIT;
	struct render_stats rs;
	char a[4096];

	t.name = "web";
	T_ASSERT(t_write_file("o.yaml", xml_feed) == 0);
	T_OK(state_open("st", &st, &e), &e);
	T_OK(put_row(st, 1, "A1", "Kanne", "4", "2026-11-20T05:00:00Z", &e),
	     &e);
	T_OK(put_row(st, 1, "B2", "Tasse", "5", "2026-11-20T05:00:00Z", &e),
	     &e);
	T_ASSERT(mkdir("a.xml.body", 0755) == 0);
	render_share_run(11);
	T_OK(render_to(st, &t, "a.xml", NULL, &rs, &e), &e);
	T_EQ_INT(rs.rows, 2);
	snprintf(a, sizeof(a), "%s", t_read_file("a.xml"));
	T_ASSERT(strstr(a, " offers=\"2\"") != NULL);
	render_share_run(0);
	T_OK(render_to(st, &t, "b.xml", NULL, &rs, &e), &e);
	T_EQ_STR(t_read_file("b.xml"), a);
	/* a row XML cannot carry: left out, so 2 rows of 3 groups */
	T_OK(put_row(st, 1, "C3", "Deckel\x01", "6", "2026-11-20T05:00:00Z",
		     &e), &e);
	T_ASSERT(mkdir("c.xml.body", 0755) == 0);
	render_share_run(12);
	T_EQ_INT(render_to(st, &t, "c.xml", NULL, &rs, &e), -1);
	err_clear(&e);
	T_ASSERT(rmdir("c.xml.body") == 0);
	render_share_run(13);
	T_OK(render_to(st, &t, "c.xml", NULL, &rs, &e), &e);
	T_EQ_INT(rs.rows, 2);
	T_EQ_INT(rs.rejects, 1);
	snprintf(a, sizeof(a), "%s", t_read_file("c.xml"));
	T_ASSERT(strstr(a, " offers=\"2\"") != NULL);
	render_share_run(0);
	T_OK(render_to(st, &t, "d.xml", NULL, &rs, &e), &e);
	T_EQ_STR(t_read_file("d.xml"), a);
	T_ASSERT(!io_exists("c.xml.body") && !io_exists("d.xml.body"));
	render_share_drop();
	state_close(st);
}

/* Renders o.yaml for t into out; key gets the content key. */
static int render_key(struct state *st, struct cfg_target *t,
		      const char *out, char *key, struct err *e)
{
	struct outbound *ob = NULL;
	struct outbound_env env;
	struct render_stats rs;
	char sha[65];
	int rc;

	if (outbound_load("o.yaml", &ob, e) < 0)
		return -1;
	memset(&env, 0, sizeof(env));
	env.target = t->name;
	env.now = 1795154400;
	rc = render_target(st, t, ob, &env, out, NULL, NULL, ready_ctl, NULL,
			   key, sha, &rs, e);
	outbound_free(ob);
	return rc;
}

/* The content key is SHA-256(mapping hash, SHA-256 of the rows): the rows
 * are hashed on the file's writer thread (io_atomic_hash_also) when they
 * go straight to the file, on the render's own when they go through the
 * body file; both must hash exactly the rows, never the header. */
T_TEST(render_content_key_hashes_the_rows_only)
{
	struct cfg_target t = target();
	struct state *st = NULL;
	struct outbound *ob = NULL;
	struct sha256 k;
	struct err e = ERR_INIT;
	char key[65], key2[65], rows[65], want[65];
	const char *csv, *body;

	t.name = "web";
	T_OK(state_open("st", &st, &e), &e);
	T_OK(put_row(st, 1, "A1", "Kanne", "4", "2026-11-20T05:00:00Z", &e),
	     &e);
	T_OK(put_row(st, 1, "B2", "Tasse", "5", "2026-11-20T05:00:00Z", &e),
	     &e);
	/* csv with a header: the rows are the file after its first line */
	T_ASSERT(t_write_file("o.yaml",
			      "outbound: w\nkind: stock\nformat: csv\n"
			      "csv: { delimiter: \",\", header: true }\n"
			      "columns:\n"
			      "  - { name: sku, value: sku }\n"
			      "  - { name: qty, value: available }\n") == 0);
	T_OK(render_key(st, &t, "w.csv", key, &e), &e);
	csv = t_read_file("w.csv");
	T_ASSERT(csv && (body = strchr(csv, '\n')) != NULL);
	body++;
	T_ASSERT(strstr(body, "A1,4") != NULL);
	T_OK(sha256_hex_of(body, strlen(body), rows, &e), &e);
	T_OK(outbound_load("o.yaml", &ob, &e), &e);
	T_OK(sha256_init(&k, &e), &e);
	sha256_update(&k, outbound_sha256(ob), strlen(outbound_sha256(ob)));
	sha256_update(&k, rows, strlen(rows));
	sha256_final(&k, want);
	outbound_free(ob);
	T_EQ_STR(key, want);
	/* xml: counted (straight to the file) and through the body file */
	T_ASSERT(t_write_file("o.yaml", xml_feed) == 0);
	render_share_run(21);
	T_OK(render_key(st, &t, "k1.xml", key, &e), &e);
	render_share_run(0);
	T_OK(render_key(st, &t, "k2.xml", key2, &e), &e);
	T_EQ_STR(key, key2);
	render_share_drop();
	state_close(st);
}
