/* edi_peek.c - the envelope values routes select by (see edi_peek.h). */
#include "edi_peek.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "edi.h"
#include "edifact_reader.h"
#include "x12_reader.h"

static void copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

/* EDIFACT UNH 0052:0054 ("D:96A:UN:EAN008" -> "D96A"); X12 GS08, or ST03
 * and ISA12 where there is no group (DEX, a bare ST). */
static void set_version(struct edi_peek *p, const struct edi_ctx *c)
{
	if (p->format == EDI_FMT_EDIFACT) {
		const char *v = c->set_version, *colon = strchr(v, ':');
		size_t a = colon ? (size_t)(colon - v) : strlen(v), b = 0;

		if (colon) {
			const char *c2 = strchr(colon + 1, ':');

			b = c2 ? (size_t)(c2 - colon - 1) : strlen(colon + 1);
		}
		snprintf(p->version, sizeof(p->version), "%.*s%.*s", (int)a, v,
			 (int)b, colon ? colon + 1 : "");
		return;
	}
	copy(p->version, sizeof(p->version),
	     c->grp_version[0] ? c->grp_version
	     : c->set_version[0] ? c->set_version : c->ic_version);
}

/* Adds type to p->others unless it is the first or already there. */
static void add_other(struct edi_peek *p, const char *type)
{
	size_t n = strlen(p->others), l = strlen(type);
	const char *s = p->others;

	if (!strcmp(type, p->message))
		return;
	while (*s) {
		const char *e = strchr(s, ',');
		size_t k = e ? (size_t)(e - s) : strlen(s);

		if (k == l && !memcmp(s, type, l))
			return;
		s += k + (e ? 1 : 0);
	}
	if (n + l + 2 < sizeof(p->others))
		snprintf(p->others + n, sizeof(p->others) - n, "%s%s",
			 n ? "," : "", type);
}

int edi_peek_file(const char *path, int format, struct edi_peek *out,
		  struct err *err)
{
	struct x12_reader *xr = NULL;
	struct edifact_reader *fr = NULL;
	struct edi_opts o = {0, 1};
	struct edi_event ev;
	unsigned long nseg = 0, last_set = 0;
	int fd, r, rc = -1;

	memset(out, 0, sizeof(*out));
	out->format = format;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return err_sys(err, "cannot open '%s'", path);
	if (format == EDI_FMT_X12 ? x12_reader_open_fd(&xr, fd, path, &o, err)
				  : edifact_reader_open_fd(&fr, fd, path, &o, err))
		goto cleanup;
	for (;;) {
		const struct edi_ctx *c;

		r = xr ? x12_reader_next(xr, &ev, err)
		       : edifact_reader_next(fr, &ev, err);
		if (r < 0)
			goto cleanup;
		if (r == 0)
			break;
		if (ev.kind != EDI_EV_SEGMENT)
			continue;
		if (++nseg > EDI_PEEK_MAX_SEGMENTS) {
			out->bounded = 1;
			break;
		}
		c = xr ? x12_reader_ctx(xr) : edifact_reader_ctx(fr);
		if (!c->set_open || !c->set_type[0] || c->set_index == last_set)
			continue;
		last_set = c->set_index;
		out->nsets++;
		if (!out->message[0]) {
			copy(out->message, sizeof(out->message), c->set_type);
			set_version(out, c);
			copy(out->sender, sizeof(out->sender), c->ic_sender);
			copy(out->grp_sender, sizeof(out->grp_sender),
			     c->grp_sender);
		} else {
			add_other(out, c->set_type);
		}
	}
	rc = 0;
cleanup:
	x12_reader_free(xr);
	edifact_reader_free(fr);
	close(fd);
	return rc;
}
