/* config_target.c - the `targets:` entries of stockpipe.yaml: one key
 * table (target_keys) and its setters. Split from config.c so each file
 * stays one concern; the loader helpers they share are in config_int.h. */
#include "config.h"
#include "config_int.h"
#include "schedule.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transforms/model/canon.h"
#include "transforms/model/stock.h"
#include "transforms/mapping/filepat.h"

static int state_mask(struct loader *l, const struct ynode *m, const char *key,
		      unsigned def, unsigned *out)
{
	const char **names;
	size_t n, i;
	const struct ynode *v = ynode_get(m, key);

	*out = def;
	if (!v)
		return 0;
	if (config_string_list(l, v, &names, &n) < 0)
		return -1;
	*out = 0;
	for (i = 0; i < n; i++) {
		int s = config_state_index(names[i]);
		char hint[128];

		if (s < 0)
			return ynode_err(l->t, v, l->err, E_CONFIG,
					 "'%s' is not a stock state (%s)%s",
					 names[i], CANON_STATES,
					 config_state_hint(names[i], hint,
							   sizeof(hint)));
		*out |= 1u << s;
	}
	return 0;
}

/* "2" (units) or "10%" into abs/pct; -1 when it is neither. */
static int parse_safety(const char *v, dec *abs, int *pct)
{
	size_t n = strlen(v);

	*abs = 0;
	*pct = 0;
	if (n && v[n - 1] == '%')
		return config_parse_pct(v, pct);
	if (dec_parse(v, n, '.', 0, abs) < 0 || *abs < 0)
		return -1;
	return 0;
}

/* safety_stock_by_category: {"Kaffee & Tee": 5, Messer: 10%} */
static int safety_map(struct loader *l, const struct ynode *m,
		      const char *key, struct cfg_safety **out, size_t *n)
{
	const struct ynode *v = ynode_get(m, key);
	size_t i;

	*out = NULL;
	*n = 0;
	if (!v)
		return 0;
	if (v->type != Y_MAP || !v->n)
		return ynode_err(l->t, v, l->err, E_CONFIG,
				 "%s maps names to units or percentages",
				 key);
	*out = arena_alloc(&l->t->arena, v->n / 2 * sizeof(**out));
	if (!*out)
		return err_set(l->err, E_NOMEM, "out of memory");
	for (i = 0; i + 1 < v->n; i += 2) {
		const struct ynode *val = v->items[i + 1];
		struct cfg_safety *sf = &(*out)[i / 2];

		sf->key = v->items[i]->value;
		if (val->type != Y_SCALAR ||
		    parse_safety(val->value, &sf->abs, &sf->pct) < 0)
			return ynode_err(l->t, val, l->err, E_CONFIG,
					 "safety stock must be a number of "
					 "units (2) or a percentage (10%%)");
	}
	*n = v->n / 2;
	return 0;
}

static int set_filename(const struct ykey_ctx *c, const struct ykey *k,
			const struct ynode *v, void *field)
{
	const char **f = field;

	if (ykey_scalar(c, k, v, f) < 0)
		return -1;
	if (strchr(*f, '/'))
		return ynode_err(c->t, v, c->err, E_CONFIG,
				 "filename must not contain '/'");
	return 0;
}

/* `mode: 0640`: octal permission bits for published files. */
static int set_file_mode(const struct ykey_ctx *c, const struct ykey *k,
			 const struct ynode *v, void *field)
{
	const char *s = NULL;
	char *end;
	long m;

	if (ykey_scalar(c, k, v, &s) < 0)
		return -1;
	m = strtol(s, &end, 8);
	if (!*s || *end || m < 1 || m > 0777 || s[0] != '0')
		return ynode_err(c->t, v, c->err, E_CONFIG,
				 "mode must be octal permission bits with a "
				 "leading 0, like 0640");
	*(int *)field = (int)m;
	return 0;
}

/* `done_file: "{file}.done"`: a name template like filename's. */
static int set_done_file(const struct ykey_ctx *c, const struct ykey *k,
			 const struct ynode *v, void *field)
{
	const char **f = field;

	if (set_filename(c, k, v, field) < 0)
		return -1;
	if (!strstr(*f, "{file}") && !strstr(*f, "{base}"))
		return ynode_err(c->t, v, c->err, E_CONFIG,
				 "done_file must name its file with {file} "
				 "or {base} (like \"{file}.done\")");
	return 0;
}

