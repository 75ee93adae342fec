/* cmd_deliver.c - `stockpipe deliver --target NAME --now | --dry-run`.
 *
 * --now renders and delivers one target in a run of its own, whatever its
 * schedule (run.c, RUN_DELIVER). --dry-run renders the snapshot the target
 * would receive now into a temporary folder and compares its published
 * picture (render.h: NAME.pub, the available quantity per SKU/location)
 * with the picture of the last delivery, which the outbox keeps next to
 * the delivered file; nothing is delivered, no state is written, no
 * control number is drawn.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "pipeline/config.h"
#include "lib/log.h"
#include "lib/err.h"
#include "lib/gz.h"
#include "lib/io.h"
#include "pipeline/stages/render.h"
#include "pipeline/run.h"
#include "pipeline/schedule.h"
#include "pipeline/store/state.h"

#include "transforms/model/dt.h"
#include "transforms/outbound/outbound.h"

static int usage(FILE *out, int code)
{
	cli_usage(out,
		"usage: stockpipe [-c CONFIG] deliver --target NAME --now\n"
		"       stockpipe [-c CONFIG] deliver --target NAME --dry-run\n"
		"\n"
		"--now      render and deliver the target now, in a run of "
		"its own, even\n"
		"           when its schedule says it is not due. Sources are "
		"not fetched:\n"
		"           the target gets the stock truth as loaded so far. "
		"The delivery\n"
		"           ledger still applies: content the target already "
		"received is\n"
		"           not sent again (\"unchanged since ...\"). Refused "
		"(exit 75) while\n"
		"           another run is unfinished; resume that first.\n"
		"--dry-run  show what the target would receive now as a diff "
		"against its\n"
		"           last delivery: per SKU/location the old and new "
		"published\n"
		"           (available-to-sell) quantity, and whether the "
		"ledger would send\n"
		"           it. Nothing is delivered and no state changes.\n");
	return code;
}

struct dry_ctx {
	struct state *st;
	const char *target;
	char key[SHA256_HEX_LEN];
	char dup_of[256];
	int64_t rows;
};

static int dry_ready(void *ud, const char *key_hex, struct outbound_env *env,
		     int *skip, struct err *err)
{
	struct dry_ctx *c = ud;
	int found;

	if (str_copy(c->key, sizeof(c->key), key_hex) < 0)
		return err_set(err, E_INTERNAL, "content key too long");
	c->rows = env->rows;
	if (state_delivery_find(c->st, c->target, key_hex, c->dup_of,
				sizeof(c->dup_of), &found, err) < 0)
		return -1;
	if (!found)
		c->dup_of[0] = '\0';
	*skip = 1; /* rows and picture are enough; no envelope, no number */
	return 0;
}

struct pic {
	FILE *f;
	int ok;
	char sku[512], loc[512];
	dec qty;
};

static int pic_next(struct pic *p, struct err *err)
{
	int rc = p->f ? render_pub_next(p->f, p->sku, sizeof(p->sku), p->loc,
					sizeof(p->loc), &p->qty, err)
		      : 0;

	if (rc < 0)
		return -1;
	p->ok = rc;
	return 0;
}

static void qty_text(int has, dec q, char *out)
{
	if (has)
		dec_format(q, out);
	else
		strcpy(out, "-");
}

static void diff_row(const char *sku, const char *loc, int has_old, dec o,
		     int has_new, dec n)
{
	char a[32], b[32], d[34];

	qty_text(has_old, o, a);
	qty_text(has_new, n, b);
	if (!has_old)
		snprintf(d, sizeof(d), "added");
	else if (!has_new)
		snprintf(d, sizeof(d), "removed");
	else {
		dec_format(n - o, d + 1);
		d[0] = n > o ? '+' : ' ';
		if (n <= o)
			memmove(d, d + 1, strlen(d + 1) + 1);
	}
	printf("  %-20s %-12s %10s %10s  %s\n", sku, *loc ? loc : "(all)", a, b,
	       d);
}

