/* cmd_inspect_edi.c - `inspect` on X12 and EDIFACT: what sniff_file()
 * found, as text or JSON. The envelope part (interchanges, delimiters,
 * issues with their locations, totals, verdict) keeps the layout inspect
 * always had; messages with versions, segment tags with their element
 * positions and qualifier codes, and the repetition separator's splits
 * follow it: what a mapping needs to be written.
 */
#include <stdio.h>
#include <string.h>

#include "lib/buf.h"
#include "pipeline/cli/cmd_inspect_int.h"

static const char *plural(unsigned long n)
{
	return n == 1 ? "" : "s";
}

static void ic_json(struct buf *b, const struct sniff_interchange *ic,
		    unsigned long index, int x12)
{
	const struct edi_delims *d = &ic->delims;

	buf_addf(b, "{\"index\":%lu", index);
	inspect_json_kv(b, "control", ic->control, 1);
	inspect_json_kv(b, "sender", ic->sender, 1);
	inspect_json_kv(b, "sender_qualifier", ic->sender_qual, 1);
	inspect_json_kv(b, "receiver", ic->receiver, 1);
	inspect_json_kv(b, "receiver_qualifier", ic->receiver_qual, 1);
	inspect_json_kv(b, "date", ic->date, 1);
	inspect_json_kv(b, "time", ic->time, 1);
	inspect_json_kv(b, "version", ic->version, 1);
	inspect_json_kv(b, "charset", ic->charset, 1);
	inspect_json_kv(b, "test", ic->test, 1);
	inspect_json_delim(b, "elem", d->elem);
	inspect_json_delim(b, "comp", d->comp);
	inspect_json_delim(b, "rep", d->rep);
	inspect_json_delim(b, "seg", d->seg);
	if (!x12) {
		inspect_json_delim(b, "rel", d->rel);
		inspect_json_delim(b, "dec", d->dec);
	}
	buf_addf(b, ",\"groups\":%lu,\"sets\":%lu", ic->groups, ic->sets);
	if (ic->declared_groups >= 0)
		buf_addf(b, ",\"declared\":%ld", ic->declared_groups);
	buf_addf(b, ",\"ok\":%s", ic->ok ? "true" : "false");
	inspect_json_kv(b, "sha256", ic->sha256, 1);
	buf_addc(b, '}');
}

/* What the trailer declares (IEA01: groups; UNZ01: groups, or messages
 * when the interchange has no groups) against what was counted. */
static unsigned long ic_counted(const struct sniff_interchange *ic, int x12)
{
	return x12 || ic->groups ? ic->groups : ic->sets;
}

static void ic_text(const struct sniff *s, const struct sniff_interchange *ic,
		    unsigned long index)
{
	const struct sniff_edi *e = &s->u.edi;
	const struct edi_delims *d = &ic->delims;
	int x12 = s->format == SNIFF_X12;
	char el[32], co[32], re[32], sg[32];

	printf("  interchange %lu: control %s, sender %s%s%s, receiver %s%s%s, "
	       "date %s %s",
	       index, ic->control[0] ? ic->control : "-", ic->sender_qual,
	       ic->sender_qual[0] ? ":" : "", ic->sender, ic->receiver_qual,
	       ic->receiver_qual[0] ? ":" : "", ic->receiver, ic->date,
	       ic->time);
	if (x12)
		printf(", version %s%s%s%s\n",
		       ic->version[0] ? ic->version : "-",
		       e->dex ? " (DEX envelope)" : "",
		       ic->test[0] ? ", usage " : "", ic->test);
	else
		printf(", syntax %s:%s%s%s\n", ic->charset, ic->version,
		       ic->test[0] ? ", test " : "", ic->test);
	inspect_delim_text(el, sizeof(el), "element", d->elem);
	inspect_delim_text(co, sizeof(co), "component", d->comp);
	inspect_delim_text(re, sizeof(re), "repetition", d->rep);
	inspect_delim_text(sg, sizeof(sg), "segment", d->seg);
	printf("    delimiters: %s, %s, %s, %s", el, co, re, sg);
	if (d->nseg_tail) {
		unsigned i;

		for (i = 0; i < d->nseg_tail; i++)
			printf(" %02X", d->seg_tail[i]);
	}
	if (!x12) {
		inspect_delim_text(el, sizeof(el), "release", d->rel);
		inspect_delim_text(co, sizeof(co), "decimal", d->dec);
		printf(", %s, %s%s", el, co, ic->una ? " (UNA)" : " (defaults)");
	}
	printf("\n    charset: %s\n",
	       x12 ? (e->ebcdic ? "EBCDIC CP037 (translated)"
				: "bytes as in the file")
		   : ic->charset[0] ? ic->charset : "-");
	printf("    %lu group%s, %lu set%s", ic->groups, plural(ic->groups),
	       ic->sets, plural(ic->sets));
	if (ic->declared_groups >= 0 &&
	    (unsigned long)ic->declared_groups != ic_counted(ic, x12))
		printf(" (%s01 says %ld)", x12 ? "IEA" : "UNZ",
		       ic->declared_groups);
	printf(", %s, sha256 %s\n", ic->ok ? "ok" : "ERRORS",
	       ic->sha256[0] ? ic->sha256 : "-");
}

