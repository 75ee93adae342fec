/* stage_map.c - the map stage: a document through its mapping into
 * canonical records and rejects, its EDI interchanges, and quarantine (its
 * acknowledgments are recorded by stage_acks.c). */
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
#include "pipeline/store/state_lineage.h"
#include "pipeline/store/state_park.h"
#include "pipeline/store/state_work.h"
#include "pipeline/report/progress.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "connectors/connector.h"
#include "transforms/formats/sniff.h"
#include "transforms/model/dt.h"
#include "transforms/formats/edi.h"
#include "transforms/formats/edi_peek.h"
#include "transforms/formats/edi_ack.h"
#include "transforms/mapping/filepat.h"
#include "pipeline/store/state_warn.h"
#include "transforms/mapping/mapping.h"
#include "transforms/outbound/outbound.h"
#include "transforms/formats/unpack.h"

/* ---- map -------------------------------------------------------------- */

/* Rejects shown on stderr per document; the rest are in the reject file. */
#define REJECTS_SHOWN 5
/* Warnings kept per document in the store for `show`; past that one row
 * says how many more there were. */
#define WARN_KEPT 200

struct map_out {
	struct io_atomic canon, rejects;
	struct buf line;
	int64_t records, rejected, warned;
	/* the warnings kept for the store (state_warn.c), at most
	 * WARN_KEPT; strings owned */
	struct state_warning *warns;
	size_t nwarns;
	int quiet;
	/* EDI: the document's interchanges (recorded in the state store when
	 * the document is mapped) and the one being read when it turned out
	 * to be a duplicate */
	struct run *r;
	const char *source, *doc, *doc_sha;
	struct state_interchange *ics, prev;
	size_t nics, capics;
	int64_t dup_ics, conflict_ics;
	int64_t doc_id, ic_first;  /* map unit; first record of the current IC */
	/* a stock record's txn_id is not the document's own (txn_own) */
	int txn_shared;
	struct progress prog;      /* records and rate; the reader's offset is
				    * not known here, so no ETA */
};

/* Whether stock record rec's txn_id is its document's own: the mapping
 * engine's default, "<16 hex digits of the document's SHA-256>:<n>:<n>"
 * (mapping.c), which no other document's txn_id starts with; the same
 * test the load stores such a txn_id by (state_txn_default). */
static int txn_own(const struct canon_record *rec, const char *doc_sha)
{
	int64_t seq, nrec;

	return state_txn_default(rec->v[STOCK_TXN_ID], doc_sha, &seq, &nrec);
}

static int sink_record(void *ud, const struct canon_record *rec,
		       struct err *err)
{
	struct map_out *m = ud;

	/* SIGTERM/SIGINT stop a long document here: a flag read per record,
	 * no system call. */
	if (eng_stopping())
		return err_set(err, E_INTERRUPT, "stopped by a signal");
	buf_reset(&m->line);
	if (canon_to_jsonl(rec, &m->line) < 0 || m->line.err)
		return err_set(err, E_TOOBIG, "canonical record too large");
	m->records++;
	if (rec->kind == CANON_STOCK && !m->txn_shared &&
	    !txn_own(rec, m->doc_sha))
		m->txn_shared = 1;
	progress_tick(&m->prog, 0);
	return io_atomic_write(&m->canon, m->line.ptr, m->line.len, err);
}

static int sink_reject(void *ud, const struct mapping_reject *rj,
		       struct err *err)
{
	struct map_out *m = ud;

	if (eng_stopping())
		return err_set(err, E_INTERRUPT, "stopped by a signal");
	buf_reset(&m->line);
	/* The same line format `map test` goldens use. */
	mapping_reject_to_jsonl(rj, &m->line);
	if (m->line.err)
		return err_set(err, E_TOOBIG, "reject line too large");
	m->rejected++;
	/* A reject of a whole set or document has no line: no "0:0". */
	if (!m->quiet && m->rejected <= REJECTS_SHOWN) {
		progress_clear(&m->prog);
		struct log_at at = {rj->file, rj->line, rj->col, rj->field,
				    EC_DATA, rj->code};

		if (rj->seg)
			log_at("warn", &at,
			       "    %s:%lu:%u: %s (segment %lu, byte %llu)",
			       rj->file, rj->line, rj->col, rj->reason, rj->seg,
			       rj->offset);
		else if (rj->line)
			log_at("warn", &at, "    %s:%lu:%u: %s", rj->file,
			       rj->line, rj->col, rj->reason);
		else
			log_at("warn", &at, "    %s: %s", rj->file, rj->reason);
	}
	return io_atomic_write(&m->rejects, m->line.ptr, m->line.len, err);
}

