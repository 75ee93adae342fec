/* uom.c - see uom.h. */
#include "uom.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_alnum(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9');
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int set_field(struct err *err, const char *field)
{
	if (err && !err->field[0])
		snprintf(err->field, sizeof(err->field), "%s", field);
	return -1;
}

/* A unit code: 1..UOM_CODE_MAX letters and digits at s[0..n). */
static int code_ok(const char *s, size_t n)
{
	size_t i;

	if (!n || n > UOM_CODE_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!is_alnum(s[i]))
			return 0;
	return 1;
}

int uom_parse(const char *s, struct uom_unit *out, struct err *err)
{
	const char *p = s, *c2, *c3, *e2, *end;
	char sep;
	size_t n, el;

	memset(out, 0, sizeof(*out));
	while (is_alnum(*p))
		p++;
	n = (size_t)(p - s);
	if (!code_ok(s, n)) {
		err_set(err, E_VALIDATE,
			"malformed unit '%s' (a code of 1 to %d letters or "
			"digits, optionally a composite such as CA>>12)",
			s, UOM_CODE_MAX);
		return set_field(err, "uom");
	}
	memcpy(out->code, s, n);
	out->code[n] = '\0';
	if (!*p)
		return 0;
	/* A composite: CODE sep EXPONENT sep MULTIPLIER (X12 C001). */
	sep = *p;
	c2 = p + 1;
	e2 = strchr(c2, sep);
	el = e2 ? (size_t)(e2 - c2) : strlen(c2);
	c3 = e2 ? e2 + 1 : NULL;
	if (is_blank(sep) || (c3 && strchr(c3, sep)))
		goto malformed;
	if (el && !(el == 1 && *c2 == '1')) {
		err_set(err, E_VALIDATE,
			"unit '%s': an exponent ('%.*s') is not supported; "
			"write the multiplier as the third component (%s%c%c12)",
			s, (int)el, c2, out->code, sep, sep);
		return set_field(err, "uom");
	}
	if (!c3 || !*c3)
		return 0; /* "CA>" or "CA>>": no multiplier */
	end = c3 + strlen(c3);
	if (dec_parse(c3, (size_t)(end - c3), '.', 0, &out->factor) ||
	    out->factor <= 0) {
		err_set(err, E_VALIDATE,
			"unit '%s': the multiplier '%s' is not a number above "
			"zero",
			s, c3);
		out->factor = 0;
		return set_field(err, "uom");
	}
	return 0;
malformed:
	err_set(err, E_VALIDATE,
		"malformed composite unit '%s' (unit, exponent, multiplier: "
		"CA>>12)",
		s);
	return set_field(err, "uom");
}

int uom_packs_parse(const char *s, struct uom_pack *out, size_t max, size_t *n,
		    struct err *err)
{
	const char *p = s;

	*n = 0;
	while (*p) {
		const char *item = p, *eq, *val, *end;
		size_t cl, i;
		dec f;

		while (is_blank(*p))
			p++;
		if (!*p && *n == 0 && item == s)
			return 0; /* only blanks */
		eq = p;
		while (is_alnum(*eq))
			eq++;
		cl = (size_t)(eq - p);
		end = strchr(eq, ',');
		if (!end)
			end = eq + strlen(eq);
		val = eq;
		while (is_blank(*val))
			val++;
		if (!code_ok(p, cl) || *val != '=') {
			err_set(err, E_VALIDATE,
				"malformed pack sizes '%s' (write UNIT=FACTOR, "
				"comma separated: CA=12,PK=6)",
				s);
			return set_field(err, "pack_sizes");
		}
		val++;
		if (dec_parse(val, (size_t)(end - val), '.', 0, &f) || f <= 0) {
			err_set(err, E_VALIDATE,
				"pack sizes '%s': the factor of '%.*s' is not "
				"a number above zero",
				s, (int)cl, p);
			return set_field(err, "pack_sizes");
		}
		for (i = 0; i < *n; i++)
			if (strlen(out[i].code) == cl &&
			    !memcmp(out[i].code, p, cl)) {
				err_set(err, E_VALIDATE,
					"pack sizes '%s': unit '%.*s' given "
					"twice",
					s, (int)cl, p);
				return set_field(err, "pack_sizes");
			}
		if (*n == max) {
			err_set(err, E_VALIDATE,
				"pack sizes '%s': more than %zu units", s, max);
			return set_field(err, "pack_sizes");
		}
		memcpy(out[*n].code, p, cl);
		out[*n].code[cl] = '\0';
		out[*n].factor = f;
		(*n)++;
		p = *end ? end + 1 : end;
		if (*end && !*p) {
			err_set(err, E_VALIDATE,
				"malformed pack sizes '%s' (a comma at the "
				"end)",
				s);
			return set_field(err, "pack_sizes");
		}
	}
	return 0;
}