static int set_schedule(const struct ykey_ctx *c, const struct ykey *k,
			const struct ynode *v, void *field)
{
	struct cfg_target *t = c->obj;
	const char *s = NULL;
	size_t pos;

	(void)field;
	if (ykey_scalar(c, k, v, &s) < 0)
		return -1;
	t->schedule_text = s;
	if (!strncmp(s, "every", 5) && (!s[5] || s[5] == ' ')) {
		if (!s[5] || config_parse_duration(s + 6, &t->every) < 0 ||
		    t->every <= 0)
			return ynode_err(c->t, v, c->err, E_CONFIG,
					 "schedule must be 'always', "
					 "'every DURATION' (e.g. every 15m) "
					 "or a cron expression");
		t->schedule = CFG_SCHED_EVERY;
		return 0;
	}
	if (!strcmp(s, "always"))
		return 0;
	/* A cron expression: errors point into the value. */
	if (schedule_parse(s, &t->cron, &pos, c->err) < 0) {
		if (c->err->code == E_CONFIG)
			err_locate(c->err, c->t->path, v->line,
				   v->col + (unsigned)pos +
					   (v->quoted ? 1u : 0u),
				   NULL);
		return -1;
	}
	t->schedule = CFG_SCHED_CRON;
	return 0;
}

/* sellable/subtract: a list of stock states into a bit mask. */
static int set_mask(const struct ykey_ctx *c, const struct ykey *k,
		    const struct ynode *v, void *field)
{
	(void)v;
	return state_mask(config_ld(c), c->map, k->name, 0, field);
}

static int set_sellable(const struct ykey_ctx *c, const struct ykey *k,
			const struct ynode *v, void *field)
{
	/* Damaged, quarantined and returned stock is never sellable,
	 * whatever a target's config says: publishing it is how retailers
	 * oversell. */
	unsigned never = (1u << config_state_index("damaged")) |
			 (1u << config_state_index("quarantined")) |
			 (1u << config_state_index("return_pending"));

	if (set_mask(c, k, v, field) < 0)
		return -1;
	if (*(unsigned *)field & never)
		return ynode_err(c->t, v, c->err, E_CONFIG,
				 "damaged, quarantined and return_pending "
				 "stock can never be sellable");
	return 0;
}

static int set_safety_stock(const struct ykey_ctx *c, const struct ykey *k,
			    const struct ynode *v, void *field)
{
	struct cfg_target *t = c->obj;
	const char *s = NULL;
	size_t n;

	(void)field;
	if (ykey_scalar(c, k, v, &s) < 0)
		return -1;
	n = strlen(s);
	if ((n && s[n - 1] == '%')
		    ? config_parse_pct(s, &t->safety_pct) < 0
		    : (dec_parse(s, n, '.', 0, &t->safety_abs) < 0 ||
		       t->safety_abs < 0))
		return ynode_err(c->t, v, c->err, E_CONFIG,
				 "safety_stock must be a number of units (2) "
				 "or a percentage (10%%)");
	return 0;
}

static int set_cap(const struct ykey_ctx *c, const struct ykey *k,
		   const struct ynode *v, void *field)
{
	struct cfg_target *t = c->obj;
	const char *s = NULL;

	(void)field;
	if (ykey_scalar(c, k, v, &s) < 0)
		return -1;
	if (dec_parse(s, strlen(s), '.', 0, &t->cap) < 0 || t->cap < 0)
		return ynode_err(c->t, v, c->err, E_CONFIG,
				 "cap must be a number of units");
	t->has_cap = 1;
	return 0;
}

static int set_uom(const struct ykey_ctx *c, const struct ykey *k,
		   const struct ynode *v, void *field)
{
	const char **f = field;

	if (ykey_scalar(c, k, v, f) < 0)
		return -1;
	if (!**f || strlen(*f) > 16 ||
	    strspn(*f, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		       "0123456789") != strlen(*f))
		return ynode_err(c->t, v, c->err, E_CONFIG,
				 "uom is a unit code of 1 to 16 letters or "
				 "digits (CA)");
	return 0;
}

static int set_uom_missing(const struct ykey_ctx *c, const struct ykey *k,
			   const struct ynode *v, void *field)
{
	static const char *const names[] = {"fail", "base", NULL};
	const struct cfg_target *t = c->obj;
	const char *s = NULL;
	char hint[128];

	if (ykey_scalar(c, k, v, &s) < 0)
		return -1;
	if ((strcmp(s, "fail") && strcmp(s, "base")) || !t->uom)
		return ynode_err(c->t, v, c->err, E_CONFIG,
				 "uom_missing is fail or base, with uom:%s",
				 ynode_hint(s, names, hint, sizeof(hint)));
	*(int *)field = !strcmp(s, "base");
	return 0;
}

/* safety_stock_by_*; k->arg points at the offset of the count. */
static int set_safety_map(const struct ykey_ctx *c, const struct ykey *k,
			  const struct ynode *v, void *field)
{
	size_t *n = (size_t *)((char *)c->obj + *(const size_t *)k->arg);

	(void)v;
	return safety_map(config_ld(c), c->map, k->name, field, n);
}