/* Copies a warning into m->warns (WARN_KEPT of them, then one that
 * counts the rest). -1 when out of memory. */
static int keep_warning(struct map_out *m, const char *code, const char *file,
			const struct src_loc *loc, const char *msg)
{
	struct state_warning *w;

	if (m->nwarns > WARN_KEPT)
		return 0;
	if (!m->warns && !(m->warns = calloc(WARN_KEPT + 1, sizeof(*w))))
		return -1;
	w = &m->warns[m->nwarns++];
	w->loc = *loc;
	w->code = strdup(code);
	w->file = strdup(file);
	w->message = strdup(msg);
	return w->code && w->file && w->message ? 0 : -1;
}

static void free_warnings(struct map_out *m)
{
	size_t i;

	for (i = 0; i < m->nwarns; i++) {
		free((char *)m->warns[i].code);
		free((char *)m->warns[i].file);
		free((char *)m->warns[i].message);
	}
	free(m->warns);
	m->warns = NULL;
	m->nwarns = 0;
}

/* Stores the document's warnings with its map unit, the last kept one
 * replaced by a count when there were more. */
static int store_warnings(struct run *r, struct map_out *m, int64_t unit,
			  struct err *err)
{
	char more[120];

	/* no transaction (and no crash point) for a document without */
	if (!m->nwarns)
		return 0;
	if (m->nwarns > WARN_KEPT) {
		struct state_warning *w = &m->warns[WARN_KEPT];

		snprintf(more, sizeof(more), "\xe2\x80\xa6 and %lld more "
			 "warnings, not kept", (long long)m->warned - WARN_KEPT);
		free((char *)w->message);
		memset(&w->loc, 0, sizeof(w->loc));
		if (!(w->message = strdup(more)))
			return err_set(err, E_NOMEM, "out of memory");
	}
	return state_warn_set(r->st, unit, m->warns, m->nwarns, err);
}

/* A warning (issue 17): the data was mapped; shown like a reject
 * (file:line:col, segment, byte), counted for the run's summary. */
static int sink_warning(void *ud, const struct mapping_warning *w,
			struct err *err)
{
	struct map_out *m = ud;

	m->warned++;
	if (keep_warning(m, w->code, w->file, &w->loc, w->message) < 0)
		return err_set(err, E_NOMEM, "out of memory");
	if (m->quiet || m->warned > REJECTS_SHOWN)
		return 0;
	progress_clear(&m->prog);
	if (w->loc.seg)
		log_msg("warn", "    %s:%lu:%u: warning: %s (segment %lu, byte %llu)",
			w->file, w->loc.line, w->loc.col, w->message,
			w->loc.seg, w->loc.offset);
	else
		log_msg("warn", "    %s: warning: %s", w->file, w->message);
	return 0;
}

/* EDI interchanges sent twice (docs/mapping.md "Interchanges sent
 * twice"). At the start of an interchange: skip it when the same key
 * (format, sender, receiver, control number) was loaded from another
 * document, or earlier in this one. At its end: the same bytes are a
 * duplicate (reported, not loaded); other bytes under a used control
 * number are rejected (a person must look). Mapping the same document
 * again (rerun, resume) finds its own rows and maps as before. */
