/* outbound_edi.c - X12 and EDIFACT output of outbound mappings.
 *
 * A mapping names the partner's envelope (envelope:), the segments after
 * ST/UNH (header:), the segments of each row (segments:) and the segments
 * before SE/UNT (trailer:). Every element is a template: literal text with
 * {expression} parts (docs/mapping.md, section 10). This module writes
 * one interchange with one group (X12) and one transaction set/message per
 * document:
 *
 *   X12      ISA GS ST header... rows... trailer... SE GE IEA
 *   EDIFACT  UNA UNB UNH header... rows... trailer... UNT UNZ
 *
 * ISA13 (zero-padded to 9), GS06, ST02 (at least 4 digits), UNB05 and
 * UNH01 are env->control; dates and times are env->now in UTC. SE01/UNT01
 * count ST/UNH to SE/UNT: 1 + header + env->segments + trailer + 1.
 *
 * Data: EDIFACT values are escaped with the release character (before
 * the element, component, segment, repetition and release characters)
 * and converted to the interchange's character set. X12 has no escape:
 * a value holding a delimiter is refused with an error naming the row,
 * the element and the template's file:line:col. Control characters are
 * refused in both.
 */
#include "outbound_int.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Compiling                                                            */

static int is_edifact(const struct outbound *o)
{
	return o->fmt == OB_EDIFACT;
}

/* Text of scalar key in m into dst (at most max bytes, at least min);
 * def when absent (NULL def = required). */
static int env_str(struct outbound *o, const struct ynode *m, const char *key,
		   const char *def, size_t min, size_t max, char *dst,
		   size_t dstn, struct err *err)
{
	const struct ynode *n = ynode_get(m, key);

	if (!n) {
		if (!def)
			return ynode_err(o->yt, m, err, E_CONFIG,
					 "envelope: needs %s:", key);
		return str_copy(dst, dstn, def) < 0
			       ? ynode_err(o->yt, m, err, E_CONFIG,
					   "default of %s: too long", key)
			       : 0;
	}
	if (n->type != Y_SCALAR)
		return ynode_err(o->yt, n, err, E_CONFIG, "%s: is one value",
				 key);
	if (n->len < min || n->len > max || n->len >= dstn) {
		if (min == max)
			return ynode_err(o->yt, n, err, E_CONFIG,
					 "%s: is %zu characters, '%s' has %zu",
					 key, min, n->value, n->len);
		return ynode_err(o->yt, n, err, E_CONFIG,
				 "%s: is %zu to %zu characters, '%s' has %zu",
				 key, min, max, n->value, n->len);
	}
	memcpy(dst, n->value, n->len + 1);
	return 0;
}

/* sender:/receiver: { id: ..., qualifier: ... } */
static int env_party(struct outbound *o, const struct ynode *env,
		     const char *key, char *q, size_t qn, char *id, size_t idn,
		     struct err *err)
{
	const struct ynode *n = ynode_get(env, key);
	size_t i;
	int edifact = is_edifact(o);

	if (!n || n->type != Y_MAP)
		return ynode_err(o->yt, n ? n : env, err, E_CONFIG,
				 "envelope: needs %s: { id: ..., qualifier: ... }",
				 key);
	for (i = 0; i < n->n; i += 2)
		if (strcmp(n->items[i]->value, "id") &&
		    strcmp(n->items[i]->value, "qualifier"))
			return ynode_err(o->yt, n->items[i], err, E_CONFIG,
					 "unknown key '%s' in %s: (id, qualifier)",
					 n->items[i]->value, key);
	if (env_str(o, n, "id", NULL, 1, edifact ? 35 : 15, id, idn, err) ||
	    env_str(o, n, "qualifier", edifact ? "" : NULL, edifact ? 0 : 2,
		    edifact ? 4 : 2, q, qn, err))
		return -1;
	return 0;
}

static int delim(struct outbound *o, const struct ynode *d, const char *key,
		 char def, char *out, struct err *err)
{
	const struct ynode *n = d ? ynode_get(d, key) : NULL;

	*out = def;
	if (!n)
		return 0;
	if (n->type != Y_SCALAR || n->len != 1)
		return ynode_err(o->yt, n, err, E_CONFIG,
				 "%s: is one character", key);
	if (isalnum((unsigned char)n->value[0]) || n->value[0] == ' ' ||
	    (unsigned char)n->value[0] >= 0x80)
		return ynode_err(o->yt, n, err, E_CONFIG,
				 "%s: '%s' cannot be a delimiter (a letter, digit, space or non-ASCII byte is data)",
				 key, n->value);
	*out = n->value[0];
	return 0;
}

/* Refuses s when it holds a delimiter (envelope values are written as
 * they are). */
static int env_clean(struct outbound *o, const struct ynode *at,
		     const char *what, const char *s, struct err *err)
{
	const struct ob_edi *d = &o->edi;

	for (; *s; s++)
		if (*s == d->elem || *s == d->comp || *s == d->seg ||
		    (d->rep && *s == d->rep) || (d->rel && *s == d->rel) ||
		    (unsigned char)*s < 0x20)
			return ynode_err(o->yt, at, err, E_CONFIG,
					 "%s contains the delimiter '%c'", what,
					 *s);
	return 0;
}

static int check_keys(struct outbound *o, const struct ynode *m,
		      const char *const *known, const char *what,
		      struct err *err)
{
	return ynode_check_keys(o->yt, m, known, what, 0, err);
}

/* The parties, cleaned alike for both standards; they name the
 * control-number counter ("x12:ZZ:SENDER:ZZ:RECEIVER"). */
