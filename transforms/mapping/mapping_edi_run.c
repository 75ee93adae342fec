/* mapping_edi_run.c - the X12 and EDIFACT drivers' run(): reads a
 * document's events, keeps the envelopes, sends the syntax verdicts,
 * rejects sets that are not mapped and hands the well-formed ones to
 * map_edi_map_set() (see mapping_edi.c for the rules). */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mapping_edi_int.h"
#include "transforms/formats/sniff.h"

/* One reject for a set that is not mapped, at the segment the problem was
 * found on (or the set header). */
static int reject_set(struct map_run *run, const struct edi_ctx *ctx,
		      const struct edi_issue *is, const char *why,
		      struct err *err)
{
	struct erun *x = run->drv;
	char reason[700], field[24] = "", where[200] = "";
	unsigned long segno = is ? is->seg_in_file : 0;
	size_t i;

	x->loop = NULL;
	buf_reset(&x->raw);
	if (is && is->seg_in_file) {
		for (i = 0; i < x->set.nseg; i++)
			if (x->set.seg[i].num == is->seg_in_file) {
				map_edi_raw_seg(x, &x->set, i);
				break;
			}
		snprintf(where, sizeof(where), "segment %lu (%s%s%lu in set)",
			 is->seg_in_file, is->seg_id, is->seg_in_set ? ", #" : "",
			 is->seg_in_set);
		if (!is->seg_in_set)
			snprintf(where, sizeof(where), "segment %lu (%s)",
				 is->seg_in_file, is->seg_id);
		if (is->elem)
			snprintf(field, sizeof(field), "%.7s%02u", is->seg_id,
				 is->elem);
		else
			snprintf(field, sizeof(field), "%.7s", is->seg_id);
	} else if (x->set.nseg) {
		segno = x->set.seg[0].num;
		map_edi_raw_seg(x, &x->set, 0);
		snprintf(where, sizeof(where), "segment %lu (%s)", segno,
			 x->set.seg[0].tag);
	}
	snprintf(reason, sizeof(reason),
		 "interchange %lu (%s), %s %s %s: %s%s%s: %s; the %s is not loaded",
		 ctx->ic_index, ctx->ic_control,
		 x->em->x12 ? "set" : "message", ctx->set_type,
		 ctx->set_control, where,
		 is && is->elem ? ", element " : "",
		 is && is->elem ? field : "", why,
		 x->em->x12 ? "set" : "message");
	run->scope.line = segno;
	run->scope.raw = x->raw.err ? "" : x->raw.ptr ? x->raw.ptr : "";
	run->scope.raw_len = x->raw.err ? 0 : x->raw.len;
	run->scope.raw_fn = NULL;
	run->have_scope = 1;
	run->st.input_records++;
	run->rej_code = E_PARSE;
	if (is && is->seg_in_file) {
		x->rj_is = is;
	} else if (x->set.nseg) {
		x->rj_store = &x->set;
		x->rj_seg = 0;
	}
	return map_reject(run, is ? is->elem : 0, field, reason, err);
}

static int type_wanted(const struct edi_map *em, const char *type)
{
	size_t i;

	if (!em->nwant)
		return 1;
	for (i = 0; i < em->nwant; i++)
		if (!strcmp(em->want[i], type))
			return 1;
	return 0;
}

/* The value of the element an issue names, from the stored set. */
static const char *issue_value(const struct erun *x,
			       const struct edi_issue *is)
{
	struct edi_seg v;
	const char *val;
	size_t i;

	if (!is || !is->elem || !is->seg_in_file)
		return "";
	for (i = 0; i < x->set.nseg; i++)
		if (x->set.seg[i].num == is->seg_in_file) {
			map_edi_store_view(&x->set, i, &v);
			val = edi_seg_value(&v, is->elem, 1, 1);
			return val ? val : "";
		}
	return "";
}

static int send_verdict(struct map_run *run, int level,
			const struct edi_event *ev,
			const struct edi_issue *is, int unsupported,
			int too_large, struct err *err)
{
	struct erun *x = run->drv;
	struct mapping_verdict v;

	if (!run->verdict)
		return 0;
	memset(&v, 0, sizeof(v));
	v.level = level;
	v.ctx = ev->ctx;
	/* A set: its own verdict. A group or interchange: only errors of its
	 * own envelope (the reader's ok also counts the sets' errors). */
	v.ok = level == MAPPING_V_SET ? ev->ok && !unsupported && !too_large
				      : !is;
	v.issue = level == MAPPING_V_SET && ev->ok ? NULL : is;
	v.bad_value = level == MAPPING_V_SET ? issue_value(x, v.issue) : "";
	v.nseg = level == MAPPING_V_SET ? x->set.nseg : 0;
	v.unsupported = unsupported;
	v.too_large = too_large;
	v.skipped = x->ic_skip;
	return run->verdict(run->verdict_ud, &v, err);
}

