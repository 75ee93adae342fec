/* report.c - see report.h. */
#include "report.h"
#include "lib/io.h"
#include "lib/utf8.h"

#include <stdlib.h>
#include <string.h>

static const char *const stage_names[REPORT_NSTAGES] = {
	"fetch", "unpack", "map", "load", "render", "deliver"};

struct bctx {
	struct report *rep;
	int stage;
};

static void note_unit(struct report *rep, const struct state_unit *u)
{
	struct buf *j = &rep->json_units;
	size_t mark = j->len;

	/* A run of many thousands of files lists the first units in full and
	 * counts the rest, so the report stays valid JSON of bounded size. */
	if (j->len > ((size_t)6 << 20)) {
		rep->units_omitted++;
		return;
	}

	if (j->len)
		buf_addc(j, ',');
	buf_addf(j, "{\"id\":%lld,\"stage\":", (long long)u->id);
	buf_add_json_str(j, u->stage, strlen(u->stage));
	buf_adds(j, ",\"scope\":");
	buf_add_json_str(j, u->scope, strlen(u->scope));
	buf_adds(j, ",\"unit\":");
	buf_add_json_str(j, u->ukey, strlen(u->ukey));
	buf_addf(j, ",\"state\":\"%s\",\"attempts\":%d",
		 unit_state_name(u->state), u->attempts);
	if (u->error[0]) {
		buf_adds(j, ",\"error\":");
		buf_add_json_str(j, u->error, strlen(u->error));
	}
	if (u->state == US_FAILED)
		buf_addf(j, ",\"class\":\"%s\",\"retried_in\":%lld",
			 err_class_name(u->err_class),
			 (long long)u->retried_in);
	if (u->detail[0]) {
		buf_adds(j, ",\"detail\":");
		buf_add_json_str(j, u->detail, strlen(u->detail));
	}
	if (u->output_path[0]) {
		buf_adds(j, ",\"output\":");
		buf_add_json_str(j, u->output_path, strlen(u->output_path));
	}
	buf_addf(j, ",\"records_in\":%lld,\"records_out\":%lld,"
		    "\"rejects\":%lld,\"duplicates\":%lld,\"stale\":%lld,"
		    "\"held\":%lld,\"converted\":%lld}",
		 (long long)u->records_in, (long long)u->records_out,
		 (long long)u->rejects, (long long)u->dupes,
		 (long long)u->stale, (long long)u->held,
		 (long long)u->converted);
	if (j->err) {
		/* Never leave half an object behind. */
		j->err = 0;
		buf_setlen(j, mark);
		rep->units_omitted++;
	}
}

/* The per-source row of scope (added at its first unit); NULL when out
 * of memory (rep->oom). */
static struct report_source *source_row(struct report *rep,
					const char *scope)
{
	struct report_source *n;
	size_t i;

	for (i = 0; i < rep->nsrc; i++)
		if (!strcmp(rep->src[i].name, scope))
			return &rep->src[i];
	if (!(n = realloc(rep->src, (rep->nsrc + 1) * sizeof(*n)))) {
		rep->oom = 1;
		return NULL;
	}
	rep->src = n;
	n = &rep->src[rep->nsrc++];
	memset(n, 0, sizeof(*n));
	/* a display label; config.c keeps names under 128 bytes anyway */
	str_copy_cut(n->name, sizeof(n->name), scope);
	return n;
}

/* "  warning SOURCE 'DOC': N what" when n > 0. */
static void warn_count(struct report *rep, const struct state_unit *u,
		       int64_t n, const char *one, const char *many,
		       const char *why)
{
	if (n > 0)
		buf_addf(&rep->notes, "  warning %s '%s': %lld %s %s\n",
			 u->scope, u->ukey, (long long)n, n == 1 ? one : many,
			 why);
}

/* What a load (or, for dupes, a map) did not apply: a warning line per
 * count, and the source's sums. */
static void dropped(struct report *rep, int stage, const struct state_unit *u)
{
	struct report_source *src;

	if (stage == 2) {
		warn_count(rep, u, u->dupes, "duplicate interchange",
			   "duplicate interchanges", "not loaded again");
		if ((src = source_row(rep, u->scope)))
			src->rejects += u->rejects;
		return;
	}
	warn_count(rep, u, u->stale, "stale record", "stale records",
		   "not applied (older than the position's snapshot or the "
		   "stored row)");
	warn_count(rep, u, u->dupes, "duplicate record", "duplicate records",
		   "not loaded again (txn_id or interchange loaded before)");
	warn_count(rep, u, u->held, "record", "records",
		   "held, not applied (the source is not the system of record "
		   "for their state)");
	warn_count(rep, u, u->converted, "record", "records",
		   "converted to the item's unit of measure");
	if (!(src = source_row(rep, u->scope)))
		return;
	src->rejects += u->rejects;
	src->dupes += u->dupes;
	src->stale += u->stale;
	src->held += u->held;
	src->converted += u->converted;
}

