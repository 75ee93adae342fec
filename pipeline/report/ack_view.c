/* ack_view.c - acknowledgments in show, --json, metrics and HTML; see
 * ack_view.h. The three views render one list collected from the store:
 * the run's delivered sets with their answers, then what matched nothing.
 */
#include "pipeline/schedule.h"
#include "ack_view.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/utf8.h"
#include "pipeline/store/state_acks.h"
#include "transforms/formats/ack_read.h"
#include "transforms/model/dt.h"

struct av_item {
	int unmatched;              /* 0: a delivered set; 1: u */
	struct state_acks_row d;
	struct state_acks_recv u;
	int overdue;
	char reasons[1024];         /* the details, "; " between them */
};

struct av_list {
	struct av_item *v;
	size_t n, cap;
	const struct config *cfg;
	int64_t now;
	struct err *err;
};

static struct av_item *av_add(struct av_list *l)
{
	if (ALLOC_GROW(l->v, l->n + 1, l->cap) < 0) {
		err_set(l->err, E_NOMEM, "out of memory");
		return NULL;
	}
	memset(&l->v[l->n], 0, sizeof(l->v[0]));
	return &l->v[l->n++];
}

static int on_row(void *ud, const struct state_acks_row *r)
{
	struct av_list *l = ud;
	const struct cfg_target *t = config_target(l->cfg, r->target);
	struct av_item *it = av_add(l);

	if (!it)
		return -1;
	it->d = *r;
	it->overdue = r->status == ACK_NONE && t && t->acks_in_url &&
		      r->delivered_at + t->acks_in_after <= l->now;
	return 0;
}

static int on_recv(void *ud, const struct state_acks_recv *r)
{
	struct av_list *l = ud;
	struct av_item *it = av_add(l);

	if (!it)
		return -1;
	it->unmatched = 1;
	it->u = *r;
	return 0;
}

static int on_detail(void *ud, const struct ack_read_err *e)
{
	char *out = ud, one[300];
	size_t len = strlen(out);

	ack_read_err_format(e, one, sizeof(one));
	/* shown, never read back: a long list ends in a visible "..." */
	if (len + strlen(one) + 3 >= 1024) {
		if (len + 4 < 1024 && !strstr(out, "..."))
			strcat(out, "...");
		return 0;
	}
	if (len)
		strcat(out, "; ");
	strcat(out, one);
	return 0;
}

/* The run's items, with their details. Free l->v. */
static int av_collect(struct state *st, const struct config *cfg,
		      int64_t run_id, struct av_list *l, struct err *err)
{
	size_t i;

	memset(l, 0, sizeof(*l));
	l->cfg = cfg;
	l->now = schedule_clock();
	l->err = err;
	if (state_acks_deliveries_each(st, run_id, NULL, on_row, l, err) < 0 ||
	    state_acks_unmatched_each(st, run_id, on_recv, l, err) < 0)
		return -1;
	for (i = 0; i < l->n; i++) {
		int64_t id = l->v[i].unmatched ? l->v[i].u.id : l->v[i].d.ack_id;

		if (id && state_acks_errors_each(st, id, on_detail,
						 l->v[i].reasons, err) < 0)
			return -1;
	}
	return 0;
}

static const char *item_status(const struct av_item *it)
{
	if (it->unmatched)
		return it->u.level ? ack_read_status_name((int)it->u.status)
				   : "unreadable";
	if (it->d.status == ACK_NONE)
		return it->overdue ? "overdue" : "pending";
	return ack_read_status_name((int)it->d.status);
}

/* ---- show ------------------------------------------------------------- */

int ack_view_any(const struct config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->ntargets; i++)
		if (cfg->targets[i].acks_in_url)
			return 1;
	return 0;
}