static int env_parties(struct outbound *o, const struct ynode *env,
		       const char *std, struct err *err)
{
	struct ob_edi *d = &o->edi;
	const struct ynode *n = ynode_get(env, "sender");

	if (env_clean(o, n, "sender", d->sender, err) ||
	    env_clean(o, n, "sender qualifier", d->sender_q, err))
		return -1;
	n = ynode_get(env, "receiver");
	if (env_clean(o, n, "receiver", d->receiver, err) ||
	    env_clean(o, n, "receiver qualifier", d->receiver_q, err))
		return -1;
	snprintf(d->counter, sizeof(d->counter), "%s:%s:%s:%s:%s", std,
		 d->sender_q, d->sender, d->receiver_q, d->receiver);
	return 0;
}

static int env_x12(struct outbound *o, const struct ynode *env,
		   struct err *err)
{
	static const char *const known[] = {
		"sender", "receiver", "application_sender",
		"application_receiver", "version", "group_version",
		"functional_id", "transaction", "usage", "ack_requested",
		"delimiters", "line_end", NULL};
	static const char *const fids[][2] = {
		{"846", "IB"}, {"832", "SC"}, {"852", "PD"}, {"850", "PO"},
		{"855", "PR"}, {"856", "SH"}, {"810", "IN"}, {NULL, NULL}};
	struct ob_edi *d = &o->edi;
	const struct ynode *dl = ynode_get(env, "delimiters"), *n;
	char gv[16], tmp[4];
	size_t i;

	if (check_keys(o, env, known, "envelope: (x12)", err))
		return -1;
	if (env_party(o, env, "sender", d->sender_q, sizeof(d->sender_q),
		      d->sender, sizeof(d->sender), err) ||
	    env_party(o, env, "receiver", d->receiver_q,
		      sizeof(d->receiver_q), d->receiver, sizeof(d->receiver),
		      err) ||
	    env_str(o, env, "application_sender", d->sender, 2, 15, d->gs02,
		    sizeof(d->gs02), err) ||
	    env_str(o, env, "application_receiver", d->receiver, 2, 15,
		    d->gs03, sizeof(d->gs03), err) ||
	    env_str(o, env, "version", NULL, 5, 5, d->isa12, sizeof(d->isa12),
		    err) ||
	    env_str(o, env, "transaction", NULL, 3, 3, d->st01,
		    sizeof(d->st01), err))
		return -1;
	for (i = 0; i < 5; i++)
		if (!isdigit((unsigned char)d->isa12[i]))
			return ynode_err(o->yt, ynode_get(env, "version"), err,
					 E_CONFIG,
					 "version: is the ISA12 version, five digits (00401)");
	snprintf(gv, sizeof(gv), "%s0", d->isa12);
	if (env_str(o, env, "group_version", gv, 1, 12, d->gs08,
		    sizeof(d->gs08), err))
		return -1;
	for (i = 0; fids[i][0] && strcmp(fids[i][0], d->st01); i++)
		;
	if (env_str(o, env, "functional_id", fids[i][1], 2, 2, d->gs01,
		    sizeof(d->gs01), err))
		return -1;
	if (env_str(o, env, "ack_requested", "0", 1, 1, tmp, sizeof(tmp), err))
		return -1;
	if (tmp[0] != '0' && tmp[0] != '1')
		return ynode_err(o->yt, ynode_get(env, "ack_requested"), err,
				 E_CONFIG, "ack_requested: is 0 or 1 (ISA14)");
	d->ack = tmp[0];
	if (dl && dl->type != Y_MAP)
		return ynode_err(o->yt, dl, err, E_CONFIG,
				 "delimiters: is { element:, component:, segment:, repetition: }");
	if (dl) {
		static const char *const dk[] = {"element", "component",
						 "segment", "repetition", NULL};

		if (check_keys(o, dl, dk, "delimiters: (x12)", err))
			return -1;
	}
	if (delim(o, dl, "element", '*', &d->elem, err) ||
	    delim(o, dl, "component", '>', &d->comp, err) ||
	    delim(o, dl, "segment", '~', &d->seg, err) ||
	    delim(o, dl, "repetition", '^', &d->rep, err))
		return -1;
	/* ISA11 is the repetition separator from 00402 on; before, it is
	 * the standards identifier U and there is no repetition. */
	if (strcmp(d->isa12, "00402") < 0) {
		if (dl && (n = ynode_get(dl, "repetition")))
			return ynode_err(o->yt, n, err, E_CONFIG,
					 "version %s has no repetition separator (ISA11 is 'U' before 00402)",
					 d->isa12);
		d->rep = 0;
	}
	if (d->elem == d->comp || d->elem == d->seg || d->comp == d->seg ||
	    (d->rep && (d->rep == d->elem || d->rep == d->comp ||
			d->rep == d->seg)))
		return ynode_err(o->yt, dl ? dl : env, err, E_CONFIG,
				 "delimiters must differ from each other");
	if (env_parties(o, env, "x12", err) ||
	    env_clean(o, env, "application_sender", d->gs02, err) ||
	    env_clean(o, env, "application_receiver", d->gs03, err) ||
	    env_clean(o, env, "group_version", d->gs08, err))
		return -1;
	return 0;
}

/* syntax: CHARSET:VERSION and version: VERSION:RELEASE:AGENCY (the UNB
 * syntax identifier and the UNH message identifier). */