/* Merges the two pictures (both in key order); prints changed rows. */
static int diff(const char *old_path, const char *new_path, struct err *err)
{
	struct pic o = {NULL, 0, "", "", 0}, n = {NULL, 0, "", "", 0};
	long long same = 0, added = 0, removed = 0, changed = 0;
	struct gz_in *og = NULL; /* the last delivery's: may be compacted */
	int rc = -1;

	if (old_path) {
		if (gz_open(&og, old_path, err) < 0)
			return -1;
		o.f = og->f;
	}
	if (!(n.f = fopen(new_path, "rb"))) {
		err_sys(err, "cannot open '%s'", new_path);
		goto out;
	}
	printf("  %-20s %-12s %10s %10s  %s\n", "sku", "location", "old",
	       "new", "change");
	if (pic_next(&o, err) < 0 || pic_next(&n, err) < 0)
		goto out;
	while (o.ok || n.ok) {
		int c = !o.ok ? 1 : !n.ok ? -1 : strcmp(o.sku, n.sku);

		if (o.ok && n.ok && !c)
			c = strcmp(o.loc, n.loc);
		if (c < 0) {
			diff_row(o.sku, o.loc, 1, o.qty, 0, 0);
			removed++;
			if (pic_next(&o, err) < 0)
				goto out;
		} else if (c > 0) {
			diff_row(n.sku, n.loc, 0, 0, 1, n.qty);
			added++;
			if (pic_next(&n, err) < 0)
				goto out;
		} else {
			if (o.qty != n.qty) {
				diff_row(n.sku, n.loc, 1, o.qty, 1, n.qty);
				changed++;
			} else {
				same++;
			}
			if (pic_next(&o, err) < 0 || pic_next(&n, err) < 0)
				goto out;
		}
	}
	printf("%lld changed, %lld added, %lld removed, %lld unchanged\n",
	       changed, added, removed, same);
	rc = 0;
out:
	if (gz_close(og, err) < 0)
		rc = -1;
	if (n.f)
		fclose(n.f);
	return rc;
}

/* What the delivery ledger would do with the rendered content c of tt;
 * prev: the latest delivery a delta compares with (NULL: none). */
static void print_ledger(const struct cfg_target *tt, const struct dry_ctx *c,
			 const char *prev)
{
	if (prev && c->rows == 0)
		printf("ledger: nothing changed since '%s'; nothing would be "
		       "sent\n",
		       prev);
	else if (c->dup_of[0])
		printf("ledger: the same content was already delivered as "
		       "'%s'; it would not be sent again\n",
		       c->dup_of);
	else
		printf("ledger: new content (key %.16s...); %s\n", c->key,
		       tt->schedule == CFG_SCHED_ALWAYS
			       ? "the next run delivers it"
			       : "delivered when due, or now with "
				 "--now");
}