static void finding_json(struct buf *b, const struct sniff_finding *f)
{
	const struct edi_issue *is = &f->issue;

	inspect_json_kv(b, "severity",
			f->severity == EDI_ERROR ? "error" : "warning", 0);
	inspect_json_kv(b, "code", f->code, 1);
	buf_addf(b,
		 ",\"interchange\":%lu,\"segment\":%lu,"
		 "\"segment_in_interchange\":%lu,"
		 "\"segment_in_set\":%lu,\"element\":%u,\"line\":%lu",
		 is->ic_index, is->seg_in_file, is->seg_in_ic, is->seg_in_set,
		 is->elem, is->line);
	inspect_json_kv(b, "interchange_control", is->ic_control, 1);
	inspect_json_kv(b, "set_control", is->set_control, 1);
	inspect_json_kv(b, "segment_id", is->seg_id, 1);
	inspect_json_kv(b, "reason", is->reason, 1);
}

/* Message types summed over their versions, for the totals line and
 * "set_types" (the shape inspect always had). */
static void type_totals(const struct sniff_edi *e, int json, struct buf *b)
{
	unsigned i, j, shown = 0;

	for (i = 0; i < e->nmessages; i++) {
		unsigned long n = 0;

		for (j = 0; j < i; j++)
			if (!strcmp(e->messages[j].type, e->messages[i].type))
				break;
		if (j < i)
			continue; /* summed at its first version */
		for (j = i; j < e->nmessages; j++)
			if (!strcmp(e->messages[j].type, e->messages[i].type))
				n += e->messages[j].n;
		if (json) {
			buf_adds(b, shown ? "," : "");
			buf_add_json_str(b, e->messages[i].type,
					 strlen(e->messages[i].type));
			buf_addf(b, ":%lu", n);
		} else {
			printf("%s%sx%lu", shown ? "," : " (",
			       e->messages[i].type, n);
		}
		shown++;
	}
	if (!json && shown)
		printf(")");
}

/* Whether element el of a tag shows components (a composite): then its
 * positions are named QTY01-1, else QTY01. */
static int composite(const struct sniff_segment *g, unsigned el)
{
	unsigned i;

	for (i = 0; i < g->nelems; i++)
		if (g->elems[i].elem == el && g->elems[i].comp > 1)
			return 1;
	return 0;
}

static void position_name(char *o, size_t n, const struct sniff_segment *g,
			  const struct sniff_elem *p)
{
	if (composite(g, p->elem))
		snprintf(o, n, "%s%02u-%u", g->tag, p->elem, p->comp);
	else
		snprintf(o, n, "%s%02u", g->tag, p->elem);
}

static void segments_text(const struct sniff_edi *e)
{
	unsigned i, j, k;

	printf("  segments (%u tag%s; per element position: the qualifier "
	       "codes seen, or a sample value):\n",
	       e->nsegs, e->nsegs == 1 ? "" : "s");
	for (i = 0; i < e->nsegs; i++) {
		const struct sniff_segment *g = &e->segs[i];

		printf("    %-4s x%lu (first: segment %lu)%s\n", g->tag, g->n,
		       g->first_seg,
		       sniff_is_envelope(g->tag) ? " envelope, see above" : "");
		for (j = 0; j < g->nelems && !sniff_is_envelope(g->tag); j++) {
			const struct sniff_elem *p = &g->elems[j];
			char name[24];

			position_name(name, sizeof(name), g, p);
			printf("      %-10s ", name);
			if (p->is_code) {
				printf("codes:");
				for (k = 0; k < p->ncodes; k++)
					printf("%s %s (%lu)", k ? "," : "",
					       p->codes[k].value, p->codes[k].n);
			} else {
				printf("e.g. ");
				inspect_put_value(stdout, p->sample);
			}
			printf("%s\n", p->repeated ? "  [split on the "
						     "repetition separator]"
						   : "");
		}
	}
	if (e->nsegs_more)
		printf("    ... %lu more segments of tags not listed (over "
		       "the tag limit)\n", e->nsegs_more);
}