static int edifact_syntax_version(struct outbound *o, const struct ynode *env,
				  char *syn, char *ver, struct err *err)
{
	static const char *const sets[] = {"UNOA", "UNOB", "UNOC", "UNOW",
					   "UNOY", NULL};
	struct ob_edi *d = &o->edi;
	char *p, *q;
	size_t i;

	memcpy(d->charset, syn, 4);
	d->charset[4] = '\0';
	for (i = 0; sets[i] && strcmp(sets[i], d->charset); i++)
		;
	if (!sets[i] || syn[4] != ':' || syn[5] < '1' || syn[5] > '4')
		return ynode_err(o->yt, ynode_get(env, "syntax"), err,
				 E_CONFIG,
				 "syntax: is CHARSET:VERSION, e.g. UNOC:3 (character sets: UNOA, UNOB, UNOC, UNOW, UNOY; versions 1-4)");
	d->syntax = syn[5] - '0';
	if ((!strcmp(d->charset, "UNOW") || !strcmp(d->charset, "UNOY")) &&
	    d->syntax < 4)
		return ynode_err(o->yt, ynode_get(env, "syntax"), err,
				 E_CONFIG, "%s needs syntax version 4",
				 d->charset);
	/* version: D:96A:UN */
	p = strchr(ver, ':');
	q = p ? strchr(p + 1, ':') : NULL;
	if (!p || !q || strchr(q + 1, ':') || p - ver > 3 || q - p - 1 > 3 ||
	    p == ver || q == p + 1 || !q[1] || strlen(q + 1) > 2)
		return ynode_err(o->yt, ynode_get(env, "version"), err,
				 E_CONFIG,
				 "version: is VERSION:RELEASE:AGENCY, e.g. D:96A:UN or D:01B:UN");
	*p = *q = '\0';
	if (str_copy(d->msg_ver, sizeof(d->msg_ver), ver) ||
	    str_copy(d->msg_rel, sizeof(d->msg_rel), p + 1) ||
	    str_copy(d->msg_agency, sizeof(d->msg_agency), q + 1))
		return ynode_err(o->yt, ynode_get(env, "version"), err,
				 E_CONFIG, "version: parts too long");
	return 0;
}

/* una: and delimiters:; the repetition separator exists from syntax
 * version 4, and other delimiters than the defaults must be announced in
 * the UNA. */
static int edifact_delimiters(struct outbound *o, const struct ynode *env,
			      struct err *err)
{
	struct ob_edi *d = &o->edi;
	const struct ynode *dl = ynode_get(env, "delimiters"), *n;

	d->una = 1;
	if ((n = ynode_get(env, "una"))) {
		if (n->type == Y_SCALAR && !strcmp(n->value, "false"))
			d->una = 0;
		else if (n->type != Y_SCALAR || strcmp(n->value, "true"))
			return ynode_err(o->yt, n, err, E_CONFIG,
					 "una: is true or false");
	}
	if (dl && dl->type != Y_MAP)
		return ynode_err(o->yt, dl, err, E_CONFIG,
				 "delimiters: is { element:, component:, segment:, release:, repetition: }");
	if (dl) {
		static const char *const dk[] = {"element", "component",
						 "segment", "release",
						 "repetition", NULL};

		if (check_keys(o, dl, dk, "delimiters: (edifact)", err))
			return -1;
	}
	if (delim(o, dl, "element", '+', &d->elem, err) ||
	    delim(o, dl, "component", ':', &d->comp, err) ||
	    delim(o, dl, "segment", '\'', &d->seg, err) ||
	    delim(o, dl, "release", '?', &d->rel, err) ||
	    delim(o, dl, "repetition", '*', &d->rep, err))
		return -1;
	d->dec = '.';
	if (d->syntax < 4) {
		if (dl && (n = ynode_get(dl, "repetition")))
			return ynode_err(o->yt, n, err, E_CONFIG,
					 "syntax version %d has no repetition separator (version 4 has)",
					 d->syntax);
		d->rep = 0;
	}
	if (!d->una && (d->elem != '+' || d->comp != ':' || d->seg != '\'' ||
			d->rel != '?' || (d->rep && d->rep != '*')))
		return ynode_err(o->yt, ynode_get(env, "una"), err, E_CONFIG,
				 "other delimiters than the defaults need the UNA (una: true)");
	{
		char all[6] = {d->elem, d->comp, d->seg, d->rel, d->dec,
			       d->rep};
		int a, b, na = d->rep ? 6 : 5;

		for (a = 0; a < na; a++)
			for (b = a + 1; b < na; b++)
				if (all[a] == all[b])
					return ynode_err(o->yt, dl ? dl : env,
							 err, E_CONFIG,
							 "delimiters must differ from each other and from the decimal mark '.'");
	}
	return 0;
}

static int env_edifact(struct outbound *o, const struct ynode *env,
		       struct err *err)
{
	static const char *const known[] = {
		"sender", "receiver", "syntax", "message", "version",
		"association", "application_reference", "usage", "una",
		"delimiters", "line_end", NULL};
	struct ob_edi *d = &o->edi;
	char syn[12], ver[16];