static int set_safety_by_location(const struct ykey_ctx *c,
				  const struct ykey *k, const struct ynode *v,
				  void *field)
{
	const struct cfg_target *t = c->obj;

	if (set_safety_map(c, k, v, field) < 0)
		return -1;
	if (t->nsafety_by_location && !t->per_location)
		return ynode_err(c->t, ynode_key(c->map, k->name), c->err,
				 E_CONFIG,
				 "safety_stock_by_location needs "
				 "per_location: true (a summed row has no "
				 "single location)");
	return 0;
}

static int set_stale_after(const struct ykey_ctx *c, const struct ykey *k,
			   const struct ynode *v, void *field)
{
	if (config_set_duration(c, k, v, field) < 0)
		return -1;
	if (!*(int64_t *)field)
		return ynode_err(c->t, v, c->err, E_CONFIG, "%s",
				 (const char *)k->arg);
	return 0;
}

/* stale_action: hold | buffer 20% (needs stale_after). */
static int set_stale_action(const struct ykey_ctx *c, const struct ykey *k,
			    const struct ynode *v, void *field)
{
	struct cfg_target *t = c->obj;
	const char *s = NULL;

	(void)field;
	if (ykey_scalar(c, k, v, &s) < 0)
		return -1;
	if (!strcmp(s, "hold"))
		t->stale_hold = 1;
	else if (!strncmp(s, "buffer ", 7) &&
		 config_parse_pct(s + 7, &t->stale_buffer_pct) == 0)
		t->stale_hold = 0;
	else
		return ynode_err(c->t, v, c->err, E_CONFIG,
				 "stale_action must be 'hold' or 'buffer "
				 "N%%'");
	if (!t->stale_after)
		return ynode_err(c->t, v, c->err, E_CONFIG,
				 "stale_action needs stale_after");
	return 0;
}

/* acks_in: { url|path: DIR, after: 4h, ssh: {...} }: the folder the
 * partner's acknowledgments arrive in (stage_ackin.c). */
static int set_acks_in(const struct ykey_ctx *c, const struct ykey *k,
		       const struct ynode *v, void *field)
{
	static const char *const keys[] = {"url", "path", "after", "ssh",
					   NULL};
	struct loader *l = config_ld(c);
	struct cfg_target *t = c->obj;
	const char *url = NULL, *path = NULL, *after = NULL;

	(void)k, (void)field;
	if (v->type != Y_MAP)
		return ynode_err(l->t, v, l->err, E_CONFIG,
				 "'acks_in' must be a map like { path: DIR, "
				 "after: 4h }");
	if (config_check_keys_in(l, v, keys, "acks_in") < 0 ||
	    config_want_scalar(l, v, "url", 0, &url) < 0 ||
	    config_want_scalar(l, v, "path", 0, &path) < 0 ||
	    config_want_scalar(l, v, "after", 0, &after) < 0)
		return -1;
	if (!url == !path)
		return ynode_err(l->t, v, l->err, E_CONFIG,
				 "'acks_in' of target '%s' needs a 'url' or "
				 "a 'path' (the folder the partner's 997/999/"
				 "CONTRL files arrive in)",
				 t->name);
	if (!(t->acks_in_url = config_resolve_url(
		      l, ynode_get(v, url ? "url" : "path"))))
		return err_set(l->err, E_NOMEM, "out of memory");
	/* A partner answers within hours; a day is a safe default. */
	t->acks_in_after = 24 * 3600;
	if (after && (config_parse_duration(after, &t->acks_in_after) < 0 ||
		      t->acks_in_after <= 0))
		return ynode_err(l->t, ynode_get(v, "after"), l->err, E_CONFIG,
				 "acks_in after must be a duration like 4h");
	return config_load_ssh(l, v, "acks_in of target", t->name,
			       t->acks_in_url, &t->acks_in_conn);
}

#define TGT(f) offsetof(struct cfg_target, f)

static const size_t tgt_nlocations = TGT(nlocations);
static const size_t tgt_nlocation_types = TGT(nlocation_types);
static const size_t tgt_nsafety_cat = TGT(nsafety_by_category);
static const size_t tgt_nsafety_loc = TGT(nsafety_by_location);

static const char *const false_true[] = {"false", "true", NULL};
static const char *const full_delta[] = {"full", "delta", NULL};
static const char *const unit_pack[] = {"unit", "pack", NULL};
static const char *const reject_fail[] = {"reject", "fail", NULL};

static const struct ychoice ch_per_location = {
	false_true, NULL, "per_location must be true or false", 0};