static int on_grp_end(struct map_run *run, const struct edi_event *ev,
		      struct err *err)
{
	struct erun *x = run->drv;
	int rc = send_verdict(run, MAPPING_V_GROUP, ev,
			      x->have_grp_issue ? &x->grp_issue : NULL, 0, 0,
			      err);

	x->have_grp_issue = 0;
	x->grp_strict_why[0] = '\0';
	return rc;
}

static int on_set_end(struct map_run *run, const struct edi_event *ev,
		      struct err *err)
{
	struct erun *x = run->drv;
	const struct edi_ctx *ctx = ev->ctx;
	int rc = 0;

	if (!x->set_open)
		return 0;
	x->set_open = 0;
	x->ic_sets++;
	{
		const struct edi_issue *vis = x->have_set_issue ? &x->set_issue
					      : x->have_ic_issue ? &x->ic_issue
								 : NULL;

		if (send_verdict(run, MAPPING_V_SET, ev, vis,
				 ev->ok && !x->set_over && !x->ic_skip &&
					 !type_wanted(x->em, ctx->set_type),
				 ev->ok && x->set_over, err))
			return -1;
	}
	if (x->ic_skip) {
		run->st.skipped++;
	} else if (!ev->ok || x->have_set_issue) {
		/* have_set_issue with ok: a strict source's warning */
		const struct edi_issue *is = x->have_set_issue ? &x->set_issue
					     : x->have_ic_issue ? &x->ic_issue
								: NULL;

		rc = reject_set(run, ctx, is,
				is ? is->reason : "the envelope around the set is broken",
				err);
	} else if (x->set_over) {
		rc = reject_set(run, ctx, NULL, x->set_over_why, err);
	} else if (x->grp_strict_why[0]) {
		rc = reject_set(run, ctx, NULL, x->grp_strict_why, err);
	} else if (!type_wanted(x->em, ctx->set_type)) {
		char why[200];

		snprintf(why, sizeof(why),
			 "%s %s is not read by this mapping (%s: %s%s)",
			 x->em->x12 ? "transaction set" : "message type",
			 ctx->set_type,
			 x->em->x12 ? "transaction" : "message", x->em->want[0],
			 x->em->nwant > 1 ? ", ..." : "");
		rc = reject_set(run, ctx, NULL, why, err);
	} else {
		/* The set's values are the reader's tokens (or made from
		 * them): while no NUL byte was read, each one's length is
		 * its strlen and the record keeps it, as for CSV. A file
		 * with one anywhere maps the old way from there on. */
		run->nul_free = x->xr ? !x12_reader_nul_seen(x->xr)
				      : !edifact_reader_nul_seen(x->fr);
		rc = map_edi_map_set(run, err);
		run->nul_free = 0;
	}
	map_edi_store_reset(&x->set);
	x->have_set_issue = 0;
	return rc;
}

static void mic_fill(struct erun *x, const struct edi_ctx *ctx)
{
	snprintf(x->ic_sender, sizeof(x->ic_sender), "%s", ctx->ic_sender);
	snprintf(x->ic_receiver, sizeof(x->ic_receiver), "%s", ctx->ic_receiver);
	snprintf(x->ic_control, sizeof(x->ic_control), "%s", ctx->ic_control);
	memset(&x->mic, 0, sizeof(x->mic));
	x->mic.format = x->em->x12 ? "x12" : "edifact";
	x->mic.sender = x->ic_sender;
	x->mic.receiver = x->ic_receiver;
	x->mic.control = x->ic_control;
	x->mic.sha256 = "";
	x->mic.index = ctx->ic_index;
}

static int on_ic_start(struct map_run *run, const struct edi_event *ev,
		       struct err *err)
{
	struct erun *x = run->drv;
	const struct mapping_sink *sk = run->sink;
	char why[300] = "";
	int r;