	if (check_keys(o, env, known, "envelope: (edifact)", err))
		return -1;
	if (env_party(o, env, "sender", d->sender_q, sizeof(d->sender_q),
		      d->sender, sizeof(d->sender), err) ||
	    env_party(o, env, "receiver", d->receiver_q,
		      sizeof(d->receiver_q), d->receiver, sizeof(d->receiver),
		      err) ||
	    env_str(o, env, "syntax", "UNOC:3", 6, 6, syn, sizeof(syn), err) ||
	    env_str(o, env, "message", NULL, 1, 6, d->msg_type,
		    sizeof(d->msg_type), err) ||
	    env_str(o, env, "version", NULL, 5, 11, ver, sizeof(ver), err) ||
	    env_str(o, env, "association", "", 0, 6, d->msg_assoc,
		    sizeof(d->msg_assoc), err) ||
	    env_str(o, env, "application_reference", "", 0, 14, d->app_ref,
		    sizeof(d->app_ref), err))
		return -1;
	if (edifact_syntax_version(o, env, syn, ver, err) ||
	    edifact_delimiters(o, env, err))
		return -1;
	if (env_parties(o, env, "edifact", err) ||
	    env_clean(o, env, "message", d->msg_type, err) ||
	    env_clean(o, env, "version", d->msg_ver, err) ||
	    env_clean(o, env, "version", d->msg_rel, err) ||
	    env_clean(o, env, "version", d->msg_agency, err) ||
	    env_clean(o, env, "association", d->msg_assoc, err) ||
	    env_clean(o, env, "application_reference", d->app_ref, err))
		return -1;
	return 0;
}

/* A row template may not read $variables, an envelope template sees no
 * row; say why. */
static void var_hint(struct err *err)
{
	size_t i, l = strlen(err->reason);
	static const char env_hint[] =
		"; header: and trailer: see no row, only $control, $date, "
		"$time, $now, $rows and $target";

	if (!strncmp(err->reason, "unknown envelope field", 22) &&
	    l + sizeof(env_hint) <= sizeof(err->reason)) {
		memcpy(err->reason + l, env_hint, sizeof(env_hint));
		return;
	}
	if (strncmp(err->reason, "unknown variable '$", 19))
		return;
	for (i = 0; ob_var_names[i]; i++) {
		size_t vl = strlen(ob_var_names[i]);

		if (!strncmp(err->reason + 19, ob_var_names[i], vl) &&
		    err->reason[19 + vl] == '\'') {
			snprintf(err->reason, sizeof(err->reason),
				 "$%s is an envelope value: use it in header: or trailer: (rows are compared between runs to find unchanged stock, so they hold no values that change with every document)",
				 ob_var_names[i]);
			return;
		}
	}
}

/* Compiles one template: literal text with {expression} parts; {{ and }}
 * are literal braces. */
static int tpl_compile(struct outbound *o, const struct ynode *n, int rows,
		       struct ob_tpl *t, struct err *err)
{
	const char *s = n->value;
	size_t len = n->len, i = 0, np = 1, nl = 0;
	unsigned base = n->col + (n->quoted ? 1 : 0);
	char *lit;
	const struct ob_edi *d = &o->edi;

	if (n->type != Y_SCALAR)
		return ynode_err(o->yt, n, err, E_CONFIG,
				 "an element is text (a list inside the element's list makes components)");
	for (i = 0; i < len; i++)
		np += s[i] == '{' ? 2 : 0;
	t->line = n->line;
	t->col = base;
	t->np = 0;
	if (!(t->p = arena_alloc(&o->pool.arena, np * sizeof(*t->p))) ||
	    !(lit = arena_alloc(&o->pool.arena, len + 1)))
		return err_set(err, E_NOMEM, "out of memory");
	i = 0;
	while (i < len) {
		if (s[i] == '{' && i + 1 < len && s[i + 1] != '{') {
			size_t j = i + 1;
			char q = 0;
			struct expr_scope sc;

			for (; j < len; j++) {
				if (q) {
					if (s[j] == '\\' && j + 1 < len)
						j++;
					else if (s[j] == q)
						q = 0;
				} else if (s[j] == '"' || s[j] == '\'') {
					q = s[j];
				} else if (s[j] == '}') {
					break;
				}
			}
			if (j >= len)
				return err_at(err, E_CONFIG, o->path, n->line,
					      base + (unsigned)i,
					      "'{' without its '}' (write {{ for a brace)");
			if (nl) {
				t->p[t->np].lit = lit - nl;
				t->p[t->np].n = nl;
				t->p[t->np++].e = NULL;
				nl = 0;
			}
			if (rows)
				ob_scope_rows(o, &sc, n);
			else
				ob_scope_env(o, &sc, n);
			sc.col = base + (unsigned)i + 1;
			if (expr_compile(&o->pool, &sc, s + i + 1, j - i - 1, 0,
					 &t->p[t->np].e, err)) {
				var_hint(err);
				return -1;
			}
			t->p[t->np].lit = NULL;
			t->p[t->np++].n = 0;
			i = j + 1;
			continue;
		}
		if (s[i] == '}' && !(i + 1 < len && s[i + 1] == '}'))
			return err_at(err, E_CONFIG, o->path, n->line,
				      base + (unsigned)i,
				      "'}' without its '{' (write }} for a brace)");
		if (o->fmt == OB_X12 &&
		    (s[i] == d->elem || s[i] == d->comp || s[i] == d->seg ||
		     (d->rep && s[i] == d->rep)))
			return err_at(err, E_CONFIG, o->path, n->line,
				      base + (unsigned)i,
				      "'%c' is a delimiter of this interchange (X12 has no escape)",
				      s[i]);
		*lit++ = s[i];
		nl++;
		i += (s[i] == '{' || s[i] == '}') ? 2 : 1;
	}
	if (nl) {
		t->p[t->np].lit = lit - nl;
		t->p[t->np].n = nl;
		t->p[t->np++].e = NULL;
	}
	return 0;
}

