/* filepat.c - see filepat.h.
 *
 * A pattern is cut into pieces: glob text between captures, and captures.
 * Glob pieces are still matched by fnmatch(3) (on the part of the name
 * they are tried against), so `*`, `?`, `[...]` and `\x` mean exactly
 * what they meant before captures existed. Names are short (a file name),
 * so trying every split point is cheap.
 */
#include "filepat.h"

#include <fnmatch.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "transforms/model/dt.h"

#define PAT_MAX 1024
#define NAME_MAX_LEN 1024
#define MAX_PIECES (2 * FILEPAT_MAX_CAPS + 1)

enum piece_kind { PK_GLOB, PK_CAP, PK_DATE };

struct piece {
	enum piece_kind kind;
	const char *s;          /* PK_GLOB: the glob; PK_DATE: the format
				 * (both NUL-terminated in struct pat) */
	int literal;            /* PK_GLOB without wildcards or escapes */
	size_t width;           /* PK_DATE: bytes it matches */
	char name[FILEPAT_NAME_MAX];
};

struct pat {
	char text[PAT_MAX + MAX_PIECES];
	struct piece p[MAX_PIECES];
	size_t n;
	size_t ncaps;
};

static const char *const months[] = {"jan", "feb", "mar", "apr", "may",
				     "jun", "jul", "aug", "sep", "oct",
				     "nov", "dec"};