static int on_unit(void *ud, struct state_unit *u)
{
	struct bctx *b = ud;
	struct report *rep = b->rep;
	struct report_stage *s = &rep->stage[b->stage];

	if (u->state >= 0 && u->state < 6)
		s->units[u->state]++;
	s->records_in += u->records_in;
	s->records_out += u->records_out;
	s->rejects += u->rejects;
	s->dupes += u->dupes;
	s->stale += u->stale;
	s->held += u->held;
	s->converted += u->converted;
	/* Only a unit that started has a duration: one set aside before it
	 * ran (a member refused at unpack) has started_ms 0, and counting
	 * from the epoch made a map stage "take" 227 years. */
	if (u->started_ms > 0 && u->finished_ms > u->started_ms)
		s->ms += u->finished_ms - u->started_ms;
	if (u->state == US_FAILED) {
		rep->failed++;
		/* The class says who acts; a unit a later run took over says
		 * which run did. */
		if (u->retried_in)
			buf_addf(&rep->notes,
				 "  FAILED %s %s '%s' (%s; retried in run "
				 "%lld): %s\n",
				 u->stage, u->scope, u->ukey,
				 err_class_name(u->err_class),
				 (long long)u->retried_in, u->error);
		else
			buf_addf(&rep->notes,
				 "  PARKED %s %s '%s' (%s): %s\n", u->stage,
				 u->scope, u->ukey,
				 err_class_name(u->err_class), u->error);
	} else if (u->state == US_QUARANTINED) {
		rep->quarantined++;
		buf_addf(&rep->notes, "  QUARANTINED %s '%s': %s\n", u->scope,
			 u->ukey, u->error);
	} else if (b->stage == 2 && u->rejects) {
		buf_addf(&rep->notes, "  rejects %s '%s': %lld, see %s",
			 u->scope, u->ukey, (long long)u->rejects,
			 u->rejects_path[0] ? u->rejects_path
					    : "the rejects folder");
		/* what the map stage says after the reject file */
		if (u->rejects_path[0] && (u->dupes || u->ic_conflicts))
			buf_addf(&rep->notes,
				 "; %lld duplicate interchange(s) not loaded "
				 "again, %lld rejected for a reused control "
				 "number",
				 (long long)u->dupes,
				 (long long)u->ic_conflicts);
		buf_adds(&rep->notes, "\n");
	} else if (b->stage == 4 && u->rejects) {
		/* Rows a target's format cannot carry (on_bad_row: reject):
		 * the target got the rest. */
		buf_addf(&rep->notes, "  %s: %lld row%s rejected, see %s\n",
			 u->scope, (long long)u->rejects,
			 u->rejects == 1 ? "" : "s",
			 u->rejects_path[0] ? u->rejects_path
					    : "the rejects folder");
	} else if (b->stage == 5 && u->state == US_DONE &&
		   u->outcome == UO_DELIVERED) {
		rep->delivered++;
		buf_addf(&rep->notes, "  %s %s\n", u->scope, u->detail);
	} else if ((b->stage == 3 && u->detail[0]) ||
		   (b->stage == 4 && u->outcome == UO_HELD)) {
		buf_addf(&rep->notes, "  %s %s '%s': %s\n", u->stage,
			 u->scope, u->ukey, u->detail);
	} else if (b->stage == 0 && u->state == US_SKIPPED) {
		buf_addf(&rep->notes, "  skipped %s '%s': %s\n", u->scope,
			 u->ukey, u->detail);
	}
	if (b->stage == 2 || b->stage == 3)
		dropped(rep, b->stage, u);
	if (u->state != US_DONE || u->rejects || b->stage >= 4 ||
	    b->stage == 0 ||
	    (b->stage == 3 &&
	     (u->stale || u->dupes || u->held || u->converted)))
		note_unit(rep, u);
	return 0;
}

int report_build(struct state *st, int64_t run_id, struct report *rep,
		 struct err *err)
{
	struct bctx b;
	int i;

	memset(rep, 0, sizeof(*rep));
	rep->run_id = run_id;
	buf_init(&rep->notes, 1 << 20);
	buf_init(&rep->json_units, 8 << 20);
	b.rep = rep;
	for (i = 0; i < REPORT_NSTAGES; i++) {
		b.stage = i;
		if (state_units_each(st, run_id, stage_names[i], NULL, on_unit,
				     &b, err) < 0)
			return -1;
	}
	/* Records a map left out, stale records a source rejects (on_stale:
	 * reject), records the load cannot bring to base units (load_uom.h)
	 * and rows a render left out: each means something did not reach
	 * where it should (exit 1). */
	rep->rejects = rep->stage[2].rejects + rep->stage[3].rejects +
		       rep->stage[4].rejects;
	rep->dupes = rep->stage[3].dupes + rep->stage[0].dupes;
	rep->stale = rep->stage[3].stale;
	rep->held = rep->stage[3].held;
	rep->converted = rep->stage[3].converted;
	if (rep->oom)
		return err_set(err, E_NOMEM, "out of memory");
	rep->nothing_to_do = rep->stage[0].units[US_DONE] == 0 &&
			     rep->delivered == 0 && rep->failed == 0;
	return 0;
}