static int sink_interchange(void *ud, int phase,
			    const struct mapping_interchange *ic, char *why,
			    size_t whyn, struct err *err)
{
	struct map_out *m = ud;
	struct state_interchange *x;
	size_t i;
	int found;

	if (phase == MAPPING_IC_START) {
		m->ic_first = m->records + 1;
		for (i = 0; i < m->nics; i++)
			if (!strcmp(m->ics[i].format, ic->format) &&
			    !strcmp(m->ics[i].sender, ic->sender) &&
			    !strcmp(m->ics[i].receiver, ic->receiver) &&
			    !strcmp(m->ics[i].control, ic->control)) {
				m->prev = m->ics[i];
				return 1;
			}
		if (state_interchange_find(m->r->st, ic->format, ic->sender,
					   ic->receiver, ic->control, &m->prev,
					   &found, err) < 0)
			return -1;
		return found && !(!strcmp(m->prev.source, m->source) &&
				  !strcmp(m->prev.doc, m->doc) &&
				  !strcmp(m->prev.doc_sha, m->doc_sha));
	}
	if (ic->skipped) {
		if (!strcmp(m->prev.sha256, ic->sha256)) {
			m->dup_ics++;
			if (!m->quiet)
				log_msg("warn",
					"    %s: interchange %s from %s to %s "
					"was already loaded from '%s' (run "
					"%lld): duplicate, not loaded again",
					m->doc, ic->control, ic->sender,
					ic->receiver, m->prev.doc,
					(long long)m->prev.run_id);
			return 0;
		}
		m->conflict_ics++;
		snprintf(why, whyn,
			 "control number %s was already used by an "
			 "interchange with other content, loaded from '%s' "
			 "(run %lld): not loaded (a corrected interchange "
			 "needs a new control number)",
			 ic->control, m->prev.doc, (long long)m->prev.run_id);
		return 1;
	}
	if (m->nics == m->capics) {
		size_t cap = m->capics ? m->capics * 2 : 4;
		struct state_interchange *n = realloc(m->ics, cap * sizeof(*n));

		if (!n)
			return err_set(err, E_NOMEM, "out of memory");
		m->ics = n;
		m->capics = cap;
	}
	x = &m->ics[m->nics++];
	memset(x, 0, sizeof(*x));
	snprintf(x->format, sizeof(x->format), "%s", ic->format);
	snprintf(x->sender, sizeof(x->sender), "%s", ic->sender);
	snprintf(x->receiver, sizeof(x->receiver), "%s", ic->receiver);
	snprintf(x->control, sizeof(x->control), "%s", ic->control);
	snprintf(x->sha256, sizeof(x->sha256), "%s", ic->sha256);
	snprintf(x->source, sizeof(x->source), "%s", m->source);
	snprintf(x->doc, sizeof(x->doc), "%s", m->doc);
	snprintf(x->doc_sha, sizeof(x->doc_sha), "%s", m->doc_sha);
	x->run_id = m->r->run_id;
	x->first_rec = m->ic_first;   /* its canonical records, for the load */
	x->last_rec = m->records;
	return 0;
}

/* Records the document's interchanges (one transaction). */
static int record_interchanges(struct run *r, const struct map_out *m,
			       struct err *err)
{
	size_t i;

	if (!m->nics)
		return 0;
	if (eng_tx_begin(r->st, err) < 0)
		return -1;
	for (i = 0; i < m->nics; i++)
		if (state_interchange_add(r->st, &m->ics[i], err) < 0)
			break;
	return eng_tx_end(r->st,
			  i < m->nics ||
				  state_ic_doc_set(r->st, m->doc_id, m->ics,
						   m->nics, err) < 0,
			  err);
}

/* Records each file a mapping was compiled from with its hash (the run's
 * dependencies); the first failure is kept for deps_record. */
struct dep_ctx {
	struct run *r;
	struct err *err;
	int failed;
};

static void dep_cb(void *ud, const char *path, const char *sha)
{
	struct dep_ctx *d = ud;

	if (!d->failed &&
	    state_run_dep_add(d->r->st, d->r->run_id, path, sha, d->err) < 0)
		d->failed = 1;
}

/* The files of mapping m as dependencies of the run, in one
 * transaction. 0, or -1 with err. */
static int deps_record(struct run *r, const struct mapping *m,
		       struct err *err)
{
	struct dep_ctx d = {r, err, 0};

	if (eng_tx_begin(r->st, err) < 0)
		return -1;
	mapping_each_dep(m, dep_cb, &d);
	return eng_tx_end(r->st, d.failed, err);
}

/* The files of mapping m as what this attempt of u is made with
 * (state.h, unit_deps), in one transaction. */
struct udep_ctx {
	struct run *r;
	const struct state_unit *u;
	int64_t now;
	struct err *err;
	int failed;
};

static void udep_cb(void *ud, const char *path, const char *sha)
{
	struct udep_ctx *d = ud;

	if (!d->failed &&
	    state_unit_dep_add(d->r->st, d->u, path, sha, d->now, d->err) < 0)
		d->failed = 1;
}

static int unit_deps_record(struct run *r, const struct state_unit *u,
			    const struct mapping *m, struct err *err)
{
	struct udep_ctx d = {r, u, eng_now_ms(), err, 0};

	if (eng_tx_begin(r->st, err) < 0)
		return -1;
	mapping_each_dep(m, udep_cb, &d);
	return eng_tx_end(r->st, d.failed, err);
}

