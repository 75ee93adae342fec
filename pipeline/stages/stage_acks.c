/* stage_acks.c - EDI acknowledgments (docs/mapping.md "Acknowledgments"):
 * recorded when a document is mapped, sent once per source after its
 * loads. */
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

/* EDI acknowledgments (docs/mapping.md "Acknowledgments"). After a
 * document's map unit has its canonical output committed: one ledger row
 * per acknowledged unit not acknowledged before, with the control number
 * drawn from the partner's counter in the same transaction, so a crash
 * burns no number and a remap (rerun, resume) sends nothing twice. */
int run_record_acks(struct run *r, const struct cfg_source *src,
		    const struct state_unit *u,
		       const struct edi_ack_coll *c, struct err *err)
{
	size_t i, n = edi_ack_count(c);
	struct buf b;
	int rc = -1;

	if (!n)
		return 0;
	buf_init(&b, 64u << 20);
	if (eng_tx_begin(r->st, err) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		struct edi_ack_key k;
		struct state_ack a;
		char prev[256];
		int found;
		int64_t ctl;

		edi_ack_key(c, i, &k);
		memset(&a, 0, sizeof(a));
		if (eng_field(a.source, sizeof(a.source), src->name,
			      "ack source name", err) < 0)
			goto fail;
		if (eng_field(a.format, sizeof(a.format), k.format,
			      "ack format", err) < 0)
			goto fail;
		if (eng_field(a.sender, sizeof(a.sender), k.sender,
			      "ack sender", err) < 0)
			goto fail;
		if (eng_field(a.receiver, sizeof(a.receiver), k.receiver,
			      "ack receiver", err) < 0)
			goto fail;
		if (eng_field(a.control, sizeof(a.control), k.control,
			      "ack control number", err) < 0)
			goto fail;
		if (eng_field(a.grp, sizeof(a.grp), k.group, "ack group", err) <
		    0)
			goto fail;
		if (state_ack_find(r->st, &a, prev, sizeof(prev), &found, err) < 0)
			goto fail;
		if (found)
			continue;
		if (state_counter_next(r->st, k.counter, &ctl, err) < 0)
			goto fail;
		ctl = (ctl - 1) % 999999999 + 1;
		buf_reset(&b);
		if (edi_ack_render(c, i, ctl, (time_t)r->now, &b, a.file_name,
				   sizeof(a.file_name), err) < 0)
			goto fail;
		if (eng_field(a.doc, sizeof(a.doc), u->ukey, "ack document key",
			      err) < 0)
			goto fail;
		a.run_id = r->run_id;
		if (eng_field(a.ack_type, sizeof(a.ack_type), k.type,
			      "ack type", err) < 0)
			goto fail;
		a.ack_control = ctl;
		a.content = b.ptr;
		a.len = b.len;
		if (state_ack_add(r->st, &a, err) < 0)
			goto fail;
		run_say(r, "  %s: '%s': %s %s for %s %s%s%s from %s (%lu of %lu "
		    "accepted)",
		    src->name, u->ukey, k.type, a.file_name,
		    k.group[0] ? "group" : "interchange",
		    k.group[0] ? k.group : k.control,
		    k.group[0] ? " of interchange " : "",
		    k.group[0] ? k.control : "", k.sender, k.accepted, k.sets);
	}
	rc = 0;
fail:
	rc = eng_tx_end(r->st, rc, err);
out:
	buf_release(&b);
	return rc;
}

struct ack_list {
	struct state_ack *v;
	void **content;
	size_t n, cap;
	int nomem;
};

static int ack_collect(void *ud, const struct state_ack *a)
{
	struct ack_list *l = ud;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		struct state_ack *v = realloc(l->v, cap * sizeof(*v));
		void **c;

		if (!v)
			return l->nomem = 1;
		l->v = v;
		c = realloc(l->content, cap * sizeof(*c));
		if (!c)
			return l->nomem = 1;
		l->content = c;
		l->cap = cap;
	}
	l->content[l->n] = malloc(a->len ? a->len : 1);
	if (!l->content[l->n])
		return l->nomem = 1;
	memcpy(l->content[l->n], a->content, a->len);
	l->v[l->n] = *a;
	l->v[l->n].content = l->content[l->n];
	l->n++;
	return 0;
}

/* Publishes the source's unsent acknowledgments (this run's and any a
 * crash left behind) through its ack connector, each under its recorded
 * name and bytes; the connector writes a temporary name and renames. */
int run_send_acks(struct run *r, const struct cfg_source *src)
{
	struct ack_list l;
	struct err e = ERR_INIT;
	struct conn *c = NULL;
	char path[4608];
	size_t i;
	int rc = 0;

	if (!src->ack_url)
		return 0;
	memset(&l, 0, sizeof(l));
	if (state_acks_unsent_each(r->st, src->name, ack_collect, &l, &e) < 0)
		goto fail;
	if (l.nomem) {
		err_set(&e, E_NOMEM, "out of memory");
		goto fail;
	}
	for (i = 0; i < l.n; i++) {
		const struct state_ack *a = &l.v[i];

		if (eng_stopping()) {
			r->interrupted = 1;
			break;
		}
		snprintf(path, sizeof(path), "%s/acks/%s/%s", r->cfg->state_dir,
			 src->name, a->file_name);
		if (io_write_file(path, a->content, a->len, NULL, &e) < 0)
			goto fail;
		if (!c && conn_open(src->ack_url, &src->ack_conn, &c, &e) < 0)
			goto fail;
		if (conn_put(c, path, a->file_name, &e) < 0)
			goto fail;
		if (eng_tx_begin(r->st, &e) < 0 ||
		    eng_tx_end(r->st,
			       state_ack_sent(r->st, src->name, a->file_name,
					      r->now, &e),
			       &e) < 0)
			goto fail;
		unlink(path);
		run_say(r, "  %s: acknowledgment '%s' sent", src->name, a->file_name);
	}
	goto out;
fail:
	rc = -1;
	err_locate(&e, src->name, 0, 0, NULL);
	{
		char msg[1100];

		err_format(&e, msg, sizeof(msg));
		log_err("error", &e, "stockpipe: acks of %s: %s", src->name,
			msg);
	}
	r->failed_units++;
	if (r->first.code == E_NONE)
		r->first = e;
out:
	conn_close(c);
	for (i = 0; i < l.n; i++)
		free(l.content[i]);
	free(l.content);
	free(l.v);
	return rc;
}

/* Sends the source's acknowledgments once its loads are done (not after
 * a signal: the next invocation sends them). A failed send is logged and
 * left for the next run (the ledger keeps it unsent). */
static int acks_source_done(struct run *r, struct src_ctx *sc,
			    struct err *err)
{
	(void)err;
	if (!r->interrupted)
		run_send_acks(r, sc->src);
	return 0;
}

const struct stage_ops stage_acks = {
	.name = "acks",
	.stage = ST_LOAD,
	.scope = STAGE_SOURCE,
	.unit = NULL,
	.source_done = acks_source_done,
};