static int dry_run(const struct cli_global *g, const char *name)
{
	struct config *cfg = NULL;
	struct state *st = NULL;
	struct outbound *ob = NULL;
	struct err err = ERR_INIT;
	struct cfg_target tt;
	const struct cfg_target *t;
	struct state_delivery d;
	struct outbound_env env;
	struct render_stats rs;
	struct dry_ctx c;
	char tmp[4096], out[4200], pub[4300], prev[4400], sha[SHA256_HEX_LEN];
	char why[512], iso[DT_ISO_LEN], msg[1200];
	const char *tdir = getenv("TMPDIR");
	int64_t now = schedule_clock();
	enum render_stale stale;
	int rc = EXIT_DONE, found, have_prev = 0, is_stock;

	tmp[0] = '\0';
	if (config_load(g->config_path, g->state_dir, &cfg, &err) < 0)
		goto fail;
	if (!(t = config_target(cfg, name))) {
		err_set(&err, E_USAGE, "no target named '%s'", name);
		goto fail;
	}
	if (state_open_db(cfg->state_dir, cfg->state_db,
			  cfg->state_db_password_env, &st, &err) < 0 ||
	    state_delivery_info(st, t->name, &d, &found, &err) < 0)
		goto fail;
	dt_format_iso(now, iso);
	printf("dry run: %s at %s (nothing is delivered, no state "
	       "changes)\n",
	       t->name, iso);
	tt = *t;
	if (render_stale_rule(st, cfg, t, now, &tt, &stale, why, sizeof(why),
			      &err) < 0)
		goto fail;
	if (stale == RENDER_STALE_HOLD) {
		printf("held: %s; the target would receive nothing now\n",
		       why);
		goto out;
	}
	if (stale == RENDER_STALE_BUFFER)
		printf("stale: %s; an extra %d%% buffer is held back\n", why,
		       tt.stale_buffer_pct);
	if (found) {
		snprintf(prev, sizeof(prev), "%s/outbox/%s/%s.pub",
			 cfg->state_dir, t->name, d.file_name);
		have_prev = gz_exists(prev);
		dt_format_iso(d.delivered_at, iso);
		printf("last delivery: '%s' at %s%s\n", d.file_name, iso,
		       have_prev ? "" : " (its published picture is gone "
					"from the outbox: no old values)");
	} else {
		printf("last delivery: none\n");
	}
	if (config_check_file(cfg, t->mapping, &err) < 0 ||
	    outbound_load(t->mapping, &ob, &err) < 0)
		goto fail;
	outbound_set_formula_guard(ob, t->csv_formula_guard);
	is_stock = strcmp(outbound_kind(ob), "item") != 0;
	snprintf(tmp, sizeof(tmp), "%s/stockpipe-dry-run.XXXXXX",
		 tdir && *tdir ? tdir : "/tmp");
	if (!mkdtemp(tmp)) {
		err_sys(&err, "cannot create a temporary folder");
		tmp[0] = '\0';
		goto fail;
	}
	snprintf(out, sizeof(out), "%s/snapshot.%s", tmp, outbound_format(ob));
	snprintf(pub, sizeof(pub), "%s.pub", out);
	memset(&env, 0, sizeof(env));
	memset(&c, 0, sizeof(c));
	env.target = t->name;
	env.now = now;
	c.st = st;
	c.target = t->name;
	/* A dry run keeps no reject file: it only says how many rows the
	 * target would not get, and why the first one. */
	if (render_target(st, &tt, ob, &env, out,
			  tt.delta && have_prev ? prev : NULL, NULL, dry_ready,
			  &c, c.key, sha, &rs, &err) < 0)
		goto fail;
	if (rs.rejects)
		printf("rejected: %lld row%s would be left out (on_bad_row: "
		       "reject), first: %s\n",
		       (long long)rs.rejects, rs.rejects == 1 ? "" : "s",
		       rs.first_reject);
	if (is_stock) {
		if (diff(have_prev ? prev : NULL, pub, &err) < 0)
			goto fail;
	} else {
		printf("item master: %lld rows (no per-SKU quantities to "
		       "compare)\n",
		       (long long)c.rows);
	}
	print_ledger(&tt, &c, tt.delta && have_prev ? d.file_name : NULL);
	goto out;
fail:
	err_format(&err, msg, sizeof(msg));
	log_err("error", &err, "stockpipe deliver: %s", msg);
	rc = err_exit_code(&err);
out:
	if (tmp[0]) {
		unlink(pub);
		unlink(out);
		rmdir(tmp);
	}
	outbound_free(ob);
	state_close(st);
	config_free(cfg);
	return rc;
}

int cmd_deliver(int argc, char **argv, const struct cli_global *g)
{
	struct run_opts o;
	const char *target = NULL;
	int now = 0, dry = 0, i;

	if (cli_wants_help(argc, argv))
		return usage(stdout, EXIT_DONE);
	{
		const struct cli_opt opts[] = {
			{"target", 't', &target, NULL},
			{"now", 0, NULL, &now},
			{"dry-run", 'n', NULL, &dry},
			{NULL, 0, NULL, NULL},
		};

		if ((i = cli_parse("deliver", argc, argv, opts)) < 0)
			return usage(stderr, EXIT_USAGE);
	}
	if (i < argc) {
		log_msg("error", "stockpipe deliver: unexpected '%s'", argv[i]);
		return usage(stderr, EXIT_USAGE);
	}
	if (!target || now == dry) {
		log_msg("error", "stockpipe deliver: needs --target NAME and "
				"one of --now or --dry-run");
		return usage(stderr, EXIT_USAGE);
	}
	if (dry)
		return dry_run(g, target);
	memset(&o, 0, sizeof(o));
	o.mode = RUN_DELIVER;
	o.only_target = target;
	o.targets_only = 1;
	return run_pipeline(g, &o);
}