static int seg_compile(struct outbound *o, const struct ynode *item, int rows,
		       struct ob_seg *sg, struct err *err)
{
	static const char *const envelope[] = {
		"ISA", "IEA", "GS", "GE", "ST", "SE", "UNA", "UNB", "UNZ",
		"UNG", "UNE", "UNH", "UNT", NULL};
	const struct ynode *key = NULL, *val = NULL, *when = NULL;
	size_t i, j;

	if (item->type != Y_MAP)
		return ynode_err(o->yt, item, err, E_CONFIG,
				 "a segment is TAG: [element, ...], e.g. - QTY: [\"33\", \"{available}\", EA]");
	for (i = 0; i < item->n; i += 2) {
		if (!strcmp(item->items[i]->value, "when")) {
			when = item->items[i + 1];
			if (!rows)
				return ynode_err(o->yt, item->items[i], err,
						 E_CONFIG,
						 "when: is for row segments (segments:); header: and trailer: are fixed so their counts are known");
		} else if (key) {
			return ynode_err(o->yt, item->items[i], err, E_CONFIG,
					 "one segment per list entry ('%s' after '%s'; only when: may be added)",
					 item->items[i]->value, key->value);
		} else {
			key = item->items[i];
			val = item->items[i + 1];
		}
	}
	if (!key)
		return ynode_err(o->yt, item, err, E_CONFIG,
				 "a segment needs a tag");
	if (key->len < 2 || key->len > 3 ||
	    !isupper((unsigned char)key->value[0]) ||
	    !(isupper((unsigned char)key->value[1]) ||
	      isdigit((unsigned char)key->value[1])) ||
	    (key->len == 3 && !(isupper((unsigned char)key->value[2]) ||
				isdigit((unsigned char)key->value[2]))))
		return ynode_err(o->yt, key, err, E_CONFIG,
				 "'%s' is not a segment tag (2 or 3 capital letters or digits, starting with a letter)",
				 key->value);
	for (i = 0; envelope[i]; i++)
		if (!strcmp(envelope[i], key->value))
			return ynode_err(o->yt, key, err, E_CONFIG,
					 "%s is written by stockpipe from envelope: (do not list envelope segments)",
					 key->value);
	memcpy(sg->tag, key->value, key->len + 1);
	if (val->type == Y_SCALAR) {
		/* - CTT: "{$rows}"  = one element */
		if (!(sg->el = arena_alloc(&o->pool.arena, sizeof(*sg->el))) ||
		    !(sg->el->c = arena_alloc(&o->pool.arena,
					      sizeof(*sg->el->c))))
			return err_set(err, E_NOMEM, "out of memory");
		sg->nel = sg->el->nc = 1;
		if (tpl_compile(o, val, rows, sg->el->c, err))
			return -1;
	} else if (val->type == Y_SEQ) {
		if (val->n > OB_MAX_ELEMS)
			return ynode_err(o->yt, val, err, E_CONFIG,
					 "a segment has at most %d elements",
					 OB_MAX_ELEMS);
		if (val->n &&
		    !(sg->el = arena_alloc(&o->pool.arena,
					   val->n * sizeof(*sg->el))))
			return err_set(err, E_NOMEM, "out of memory");
		sg->nel = (unsigned)val->n;
		for (i = 0; i < val->n; i++) {
			const struct ynode *e = val->items[i];
			struct ob_elem *el = &sg->el[i];
			size_t nc = e->type == Y_SEQ ? e->n : 1;

			if (e->type == Y_MAP)
				return ynode_err(o->yt, e, err, E_CONFIG,
						 "an element is text or a list of components");
			if (!nc || nc > OB_MAX_COMPS)
				return ynode_err(o->yt, e, err, E_CONFIG,
						 "an element has 1 to %d components",
						 OB_MAX_COMPS);
			if (!(el->c = arena_alloc(&o->pool.arena,
						  nc * sizeof(*el->c))))
				return err_set(err, E_NOMEM, "out of memory");
			el->nc = (unsigned)nc;
			for (j = 0; j < nc; j++)
				if (tpl_compile(o,
						e->type == Y_SEQ ? e->items[j]
								 : e,
						rows, &el->c[j], err))
					return -1;
		}
	} else {
		return ynode_err(o->yt, val, err, E_CONFIG,
				 "%s: is a list of elements, e.g. %s: [\"33\", \"{available}\", EA]",
				 key->value, key->value);
	}
	sg->when = NULL;
	if (when) {
		struct expr_scope sc;

		if (when->type != Y_SCALAR)
			return ynode_err(o->yt, when, err, E_CONFIG,
					 "when: is a condition");
		ob_scope_rows(o, &sc, when);
		if (expr_cond_compile(&o->pool, &sc, when->value, when->len,
				      &sg->when, err)) {
			var_hint(err);
			return -1;
		}
	}
	return 0;
}

static int seglist(struct outbound *o, const struct ynode *root,
		   const char *key, int rows, struct ob_seglist *l,
		   struct err *err)
{
	const struct ynode *n = ynode_get(root, key);
	size_t i;

	l->n = 0;
	if (!n) {
		if (rows)
			return ynode_err(o->yt, root, err, E_CONFIG,
					 "segments: (the segments of each row) is missing");
		return 0;
	}
	if (n->type != Y_SEQ || (rows && !n->n))
		return ynode_err(o->yt, n, err, E_CONFIG,
				 "%s: is a list of segments, e.g. - LIN: [\"\", VN, \"{sku}\"]",
				 key);
	if (n->n > OB_MAX_SEGS)
		return ynode_err(o->yt, n, err, E_CONFIG,
				 "at most %d segments in %s:", OB_MAX_SEGS,
				 key);
	if (n->n &&
	    !(l->s = arena_alloc(&o->pool.arena, n->n * sizeof(*l->s))))
		return err_set(err, E_NOMEM, "out of memory");
	for (i = 0; i < n->n; i++) {
		if (seg_compile(o, n->items[i], rows, &l->s[i], err))
			return -1;
		l->n++;
	}
	return 0;
}