int report_json(const struct report *rep, struct buf *j)
{
	int i, s;

	buf_addf(j, "{\"run_id\":%lld,\"status\":\"%s\",\"exit_code\":%d,"
		    "\"rejects\":%lld,\"quarantined\":%lld,"
		    "\"duplicates_skipped\":%lld,\"stale_skipped\":%lld,"
		    "\"held\":%lld,\"converted\":%lld,"
		    "\"failed_units\":%lld,\"delivered\":%lld,\"sources\":{",
		 (long long)rep->run_id, rep->status, rep->exit_code,
		 (long long)rep->rejects, (long long)rep->quarantined,
		 (long long)rep->dupes, (long long)rep->stale,
		 (long long)rep->held, (long long)rep->converted,
		 (long long)rep->failed, (long long)rep->delivered);
	for (i = 0; i < (int)rep->nsrc; i++) {
		const struct report_source *rs = &rep->src[i];

		if (i)
			buf_addc(j, ',');
		buf_add_json_str(j, rs->name, strlen(rs->name));
		buf_addf(j, ":{\"rejects\":%lld,\"duplicates\":%lld,"
			    "\"stale\":%lld,\"held\":%lld,\"converted\":%lld}",
			 (long long)rs->rejects, (long long)rs->dupes,
			 (long long)rs->stale, (long long)rs->held,
			 (long long)rs->converted);
	}
	buf_adds(j, "},\"stages\":{");
	for (i = 0; i < REPORT_NSTAGES; i++) {
		const struct report_stage *st = &rep->stage[i];

		buf_addf(j, "%s\"%s\":{\"units\":{", i ? "," : "",
			 stage_names[i]);
		for (s = 0; s < 6; s++)
			buf_addf(j, "%s\"%s\":%lld", s ? "," : "",
				 unit_state_name(s), (long long)st->units[s]);
		buf_addf(j, "},\"records_in\":%lld,\"records_out\":%lld,"
			    "\"rejects\":%lld,\"duplicates\":%lld,"
			    "\"stale\":%lld,\"held\":%lld,\"converted\":%lld,"
			    "\"duration_ms\":%lld}",
			 (long long)st->records_in, (long long)st->records_out,
			 (long long)st->rejects, (long long)st->dupes,
			 (long long)st->stale, (long long)st->held,
			 (long long)st->converted, (long long)st->ms);
	}
	buf_addf(j, "},\"units_omitted\":%lld,\"units\":[",
		 (long long)rep->units_omitted);
	buf_add(j, rep->json_units.ptr, rep->json_units.len);
	buf_adds(j, "]}");
	return j->err ? -1 : 0;
}

int report_write(const struct report *rep, const char *state_dir,
		 struct err *err)
{
	struct buf j = BUF_INIT(16 << 20);
	char path[4200];
	int rc;

	report_json(rep, &j);
	buf_addc(&j, '\n');
	if (j.err) {
		buf_release(&j);
		return err_set(err, E_TOOBIG, "run report too large");
	}
	snprintf(path, sizeof(path), "%s/reports/run-%lld.json", state_dir,
		 (long long)rep->run_id);
	rc = io_write_file(path, j.ptr, j.len, NULL, err);
	buf_release(&j);
	return rc;
}

void report_print(const struct report *rep, FILE *out)
{
	int i;

	fprintf(out, "run %lld %s (exit %d)\n", (long long)rep->run_id,
		rep->status, rep->exit_code);
	fprintf(out, "  %-8s %6s %6s %6s %6s %10s %10s %8s %6s\n", "stage",
		"done", "failed", "quar", "skip", "in", "out", "rejects",
		"dupes");
	for (i = 0; i < REPORT_NSTAGES; i++) {
		const struct report_stage *s = &rep->stage[i];

		fprintf(out, "  %-8s %6lld %6lld %6lld %6lld %10lld %10lld "
			     "%8lld %6lld\n",
			stage_names[i], (long long)s->units[US_DONE],
			(long long)s->units[US_FAILED],
			(long long)s->units[US_QUARANTINED],
			(long long)s->units[US_SKIPPED],
			(long long)s->records_in, (long long)s->records_out,
			(long long)s->rejects, (long long)s->dupes);
	}
	if (rep->converted)
		fprintf(out, "  converted to base units: %lld record(s)\n",
			(long long)rep->converted);
	/* Notes name units and files: a control character in a file name
	 * is shown as \xNN, never sent to the terminal. */
	if (rep->notes.len)
		utf8_put_term(out, rep->notes.ptr, rep->notes.len, 1);
}

void report_release(struct report *rep)
{
	buf_release(&rep->notes);
	buf_release(&rep->json_units);
	free(rep->src);
	rep->src = NULL;
	rep->nsrc = 0;
}
