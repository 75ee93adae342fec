/* stage_deliver.c - the deliver stage: a rendered snapshot to its target,
 * once per content (the delivery ledger). */
#include "pipeline/run.h"
#include "pipeline/run_int.h"
#include "stage.h"
#include "pipeline/config.h"
#include "lib/io.h"
#include "lib/log.h"
#include "render.h"
#include "pipeline/schedule.h"
#include "pipeline/store/state.h"
#include "pipeline/store/state_arrival.h"
#include "pipeline/store/state_ic.h"
#include "pipeline/store/state_park.h"
#include "pipeline/store/state_work.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "connectors/connector.h"
#include "transforms/model/dt.h"
#include "transforms/formats/edi.h"
#include "transforms/formats/edi_ack.h"
#include "transforms/mapping/filepat.h"
#include "transforms/mapping/mapping.h"
#include "transforms/outbound/outbound.h"
#include "transforms/formats/unpack.h"

/* The target's done_file template for the delivered file `name`:
 * {file} the name, {base} the name without its last extension,
 * {target}, {run_id}. 0, or -1 with err (E_CONFIG). */
static int done_name(const struct run *r, const struct cfg_target *t,
		     const char *name, char *out, size_t n, struct err *err)
{
	const char *p = t->done_file, *dot = strrchr(name, '.');
	int baselen = dot && dot != name ? (int)(dot - name) : (int)strlen(name);
	size_t len = 0;
	int w;

	while (*p) {
		if (!strncmp(p, "{file}", 6))
			w = snprintf(out + len, n - len, "%s", name), p += 6;
		else if (!strncmp(p, "{base}", 6))
			w = snprintf(out + len, n - len, "%.*s", baselen, name),
			p += 6;
		else if (!strncmp(p, "{target}", 8))
			w = snprintf(out + len, n - len, "%s", t->name), p += 8;
		else if (!strncmp(p, "{run_id}", 8))
			w = snprintf(out + len, n - len, "%lld",
				     (long long)r->run_id),
			p += 8;
		else if (*p == '{')
			return err_set(err, E_CONFIG,
				       "target '%s': unknown placeholder in "
				       "done_file '%s' (use {file}, {base}, "
				       "{target}, {run_id})",
				       t->name, t->done_file);
		else
			w = snprintf(out + len, n - len, "%c", *p++);
		if (w < 0 || (size_t)w >= n - len)
			return err_set(err, E_CONFIG,
				       "target '%s': done_file name too long",
				       t->name);
		len += (size_t)w;
	}
	if (!conn_name_ok(out) || !strcmp(out, name))
		return err_set(err, E_CONFIG,
			       "target '%s': bad done_file name '%s'", t->name,
			       out);
	return 0;
}

/* Publishes the empty done file for `name`, after the file itself: a
 * reader that waits for it never sees the data file incomplete. */
static int put_done(struct run *r, const struct cfg_target *t,
		    struct conn *c, const char *name, struct err *err)
{
	char dname[256], local[4400];

	if (!t->done_file)
		return 0;
	if (done_name(r, t, name, dname, sizeof(dname), err) < 0)
		return -1;
	run_path_in(r, local, sizeof(local), "done", t->name, dname);
	if (io_write_file(local, "", 0, NULL, err) < 0 ||
	    conn_put(c, local, dname, err) < 0)
		return -1;
	unlink(local);
	return 0;
}

static int deliver_unit(void *ud, struct state_unit *u)
{
	struct tgt_ctx *tc = ud;
	struct run *r = tc->r;
	struct err e = ERR_INIT;
	struct conn *c = NULL;
	const char *name;
	char prev[256];
	int found;

	if (u->state == US_DONE)
		return 0;
	if (eng_stopping())
		return r->interrupted = 1, 1;
	if (eng_unit_start(r, u, tc->err) < 0)
		return -1;
	name = strrchr(u->input_path, '/');
	name = name ? name + 1 : u->input_path;
	if (state_delivery_find(r->st, tc->t->name, u->input_sha, prev,
				sizeof(prev), &found, &e) < 0)
		return eng_unit_fail(r, u, &e);
	if (found) {
		u->outcome = UO_NONE;
		run_notef(u->detail, sizeof(u->detail),
			 "already delivered as '%s'", prev);
		if (eng_unit_finish(r, u, NULL, &e) < 0)
			return eng_unit_fail(r, u, &e);
		return 0;
	}
	if (config_check_file(r->cfg, tc->t->conn.key_file, &e) < 0 ||
	    config_check_file(r->cfg, tc->t->conn.known_hosts, &e) < 0 ||
	    conn_open(tc->t->url, &tc->t->conn, &c, &e) < 0 ||
	    conn_put(c, u->input_path, name, &e) < 0 ||
	    put_done(r, tc->t, c, name, &e) < 0) {
		conn_close(c);
		return eng_unit_fail(r, u, &e);
	}
	conn_close(c);
	run_notef(u->output_path, sizeof(u->output_path), "%s/%s", tc->t->url,
	      name);
	if (eng_field(u->output_sha, sizeof(u->output_sha), u->input_sha,
		      "output sha", &e) < 0)
		return eng_unit_fail(r, u, &e);
	u->outcome = UO_DELIVERED;
	run_notef(u->detail, sizeof(u->detail), "delivered '%s'", name);
	u->state = US_DONE;
	u->finished_ms = eng_now_ms();
	/* If we die between the rename on the far side and this commit, the
	 * resumed unit puts the same bytes under the same name again: an
	 * overwrite, not a second file. */
	if (eng_tx_begin(r->st, &e) < 0 ||
	    eng_tx_end(r->st, state_delivery_add(r->st, tc->t->name, u->input_sha, r->run_id,
		       name, r->now, &e) < 0 ||
		       state_unit_save(r->st, u, &e) < 0,
		       &e) < 0) {
		return eng_unit_fail(r, u, &e);
	}
	run_say(r, "  %s: delivered '%s'", tc->t->name, name);
	return 0;
}

const struct stage_ops stage_deliver = {
	.name = "deliver",
	.stage = ST_DELIVER,
	.scope = STAGE_TARGET,
	.unit = deliver_unit,
	.source_done = NULL,
};