/* Copies u's input to path without replacing anything: another document
 * quarantined under the same name (another run, the same name sent again)
 * keeps its copy, and this one goes to ID_NAME (the unit id is unique in
 * the state). A copy already there with the same bytes is this unit's own,
 * from a redo after a crash: it is kept. The name is in the unit either
 * way; path receives where the copy is. */
static int quarantine_copy(struct run *r, const struct state_unit *u,
			   char *path, size_t n, const char *name,
			   struct err *err)
{
	char want[SHA256_HEX_LEN] = "", have[SHA256_HEX_LEN];
	char leaf[sizeof(u->ukey) + 24];
	int k;

	for (k = 0; k < 2; k++) {
		struct err e = ERR_INIT;

		if (io_copy_noreplace(u->input_path, path, NULL, NULL, &e) ==
		    0)
			return 0;
		if (e.code != E_EXISTS) {
			*err = e;
			return -1;
		}
		err_clear(&e);
		/* A copy already there: the same bytes (a redo after a
		 * crash) are this document's copy. Hashed only now: the
		 * usual first copy needs no extra read. */
		if (!want[0] &&
		    sha256_file(u->input_path, want, NULL, err) < 0)
			return -1;
		if (sha256_file(path, have, NULL, &e) == 0 &&
		    !strcmp(have, want))
			return 0;
		snprintf(leaf, sizeof(leaf), "%lld_%s", (long long)u->id,
			 name);
		run_path_in(r, path, n, "quarantine", u->scope, leaf);
	}
	return err_set(err, E_EXISTS,
		       "cannot quarantine '%s': '%s' exists with other content",
		       u->ukey, path);
}

int run_quarantine(struct run *r, struct state_unit *u,
		      const struct err *why)
{
	char path[4096], leaf[64];
	struct err e = ERR_INIT;
	const char *p, *name = u->ukey;

	/* The copy keeps the document's name unless our folders cannot hold
	 * it (long, control bytes, a slash): then ID_h<hash>, as in the
	 * inbox. The name is in the unit and the report either way. */
	for (p = name; *p && (unsigned char)*p >= 0x20 && *p != '/'; p++)
		;
	if (*p || p - name > 200 || !*name || *name == '.') {
		char hex[SHA256_HEX_LEN];

		if (sha256_hex_of(name, strlen(name), hex, &e) < 0)
			return eng_unit_fail(r, u, &e);
		snprintf(leaf, sizeof(leaf), "%lld_h%.12s", (long long)u->id,
			 hex);
		name = leaf;
	}
	run_path_in(r, path, sizeof(path), "quarantine", u->scope, name);
	if (quarantine_copy(r, u, path, sizeof(path), name, &e) < 0)
		return eng_unit_fail(r, u, &e);
	if (eng_field(u->output_path, sizeof(u->output_path), path,
		      "quarantine path", &e) < 0)
		return eng_unit_fail(r, u, &e);
	log_msg("warn", "stockpipe: quarantined '%s' of %s -> %s", u->ukey,
		u->scope, path);
	return eng_unit_quarantine(r, u, why);
}

/* The compiled mapping for a document, loading (and recording the hash of)
 * each mapping once per run. NULL with E_NOTFOUND when no route matches,
 * or with the compile error. */
static const struct mapping *mapping_for(struct src_ctx *sc, const char *doc,
					  const char *input, int warn,
					  struct err *err);

const struct mapping *run_mapping_for(struct src_ctx *sc, const char *doc,
				     const char *input, struct err *err)
{
	return mapping_for(sc, doc, input, 0, err);
}

/* run_mapping_for(); warn: say when a document holds several message
 * types (once, from the map unit: the load stage asks again). */
static const struct mapping *mapping_for(struct src_ctx *sc, const char *doc,
					  const char *input, int warn,
					  struct err *err)
{
	const char *path;
	struct cfg_doc_facts f = {NULL, NULL, NULL, NULL, NULL};
	struct edi_peek pk;
	struct mapping *m;
	char seen[300] = "";
	int i, envelope, fmt = 0;