int ack_view_show_text(struct state *st, const struct config *cfg,
		       int64_t run_id, FILE *out, struct err *err)
{
	struct av_list l;
	size_t i;
	char a[4 * 1024], b[4 * 300];

	if (av_collect(st, cfg, run_id, &l, err) < 0) {
		free(l.v);
		return -1;
	}
	if (l.n)
		fprintf(out, "\nacknowledgments:\n");
	for (i = 0; i < l.n; i++) {
		const struct av_item *it = &l.v[i];

		if (it->unmatched) {
			utf8_term_copy(b, sizeof(b), it->u.file,
				       strlen(it->u.file), 0);
			utf8_term_copy(a, sizeof(a), it->u.error,
				       strlen(it->u.error), 0);
			if (!it->u.level)
				fprintf(out, "  %-14s unreadable ack '%s' line "
					"%lld: %s (set aside in quarantine/"
					"acks_in/%s/)\n",
					it->u.target, b, (long long)it->u.line,
					a, it->u.target);
			else
				fprintf(out, "  %-14s %s %s for%s%s%s%s%s%s "
					"matches no delivery: '%s' line %lld\n",
					it->u.target, it->u.ack_type,
					item_status(it),
					it->u.ic_control[0] ? " interchange " : "",
					it->u.ic_control,
					it->u.grp_control[0] ? " group " : "",
					it->u.grp_control,
					it->u.set_control[0] ? " set " : "",
					it->u.set_control, b,
					(long long)it->u.line);
		} else {
			char when[DT_ISO_LEN];

			dt_format_iso(it->d.delivered_at, when);
			fprintf(out, "  %-14s %s  %s %s  %s", it->d.target,
				it->d.file_name, it->d.set_type,
				it->d.set_control, item_status(it));
			if (it->d.ack_id) {
				utf8_term_copy(b, sizeof(b), it->d.ack_file,
					       strlen(it->d.ack_file), 0);
				fprintf(out, " (%s %s in '%s' line %lld)",
					it->d.ack_type, it->d.code, b,
					(long long)it->d.ack_line);
			} else {
				fprintf(out, " (no acknowledgment; delivered "
					"%s)", when);
			}
			fputc('\n', out);
		}
		if (it->reasons[0]) {
			utf8_term_copy(a, sizeof(a), it->reasons,
				       strlen(it->reasons), 0);
			fprintf(out, "          reasons: %s\n", a);
		}
	}
	free(l.v);
	return 0;
}

static void jkv(struct buf *b, const char *k, const char *v, int comma)
{
	buf_addf(b, "%s\"%s\":", comma ? "," : "", k);
	buf_add_json_str(b, v, strlen(v));
}

/* The "acks" and "acks_unmatched" fields (a leading comma included). */
static void json_fields(struct buf *b, const struct av_list *l)
{
	size_t i;
	int first = 1, pass;

	for (pass = 0; pass < 2; pass++) {
		buf_adds(b, pass ? ",\"acks_unmatched\":[" : ",\"acks\":[");
		first = 1;
		for (i = 0; i < l->n; i++) {
			const struct av_item *it = &l->v[i];

			if (it->unmatched != pass)
				continue;
			buf_adds(b, first ? "{" : ",{");
			first = 0;
			if (!pass) {
				jkv(b, "target", it->d.target, 0);
				jkv(b, "file", it->d.file_name, 1);
				buf_addf(b, ",\"run_id\":%lld",
					 (long long)it->d.run_id);
				jkv(b, "format", it->d.format, 1);
				jkv(b, "interchange", it->d.ic_control, 1);
				jkv(b, "group", it->d.grp_control, 1);
				jkv(b, "set_type", it->d.set_type, 1);
				jkv(b, "set", it->d.set_control, 1);
				jkv(b, "status", item_status(it), 1);
				buf_addf(b, ",\"overdue\":%s",
					 it->overdue ? "true" : "false");
				jkv(b, "ack_file", it->d.ack_file, 1);
				jkv(b, "ack_type", it->d.ack_type, 1);
				buf_addf(b, ",\"ack_line\":%lld",
					 (long long)it->d.ack_line);
			} else {
				jkv(b, "target", it->u.target, 0);
				jkv(b, "file", it->u.file, 1);
				buf_addf(b, ",\"line\":%lld",
					 (long long)it->u.line);
				jkv(b, "ack_type", it->u.ack_type, 1);
				jkv(b, "status", item_status(it), 1);
				jkv(b, "interchange", it->u.ic_control, 1);
				jkv(b, "group", it->u.grp_control, 1);
				jkv(b, "set_type", it->u.set_type, 1);
				jkv(b, "set", it->u.set_control, 1);
				jkv(b, "error", it->u.error, 1);
			}
			jkv(b, "reasons", it->reasons, 1);
			buf_addc(b, '}');
		}
		buf_addc(b, ']');
	}
}