	mic_fill(x, ev->ctx);
	x->mic.segment = ev->seg->num;
	x->nic_read++;
	x->ic_skip = 0;
	x->ic_sets = 0;
	x->ic_num = ev->seg->num;
	x->have_ic_issue = 0;
	x->have_grp_issue = 0;
	x->delims = ev->ctx->delims;
	if (ev->ctx->ebcdic)
		memset(&x->delims, 0, sizeof(x->delims));
	if (!sk->interchange)
		return 0;
	r = sk->interchange(sk->ud, MAPPING_IC_START, &x->mic, why,
			    sizeof(why), err);
	if (r < 0)
		return -1;
	x->ic_skip = r == 1;
	return 0;
}

static int on_ic_end(struct map_run *run, const struct edi_event *ev,
		     struct err *err)
{
	struct erun *x = run->drv;
	const struct mapping_sink *sk = run->sink;
	char why[400] = "";
	int r;

	if (x->set_open) {
		/* cut off inside a set: the reader ends it first; defensive */
		x->set_open = 0;
		map_edi_store_reset(&x->set);
	}
	if (!x->ic_num)
		return 0;
	if (send_verdict(run, MAPPING_V_IC, ev,
			 x->have_env_issue ? &x->env_issue : NULL, 0, 0, err))
		return -1;
	x->have_env_issue = 0;
	x->mic.sha256 = ev->ctx->ic_sha256;
	x->mic.sets = x->ic_sets;
	x->mic.ok = ev->ok;
	x->mic.skipped = x->ic_skip;
	if (sk->interchange) {
		r = sk->interchange(sk->ud, MAPPING_IC_END, &x->mic, why,
				    sizeof(why), err);
		if (r < 0)
			return -1;
		if (r == 1) {
			char reason[600];

			snprintf(reason, sizeof(reason),
				 "interchange %lu (%s) from %s to %s: %s",
				 x->mic.index, x->ic_control, x->ic_sender,
				 x->ic_receiver, why);
			buf_reset(&x->raw);
			if (x->ic.nseg)
				map_edi_raw_seg(x, &x->ic, 0);
			x->loop = NULL;
			run->scope.line = x->ic_num;
			run->scope.raw = x->raw.err ? "" : x->raw.ptr ? x->raw.ptr : "";
			run->scope.raw_len = x->raw.err ? 0 : x->raw.len;
			run->scope.raw_fn = NULL;
			run->have_scope = 1;
			run->st.input_records++;
			if (x->ic.nseg) {
				x->rj_store = &x->ic;
				x->rj_seg = 0;
			}
			if (map_reject(run, 0, x->em->x12 ? "ISA13" : "UNB05",
				       reason, err))
				return -1;
		}
	}
	x->ic_num = 0;
	x->ic_skip = 0;
	map_edi_store_reset(&x->ic);
	map_edi_store_reset(&x->grp);
	return 0;
}

static int on_segment(struct map_run *run, const struct edi_event *ev,
		      struct err *err)
{
	struct erun *x = run->drv;
	const struct edi_map *em = x->em;
	const struct edi_seg *g = ev->seg;
	/* Tags by their code (tag[3] == 0: no longer tag shares it). */
	uint32_t tc = g->tag[3] ? 0 : TAGC(g->tag);
	int env = tc == (em->x12 ? TAGC("ISA") : TAGC("UNB")) ? ENV_IC
		  : tc == (em->x12 ? TAGC("GS\0") : TAGC("UNG")) ? ENV_GRP
								 : ENV_NONE;

	/* A header segment the reader opened no interchange for (a tag
	 * spelled with the release character, "?UNB", read as UNB) is not
	 * an envelope: the interchange being mapped stays open, so the sink
	 * never sees two starts without an end (found by fuzz_map). */
	if (env == ENV_IC && x->ic_num && ev->ctx->ic_index == x->mic.index)
		env = ENV_NONE;
	if (env == ENV_IC) {
		map_edi_store_reset(&x->ic);
		map_edi_store_reset(&x->grp);
		if (map_edi_store_add(&x->ic, g, err))
			return -1;
		return on_ic_start(run, ev, err);
	}
	if (env == ENV_GRP) {
		x->have_grp_issue = 0;
		map_edi_store_reset(&x->grp);
		if (map_edi_check_versions(run, g, ev->ctx, err))
			return -1;
		return map_edi_store_add(&x->grp, g, err);
	}
	if (tc == (em->x12 ? TAGC("ST\0") : TAGC("UNH"))) {
		map_edi_store_reset(&x->set);
		x->set_open = 1;
		x->set_over = 0;
		snprintf(x->set_control, sizeof(x->set_control), "%s",
			 ev->ctx->set_control);
		x->have_set_issue = 0;
	}
	if (!x->set_open || x->set_over || x->ic_skip)
		return 0;
	if (x->set.nseg >= em->max_set_segments ||
	    x->set.dlen + g->ntok * 2 + 64 > em->max_set_bytes) {
		x->set_over = 1;
		snprintf(x->set_over_why, sizeof(x->set_over_why),
			 "the set is larger than %s (%zu) at segment %lu",
			 x->set.nseg >= em->max_set_segments
				 ? "input.max_set_segments"
				 : "input.max_set_bytes",
			 x->set.nseg >= em->max_set_segments
				 ? em->max_set_segments
				 : em->max_set_bytes,
			 g->num);
		map_edi_store_reset(&x->set);
		return 0;
	}
	return map_edi_store_add(&x->set, g, err);
}