	/* Content sniffing only when a route asks for a format or an
	 * envelope value: the patterns decide first, the bytes are the
	 * fallback. The same analysis as `inspect` (sniff.h), on a bounded
	 * head of the file. */
	if (config_routes_sniff(sc->src, &envelope) && input) {
		struct sniff_dialect d;
		struct err se = ERR_INIT;

		fmt = sniff_path_head(input, &d, &se);
		if (fmt < 0) {
			snprintf(seen, sizeof(seen), "; its content could not "
				 "be read: %.200s", se.reason);
			fmt = 0;
		} else {
			f.format = sniff_format_name(fmt);
			memcpy(seen, "; its content is ", 17);
			sniff_describe(fmt, &d, seen + 17, sizeof(seen) - 17);
		}
	}
	if (envelope && (fmt == EDI_FMT_X12 || fmt == EDI_FMT_EDIFACT)) {
		if (edi_peek_file(input, fmt, &pk, err) < 0)
			return NULL;
		f.message = pk.message[0] ? pk.message : NULL;
		f.version = pk.version[0] ? pk.version : NULL;
		f.sender = pk.sender[0] ? pk.sender : NULL;
		f.grp_sender = pk.grp_sender[0] ? pk.grp_sender : NULL;
		/* One mapping maps the whole document: the first message
		 * decides, the mapping's message:/transaction: rejects the
		 * sets of another type, each naming its type. */
		if (warn && pk.others[0])
			log_msg("warn",
				"stockpipe: %s of %s holds %s and %s messages: "
				"routed by the first (%s); sets of another "
				"type are rejected by its mapping unless it "
				"reads them",
				doc, sc->src->name, pk.message, pk.others,
				pk.message);
	}
	path = config_mapping_for_doc(sc->src, doc, &f);

	if (!path) {
		if (f.message)
			err_set(err, E_NOTFOUND,
				"no route of source '%s' matches this document "
				"(%s message %s, version %s, sender %s) and the "
				"source has no default mapping",
				sc->src->name, f.format, f.message,
				f.version ? f.version : "-",
				f.sender ? f.sender : "-");
		else
			err_set(err, E_NOTFOUND,
				"no route of source '%s' matches this document and "
				"the source has no default mapping%s",
				sc->src->name, seen);
		return NULL;
	}
	for (i = 0; i < sc->nmaps; i++)
		if (!strcmp(sc->map_paths[i], path))
			return sc->maps[i];
	if (sc->nmaps == (int)(sizeof(sc->maps) / sizeof(sc->maps[0]))) {
		err_set(err, E_CONFIG, "too many mappings in one source");
		return NULL;
	}
	if (config_check_file(sc->r->cfg, path, err) < 0 ||
	    mapping_load(path, &m, err) < 0)
		return NULL;
	/* Recorded before the mapping is kept: a document never maps with
	 * a mapping the run's dependencies do not name. */
	if (deps_record(sc->r, m, err) < 0) {
		mapping_free(m);
		return NULL;
	}
	sc->maps[sc->nmaps] = m;
	sc->map_paths[sc->nmaps++] = path;
	return m;
}

static int do_map_doc(struct src_ctx *sc, struct state_unit *u);

static int map_unit(void *ud, struct state_unit *u)
{
	struct src_ctx *sc = ud;
	struct err e = ERR_INIT;
	int rc;

	if (u->state == US_DONE || u->state == US_QUARANTINED)
		return 0;
	sc->acks = NULL;
	if (sc->src->ack_url &&
	    edi_ack_new(&sc->acks, sc->src->ack_x12, sc->src->ack_edifact,
			&e) < 0)
		return eng_unit_fail(sc->r, u, &e);
	rc = do_map_doc(sc, u);
	edi_ack_free(sc->acks);
	sc->acks = NULL;
	return rc;
}

/* The map unit's txn_own (state_work_txn_own), written in its finish's
 * transaction. */
struct txn_own_arg {
	struct state *st;
	int64_t unit;
	int own;
};

static int txn_own_write(void *ud, struct err *err)
{
	struct txn_own_arg *a = ud;

	return state_work_txn_own(a->st, a->unit, a->own, err);
}

/* A mapped document: its canonical and reject files published, its
 * acknowledgments recorded, then the reject threshold (quarantine) or
 * the unit done with its load unit next. released: who released it, for
 * the unit's note; accept: the threshold is waived. */
