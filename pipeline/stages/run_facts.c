/* run_facts.c - the facts of a document's file for its mapping
 * ($file.name, $file.mtime, $file.fetched_at, $run.started_at and the
 * $file.NAME captures of the source's pattern; docs/mapping.md section 5).
 *
 * They come from the state store, not from the local copy: the fetch unit
 * the document descends from holds the name the file had at the source
 * and the size/mtime it was listed with, and its finish time is when it
 * was fetched; the run row holds when the run began. So a map unit that is
 * redone (resume, rerun) sees the same facts as the first time.
 */
#include <stdio.h>
#include <string.h>

#include "pipeline/run_int.h"

#include "transforms/model/dt.h"
#include "transforms/mapping/mapping.h"

/* Archive members descend through their unpack unit; replayed files have
 * a fetch unit of their own. A few hops at most. */
#define MAX_HOPS 4

int run_doc_facts(struct run *r, const struct cfg_source *src,
		  const struct mapping *m, const struct state_unit *u,
		  struct run_facts *out, struct err *err)
{
	struct state_unit fu;
	struct state_run row;
	int64_t t;
	size_t i, hops;
	const char *bang;

	memset(out, 0, sizeof(*out));
	out->f.caps = &out->caps;
	if (mapping_check_patterns(m, src->patterns, src->npatterns, NULL,
				   err) < 0)
		return -1;
	fu = *u;
	for (hops = 0; strcmp(fu.stage, "fetch") && fu.parent && hops < MAX_HOPS;
	     hops++) {
		struct err ge = ERR_INIT;

		if (state_unit_get(r->st, fu.parent, &fu, &ge) < 0) {
			if (ge.code != E_NOTFOUND) {
				if (!err->code)
					*err = ge;
				return -1;
			}
			/* An ancestor a rerun deleted: the facts it held
			 * are unknown (absent), the name is the document's. */
			fu = *u;
			break;
		}
	}
	if (!strcmp(fu.stage, "fetch")) {
		snprintf(out->name, sizeof(out->name), "%s", fu.ukey);
		/* the mtime as planned from the listing; a replayed file
		 * has none */
		if (fu.listed) {
			dt_format_iso(fu.file_mtime, out->mtime);
			out->f.mtime = out->mtime;
		}
		if (fu.finished_ms > 0) {
			dt_format_iso(fu.finished_ms / 1000, out->fetched);
			out->f.fetched_at = out->fetched;
		}
	} else {
		/* no fetch unit to be found: the document's own name,
		 * without an archive member */
		bang = strchr(u->ukey, '!');
		snprintf(out->name, sizeof(out->name), "%.*s",
			 (int)(bang ? (size_t)(bang - u->ukey) : strlen(u->ukey)),
			 u->ukey);
	}
	out->f.file_name = out->name;
	if (state_run_get(r->st, r->run_id, &row, err) < 0)
		return -1;
	if (dt_parse_iso(row.started_at, strlen(row.started_at), &t) == 0) {
		dt_format_iso(t, out->started);
		out->f.run_started = out->started;
	}
	/* The captures of the first pattern the name matches: the one the
	 * listing took the file for. A replayed file may match none; its
	 * captures are then absent (| required decides). */
	for (i = 0; i < src->npatterns; i++) {
		int rc = filepat_match(src->patterns[i], out->name, &out->caps,
				       err);

		if (rc < 0)
			return -1;
		if (rc)
			break;
	}
	return 0;
}