int ob_edi_load(struct outbound *o, const struct ynode *root, int edifact,
		struct err *err)
{
	const struct ynode *env = ynode_get(root, "envelope"), *n;
	struct ob_edi *d = &o->edi;

	if (!env || env->type != Y_MAP)
		return ynode_err(o->yt, env ? env : root, err, E_CONFIG,
				 "format %s needs envelope: { sender:, receiver:, ... } (docs/mapping.md, section 10)",
				 edifact ? "edifact" : "x12");
	if (edifact ? env_edifact(o, env, err) : env_x12(o, env, err))
		return -1;
	{
		char u[4];

		if (env_str(o, env, "usage", NULL, 1, 1, u, sizeof(u), err))
			return -1;
		if (u[0] != 'T' && u[0] != 'P')
			return ynode_err(o->yt, ynode_get(env, "usage"), err,
					 E_CONFIG,
					 "usage: is T (test) or P (production)");
		d->usage = u[0];
	}
	d->eol = "\n";
	if ((n = ynode_get(env, "line_end"))) {
		if (n->type == Y_SCALAR && !strcmp(n->value, "none"))
			d->eol = "";
		else if (n->type == Y_SCALAR && !strcmp(n->value, "crlf"))
			d->eol = "\r\n";
		else if (n->type != Y_SCALAR || strcmp(n->value, "lf"))
			return ynode_err(o->yt, n, err, E_CONFIG,
					 "line_end: is lf, crlf or none (after each segment terminator)");
	}
	if (d->seg == '\n' || d->seg == '\r')
		d->eol = "";
	if (seglist(o, root, "header", 0, &d->header, err) ||
	    seglist(o, root, "segments", 1, &d->rows, err) ||
	    seglist(o, root, "trailer", 0, &d->trailer, err))
		return -1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Writing                                                              */

struct ew {
	const struct outbound *o;
	const struct ob_edi *d;
	struct buf *out;
	struct expr_rt *rt;
	struct ob_row *row;
	struct err *err;
	const struct ob_seg *sg;
	unsigned ei, ci;          /* 1-based element and component */
	const struct ob_tpl *t;
};

static int val_err(struct ew *w, const char *s, size_t n, const char *fmt,
		   ...) __attribute__((format(printf, 4, 5)));

static int val_err(struct ew *w, const char *s, size_t n, const char *fmt,
		   ...)
{
	char why[256], who[300], field[32];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	ob_row_name(w->row, who, sizeof(who));
	snprintf(field, sizeof(field), w->sg->el[w->ei - 1].nc > 1
					       ? "%s%02u-%u"
					       : "%s%02u",
		 w->sg->tag, w->ei, w->ci);
	err_at(w->err, E_MAP, w->o->path, w->t->line, w->t->col,
	       "%s: value '%.*s' %s", who, (int)(n > 80 ? 80 : n), s, why);
	err_locate(w->err, NULL, 0, 0, field);
	return -1;
}

static const char *delim_name(const struct ob_edi *d, char c)
{
	if (c == d->elem)
		return "element separator";
	if (c == d->comp)
		return "component separator";
	if (c == d->seg)
		return "segment terminator";
	if (d->rep && c == d->rep)
		return "repetition separator";
	return NULL;
}

/* UNOA: ISO 646 level A (capital letters, digits, space and . , - ( ) /
 * = ' + : ? ! " % & * ; < >). */
static int unoa_ok(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr(" .,-()/='+:?!\"%&*;<>", c));
}

static int put_value(struct ew *w, const char *s, size_t n)
{
	const struct ob_edi *d = w->d;
	size_t i = 0;

	if (w->o->fmt == OB_X12) {
		for (i = 0; i < n; i++) {
			unsigned char c = (unsigned char)s[i];
			const char *dn = delim_name(d, (char)c);

			if (dn)
				return val_err(w, s, n,
					       "contains the %s '%c' (X12 has no escape character: clean the value in the mapping, e.g. | replace(\"%c\", \" \"))",
					       dn, c, c);
			if (c < 0x20 || c == 0x7F)
				return val_err(w, s, n,
					       "contains the control character %02X",
					       c);
		}
		return buf_add(w->out, s, n);
	}
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		unsigned cp;
		size_t l;

		if (c < 0x80) {
			if (c < 0x20 || c == 0x7F)
				return val_err(w, s, n,
					       "contains the control character %02X",
					       c);
			if (d->charset[3] == 'A' && !unoa_ok(c))
				return val_err(w, s, n,
					       "has '%c', which is not in UNOA (capital letters, digits, space and .,-()/='+:?!\"%%&*;<>; | upper helps with small letters)",
					       c);
			if (delim_name(d, (char)c) || c == (unsigned char)d->rel)
				buf_addc(w->out, d->rel);
			buf_addc(w->out, (char)c);
			i++;
			continue;
		}
		if (!(l = utf8_char((const unsigned char *)s + i, n - i, &cp)))
			return val_err(w, s, n, "is not valid UTF-8");
		if (d->charset[3] == 'A' || d->charset[3] == 'B')
			return val_err(w, s, n,
				       "has the character U+%04X, which %s cannot carry (7-bit ASCII; declare syntax: UNOC:3 or UNOY:4)",
				       cp, d->charset);
		if (d->charset[3] == 'C') {
			if (cp > 0xFF)
				return val_err(w, s, n,
					       "has the character U+%04X, which UNOC (ISO 8859-1) cannot carry (declare syntax: UNOY:4 for UTF-8)",
					       cp);
			buf_addc(w->out, (char)cp);
		} else {
			buf_add(w->out, s + i, l);
		}
		i += l;
	}
	return 0;
}