/* An envelope trailer's count or control reference that is wrong:
 * IEA/GE/UNZ/UNE/DXE, after the sets it closes. */
static int trailer_after_sets(const struct edi_issue *is)
{
	static const char *const tags[] = {"IEA", "GE", "UNZ", "UNE", "DXE"};
	size_t i;

	if (is->code != EDI_I_COUNT && is->code != EDI_I_CONTROL)
		return 0;
	for (i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
		if (!strcmp(is->seg_id, tags[i]))
			return 1;
	return 0;
}

static int on_issue(struct map_run *run, const struct edi_event *ev,
		    struct err *err)
{
	struct erun *x = run->drv;
	const struct edi_issue *is = ev->issue;

	if (is->severity != EDI_ERROR) {
		if (map_edi_warn_issue(run, is, is->reason, err))
			return -1;
		if (!run->sink->strict)
			return 0;
		/* strict: true: outside a set a reject of its own, inside
		 * one the set's error (it is not loaded) */
		if (!x->set_open && !is->seg_in_set)
			return map_edi_strict_reject(run, is, is->reason, err);
		if (!x->have_set_issue) {
			x->set_issue = *is;
			snprintf(x->set_issue.reason, sizeof(x->set_issue.reason),
				 "%.200s (a warning; the source is strict: true)",
				 is->reason);
			x->have_set_issue = 1;
		}
		return 0;
	}
	if (!x->set_open && !is->seg_in_set && trailer_after_sets(is)) {
		/* IEA01/GE01/UNZ01/UNE01 (count) or the trailer's control
		 * reference: found after the sets it closes were mapped. */
		char msg[400];

		snprintf(msg, sizeof(msg), "%.250s; the sets before it were "
			 "loaded", is->reason);
		if (map_edi_warn_issue(run, is, msg, err))
			return -1;
		if (run->sink->strict &&
		    map_edi_strict_reject(run, is, is->reason, err))
			return -1;
	}
	if (is->code == EDI_I_NO_INTERCHANGE)
		return err_at(err, E_PARSE, run->doc->name, is->seg_in_file, 0,
			      "%s", is->reason);
	if (x->set_open || is->seg_in_set) {
		if (!x->have_set_issue) {
			x->set_issue = *is;
			x->have_set_issue = 1;
		}
	} else {
		if (!x->have_ic_issue) {
			x->ic_issue = *is;
			x->have_ic_issue = 1;
		}
		if (ev->ctx->grp_open || !strcmp(is->seg_id, "GE") ||
		    !strcmp(is->seg_id, "UNE")) {
			if (!x->have_grp_issue) {
				x->grp_issue = *is;
				x->have_grp_issue = 1;
			}
		} else if (!x->have_env_issue) {
			x->env_issue = *is;
			x->have_env_issue = 1;
		}
	}
	if (is->code == EDI_I_UNREADABLE || is->code == EDI_I_OUTSIDE) {
		if (x->nlost < sizeof(x->lost) / sizeof(x->lost[0]))
			x->lost[x->nlost++] = *is;
		else
			x->nlost_more++;
	}
	return 0;
}

/* At the end of the document: skipped data is a reject each (nothing of
 * it was loaded), or, when not one interchange was readable, the
 * document's failure. */
static int report_lost(struct map_run *run, struct err *err)
{
	struct erun *x = run->drv;
	unsigned i;

	if (!x->nlost)
		return 0;
	if (!x->nic_read)
		return err_at(err, E_PARSE, run->doc->name,
			      x->lost[0].seg_in_file, 0,
			      "no readable interchange: %s", x->lost[0].reason);
	for (i = 0; i < x->nlost; i++) {
		const struct edi_issue *is = &x->lost[i];
		char reason[400];

		snprintf(reason, sizeof(reason), "%s%s", is->reason,
			 i + 1 == x->nlost && x->nlost_more
				 ? " (and more skipped data after it)"
				 : "");
		x->loop = NULL;
		run->scope.line = is->seg_in_file;
		run->scope.raw = "";
		run->scope.raw_len = 0;
		run->scope.raw_fn = NULL;
		run->have_scope = 1;
		run->st.input_records++;
		x->rj_is = is;
		if (map_reject(run, 0, is->seg_id, reason, err))
			return -1;
	}
	return 0;
}

static int edi_next(struct erun *x, struct edi_event *ev, struct err *err)
{
	return x->xr ? x12_reader_next(x->xr, ev, err)
		     : edifact_reader_next(x->fr, ev, err);
}

int map_edi_run_doc(struct map_run *run, struct err *err)
{
	const struct edi_map *em = run->m->drv;
	struct erun *x = calloc(1, sizeof(*x));
	struct edi_event ev;
	struct edi_opts ro;
	struct sniff_dialect sd;
	char seen[300];
	size_t i;
	int fd = -1, rc = -1, n, fmt;

	if (!x)
		return err_set(err, E_NOMEM, "out of memory");
	x->em = em;
	edi_locator_init(&x->loc, run->doc->path);
	run->locate = map_edi_locate;
	run->explain = map_edi_explain;
	buf_init(&x->raw, 1u << 20);
	buf_init(&x->tmp, em->ro.max_segment + 1024);
	run->drv = x;
	run->path = map_edi_rt_path;
	fd = open(run->doc->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err_sys(err, "open %s", run->doc->path);
		goto cleanup;
	}
	/* The analysis inspect and content routes use (sniff.h): a zip or
	 * a CSV export is named as such, not "not EDIFACT". */
	fmt = sniff_path_head(run->doc->path, &sd, err);
	if (fmt < 0)
		goto cleanup;
	if ((fmt == EDI_FMT_X12 && !em->x12) ||
	    (fmt == EDI_FMT_EDIFACT && em->x12) ||
	    fmt == EDI_FMT_XML || fmt == EDI_FMT_EMPTY ||
	    fmt == SNIFF_CSV || fmt == SNIFF_ARCHIVE) {
		if (fmt == SNIFF_CSV)
			sniff_describe(fmt, &sd, seen, sizeof(seen));
		else
			snprintf(seen, sizeof(seen), "%s",
				 sniff_format_name(fmt));
		err_at(err, E_PARSE, run->doc->name, 0, 0,
		       "this is %s %s file, but the mapping reads %s",
		       fmt == SNIFF_CSV ? "a" : "an", seen, run->m->format);
		goto cleanup;
	}
	/* The per-interchange SHA-256 is only for the sink's interchange()
	 * hook (duplicate interchanges); without one it is not computed. */
	ro = em->ro;
	ro.no_hash = !run->sink->interchange;
	if (em->x12 ? x12_reader_open_fd(&x->xr, fd, run->doc->name, &ro, err)
		    : edifact_reader_open_fd(&x->fr, fd, run->doc->name, &ro, err))
		goto cleanup;
	while ((n = edi_next(x, &ev, err)) == 1) {
		int r = 0;

		switch (ev.kind) {
		case EDI_EV_SEGMENT: r = on_segment(run, &ev, err); break;
		case EDI_EV_ISSUE: r = on_issue(run, &ev, err); break;
		case EDI_EV_SET_END: r = on_set_end(run, &ev, err); break;
		case EDI_EV_GROUP_END: r = on_grp_end(run, &ev, err); break;
		case EDI_EV_IC_END: r = on_ic_end(run, &ev, err); break;
		default: break;
		}
		if (r)
			goto cleanup;
	}
	if (n < 0 || report_lost(run, err))
		goto cleanup;
	rc = 0;
cleanup:
	if (rc && !err->file[0])
		err_locate(err, run->doc->name, 0, 0, NULL);
	x12_reader_free(x->xr);
	edifact_reader_free(x->fr);
	edi_locator_release(&x->loc);
	run->locate = NULL;
	run->explain = NULL;
	if (fd >= 0)
		close(fd);
	map_edi_store_free(&x->set);
	map_edi_store_free(&x->ic);
	map_edi_store_free(&x->grp);
	free(x->loops);
	free(x->order);
	for (i = 0; i < MAP_MAX_RECORDS; i++)
		free(x->free[i].seg);
	buf_release(&x->raw);
	buf_release(&x->tmp);
	free(x);
	run->drv = NULL;
	return rc;
}