static int map_publish(struct src_ctx *sc, struct state_unit *u,
		       struct map_out *m, const struct mapping_stats *ms,
		       const char *cpath, const char *rpath,
		       const char *released, int accept)
{
	struct run *r = sc->r;
	struct err e = ERR_INIT;
	struct state_unit next;
	struct txn_own_arg to;

	if (io_atomic_commit(&m->canon, u->output_sha, &e) < 0) {
		io_atomic_abort(&m->rejects);
		return eng_unit_fail(r, u, &e);
	}
	if (io_atomic_commit(&m->rejects, NULL, &e) < 0)
		return eng_unit_fail(r, u, &e);
	if (eng_field(u->output_path, sizeof(u->output_path), cpath,
		      "output path", &e) < 0)
		return eng_unit_fail(r, u, &e);
	if (eng_field(u->rejects_path, sizeof(u->rejects_path), rpath,
		      "rejects path", &e) < 0)
		return eng_unit_fail(r, u, &e);
	u->ic_conflicts = m->conflict_ics;
	run_notef(u->detail, sizeof(u->detail), "%srejects: %s", released, rpath);
	if (m->dup_ics || m->conflict_ics) {
		size_t dl = strlen(u->detail);

		run_notef(u->detail + dl, sizeof(u->detail) - dl,
		      "; %lld duplicate interchange(s) not loaded again, %lld "
		      "rejected for a reused control number",
		      (long long)m->dup_ics, (long long)m->conflict_ics);
		run_say(r, "  %s: '%s': %lld duplicate interchange(s) not loaded "
		    "again, %lld rejected for a reused control number",
		    u->scope, u->ukey, (long long)m->dup_ics,
		    (long long)m->conflict_ics);
	}
	/* Acknowledgments answer the syntax, so they go out whether or not
	 * the reject threshold quarantines the document (a partner whose
	 * file was all broken hears it). */
	if (sc->acks && run_record_acks(r, sc->src, u, sc->acks, &e) < 0)
		return eng_unit_fail(r, u, &e);
	if (ms->input_records && !accept &&
	    (int64_t)m->rejected * 100 >
		    (int64_t)sc->src->reject_threshold_pct *
			    (int64_t)ms->input_records) {
		err_set(&e, E_VALIDATE,
			"%lld of %lu records rejected, more than the %d%% "
			"threshold; see %s",
			(long long)m->rejected, ms->input_records,
			sc->src->reject_threshold_pct, rpath);
		err_locate(&e, u->ukey, 0, 0, NULL);
		return run_quarantine(r, u, &e);
	}
	eng_unit_init(&next, r, ST_LOAD, sc->src->name, u->ukey);
	next.parent = u->id;
	if (eng_field(next.input_path, sizeof(next.input_path), cpath,
		      "input path", &e) < 0)
		return eng_unit_fail(r, u, &e);
	if (eng_field(next.input_sha, sizeof(next.input_sha), u->output_sha,
		      "input sha", &e) < 0)
		return eng_unit_fail(r, u, &e);
	/* txn_own with its load unit, in the finish's transaction (not a
	 * commit of its own): PostgreSQL's workers read it to choose the
	 * loads they may run in any order (work.c), and never see the load
	 * unit without it. */
	to.st = r->st;
	to.unit = u->id;
	to.own = !m->txn_shared;
	if (eng_unit_finish_with(r, u, &next, txn_own_write, &to, &e) < 0)
		return eng_unit_fail(r, u, &e);
	if (m->warned)
		run_say(r, "  %s: '%s': %lld warning%s%s", u->scope, u->ukey,
			(long long)m->warned, m->warned == 1 ? "" : "s",
			m->warned > REJECTS_SHOWN ? " (first shown above)" : "");
	if (m->rejected)
		run_say(r, "  %s: '%s': %lld record%s rejected%s, see %s", u->scope,
		    u->ukey, (long long)m->rejected,
		    m->rejected == 1 ? "" : "s",
		    m->rejected > REJECTS_SHOWN ? " (first shown above)" : "",
		    rpath);
	return 0;
}

