/* edi_env.h - the envelope engine under x12_reader.c and edifact_reader.c.
 * Private to those two files (and tests/unit/t_edi_env.c); consumers use
 * edi.h.
 *
 * X12 and EDIFACT nest the same three envelopes: the interchange (ISA..IEA,
 * DXS..DXE, UNB..UNZ), the group (GS..GE, UNG..UNE) and the set or message
 * (ST..SE, UNH..UNT). Every trailer repeats its header's control number
 * and counts what it closes. What differs between the standards is data,
 * held in one struct edi_env_desc per envelope kind (edi_env_x12,
 * edi_env_dex, edi_env_edifact): the tags, which trailer element holds the
 * count and which the control number, which header elements fill the
 * context, the tag length, the words of the messages. The engine walks any
 * of them the same way: it opens and closes groups and sets, checks counts
 * and control numbers, reports missing headers and trailers, segments
 * outside a set, bad tags, wrapped lines, data outside interchanges and a
 * file without one. A reader keeps only what is its own: recognising and
 * reading its interchange header (the raw ISA, DXS, UNA and UNB) and, for
 * EDIFACT, character sets -- through the hooks of its descriptor.
 *
 * Stepping is the engine's too (env_next): skip whitespace, give the
 * reader's header hook a look at segment starts that may be a header,
 * resynchronise outside interchanges, read the segment, process it.
 */
#ifndef STOCKPIPE_EDI_ENV_H
#define STOCKPIPE_EDI_ENV_H

#include <stddef.h>

#include "edi_core.h"

struct edi_env;

/* A trailer: which of its elements is the count of what it closes and
 * which repeats the header's control number (checked in element order). */
struct edi_env_trailer {
	const char *tag;          /* "SE", "UNT", "IEA", "DXE", ... */
	uint32_t code;            /* EDI_TAG(tag) */
	unsigned char count_elem; /* SE01 */
	unsigned char ctl_elem;   /* SE02 */
	const char *ctl_name;     /* the header element repeated: "ST02" */
	const char *count_what;   /* "segment count", "set count", ... */
};

/* A header value copied into the context: component comp of element elem
 * into the char array at offset off (size bytes) of struct edi_ctx; when
 * last > comp, components comp..last joined by ':' as long as present
 * (UNH02 "D:96A:UN:EAN008"). Absent values read as "", longer ones are
 * cut to the field. */
struct edi_env_field {
	unsigned short off, size;
	unsigned char elem, comp, last;
};

/* One envelope level (group or set): header tag, the context fields its
 * header fills, its trailer. */
struct edi_env_level {
	const char *hdr;          /* "GS", "UNG", "ST", "UNH" */
	uint32_t hdr_code;
	const struct edi_env_field *fields;
	unsigned nfields;
	struct edi_env_trailer trl;
};

/* What the interchange trailer counts. */
enum { ENV_COUNT_GROUPS, ENV_COUNT_SETS, ENV_COUNT_GROUPS_OR_SETS };