static const struct ychoice ch_snapshot = {
	full_delta, NULL, "snapshot must be full or delta", 0};
static const struct ychoice ch_round_to = {
	unit_pack, NULL, "round_to must be unit or pack", 0};
/* reject by default: one partner's typo in one SKU should not keep every
 * other row from the target (issue 14); fail is for a target that must
 * get all rows or none. */
static const struct ychoice ch_on_bad_row = {
	reject_fail, NULL, "on_bad_row must be reject or fail", 0};
static const struct ychoice ch_formula_guard = {
	false_true, NULL, "csv_formula_guard must be true or false", 0};

/* A target's keys, in the order they are checked. name, url, path,
 * mapping and ssh are read by load_target itself. */
static const struct ykey target_keys[] = {
	{"name", NULL, 0, NULL},
	{"url", NULL, 0, NULL},
	{"path", NULL, 0, NULL},
	{"mapping", NULL, 0, NULL},
	{"ssh", NULL, 0, NULL},
	{"filename", set_filename, TGT(filename), NULL},
	{"schedule", set_schedule, 0, NULL},
	{"locations", config_set_list, TGT(locations), &tgt_nlocations},
	{"location_types", config_set_list, TGT(location_types),
	 &tgt_nlocation_types},
	{"per_location", ykey_choice, TGT(per_location), &ch_per_location},
	{"snapshot", ykey_choice, TGT(delta), &ch_snapshot},
	{"sellable", set_sellable, TGT(sellable_mask), NULL},
	{"subtract", set_mask, TGT(subtract_mask), NULL},
	{"safety_stock", set_safety_stock, 0, NULL},
	{"allocation", config_set_pct, TGT(allocation_pct),
	 "allocation must be a percentage 0-100"},
	{"cap", set_cap, 0, NULL},
	{"round_to", ykey_choice, TGT(round_pack), &ch_round_to},
	{"uom", set_uom, TGT(uom), NULL},
	{"uom_missing", set_uom_missing, TGT(uom_keep_base), NULL},
	{"safety_stock_by_category", set_safety_map,
	 TGT(safety_by_category), &tgt_nsafety_cat},
	{"safety_stock_by_location", set_safety_by_location,
	 TGT(safety_by_location), &tgt_nsafety_loc},
	{"stale_after", set_stale_after, TGT(stale_after),
	 "stale_after must be a duration like 6h"},
	{"stale_action", set_stale_action, 0, NULL},
	{"on_bad_row", ykey_choice, TGT(bad_row_fail), &ch_on_bad_row},
	{"done_file", set_done_file, TGT(done_file), NULL},
	{"mode", set_file_mode, TGT(conn.file_mode), NULL},
	{"csv_formula_guard", ykey_choice, TGT(csv_formula_guard),
	 &ch_formula_guard},
	{"acks_in", set_acks_in, 0, NULL},
	{NULL, NULL, 0, NULL}};

int config_load_target(struct loader *l, const struct ynode *m,
		       struct cfg_target *t)
{
	const char *url = NULL, *path = NULL, *mapping = NULL;
	struct ykey_ctx kc = {l->t, m, t, l, l->err};

	if (m->type != Y_MAP)
		return ynode_err(l->t, m, l->err, E_CONFIG,
				 "a target must be a map of settings");
	if (ykey_check(l->t, m, target_keys, config_what(l, "target", m),
		       l->err) < 0 ||
	    config_want_scalar(l, m, "name", 1, &t->name) < 0 ||
	    config_check_name(l, m, t->name) < 0 ||
	    config_want_scalar(l, m, "url", 0, &url) < 0 ||
	    config_want_scalar(l, m, "path", 0, &path) < 0 ||
	    config_want_scalar(l, m, "mapping", 1, &mapping) < 0)
		return -1;
	t->node = m;
	if (!url && !path)
		return ynode_err(l->t, m, l->err, E_CONFIG,
				 "target '%s' needs a 'url' or 'path'",
				 t->name);
	if (!(t->url = config_resolve_url(l, ynode_get(m, url ? "url" : "path"))) ||
	    !(t->mapping = config_resolve(l, mapping)))
		return err_set(l->err, E_NOMEM, "out of memory");
	if (config_load_ssh(l, m, "target", t->name, t->url, &t->conn) < 0)
		return -1;
	t->filename = "{target}_{run_id}_{utc:%Y%m%dT%H%M%SZ}.{ext}";
	t->schedule = CFG_SCHED_ALWAYS;
	t->schedule_text = "always";
	t->sellable_mask = 1u << config_state_index("on_hand");
	t->subtract_mask = 1u << config_state_index("reserved");
	t->allocation_pct = 100;
	t->stale_hold = 1;
	return ykey_apply(&kc, target_keys);
}