static int do_map_doc(struct src_ctx *sc, struct state_unit *u)
{
	struct run *r = sc->r;
	struct err e = ERR_INIT;
	struct map_out m;
	struct mapping_stats ms;
	struct mapping_doc doc;
	struct run_facts facts;
	struct mapping_sink sink;
	char cpath[4096], rpath[4096], name[300];
	const struct mapping *map;
	int rc, accept;
	char released[520];

	if (u->state == US_DONE || u->state == US_QUARANTINED)
		return 0;
	/* `quarantine release ID --accept` waives the reject threshold for
	 * this one document. */
	accept = u->accept_rejects;
	/* Keep who released it (and why) next to the new outcome. */
	if (!u->release_note[0])
		released[0] = '\0';
	else
		run_notef(released, sizeof(released), "%.500s; ",
			  u->release_note);
	if (eng_stopping())
		return r->interrupted = 1, 1;
	if (eng_unit_start(r, u, sc->err) < 0)
		return -1;
	if (!(map = mapping_for(sc, u->ukey, u->input_path, 1, &e))) {
		if (e.code == E_NOTFOUND)
			return run_quarantine(r, u, &e);
		return eng_unit_fail(r, u, &e);
	}
	if (unit_deps_record(r, u, map, &e) < 0)
		return eng_unit_fail(r, u, &e);
	if (run_doc_facts(r, sc->src, map, u, &facts, &e) < 0) {
		err_locate(&e, u->ukey, 0, 0, NULL);
		if (e.code == E_PARSE)
			return run_quarantine(r, u, &e);
		return eng_unit_fail(r, u, &e);
	}
	memset(&m, 0, sizeof(m));
	m.quiet = r->g->quiet;
	buf_init(&m.line, 1 << 22);
	snprintf(name, sizeof(name), "%lld.jsonl", (long long)u->id);
	snprintf(cpath, sizeof(cpath), "%s/canonical/%lld/%s/%s",
		 r->cfg->state_dir, (long long)r->run_id, u->scope, name);
	snprintf(rpath, sizeof(rpath), "%s/rejects/%lld/%s/%s",
		 r->cfg->state_dir, (long long)r->run_id, u->scope, name);
	if (io_atomic_open(&m.canon, cpath, &e) < 0) {
		buf_release(&m.line);
		return eng_unit_fail(r, u, &e);
	}
	if (io_atomic_open(&m.rejects, rpath, &e) < 0) {
		io_atomic_abort(&m.canon);
		buf_release(&m.line);
		return eng_unit_fail(r, u, &e);
	}
	/* The canonical file is about 6x the input (241 bytes a CSV
	 * record): its hashing and writing go to a thread of their own
	 * while this one maps (io_wq.h). */
	if (io_atomic_async(&m.canon, &e) < 0) {
		io_atomic_abort(&m.rejects);
		buf_release(&m.line);
		return eng_unit_fail(r, u, &e);
	}
	doc.source = sc->src->name;
	doc.name = u->ukey;
	doc.path = u->input_path;
	doc.sha256 = u->input_sha;
	doc.facts = &facts.f;
	memset(&sink, 0, sizeof(sink));
	sink.record = sink_record;
	sink.reject = sink_reject;
	sink.ud = &m;
	m.r = r;
	m.source = sc->src->name;
	m.doc = u->ukey;
	m.doc_sha = u->input_sha;
	m.doc_id = u->id;
	sink.interchange = sink_interchange;
	sink.warning = sink_warning;
	sink.strict = sc->src->strict;
	memset(&ms, 0, sizeof(ms));
	progress_begin(&m.prog, "map", u->ukey, 0, m.quiet);
	rc = mapping_run_verdicts(map, &doc, &sink,
				  sc->acks ? edi_ack_verdict : NULL, sc->acks,
				  &ms, &e);
	progress_end(&m.prog);
	buf_release(&m.line);
	if (rc == 0 && record_interchanges(r, &m, &e) < 0)
		rc = -1;
	if (rc == 0 && store_warnings(r, &m, u->id, &e) < 0)
		rc = -1;
	free_warnings(&m);
	free(m.ics);
	m.ics = NULL;
	u->dupes = m.dup_ics;
	u->records_in = (int64_t)ms.input_records;
	u->records_out = m.records;
	u->rejects = m.rejected;
	if (rc < 0) {
		io_atomic_abort(&m.canon);
		io_atomic_abort(&m.rejects);
		if (e.code == E_INTERRUPT)
			return eng_unit_interrupted(r, u);
		err_locate(&e, u->ukey, 0, 0, NULL);
		if (e.code == E_PARSE || e.code == E_TOOBIG ||
		    e.code == E_VALIDATE || e.code == E_MAP)
			return run_quarantine(r, u, &e);
		return eng_unit_fail(r, u, &e);
	}
	return map_publish(sc, u, &m, &ms, cpath, rpath, released, accept);
}

const struct stage_ops stage_map = {
	.name = "map",
	.stage = ST_MAP,
	.scope = STAGE_SOURCE,
	.unit = map_unit,
	.source_done = NULL,
};