static int is_name0(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_name(int c)
{
	return is_name0(c) || (c >= '0' && c <= '9');
}

/* Width of a date format, or -1 with err for an unknown directive. */
static int date_width(const char *f, size_t *width, struct err *err)
{
	size_t w = 0;
	int year = 0;

	for (; *f; f++) {
		if (*f != '%') {
			w++;
			continue;
		}
		switch (*++f) {
		case 'Y':
			w += 4;
			year = 1;
			break;
		case 'y':
			year = 1;
			w += 2;
			break;
		case 'm': case 'd': case 'H': case 'M': case 'S':
			w += 2;
			break;
		case 'b':
			w += 3;
			break;
		case '%':
			w++;
			break;
		default:
			return err_set(err, E_CONFIG,
				       "unknown date directive '%%%.1s' (known: %%Y %%y %%m %%d %%H %%M %%S %%b %%%%)",
				       *f ? f : "");
		}
	}
	if (!year)
		return err_set(err, E_CONFIG,
			       "a date capture needs a year (%%Y or %%y)");
	*width = w;
	return 0;
}

static int reserved(const char *name)
{
	return !strcmp(name, "name") || !strcmp(name, "mtime") ||
	       !strcmp(name, "fetched_at");
}

static int parse(const char *pat, struct pat *p, struct err *err)
{
	size_t i = 0, o = 0, len = strlen(pat), k;
	struct piece *cur = NULL;

	memset(p, 0, sizeof(*p));
	if (len > PAT_MAX)
		return err_set(err, E_CONFIG, "a pattern is at most %d bytes",
			       PAT_MAX);
	while (i < len) {
		if (pat[i] != '{') {
			if (!cur) {
				if (p->n == MAX_PIECES)
					return err_set(err, E_CONFIG,
						       "at most %d captures",
						       FILEPAT_MAX_CAPS);
				cur = &p->p[p->n++];
				cur->kind = PK_GLOB;
				cur->s = p->text + o;
				cur->literal = 1;
			}
			if (pat[i] == '\\' && i + 1 < len) {
				p->text[o++] = pat[i++];
				cur->literal = 0;
			} else if (pat[i] == '[') {
				/* A class runs to its ']' (a ']' right after
				 * '[' or '[!' is a member); braces inside are
				 * members too. No ']': fnmatch reads '['. */
				size_t j = i + 1;

				if (j < len && (pat[j] == '!' || pat[j] == '^'))
					j++;
				if (j < len && pat[j] == ']')
					j++;
				while (j < len && pat[j] != ']')
					j++;
				if (j < len) {
					memcpy(p->text + o, pat + i, j - i);
					o += j - i;
					i = j;
				}
				cur->literal = 0;
			} else if (pat[i] == '*' || pat[i] == '?') {
				cur->literal = 0;
			}
			p->text[o++] = pat[i++];
			continue;
		}
		if (cur)
			p->text[o++] = '\0';
		cur = NULL;
		if (p->ncaps == FILEPAT_MAX_CAPS || p->n == MAX_PIECES)
			return err_set(err, E_CONFIG, "at most %d captures",
				       FILEPAT_MAX_CAPS);
		{
			struct piece *c = &p->p[p->n];
			size_t a = ++i;

			while (i < len && is_name(pat[i]))
				i++;
			if (i == a || !is_name0(pat[a]))
				return err_set(err, E_CONFIG,
					       "a capture is {name} or {name:%%Y%%m%%d} (write \\{ for a literal brace)");
			if (i - a >= FILEPAT_NAME_MAX)
				return err_set(err, E_CONFIG,
					       "capture name '%.*s' is longer than %d characters",
					       (int)(i - a), pat + a,
					       FILEPAT_NAME_MAX - 1);
			memcpy(c->name, pat + a, i - a);
			c->name[i - a] = '\0';
			if (reserved(c->name))
				return err_set(err, E_CONFIG,
					       "capture name '%s' is reserved ($file.%s is a fact of every file)",
					       c->name, c->name);
			for (k = 0; k < p->n; k++)
				if (p->p[k].kind != PK_GLOB &&
				    !strcmp(p->p[k].name, c->name))
					return err_set(err, E_CONFIG,
						       "capture '%s' appears twice",
						       c->name);
			c->kind = PK_CAP;
			if (i < len && pat[i] == ':') {
				size_t f = ++i;

				while (i < len && pat[i] != '}')
					i++;
				c->kind = PK_DATE;
				c->s = p->text + o;
				memcpy(p->text + o, pat + f, i - f);
				o += i - f;
				p->text[o++] = '\0';
			}
			if (i >= len || pat[i] != '}')
				return err_set(err, E_CONFIG,
					       "capture '{%s' has no closing '}'",
					       c->name);
			i++;
			if (c->kind == PK_DATE &&
			    date_width(c->s, &c->width, err) < 0)
				return -1;
			p->n++;
			p->ncaps++;
		}
	}
	if (cur)
		p->text[o++] = '\0';
	return 0;
}

int filepat_check(const char *pat, struct err *err)
{
	struct pat p;

	return parse(pat, &p, err);
}

size_t filepat_names(const char *pat, char names[][FILEPAT_NAME_MAX],
		     size_t max)
{
	struct pat p;
	struct err e = ERR_INIT;
	size_t i, n = 0;

	if (parse(pat, &p, &e) < 0)
		return 0;
	for (i = 0; i < p.n; i++)
		if (p.p[i].kind != PK_GLOB && n < max)
			memcpy(names[n++], p.p[i].name, FILEPAT_NAME_MAX);
	return n;
}

/* Does s (w bytes) have the shape date format f describes? */
static int date_shape(const char *f, const char *s)
{
	size_t k, d;

	for (; *f; f++) {
		if (*f != '%') {
			if (*s++ != *f)
				return 0;
			continue;
		}
		f++;
		if (*f == '%') {
			if (*s++ != '%')
				return 0;
			continue;
		}
		if (*f == 'b') {
			for (k = 0; k < 3; k++)
				if (!((s[k] >= 'a' && s[k] <= 'z') ||
				      (s[k] >= 'A' && s[k] <= 'Z')))
					return 0;
			s += 3;
			continue;
		}
		d = *f == 'Y' ? 4 : 2;
		for (k = 0; k < d; k++)
			if (s[k] < '0' || s[k] > '9')
				return 0;
		s += d;
	}
	return 1;
}

static int num(const char *s, size_t n)
{
	int v = 0;

	while (n--)
		v = v * 10 + (*s++ - '0');
	return v;
}

/* The ISO time of s read by format f (shape already checked). */
static int date_value(const char *f, const char *s, char *iso)
{
	int y = 0, mo = 1, d = 1, h = 0, mi = 0, sec = 0, k;
	int64_t t;

	for (; *f; f++) {
		if (*f != '%') {
			s++;
			continue;
		}
		switch (*++f) {
		case 'Y': y = num(s, 4); s += 4; break;
		case 'y':
			y = num(s, 2);
			y += y >= 69 ? 1900 : 2000;
			s += 2;
			break;
		case 'm': mo = num(s, 2); s += 2; break;
		case 'd': d = num(s, 2); s += 2; break;
		case 'H': h = num(s, 2); s += 2; break;
		case 'M': mi = num(s, 2); s += 2; break;
		case 'S': sec = num(s, 2); s += 2; break;
		case 'b':
			for (k = 0; k < 12; k++)
				if (!strncasecmp(s, months[k], 3))
					break;
			if (k == 12)
				return -1;
			mo = k + 1;
			s += 3;
			break;
		default: /* %% */
			s++;
			break;
		}
	}
	if (dt_from_civil(y, mo, d, h, mi, sec, &t) < 0)
		return -1;
	dt_format_iso(t, iso);
	return 0;
}

struct m {
	const struct pat *p;
	const char *name;
	size_t len;
	size_t at[MAX_PIECES], end[MAX_PIECES]; /* capture spans */
};

static int glob_at(const struct piece *g, const char *s, size_t n, int first)
{
	char sub[NAME_MAX_LEN];

	if (g->literal)
		return strlen(g->s) == n && !memcmp(g->s, s, n);
	memcpy(sub, s, n);
	sub[n] = '\0';
	return fnmatch(g->s, sub, first ? FNM_PERIOD : 0) == 0;
}

static int match_from(struct m *m, size_t i, size_t pos)
{
	const struct piece *pc;
	size_t l;

	if (i == m->p->n)
		return pos == m->len;
	pc = &m->p->p[i];
	switch (pc->kind) {
	case PK_GLOB:
		if (i + 1 == m->p->n)
			return glob_at(pc, m->name + pos, m->len - pos, pos == 0);
		for (l = 0; pos + l <= m->len; l++)
			if (glob_at(pc, m->name + pos, l, pos == 0) &&
			    match_from(m, i + 1, pos + l))
				return 1;
		return 0;
	case PK_CAP:
		/* like *: no '/', no leading '.' of the name (FNM_PERIOD) */
		for (l = 0; pos + l <= m->len; l++) {
			if (l && (m->name[pos + l - 1] == '/' ||
				  (pos == 0 && m->name[0] == '.')))
				return 0;
			m->at[i] = pos;
			m->end[i] = pos + l;
			if (match_from(m, i + 1, pos + l))
				return 1;
		}
		return 0;
	case PK_DATE:
		if (pos + pc->width > m->len ||
		    !date_shape(pc->s, m->name + pos))
			return 0;
		m->at[i] = pos;
		m->end[i] = pos + pc->width;
		return match_from(m, i + 1, pos + pc->width);
	}
	return 0;
}

int filepat_match(const char *pat, const char *name,
		  struct filepat_caps *caps, struct err *err)
{
	struct pat pp, *p = &pp;
	struct m m;
	size_t i, k = 0;

	/* Without a capture: the glob as it always was. */
	if (!strchr(pat, '{'))
		return fnmatch(pat, name, FNM_PERIOD) == 0;
	if (parse(pat, p, err) < 0)
		return -1;
	memset(&m, 0, sizeof(m));
	m.p = p;
	m.name = name;
	m.len = strlen(name);
	if (m.len >= NAME_MAX_LEN || !match_from(&m, 0, 0))
		return 0;
	if (caps)
		caps->n = 0;
	for (i = 0; i < p->n; i++) {
		const struct piece *pc = &p->p[i];
		size_t n = m.end[i] - m.at[i];
		char iso[DT_ISO_LEN];

		if (pc->kind == PK_GLOB)
			continue;
		if (n >= FILEPAT_VALUE_MAX)
			return err_set(err, E_PARSE,
				       "file name '%s': capture {%s} is longer than %d bytes",
				       name, pc->name, FILEPAT_VALUE_MAX - 1);
		if (pc->kind == PK_DATE &&
		    date_value(pc->s, name + m.at[i], iso) < 0)
			return err_set(err, E_PARSE,
				       "file name '%s': '%.*s' is not a date of the form {%s:%s} (pattern '%s')",
				       name, (int)n, name + m.at[i], pc->name,
				       pc->s, pat);
		if (!caps)
			continue;
		memcpy(caps->name[k], pc->name, FILEPAT_NAME_MAX);
		if (pc->kind == PK_DATE) {
			memcpy(caps->value[k], iso, DT_ISO_LEN);
		} else {
			memcpy(caps->value[k], name + m.at[i], n);
			caps->value[k][n] = '\0';
		}
		caps->n = ++k;
	}
	return 1;
}

/* ---- target file-name templates -------------------------------------- */

int filepat_name_expand(const char *tmpl, const char *target, int64_t run_id,
			int64_t now, const char *ext, char *out, size_t n,
			struct err *err)
{
	const char *p = tmpl, *close;
	size_t len = 0;
	char tmp[256], fmt[128];
	int w;

	while (*p) {
		if (*p != '{') {
			if (len + 1 >= n)
				goto toolong;
			out[len++] = *p++;
			continue;
		}
		if (!(close = strchr(p, '}')))
			return err_set(err, E_CONFIG,
				       "unclosed '{' in filename");
		if (!strncmp(p, "{target}", 8))
			w = snprintf(out + len, n - len, "%s", target);
		else if (!strncmp(p, "{run_id}", 8))
			w = snprintf(out + len, n - len, "%lld",
				     (long long)run_id);
		else if (!strncmp(p, "{ext}", 5))
			w = snprintf(out + len, n - len, "%s", ext);
		else if (!strncmp(p, "{utc:", 5)) {
			if ((size_t)(close - p - 5) >= sizeof(fmt) ||
			    (memcpy(fmt, p + 5, (size_t)(close - p - 5)),
			     fmt[close - p - 5] = '\0',
			     dt_format(now, fmt, tmp, sizeof(tmp)) < 0))
				return err_set(err, E_CONFIG,
					       "bad time format '%.*s' in "
					       "filename (%%Y %%m %%d %%H %%M "
					       "%%S %%j %%%%)",
					       (int)(close - p - 5), p + 5);
			w = snprintf(out + len, n - len, "%s", tmp);
		} else {
			return err_set(err, E_CONFIG,
				       "unknown placeholder '%.*s' in filename "
				       "(use {target}, {run_id}, {utc:FORMAT}, "
				       "{ext})",
				       (int)(close - p + 1), p);
		}
		if (w < 0 || (size_t)w >= n - len)
			goto toolong;
		len += (size_t)w;
		p = close + 1;
	}
	out[len] = '\0';
	return 0;
toolong:
	return err_set(err, E_TOOBIG, "file name longer than %zu bytes", n - 1);
}

/* The "_NNNN" stage_render's unique_name() may add before the extension. */
#define NAME_UNIQUE_ROOM 5

int filepat_name_check(const char *tmpl, const char *target, const char *ext,
		       struct err *err)
{
	/* The largest run id and 9999-12-31T23:59:59Z: every directive of
	 * dt_format has a fixed width and gives digits, so this one name
	 * has the longest length and every character any name can have. */
	const int64_t run_max = INT64_MAX, t_max = 253402300799LL;
	char name[2048];
	const unsigned char *c;
	size_t len;
	struct err e = ERR_INIT;

	if (filepat_name_expand(tmpl, target, run_max, t_max, ext, name,
				sizeof(name), &e) < 0)
		return err_set(err, E_CONFIG, "%s", e.reason);
	len = strlen(name);
	if (!len || !strcmp(name, ".") || !strcmp(name, ".."))
		return err_set(err, E_CONFIG,
			       "filename '%s' gives the name '%s', which is "
			       "not a file name",
			       tmpl, name);
	for (c = (const unsigned char *)name; *c; c++) {
		if (*c == '/' || *c == '\\')
			return err_set(err, E_CONFIG,
				       "filename gives names with '%c' (a "
				       "target writes into its own folder "
				       "only)",
				       *c);
		if (*c < 0x20 || *c == 0x7f)
			return err_set(err, E_CONFIG,
				       "filename gives names with the control "
				       "character 0x%02x",
				       *c);
	}
	if (len + NAME_UNIQUE_ROOM > 255)
		return err_set(err, E_CONFIG,
			       "filename gives names of up to %zu bytes (with "
			       "the largest run id, and room for the _NNNN a "
			       "rerun may add): more than 255",
			       len + NAME_UNIQUE_ROOM);
	return 0;
}