static int put_tpl(struct ew *w, const struct ob_tpl *t)
{
	unsigned i;

	w->t = t;
	for (i = 0; i < t->np; i++) {
		const struct ob_part *p = &t->p[i];
		struct expr_val v;

		if (p->lit) {
			if (put_value(w, p->lit, p->n))
				return -1;
			continue;
		}
		if (expr_eval(p->e, w->rt, &v, w->err)) {
			char who[300];

			ob_row_name(w->row, who, sizeof(who));
			err_locate(w->err, w->o->path, t->line, t->col, NULL);
			{
				char tmp[sizeof(w->err->reason)];
				size_t lw = strlen(who);

				if (lw + 2 + strlen(w->err->reason) <
				    sizeof(tmp)) {
					memcpy(tmp, who, lw);
					memcpy(tmp + lw, ": ", 2);
					strcpy(tmp + lw + 2, w->err->reason);
					strcpy(w->err->reason, tmp);
				}
			}
			return -1;
		}
		if (v.s && v.n && put_value(w, v.s, v.n))
			return -1;
	}
	return 0;
}

/* TAG, elements (empty trailing elements and components left out),
 * terminator, line end. */
static int put_seg(struct ew *w, const struct ob_seg *sg)
{
	struct buf *out = w->out;
	size_t keep, es, cs, ckeep;
	unsigned ei, ci;

	w->sg = sg;
	buf_adds(out, sg->tag);
	keep = out->len;
	for (ei = 0; ei < sg->nel; ei++) {
		const struct ob_elem *el = &sg->el[ei];

		es = out->len;
		buf_addc(out, w->d->elem);
		ckeep = 0;
		for (ci = 0; ci < el->nc; ci++) {
			if (ci)
				buf_addc(out, w->d->comp);
			cs = out->len;
			w->ei = ei + 1;
			w->ci = ci + 1;
			if (put_tpl(w, &el->c[ci]))
				return -1;
			if (out->len > cs)
				ckeep = out->len;
		}
		if (ckeep) {
			buf_setlen(out, ckeep);
			keep = ckeep;
		} else {
			buf_setlen(out, es + 1);
		}
	}
	buf_setlen(out, keep);
	buf_addc(out, w->d->seg);
	buf_adds(out, w->d->eol);
	return 0;
}

int ob_edi_row(const struct outbound *o, struct ob_row *row,
	       struct arena *a, struct buf *out, struct err *err)
{
	struct expr_rt rt;
	struct ew w;
	size_t start = out->len;
	unsigned i;
	int nseg = 0;

	ob_rt_init(&rt, row, a);
	memset(&w, 0, sizeof(w));
	w.o = o;
	w.d = &o->edi;
	w.out = out;
	w.rt = &rt;
	w.row = row;
	w.err = err;
	for (i = 0; i < o->edi.rows.n; i++) {
		const struct ob_seg *sg = &o->edi.rows.s[i];

		if (sg->when) {
			int yes;

			if (expr_cond_eval(sg->when, &rt, &yes, err)) {
				err_locate(err, o->path, 0, 0, sg->tag);
				goto fail;
			}
			if (!yes)
				continue;
		}
		if (put_seg(&w, sg))
			goto fail;
		nseg++;
	}
	if (out->err) {
		err_set(err, out->err, "rendered row too long");
		goto fail;
	}
	return nseg;
fail:
	buf_setlen(out, start);
	return -1;
}

/* An envelope segment from plain values ("" = empty element); trailing
 * empty elements are left out. Values were checked at load time. */
static void raw_seg(const struct ob_edi *d, struct buf *out, const char *tag,
		    const char *const *v, unsigned n)
{
	unsigned i, last = 0;

	for (i = 0; i < n; i++)
		if (v[i][0])
			last = i + 1;
	buf_adds(out, tag);
	for (i = 0; i < last; i++) {
		buf_addc(out, d->elem);
		buf_adds(out, v[i]);
	}
	buf_addc(out, d->seg);
	buf_adds(out, d->eol);
}

static int env_list(const struct outbound *o, const struct ob_seglist *l,
		    const struct outbound_env *env, struct ob_envvals *ev,
		    struct buf *out, struct err *err)
{
	struct ob_row row = {o, NULL, NULL, ev->v};
	struct expr_rt rt;
	struct arena a;
	struct ew w;
	unsigned i;
	int rc = 0;

	(void)env;
	arena_init(&a, 1024, 1 << 20);
	ob_rt_init(&rt, &row, &a);
	memset(&w, 0, sizeof(w));
	w.o = o;
	w.d = &o->edi;
	w.out = out;
	w.rt = &rt;
	w.row = &row;
	w.err = err;
	for (i = 0; i < l->n && !rc; i++)
		rc = put_seg(&w, &l->s[i]);
	arena_release(&a);
	return rc;
}

static int env_check(const struct outbound *o, const struct outbound_env *env,
		     struct err *err)
{
	if (!env || env->control < 1)
		return err_set(err, E_INTERNAL,
			       "%s output needs a control number (outbound_counter)",
			       outbound_format(o));
	if (o->fmt == OB_X12 && env->control > 999999999)
		return err_set(err, E_CONFIG,
			       "control number %lld of '%s' does not fit ISA13 (9 digits)",
			       (long long)env->control, o->edi.counter);
	return 0;
}

