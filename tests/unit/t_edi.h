/* t_edi.h - helpers shared by the EDI reader tests: run a reader over a
 * file or an inline sample and summarise the events. */
#ifndef STOCKPIPE_T_EDI_H
#define STOCKPIPE_T_EDI_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/err.h"
#include "transforms/formats/edi.h"
#include "transforms/formats/edifact_reader.h"
#include "transforms/formats/x12_reader.h"
#include "t.h"

#define T_EDI_MAX_EVENTS 5000000UL /* more means the reader is looping */

struct t_edi_sum {
	int rc;                      /* last *_next() result */
	struct err err;
	unsigned long nic, ngroups, nsets, nerr, nwarn, nevents, nseg;
	unsigned long sets_ok, sets_bad, groups_ok, groups_bad;
	unsigned long ic_ok, ic_bad;
	char types[256];             /* "850x2,810x1" in first-seen order */
	int have_err;
	struct edi_issue first_err;
	int have_warn;
	struct edi_issue first_warn;
	char ok_sets[512];           /* control numbers of sets ended ok */
	char bad_sets[512];          /* ... ended broken */
	char codes[512];             /* every issue code, space separated */
	char sha[4][65];             /* per interchange (first 4) */
	struct edi_delims delims[4];
	struct edi_ctx last_ic;      /* context at the last IC_END */
	char values[4096];           /* optional: see t_edi_probe */
	int nul_seen;                /* *_reader_nul_seen() at the end */
};

/* Called for every segment when set (tests that look at values). */
static void (*t_edi_probe)(const struct edi_event *ev, struct t_edi_sum *s);

static void t_edi_add_type(struct t_edi_sum *s, const char *t)
{
	char key[16], *p;
	size_t l;

	snprintf(key, sizeof(key), "%sx", t);
	l = strlen(key);
	for (p = s->types; (p = strstr(p, key)); p++)
		if (p == s->types || p[-1] == ',') {
			/* bump the count after "TYPEx" */
			char rest[256];
			unsigned long n = strtoul(p + l, NULL, 10);
			char *after = p + l;

			while (*after >= '0' && *after <= '9')
				after++;
			snprintf(rest, sizeof(rest), "%s", after);
			snprintf(p + l, sizeof(s->types) - (size_t)(p + l - s->types),
				 "%lu%s", n + 1, rest);
			return;
		}
	l = strlen(s->types);
	snprintf(s->types + l, sizeof(s->types) - l, "%s%s1", l ? "," : "",
		 key);
}

static void t_edi_cat(char *dst, size_t n, const char *s)
{
	size_t l = strlen(dst);

	snprintf(dst + l, n - l, "%s%s", l ? " " : "", s);
}

/* Reads fd to the end with the reader for fmt. */
static void t_edi_run_fd(int fd, const char *name, int fmt,
			 const struct edi_opts *o, struct t_edi_sum *s)
{
	struct x12_reader *xr = NULL;
	struct edifact_reader *er = NULL;
	struct edi_event ev;

	memset(s, 0, sizeof(*s));
	err_clear(&s->err);
	s->rc = fmt == EDI_FMT_X12
			? x12_reader_open_fd(&xr, fd, name, o, &s->err)
			: edifact_reader_open_fd(&er, fd, name, o, &s->err);
	if (s->rc < 0)
		return;
	for (;;) {
		s->rc = xr ? x12_reader_next(xr, &ev, &s->err)
			   : edifact_reader_next(er, &ev, &s->err);
		if (s->rc <= 0)
			break;
		if (++s->nevents > T_EDI_MAX_EVENTS) {
			s->rc = -2;
			break;
		}
		switch (ev.kind) {
		case EDI_EV_SEGMENT:
			s->nseg++;
			if (!strcmp(ev.seg->tag, "ST") ||
			    !strcmp(ev.seg->tag, "UNH"))
				t_edi_add_type(s, ev.ctx->set_type);
			if (t_edi_probe)
				t_edi_probe(&ev, s);
			break;
		case EDI_EV_ISSUE:
			t_edi_cat(s->codes, sizeof(s->codes),
				  edi_issue_name(ev.issue->code));
			if (ev.issue->severity == EDI_ERROR) {
				if (!s->nerr++) {
					s->first_err = *ev.issue;
					s->have_err = 1;
				}
			} else if (!s->nwarn++) {
				s->first_warn = *ev.issue;
				s->have_warn = 1;
			}
			break;
		case EDI_EV_SET_END:
			if (ev.ok) {
				s->sets_ok++;
				t_edi_cat(s->ok_sets, sizeof(s->ok_sets),
					  ev.ctx->set_control);
			} else {
				s->sets_bad++;
				t_edi_cat(s->bad_sets, sizeof(s->bad_sets),
					  ev.ctx->set_control);
			}
			break;
		case EDI_EV_GROUP_END:
			if (ev.ok)
				s->groups_ok++;
			else
				s->groups_bad++;
			break;
		case EDI_EV_IC_END:
			if (ev.ok)
				s->ic_ok++;
			else
				s->ic_bad++;
			if (ev.ctx->ic_index >= 1 && ev.ctx->ic_index <= 4) {
				memcpy(s->sha[ev.ctx->ic_index - 1],
				       ev.ctx->ic_sha256, 65);
				s->delims[ev.ctx->ic_index - 1] =
					ev.ctx->delims;
			}
			s->last_ic = *ev.ctx;
			break;
		}
	}
	if (xr) {
		x12_reader_stats(xr, NULL, NULL, &s->nic, &s->ngroups,
				 &s->nsets);
		s->nul_seen = x12_reader_nul_seen(xr);
	}
	if (er) {
		edifact_reader_stats(er, NULL, NULL, &s->nic, &s->ngroups,
				     &s->nsets);
		s->nul_seen = edifact_reader_nul_seen(er);
	}
	x12_reader_free(xr);
	edifact_reader_free(er);
}

static int t_edi_run_path(const char *path, int fmt, const struct edi_opts *o,
			  struct t_edi_sum *s)
{
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	t_edi_run_fd(fd, path, fmt, o, s);
	close(fd);
	return 0;
}

/* Writes n bytes of data to a file in the test directory and reads it. */
static int t_edi_run_mem(const char *data, size_t n, int fmt,
			 const struct edi_opts *o, struct t_edi_sum *s)
{
	FILE *f = fopen("sample.edi", "wb");

	if (!f)
		return -1;
	if (fwrite(data, 1, n, f) != n) {
		fclose(f);
		return -1;
	}
	if (fclose(f))
		return -1;
	return t_edi_run_path("sample.edi", fmt, o, s);
}

#define T_EDI_RUN(str, fmt, s) \
	T_ASSERT(t_edi_run_mem((str), strlen(str), (fmt), NULL, (s)) == 0)

#endif