static void segments_json(const struct sniff_edi *e, struct buf *b)
{
	unsigned i, j, k;

	buf_adds(b, ",\"segments\":[");
	for (i = 0; i < e->nsegs; i++) {
		const struct sniff_segment *g = &e->segs[i];

		buf_adds(b, i ? ",{" : "{");
		inspect_json_kv(b, "tag", g->tag, 0);
		buf_addf(b, ",\"n\":%lu,\"first_segment\":%lu,\"elements\":[",
			 g->n, g->first_seg);
		for (j = 0; j < g->nelems; j++) {
			const struct sniff_elem *p = &g->elems[j];
			char name[24];

			position_name(name, sizeof(name), g, p);
			buf_adds(b, j ? ",{" : "{");
			inspect_json_kv(b, "name", name, 0);
			buf_addf(b, ",\"element\":%u,\"component\":%u,\"n\":%lu",
				 p->elem, p->comp, p->n);
			inspect_json_kv(b, "sample", p->sample ? p->sample : "",
					1);
			buf_addf(b, ",\"qualifier\":%s,\"repeated\":%s,"
				 "\"codes\":{",
				 p->is_code ? "true" : "false",
				 p->repeated ? "true" : "false");
			for (k = 0; k < p->ncodes; k++) {
				buf_adds(b, k ? "," : "");
				buf_add_json_str(b, p->codes[k].value,
						 strlen(p->codes[k].value));
				buf_addf(b, ":%lu", p->codes[k].n);
			}
			buf_adds(b, "}}");
		}
		buf_adds(b, "]}");
	}
	buf_addf(b, "],\"segments_not_listed\":%lu", e->nsegs_more);
}

static void messages_out(const struct sniff_edi *e, int json, struct buf *b)
{
	unsigned i;

	if (json) {
		buf_adds(b, ",\"messages\":[");
		for (i = 0; i < e->nmessages; i++) {
			buf_adds(b, i ? ",{" : "{");
			inspect_json_kv(b, "type", e->messages[i].type, 0);
			inspect_json_kv(b, "version", e->messages[i].version, 1);
			buf_addf(b, ",\"n\":%lu}", e->messages[i].n);
		}
		buf_adds(b, "]");
		return;
	}
	for (i = 0; i < e->nmessages; i++)
		printf("%s%s %s x%lu", i ? ", " : "  messages: ",
		       e->messages[i].type,
		       e->messages[i].version[0] ? e->messages[i].version : "-",
		       e->messages[i].n);
	if (e->nmessages_more)
		printf(", %lu more (over the limit)", e->nmessages_more);
	if (e->nmessages)
		printf("\n");
}

static void edi_json(const struct sniff *s, struct buf *b)
{
	const struct sniff_edi *e = &s->u.edi;
	unsigned i;

	buf_addf(b,
		 ",\"valid\":%s,\"interchanges\":%lu,\"groups\":%lu,"
		 "\"sets\":%lu,\"set_types\":{",
		 e->nerrors ? "false" : "true", e->ninterchanges, e->ngroups,
		 e->nsets);
	type_totals(e, 1, b);
	buf_adds(b, "},\"interchange_list\":[");
	for (i = 0; i < e->nics; i++) {
		buf_adds(b, i ? "," : "");
		ic_json(b, &e->ics[i], i + 1, s->format == SNIFF_X12);
	}
	buf_adds(b, "],\"issues\":[");
	for (i = 0; i < e->nfindings; i++) {
		buf_adds(b, i ? ",{" : "{");
		finding_json(b, &e->findings[i]);
		buf_addc(b, '}');
	}
	buf_addf(b, "],\"errors\":%lu,\"warnings\":%lu", e->nerrors,
		 e->nwarnings);
	inspect_json_kv(b, "message", s->message, 1);
	inspect_json_kv(b, "message_version", s->message_version, 1);
	messages_out(e, 1, b);
	inspect_json_kv(b, "version", e->version, 1);
	inspect_json_delim(b, "repetition_separator",
			   e->nics ? e->ics[0].delims.rep : -1);
	buf_addf(b, ",\"repetition_splits\":%lu", e->rep_splits);
	segments_json(e, b);
}

int inspect_edi(const struct sniff *s, int json, struct buf *out)
{
	const struct sniff_edi *e = &s->u.edi;
	unsigned i;

	if (json) {
		edi_json(s, out);
		return e->nerrors ? 1 : 0;
	}
	for (i = 0; i < e->nics; i++)
		ic_text(s, &e->ics[i], i + 1);
	if (e->nics_more)
		printf("  ... %lu more interchanges not shown\n", e->nics_more);
	for (i = 0; i < e->nfindings; i++)
		printf("  %s\n", e->findings[i].text);
	if (e->nfindings_more)
		printf("  ... %lu more issues not shown\n", e->nfindings_more);
	printf("  total: %lu interchange%s, %lu group%s, %lu set%s",
	       e->ninterchanges, plural(e->ninterchanges), e->ngroups,
	       plural(e->ngroups), e->nsets, plural(e->nsets));
	type_totals(e, 0, NULL);
	printf("\n");
	messages_out(e, 0, NULL);
	if (e->rep_splits)
		printf("  repetition separator: split %lu value%s (see the "
		       "warnings: a mapping reads the first part)\n",
		       e->rep_splits, plural(e->rep_splits));
	if (e->nsegs)
		segments_text(e);
	printf("  result: %s (%lu error%s, %lu warning%s)\n",
	       e->nerrors ? "INVALID" : "valid", e->nerrors,
	       plural(e->nerrors), e->nwarnings, plural(e->nwarnings));
	return e->nerrors ? 1 : 0;
}