/* ---- the uom table ---------------------------------------------------- */

struct uom_row {
	char from[UOM_CODE_MAX + 1], to[UOM_CODE_MAX + 1];
	dec factor;
};

struct uom_table {
	struct uom_row *rows;
	size_t n;
};

/* The cells of one CSV line (no quoting: unit codes and numbers), blanks
 * trimmed; at most max. */
static size_t split_line(char *line, char **cells, size_t max)
{
	size_t n = 0;
	char *p = line;

	for (;;) {
		char *c = strchr(p, ','), *e;

		if (c)
			*c = '\0';
		while (is_blank(*p))
			p++;
		e = p + strlen(p);
		while (e > p && (is_blank(e[-1]) || e[-1] == '\r'))
			*--e = '\0';
		if (n < max)
			cells[n++] = p;
		if (!c)
			return n;
		p = c + 1;
	}
}

int uom_table_parse(const char *name, const char *text, size_t n,
		    struct uom_table **out, struct err *err)
{
	struct uom_table *t = calloc(1, sizeof(*t));
	char *copy = malloc(n + 1), *line, *next;
	int cf = -1, ct = -1, cx = -1, have_header = 0, rc = -1;
	unsigned long lineno = 0;
	size_t cap = 0;

	*out = NULL;
	if (!t || !copy) {
		err_set(err, E_NOMEM, "out of memory");
		goto cleanup;
	}
	memcpy(copy, text, n);
	copy[n] = '\0';
	if (memchr(copy, '\0', n)) {
		err_at(err, E_CONFIG, name, 1, 0, "uom table: a NUL byte");
		goto cleanup;
	}
	for (line = copy; line; line = next) {
		char *cells[16];
		size_t nc, i, need;
		struct uom_row row;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		nc = split_line(line, cells, 16);
		if ((nc == 1 && !cells[0][0]) || cells[0][0] == '#')
			continue;
		if (!have_header) {
			for (i = 0; i < nc; i++) {
				if (!strcmp(cells[i], "from"))
					cf = (int)i;
				else if (!strcmp(cells[i], "to"))
					ct = (int)i;
				else if (!strcmp(cells[i], "factor"))
					cx = (int)i;
			}
			if (cf < 0 || ct < 0 || cx < 0) {
				err_at(err, E_CONFIG, name, lineno, 0,
				       "uom table: the header must name the "
				       "columns from, to and factor");
				goto cleanup;
			}
			have_header = 1;
			continue;
		}
		need = (size_t)(cf > ct ? (cf > cx ? cf : cx)
					: (ct > cx ? ct : cx));
		if (nc <= need || !code_ok(cells[cf], strlen(cells[cf])) ||
		    !code_ok(cells[ct], strlen(cells[ct]))) {
			err_at(err, E_CONFIG, name, lineno, 0,
			       "uom table: a row needs a from unit, a to unit "
			       "(letters and digits) and a factor");
			goto cleanup;
		}
		memset(&row, 0, sizeof(row));
		strcpy(row.from, cells[cf]);
		strcpy(row.to, cells[ct]);
		if (dec_parse(cells[cx], strlen(cells[cx]), '.', 0,
			      &row.factor) ||
		    row.factor <= 0) {
			err_at(err, E_CONFIG, name, lineno, 0,
			       "uom table: factor '%s' is not a number above "
			       "zero",
			       cells[cx]);
			goto cleanup;
		}
		for (i = 0; i < t->n; i++)
			if (!strcmp(t->rows[i].from, row.from) &&
			    !strcmp(t->rows[i].to, row.to)) {
				err_at(err, E_CONFIG, name, lineno, 0,
				       "uom table: %s to %s given twice",
				       row.from, row.to);
				goto cleanup;
			}
		if (t->n == cap) {
			struct uom_row *nr;

			cap = cap ? cap * 2 : 16;
			if (!(nr = realloc(t->rows, cap * sizeof(*nr)))) {
				err_set(err, E_NOMEM, "out of memory");
				goto cleanup;
			}
			t->rows = nr;
		}
		t->rows[t->n++] = row;
	}
	if (!have_header) {
		err_at(err, E_CONFIG, name, 1, 0,
		       "uom table: no header (from, to, factor)");
		goto cleanup;
	}
	*out = t;
	t = NULL;
	rc = 0;
cleanup:
	free(copy);
	uom_table_free(t);
	return rc;
}

int uom_table_load(const char *path, struct uom_table **out, struct err *err)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	size_t n = 0, cap = 0;
	int rc = -1;

	*out = NULL;
	if (!f)
		return err_sys(err, "cannot open uom table '%s'", path);
	for (;;) {
		size_t got;

		if (cap - n < 4096) {
			char *nt;

			if (cap > (16u << 20)) {
				err_at(err, E_CONFIG, path, 0, 0,
				       "uom table larger than 16 MiB");
				goto cleanup;
			}
			cap = cap ? cap * 2 : 8192;
			if (!(nt = realloc(text, cap))) {
				err_set(err, E_NOMEM, "out of memory");
				goto cleanup;
			}
			text = nt;
		}
		got = fread(text + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		err_sys(err, "cannot read uom table '%s'", path);
		goto cleanup;
	}
	rc = uom_table_parse(path, text ? text : "", n, out, err);
cleanup:
	free(text);
	fclose(f);
	return rc;
}

