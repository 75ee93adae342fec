/* cmd_reconcile.c - `stockpipe reconcile`: where two sources disagree
 * about one stock state, per SKU/location, from the latest snapshot each
 * of them reported (state.c: state_reconcile_each). Read only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/buf.h"
#include "cli.h"
#include "pipeline/config.h"
#include "lib/err.h"
#include "lib/io.h"
#include "pipeline/store/state.h"

#include "transforms/model/canon.h"
#include "transforms/model/dt.h"

static int usage(FILE *out, int code)
{
	cli_usage(out,
		"usage: stockpipe [-c CONFIG] reconcile --state STATE "
		"--between SOURCE_A SOURCE_B\n"
		"                  [--tolerance N] [--csv FILE]\n"
		"\n"
		"Compares, per SKU/location, the latest snapshot of stock "
		"state STATE\n"
		"(%s) that source A and source B reported\n"
		"(delta records are not snapshots and are left out). Lists the "
		"pairs that\n"
		"differ by more than N units (default 0) and the keys only "
		"one source\n"
		"reported, then the totals: pairs compared (reported by both), "
		"differing,\n"
		"missing in A, missing in B, and the sum of absolute "
		"differences over the\n"
		"compared pairs. --csv FILE writes the listed rows as CSV "
		"(sku, location,\n"
		"qty_a, as_of_a, qty_b, as_of_b, difference, status). Records "
		"a source may\n"
		"not set (authority) are kept unapplied and are compared like "
		"any other.\n"
		"Exit 0 when the sources agree, 1 when something "
		"differs or is\n"
		"missing.\n",
		CANON_STATES);
	return code;
}

struct rec_ctx {
	dec tolerance;
	long long compared, differing, missing_a, missing_b;
	dec abs_sum;
	struct io_atomic csv;
	int csv_open;
	struct buf line;
	struct err *err;
};

static void csv_field(struct buf *b, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		buf_adds(b, s);
		return;
	}
	buf_addc(b, '"');
	for (; *s; s++) {
		if (*s == '"')
			buf_addc(b, '"');
		buf_addc(b, *s);
	}
	buf_addc(b, '"');
}

static int on_pair(void *ud, const struct state_recon_pair *p)
{
	struct rec_ctx *c = ud;
	char qa[32] = "-", qb[32] = "-", ta[DT_ISO_LEN] = "-",
	     tb[DT_ISO_LEN] = "-", diff[34] = "";
	const char *status;
	dec d = 0;

	if (p->has_a && p->has_b) {
		c->compared++;
		d = p->qty_b - p->qty_a;
		c->abs_sum += d < 0 ? -d : d;
		if ((d < 0 ? -d : d) <= c->tolerance)
			return 0;
		c->differing++;
		status = "differs";
	} else if (p->has_a) {
		c->missing_b++;
		status = "missing_in_b";
	} else {
		c->missing_a++;
		status = "missing_in_a";
	}
	if (p->has_a) {
		dec_format(p->qty_a, qa);
		dt_format_iso(p->as_of_a, ta);
	}
	if (p->has_b) {
		dec_format(p->qty_b, qb);
		dt_format_iso(p->as_of_b, tb);
	}
	if (p->has_a && p->has_b) {
		diff[0] = d > 0 ? '+' : '\0';
		dec_format(d, diff + (d > 0));
	}
	printf("  %-20s %-12s %10s %10s %10s  %s\n", p->sku, p->location, qa,
	       qb, diff, status);
	if (c->csv_open) {
		buf_reset(&c->line);
		csv_field(&c->line, p->sku);
		buf_addc(&c->line, ',');
		csv_field(&c->line, p->location);
		buf_addf(&c->line, ",%s,%s,%s,%s,%s,%s\n",
			 p->has_a ? qa : "", p->has_a ? ta : "",
			 p->has_b ? qb : "", p->has_b ? tb : "", diff, status);
		if (c->line.err)
			return err_set(c->err, E_TOOBIG, "CSV row too long");
		if (io_atomic_write(&c->csv, c->line.ptr, c->line.len,
				     c->err) < 0)
			return -1;
	}
	return 0;
}

int cmd_reconcile(int argc, char **argv, const struct cli_global *g)
{
	struct config *cfg = NULL;
	struct state *st = NULL;
	struct err err = ERR_INIT;
	struct rec_ctx c;
	const char *state_name = NULL, *a = NULL, *b = NULL, *csv = NULL;
	const char *tol = NULL;
	int rc = EXIT_DONE, i, state;
	char msg[1200], sum[32], tol_s[32];
	static const char header[] =
		"sku,location,qty_a,as_of_a,qty_b,as_of_b,difference,status\n";

	if (cli_wants_help(argc, argv))
		return usage(stdout, EXIT_DONE);
	{
		const struct cli_opt opts[] = {
			{"state", 0, &state_name, NULL},
			{"between", 0, &a, NULL},
			{"tolerance", 0, &tol, NULL},
			{"csv", 0, &csv, NULL},
			{NULL, 0, NULL, NULL},
		};

		if ((i = cli_parse("reconcile", argc, argv, opts)) < 0)
			return usage(stderr, EXIT_USAGE);
	}
	/* --between A B: B is the one argument */
	for (; i < argc; i++) {
		if (a && !b) {
			b = argv[i];
		} else {
			log_msg("error", "stockpipe reconcile: unexpected '%s'",
				argv[i]);
			return usage(stderr, EXIT_USAGE);
		}
	}
	memset(&c, 0, sizeof(c));
	c.err = &err;
	if (!state_name || !a || !b) {
		log_msg("error", "stockpipe reconcile: needs --state STATE and "
				"--between SOURCE_A SOURCE_B");
		return usage(stderr, EXIT_USAGE);
	}
	if ((state = config_state_index(state_name)) < 0) {
		log_msg("error", "stockpipe reconcile: '%s' is not a stock "
				"state (%s)",
			state_name, CANON_STATES);
		return EXIT_USAGE;
	}
	if (tol && (dec_parse(tol, strlen(tol), '.', 0, &c.tolerance) < 0 ||
		    c.tolerance < 0)) {
		log_msg("error", "stockpipe reconcile: --tolerance must be a "
				"number of units >= 0");
		return EXIT_USAGE;
	}
	if (!strcmp(a, b)) {
		log_msg("error", "stockpipe reconcile: compare two different "
				"sources");
		return EXIT_USAGE;
	}
	buf_init(&c.line, 1 << 16);
	if (config_load(g->config_path, g->state_dir, &cfg, &err) < 0)
		goto fail;
	if (!config_source(cfg, a) || !config_source(cfg, b)) {
		err_set(&err, E_USAGE, "no source named '%s'",
			config_source(cfg, a) ? b : a);
		goto fail;
	}
	if (state_open_db(cfg->state_dir, cfg->state_db,
			  cfg->state_db_password_env, &st, &err) < 0)
		goto fail;
	if (csv) {
		if (io_atomic_open(&c.csv, csv, &err) < 0)
			goto fail;
		c.csv_open = 1;
		if (io_atomic_write(&c.csv, header, strlen(header), &err) < 0)
			goto fail;
	}
	dec_format(c.tolerance, tol_s);
	printf("reconcile %s: A = %s, B = %s, tolerance %s\n", state_name, a,
	       b, tol_s);
	printf("  %-20s %-12s %10s %10s %10s  %s\n", "sku", "location", "A",
	       "B", "B - A", "status");
	if (state_reconcile_each(st, state, a, b, on_pair, &c, &err) < 0)
		goto fail;
	if (c.csv_open) {
		c.csv_open = 0;
		if (io_atomic_commit(&c.csv, NULL, &err) < 0)
			goto fail;
	}
	dec_format(c.abs_sum, sum);
	printf("pairs compared: %lld\n", c.compared);
	printf("differing: %lld\n", c.differing);
	printf("missing in %s: %lld\n", a, c.missing_a);
	printf("missing in %s: %lld\n", b, c.missing_b);
	printf("absolute difference sum: %s\n", sum);
	if (csv)
		printf("csv: %s\n", csv);
	rc = c.differing || c.missing_a || c.missing_b ? EXIT_REJECTS
						       : EXIT_DONE;
	goto out;
fail:
	if (c.csv_open)
		io_atomic_abort(&c.csv);
	err_format(&err, msg, sizeof(msg));
	log_err("error", &err, "stockpipe reconcile: %s", msg);
	rc = err_exit_code(&err);
out:
	buf_release(&c.line);
	state_close(st);
	config_free(cfg);
	return rc;
}