int ob_edi_header(const struct outbound *o, const struct outbound_env *env,
		  struct buf *out, struct err *err)
{
	const struct ob_edi *d = &o->edi;
	struct ob_envvals ev;
	char ctl[24], st02[24];

	if (env_check(o, env, err))
		return -1;
	ob_envvals(env, &ev);
	snprintf(ctl, sizeof(ctl), "%lld", (long long)env->control);
	if (o->fmt == OB_X12) {
		char e = d->elem;

		snprintf(st02, sizeof(st02), "%04lld", (long long)env->control);
		buf_addf(out,
			 "ISA%c00%c%10s%c00%c%10s%c%-2s%c%-15s%c%-2s%c%-15s%c"
			 "%.6s%c%s%c%c%c%s%c%09lld%c%c%c%c%c%c%c%s",
			 e, e, "", e, e, "", e, d->sender_q, e, d->sender, e,
			 d->receiver_q, e, d->receiver, e, ev.date + 2, e,
			 ev.time, e, d->rep ? d->rep : 'U', e, d->isa12, e,
			 (long long)env->control, e, d->ack, e, d->usage, e,
			 d->comp, d->seg, d->eol);
		{
			const char *gs[] = {d->gs01, d->gs02, d->gs03, ev.date,
					    ev.time, ctl, "X", d->gs08};
			const char *st[] = {d->st01, st02};

			raw_seg(d, out, "GS", gs, 8);
			raw_seg(d, out, "ST", st, 2);
		}
	} else {
		char s1[16], s2[48], s3[48], s4[24], h2[40];
		const char *unb[11], *unh[2];

		if (d->una)
			buf_addf(out, "UNA%c%c%c%c%c%c", d->comp, d->elem,
				 d->dec, d->rel, d->rep ? d->rep : ' ',
				 d->seg);
		snprintf(s1, sizeof(s1), "%s%c%d", d->charset, d->comp,
			 d->syntax);
		if (d->sender_q[0])
			snprintf(s2, sizeof(s2), "%s%c%s", d->sender, d->comp,
				 d->sender_q);
		else
			snprintf(s2, sizeof(s2), "%s", d->sender);
		if (d->receiver_q[0])
			snprintf(s3, sizeof(s3), "%s%c%s", d->receiver,
				 d->comp, d->receiver_q);
		else
			snprintf(s3, sizeof(s3), "%s", d->receiver);
		snprintf(s4, sizeof(s4), "%.8s%c%.4s",
			 d->syntax >= 4 ? ev.date : ev.date + 2, d->comp,
			 ev.time);
		unb[0] = s1;
		unb[1] = s2;
		unb[2] = s3;
		unb[3] = s4;
		unb[4] = ctl;
		unb[5] = "";
		unb[6] = d->app_ref;
		unb[7] = unb[8] = unb[9] = "";
		unb[10] = d->usage == 'T' ? "1" : "";
		raw_seg(d, out, "UNB", unb, 11);
		snprintf(h2, sizeof(h2), "%s%c%s%c%s%c%s", d->msg_type, d->comp,
			 d->msg_ver, d->comp, d->msg_rel, d->comp,
			 d->msg_agency);
		if (d->msg_assoc[0]) {
			size_t l = strlen(h2);

			snprintf(h2 + l, sizeof(h2) - l, "%c%s", d->comp,
				 d->msg_assoc);
		}
		unh[0] = ctl;
		unh[1] = h2;
		raw_seg(d, out, "UNH", unh, 2);
	}
	if (env_list(o, &d->header, env, &ev, out, err))
		return -1;
	if (out->err)
		return err_set(err, out->err, "envelope too long");
	return 0;
}

/* The trailers, innermost first: element 1 counts (the segments of the
 * message, or the one group / message enclosed), element 2 repeats the
 * header's control number at the header's width. */
struct ob_trailer {
	const char *tag;
	int segments;             /* element 1 is the segment count */
	int ctl_width;            /* zero-padded to this many digits */
};

static const struct ob_trailer x12_trailers[] = {
	{"SE", 1, 4}, {"GE", 0, 0}, {"IEA", 0, 9}, {NULL, 0, 0}};
static const struct ob_trailer edifact_trailers[] = {
	{"UNT", 1, 0}, {"UNZ", 0, 0}, {NULL, 0, 0}};

int ob_edi_footer(const struct outbound *o, const struct outbound_env *env,
		  struct buf *out, struct err *err)
{
	const struct ob_edi *d = &o->edi;
	const struct ob_trailer *t =
		o->fmt == OB_X12 ? x12_trailers : edifact_trailers;
	struct ob_envvals ev;
	char ctl[24], nseg[24];
	const char *v[2];

	if (env_check(o, env, err))
		return -1;
	ob_envvals(env, &ev);
	if (env_list(o, &d->trailer, env, &ev, out, err))
		return -1;
	snprintf(nseg, sizeof(nseg), "%lld",
		 (long long)(2 + d->header.n + env->segments + d->trailer.n));
	for (; t->tag; t++) {
		snprintf(ctl, sizeof(ctl), "%0*lld", t->ctl_width,
			 (long long)env->control);
		v[0] = t->segments ? nseg : "1";
		v[1] = ctl;
		raw_seg(d, out, t->tag, v, 2);
	}
	if (out->err)
		return err_set(err, out->err, "envelope too long");
	return 0;
}