void uom_table_free(struct uom_table *t)
{
	if (!t)
		return;
	free(t->rows);
	free(t);
}

size_t uom_table_size(const struct uom_table *t)
{
	return t ? t->n : 0;
}

int uom_table_factor(const struct uom_table *t, const char *from,
		     const char *to, dec *factor)
{
	size_t i;

	for (i = 0; t && i < t->n; i++)
		if (!strcmp(t->rows[i].from, from) &&
		    !strcmp(t->rows[i].to, to)) {
			*factor = t->rows[i].factor;
			return 1;
		}
	return 0;
}

/* ---- resolving and converting ----------------------------------------- */

const char *uom_base(const struct uom_sources *s)
{
	if (s->item_base && *s->item_base)
		return s->item_base;
	if (s->map_base && *s->map_base)
		return s->map_base;
	return UOM_DEFAULT_BASE;
}

int uom_resolve(const char *uom, const char *pack_size,
		const struct uom_sources *s, struct uom_conv *out,
		struct err *err)
{
	const char *base = uom_base(s);
	struct uom_unit u;
	dec ps = 0;
	size_t i;

	memset(out, 0, sizeof(*out));
	/* base is at most UOM_CODE_MAX long: checked where it was read */
	strncpy(out->base, base, UOM_CODE_MAX);
	out->factor = DEC_SCALE;
	out->origin = UOM_SAME;
	if (pack_size && *pack_size &&
	    (dec_parse(pack_size, strlen(pack_size), '.', 0, &ps) || ps <= 0)) {
		err_set(err, E_VALIDATE,
			"the pack size '%s' is not a number above zero",
			pack_size);
		return set_field(err, "pack_size");
	}
	if (!uom || !*uom) {
		if (ps) {
			err_set(err, E_VALIDATE,
				"a pack size (%s) without a unit: say which "
				"unit holds it (uom)",
				pack_size);
			return set_field(err, "pack_size");
		}
		return 0;
	}
	if (uom_parse(uom, &u, err) < 0)
		return -1;
	memcpy(out->unit, u.code, sizeof(out->unit));
	if (u.factor && ps && u.factor != ps) {
		char a[24];

		dec_format(u.factor, a);
		err_set(err, E_VALIDATE,
			"unit '%s' says %s base units, the pack size says "
			"%s",
			uom, a, pack_size);
		return set_field(err, "pack_size");
	}
	if (u.factor || ps) {
		out->factor = u.factor ? u.factor : ps;
		out->origin = UOM_RECORD;
		return 0;
	}
	if (!strcmp(u.code, base))
		return 0;
	for (i = 0; i < s->npacks; i++)
		if (!strcmp(s->packs[i].code, u.code)) {
			out->factor = s->packs[i].factor;
			out->origin = UOM_ITEM;
			return 0;
		}
	if (uom_table_factor(s->table, u.code, base, &out->factor)) {
		out->origin = UOM_TABLE;
		return 0;
	}
	err_set(err, E_VALIDATE,
		"cannot convert '%s' to base unit '%s' of item '%s': no "
		"factor in the record, the item master or the uom lookup",
		u.code, base, s->sku ? s->sku : "");
	return set_field(err, "uom");
}

/* num / den rounded half to even; den > 0. */
static __int128 div_half_even(__int128 num, __int128 den, int *rounded)
{
	__int128 q = num / den, r = num % den, twice;

	if (r == 0)
		return q;
	*rounded = 1;
	if (r < 0)
		r = -r;
	twice = 2 * r;
	if (twice > den || (twice == den && (q & 1)))
		q += num < 0 ? -1 : 1;
	return q;
}

static int fit(__int128 v, dec *out)
{
	if (v > INT64_MAX || v < INT64_MIN)
		return -1;
	*out = (dec)v;
	return 0;
}

int uom_qty(dec q, dec factor, dec *out, int *rounded)
{
	*rounded = 0;
	return fit(div_half_even((__int128)q * factor, DEC_SCALE, rounded),
		   out);
}

int uom_price(dec p, dec factor, dec *out, int *rounded)
{
	*rounded = 0;
	if (factor <= 0)
		return -1;
	return fit(div_half_even((__int128)p * DEC_SCALE, factor, rounded),
		   out);
}

int uom_from_base(dec q, dec factor, dec *out, int *rounded)
{
	return uom_price(q, factor, out, rounded);
}