struct edi_env_desc {
	int format;               /* EDI_FMT_X12, EDI_FMT_EDIFACT */
	struct edi_env_level grp, set;
	struct edi_env_trailer ic;
	int ic_counts;            /* ENV_COUNT_*; the set count's words are
				   * grp.trl.count_what */
	/* A segment tag is 2 alphanumerics of tag_min..3 characters;
	 * tag_len names that range in the warning ("2-3"). */
	unsigned tag_min;
	const char *tag_len;
	const char *set_word;     /* "transaction set", "message" */
	/* Segments allowed between the interchange header and the first
	 * group (X12 TA1/ISB/ISE). */
	uint32_t between[3];
	unsigned nbetween;
	/* Trailers that may lack the terminator at the very end (a warning,
	 * not an error). */
	uint32_t final_ok[2];
	unsigned nfinal_ok;
	const char *grp_forbidden; /* error text for a group header here
				    * (GS inside DXS/DXE), or NULL */
	const char *set_needs_grp; /* error text for a set outside a group,
				    * or NULL when that is allowed */
	const char *resync;       /* headers to resynchronise at, as for
				   * core_resync(): "ISA\0DXS\0" */
	const char *not_this;     /* "not X12: no ISA or DXS found" */
	const char *svc_tag;      /* a service header that can be pending
				   * without its interchange (UNA), or NULL */
	unsigned peek;            /* bytes the header hook looks at */
	/* Segment starts whose first byte is marked here (and every start
	 * outside an interchange) go to the header hook first. */
	unsigned char lead[256];
	/* The first letters of the envelope tags (grp, set, ic trailer,
	 * ic_hdr_code): a segment starting otherwise is content, which
	 * spares it the comparisons with each tag. */
	unsigned char env_lead[256];
	/* Hooks. header: at a segment start p[0..n) (n >= 1): reads a
	 * header and returns 0, returns 1 to let the engine go on (read the
	 * segment or resynchronise), -1 with err. ic_hdr: an interchange
	 * header that arrives as an ordinary segment (UNB), before it is
	 * checked. note: a segment with bytes that need a look (>= 0x80).
	 * recheck: the next segment, before it is checked, when e->recheck
	 * is set (X12: is ISA16 missing? EDIFACT: a message without UNB).
	 * Each may be NULL but header. */
	int (*header)(struct edi_env *e, const unsigned char *p, long n,
		      struct err *err);
	uint32_t ic_hdr_code;
	void (*ic_hdr)(struct edi_env *e);
	void (*note)(struct edi_env *e);
	void (*recheck)(struct edi_env *e);
};

/* The descriptors, each defined by its reader: ISA..IEA and DXS..DXE in
 * x12_reader.c, UNB..UNZ in edifact_reader.c. */
extern const struct edi_env_desc edi_env_x12, edi_env_dex, edi_env_edifact;

/* Table rows: ENV_FIELD(grp_control, 6, 1, 0) is GS06 into grp_control;
 * ENV_TRL("SE", 1, 2, "ST02", "segment count") is SE01 the count, SE02
 * the control number. */
#define ENV_FIELD(field, e, c, l)                                         \
	{offsetof(struct edi_ctx, field),                                  \
	 sizeof(((struct edi_ctx *)0)->field), e, c, l}
#define ENV_TRL(t, ce, ke, name, what) {t, EDI_TAG(t), ce, ke, name, what}
#define ENV_N(a) (unsigned)(sizeof(a) / sizeof((a)[0]))

/* The engine's state; the first member of each reader's struct, so a hook
 * can turn its struct edi_env * back into the reader. */
struct edi_env {
	struct edi_core c;
	const struct edi_env_desc *d;
	int in_garbage;           /* OUTSIDE reported for this junk run */
	int hdr_bad;              /* the interchange header was bad: no set
				   * or group in it ends ok */
	int wrap_warned;          /* WRAPPED reported in this interchange */
	int svc_pending;          /* d->svc_tag read, its interchange not */
	int recheck;              /* call d->recheck on the next segment */
	unsigned long ngroups, nsets; /* in the file */
};

/* Opens the core on fd with descriptor d and skips a UTF-8 BOM. Returns
 * 0, or -1 with err (the core released). */
int env_open(struct edi_env *e, int fd, const char *name,
	     const struct edi_opts *o, const struct edi_env_desc *d,
	     struct err *err);
/* As x12_reader_next(). */
int env_next(struct edi_env *e, struct edi_event *ev, struct err *err);
/* As x12_reader_stats(). */
void env_stats(const struct edi_env *e, unsigned long *nissues,
	       unsigned long *nerrors, unsigned long *nic,
	       unsigned long *ngroups, unsigned long *nsets);

/* Starts a new interchange in the context: closes the open one (missing
 * trailers reported), resets the context keeping the file-wide counters,
 * counts it. The reader then reads its header. */
void env_begin_ic(struct edi_env *e);
/* Closes an open set, group and interchange, each reported missing; why
 * says where ("at end of data"). */
void env_close_all(struct edi_env *e, const char *why);
/* Copies the header fields f[0..n) of segment s into the context. */
void env_fields(struct edi_ctx *x, const struct edi_seg *s,
		const struct edi_env_field *f, unsigned n);

#endif