int ack_view_show_json(struct state *st, const struct config *cfg,
		       int64_t run_id, FILE *out, struct err *err)
{
	struct buf rep = BUF_INIT(256 << 20), extra = BUF_INIT(64 << 20);
	struct av_list l = {NULL, 0, 0, NULL, 0, NULL};
	char path[4200], chunk[8192];
	FILE *f = NULL;
	size_t n, end;
	int rc = -1;

	snprintf(path, sizeof(path), "%s/reports/run-%lld.json",
		 cfg->state_dir, (long long)run_id);
	if (!(f = fopen(path, "rb"))) {
		err_sys(err, "cannot open '%s'", path);
		goto out;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&rep, chunk, n);
	if (ferror(f) || rep.err) {
		err_set(err, rep.err ? rep.err : E_IO, "cannot read '%s'",
			path);
		goto out;
	}
	/* the object's closing brace, before any final newline */
	for (end = rep.len; end > 0 && rep.ptr[end - 1] != '}'; end--)
		;
	if (!end) {
		err_set(err, E_PARSE, "'%s' holds no JSON object", path);
		goto out;
	}
	if (av_collect(st, cfg, run_id, &l, err) < 0)
		goto out;
	json_fields(&extra, &l);
	if (extra.err) {
		err_set(err, extra.err, "acknowledgments too large for JSON");
		goto out;
	}
	if (fwrite(rep.ptr, 1, end - 1, out) != end - 1 ||
	    fwrite(extra.ptr, 1, extra.len, out) != extra.len ||
	    fwrite(rep.ptr + end - 1, 1, rep.len - end + 1, out) !=
		    rep.len - end + 1 ||
	    fflush(out) != 0) {
		err_sys(err, "cannot write the report");
		goto out;
	}
	rc = 0;
out:
	if (f)
		fclose(f);
	free(l.v);
	buf_release(&rep);
	buf_release(&extra);
	return rc;
}

/* ---- HTML --------------------------------------------------------------- */

static void h(struct buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': buf_adds(b, "&lt;"); break;
		case '>': buf_adds(b, "&gt;"); break;
		case '&': buf_adds(b, "&amp;"); break;
		case '"': buf_adds(b, "&quot;"); break;
		default: buf_addc(b, *s);
		}
	}
}

int ack_view_html(struct buf *b, struct state *st, const struct config *cfg,
		  int64_t run_id, struct err *err)
{
	struct av_list l;
	size_t i;

	if (av_collect(st, cfg, run_id, &l, err) < 0) {
		free(l.v);
		return -1;
	}
	if (l.n)
		buf_adds(b, "<h2 id=\"acks\">Acknowledgments</h2>\n<table>\n"
			    "<tr><th>target</th><th>file</th><th>set</th>"
			    "<th>status</th><th>acknowledgment</th>"
			    "<th>reasons</th></tr>\n");
	for (i = 0; i < l.n; i++) {
		const struct av_item *it = &l.v[i];
		const char *st_name = item_status(it);
		int bad = !strcmp(st_name, "rejected") ||
			  !strcmp(st_name, "overdue") ||
			  !strcmp(st_name, "unreadable") || it->unmatched;

		buf_addf(b, "<tr%s><td>", bad ? " class=\"bad\"" : "");
		h(b, it->unmatched ? it->u.target : it->d.target);
		buf_adds(b, "</td><td>");
		h(b, it->unmatched ? "(no delivery)" : it->d.file_name);
		buf_adds(b, "</td><td>");
		h(b, it->unmatched ? it->u.set_type : it->d.set_type);
		buf_adds(b, " ");
		h(b, it->unmatched ? it->u.set_control : it->d.set_control);
		buf_adds(b, "</td><td>");
		h(b, st_name);
		buf_adds(b, "</td><td>");
		if (it->unmatched || it->d.ack_id) {
			h(b, it->unmatched ? it->u.ack_type : it->d.ack_type);
			buf_adds(b, " ");
			h(b, it->unmatched ? it->u.file : it->d.ack_file);
			buf_addf(b, " line %lld",
				 (long long)(it->unmatched ? it->u.line
							   : it->d.ack_line));
		}
		buf_adds(b, "</td><td>");
		h(b, it->unmatched && it->u.error[0] ? it->u.error
						     : it->reasons);
		buf_adds(b, "</td></tr>\n");
	}
	if (l.n)
		buf_adds(b, "</table>\n");
	free(l.v);
	return 0;
}
