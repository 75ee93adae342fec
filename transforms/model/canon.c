/* canon.c - see canon.h. */
#include "canon.h"
#include "dec.h"
#include "dt.h"
#include "stock.h"
#include "uom.h"
#include "lib/utf8.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A field's name and its length (the JSON writer's keys). */
#define NAME(s) s, sizeof(s) - 1

static const struct canon_field item_fields[] = {
	{NAME("sku"), CT_TEXT, CF_REQUIRED | CF_KEY | CF_IDENT, NULL, NULL},
	{NAME("gtin"), CT_TEXT, CF_IDENT, NULL, NULL},
	{NAME("description"), CT_TEXT, 0, NULL, NULL},
	{NAME("brand"), CT_TEXT, 0, NULL, NULL},
	{NAME("category"), CT_TEXT, 0, NULL, NULL},
	{NAME("base_uom"), CT_TEXT, CF_IDENT, NULL, "EA"},
	{NAME("pack_size"), CT_DECIMAL, CF_NONNEG, NULL, "1"},
	{NAME("status"), CT_ENUM, 0, "active|inactive|discontinued", "active"},
	{NAME("supplier_id"), CT_TEXT, CF_IDENT, NULL, NULL},
	{NAME("supplier_sku"), CT_TEXT, CF_IDENT, NULL, NULL},
	{NAME("as_of"), CT_DATETIME, 0, NULL, NULL},
	{NAME("txn_id"), CT_TEXT, 0, NULL, NULL},
	{NAME("pack_sizes"), CT_TEXT, 0, NULL, NULL},
};

static const struct canon_field location_fields[] = {
	{NAME("location_id"), CT_TEXT, CF_REQUIRED | CF_KEY | CF_IDENT, NULL, NULL},
	{NAME("type"), CT_ENUM, 0, "store|dc|supplier|virtual", "store"},
	{NAME("name"), CT_TEXT, 0, NULL, NULL},
	{NAME("region"), CT_TEXT, 0, NULL, NULL},
	{NAME("timezone"), CT_TEXT, 0, NULL, NULL},
	{NAME("as_of"), CT_DATETIME, 0, NULL, NULL},
	{NAME("txn_id"), CT_TEXT, 0, NULL, NULL},
};

static const struct canon_field price_fields[] = {
	{NAME("sku"), CT_TEXT, CF_REQUIRED | CF_KEY | CF_IDENT, NULL, NULL},
	{NAME("price_list"), CT_TEXT, CF_KEY | CF_IDENT, NULL, "default"},
	{NAME("currency"), CT_TEXT, CF_REQUIRED | CF_KEY | CF_IDENT, NULL, NULL},
	{NAME("amount"), CT_DECIMAL, CF_REQUIRED | CF_NONNEG, NULL, NULL},
	{NAME("valid_from"), CT_DATETIME, CF_KEY, NULL, NULL},
	{NAME("valid_to"), CT_DATETIME, 0, NULL, NULL},
	{NAME("kind"), CT_ENUM, CF_KEY, "regular|promo", "regular"},
	{NAME("as_of"), CT_DATETIME, 0, NULL, NULL},
	{NAME("txn_id"), CT_TEXT, 0, NULL, NULL},
	{NAME("uom"), CT_TEXT, CF_IDENT, NULL, NULL},
	{NAME("pack_size"), CT_DECIMAL, CF_NONNEG, NULL, NULL},
};

static const struct canon_field stock_fields[] = {
	{NAME("sku"), CT_TEXT, CF_REQUIRED | CF_KEY | CF_IDENT, NULL, NULL},
	{NAME("location"), CT_TEXT, CF_REQUIRED | CF_KEY | CF_IDENT, NULL, NULL},
	{NAME("state"), CT_ENUM, CF_REQUIRED | CF_KEY, CANON_STATES, NULL},
	{NAME("quantity"), CT_DECIMAL, CF_REQUIRED, NULL, NULL},
	{NAME("mode"), CT_ENUM, 0, "snapshot|delta", "snapshot"},
	{NAME("as_of"), CT_DATETIME, CF_REQUIRED, NULL, NULL},
	{NAME("txn_id"), CT_TEXT, 0, NULL, NULL},
	{NAME("uom"), CT_TEXT, CF_IDENT, NULL, NULL},
	{NAME("pack_size"), CT_DECIMAL, CF_NONNEG, NULL, NULL},
};

static const struct {
	const char *name;
	const struct canon_field *fields;
	size_t n;
} kinds[CANON_NKINDS] = {
	{"item", item_fields, sizeof(item_fields) / sizeof(item_fields[0])},
	{"location", location_fields,
	 sizeof(location_fields) / sizeof(location_fields[0])},
	{"price", price_fields, sizeof(price_fields) / sizeof(price_fields[0])},
	{"stock", stock_fields, sizeof(stock_fields) / sizeof(stock_fields[0])},
};

const char *canon_kind_name(enum canon_kind k)
{
	return (unsigned)k < CANON_NKINDS ? kinds[k].name : "?";
}

int canon_kind_from_name(const char *name)
{
	int k;

	for (k = 0; k < CANON_NKINDS; k++)
		if (!strcmp(kinds[k].name, name))
			return k;
	return -1;
}

const struct canon_field *canon_fields(enum canon_kind k, size_t *n)
{
	*n = kinds[k].n;
	return kinds[k].fields;
}

int canon_field_index(enum canon_kind k, const char *name)
{
	size_t i;

	for (i = 0; i < kinds[k].n; i++)
		if (!strcmp(kinds[k].fields[i].name, name))
			return (int)i;
	return -1;
}

int canon_txn_field(enum canon_kind k)
{
	return canon_field_index(k, "txn_id");
}

int canon_as_of_field(enum canon_kind k)
{
	return canon_field_index(k, "as_of");
}

static int enum_has(const char *values, const char *v, size_t n)
{
	const char *p = values;

	while (p && *p) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);

		if (len == n && !memcmp(p, v, n))
			return 1;
		p = bar ? bar + 1 : NULL;
	}
	return 0;
}

/* True when v is one of field i's values. A stock state is looked up in
 * stock.h's table (the state is the one enum every stock record has);
 * the other enums are short lists scanned as written. */
static int enum_ok(enum canon_kind k, size_t i, const struct canon_field *f,
		   const char *v, size_t n)
{
	if (k == CANON_STOCK && i == STOCK_STATE)
		return stock_state_from_name(v) >= 0;
	return enum_has(f->enum_values, v, n);
}

_Static_assert(sizeof(((struct canon_memo *)0)->dt) >= DT_ISO_LEN,
	       "canon_memo holds a canonical date/time");

/* True when v is a decimal exactly as dec_format() writes it and short
 * enough that dec_parse() takes it: -?(0|[1-9][0-9]{0,11})(.[0-9]{0,5}
 * [1-9])?, not "-0". Such a value is valid and already canonical; *neg
 * says whether it is below zero. */
static int dec_canonical(const char *v, int *neg)
{
	const char *p = v, *q;

	*neg = *p == '-';
	if (*neg)
		p++;
	if (*p == '0') {
		p++;
		if (*neg && *p != '.')
			return 0;
	} else if (*p >= '1' && *p <= '9') {
		for (q = p; *p >= '0' && *p <= '9'; p++)
			;
		if (p - q > 12)
			return 0;
	} else {
		return 0;
	}
	if (*p == '.') {
		for (q = ++p; *p >= '0' && *p <= '9'; p++)
			;
		if (p == q || p - q > DEC_DIGITS || p[-1] == '0')
			return 0;
	}
	return *p == '\0';
}

/* True when v (DT_ISO_LEN - 1 bytes) is canonical (dt_is_canonical)
 * and on the day of last, a canonical value: then "YYYY-MM-DDT" is last's and only the time of
 * day is checked. The times of a file's records mostly fall on a few
 * days; checking each whole was a tenth of validation. */
static int same_day_canonical(const char *v, const char *last)
{
	uint64_t a, b;
#define D2(p, max) ((unsigned)((p)[0] - '0') <= 9 && \
		    (unsigned)((p)[1] - '0') <= 9 && \
		    ((p)[0] - '0') * 10 + ((p)[1] - '0') <= (max))

	memcpy(&a, v, 8);
	memcpy(&b, last, 8);
	return a == b && v[8] == last[8] && v[9] == last[9] &&
	       v[10] == 'T' && D2(v + 11, 23) && v[13] == ':' &&
	       D2(v + 14, 59) && v[16] == ':' && D2(v + 17, 59) &&
	       v[19] == 'Z' && v[20] == '\0';
#undef D2
}

/* Units of measure (uom.h): a stock or price uom, an item's pack sizes. */
static int unit_field(enum canon_kind k, size_t i)
{
	return (k == CANON_STOCK && i == STOCK_UOM) ||
	       (k == CANON_PRICE && i == PRICE_UOM) ||
	       (k == CANON_ITEM && i == ITEM_PACK_SIZES);
}

static int unit_check(enum canon_kind k, const char *v, struct err *err)
{
	struct uom_unit u;
	struct uom_pack p[UOM_PACKS_MAX];
	size_t n;

	if (k == CANON_ITEM)
		return uom_packs_parse(v, p, UOM_PACKS_MAX, &n, err);
	return uom_parse(v, &u, err);
}

/* 1 when every byte of v[0..len) is printable ASCII (0x20-0x7E): then
 * the value is UTF-8 and holds no control character, and the two checks
 * below need not run; 2 when besides it holds no '"' or '\\', so its
 * JSON needs no escape (CANON_LEN_PLAIN); 0 otherwise. Whole
 * (overlapping) 8-byte words; a word flags a byte below 0x20 (borrow
 * test), of 0x7F (it carries into the high bit) or from 0x80 (its high
 * bit). A borrow or carry that spills into the next byte comes only
 * from a byte that is itself flagged. A quote or backslash is a zero
 * byte of the word xor'ed with it (the exact any-zero-byte test). */
/* Always inlined: with canon_text_len as a second caller gcc made it a
 * call, which cost the CSV map 5 % and X12 10 % of CPU at the same
 * instructions (docs/performance.md, w-edimap3's note). */
static inline __attribute__((always_inline)) int
printable_ascii(const char *v, size_t len)
{
	const uint64_t ones = 0x0101010101010101ULL, high = ones * 0x80;
	const uint64_t quote = ones * '"', bslash = ones * '\\';
	uint64_t w, x, y, acc = 0, esc = 0;
	size_t i;

	if (len < 8) {
		for (i = 0; i < len; i++) {
			if ((unsigned char)v[i] < 0x20 ||
			    (unsigned char)v[i] > 0x7E)
				return 0;
			if (v[i] == '"' || v[i] == '\\')
				esc = 1;
		}
		return esc ? 1 : 2;
	}
	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&w, v + i, 8);
		acc |= ((w - ones * 0x20) & ~w) | (w + ones) | w;
		x = w ^ quote;
		y = w ^ bslash;
		esc |= ((x - ones) & ~x) | ((y - ones) & ~y);
	}
	memcpy(&w, v + len - 8, 8);
	acc |= ((w - ones * 0x20) & ~w) | (w + ones) | w;
	x = w ^ quote;
	y = w ^ bslash;
	esc |= ((x - ones) & ~x) | ((y - ones) & ~y);
	if (acc & high)
		return 0;
	return esc & high ? 1 : 2;
}

unsigned canon_text_len(const char *s, size_t n)
{
	if (n >= CANON_LEN_MAX)
		return 0;
	return ((unsigned)n + 1) |
	       (printable_ascii(s, n) == 2 ? CANON_LEN_PLAIN : 0);
}

/* Identifiers and codes are compared, keyed and written into file
 * names and EDI segments: a control character there (a CR quoted into a
 * CSV field, a TAB from a spreadsheet) makes a second SKU that looks
 * like the first. Refused with the byte and where it is. */
static int ident_check(const char *v, size_t len, struct err *err)
{
	static const char *const names[32] = {
		"NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL",
		"BS",  "TAB", "LF",  "VT",  "FF",  "CR",  "SO",  "SI",
		"DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB",
		"CAN", "EM",  "SUB", "ESC", "FS",  "GS",  "RS",  "US"};
	char shown[64];
	size_t i, k, o = 0;

	for (i = 0; i < len; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7F)
			break;
	if (i == len)
		return 0;
	/* the value with control characters as \xNN, cut with "..." */
	for (k = 0; k < len && o + 8 < sizeof(shown); k++) {
		unsigned char ch = (unsigned char)v[k];

		if (ch < 0x20 || ch == 0x7F)
			o += (size_t)snprintf(shown + o, sizeof(shown) - o,
					      "\\x%02X", ch);
		else
			shown[o++] = (char)ch;
	}
	shown[o] = '\0';
	return err_set(err, E_VALIDATE,
		       "control character %s (0x%02X) at offset %zu in "
		       "'%s%s': identifiers and codes take none",
		       (unsigned char)v[i] < 0x20 ? names[(unsigned char)v[i]]
						  : "DEL",
		       (unsigned char)v[i], i, shown, k < len ? "..." : "");
}

/* A text field's value v (field i of r): UTF-8, an identifier's rules,
 * a unit's name. The canonical model is UTF-8, whatever the reader let
 * through (X12 has no character set check), so a record never carries
 * bytes its JSON cannot. 1 when valid and its JSON needs no escape, 0
 * when valid, or -1 with err. */
static int text_check(const struct canon_record *r, size_t i,
		      const struct canon_field *f, const char *v,
		      struct err *err, struct canon_memo *m)
{
	size_t len = canon_vlen(r, i);
	size_t at;
	int pa = printable_ascii(v, len);

	if (!pa) {
		at = utf8_check((const unsigned char *)v, len);
		if (at < len)
			return err_set(err, E_VALIDATE,
				       "not valid UTF-8 (byte 0x%02x at "
				       "offset %zu)", (unsigned char)v[at],
				       at);
		if ((f->flags & CF_IDENT) && ident_check(v, len, err) < 0)
			return -1;
	}
	if (unit_field(r->kind, i)) {
		/* a unit repeated on every record (a mapping's constant
		 * "EA") is parsed once; an item's pack sizes are another
		 * grammar, never memoized */
		int memo = m && r->kind != CANON_ITEM;

		if (memo && m->unit_n == len + 1) {
			size_t k = 0;

			while (k < len && m->unit[k] == v[k])
				k++;
			if (k == len)
				return pa == 2;
		}
		if (unit_check(r->kind, v, err) < 0)
			return -1;
		if (memo && len < sizeof(m->unit)) {
			memcpy(m->unit, v, len);
			m->unit_n = len + 1;
		}
	}
	return pa == 2;
}

/* Marks v[i] (already checked) as needing no JSON escape, where its
 * length is known. */
static void mark_plain(struct canon_record *r, size_t i)
{
	if (r->len[i])
		r->len[i] |= CANON_LEN_PLAIN;
}

int canon_validate(struct canon_record *r, struct arena *a, struct err *err)
{
	return canon_validate_memo(r, a, err, NULL);
}

int canon_validate_memo(struct canon_record *r, struct arena *a,
			struct err *err, struct canon_memo *m)
{
	size_t n, i;
	const struct canon_field *f = canon_fields(r->kind, &n);

	for (i = 0; i < n; i++) {
		const char *v = r->v[i];

		if (v && !*v)
			v = NULL; /* an empty value is an absent value */
		if (!v)
			v = f[i].def;
		if (v != r->v[i]) {
			r->v[i] = v;
			r->len[i] = 0;
		}
		if (!v) {
			if (f[i].flags & CF_REQUIRED)
				goto bad_missing;
			continue;
		}
		switch (f[i].type) {
		case CT_TEXT: {
			int t = text_check(r, i, &f[i], v, err, m);

			if (t < 0)
				goto bad;
			if (t)
				mark_plain(r, i);
			break;
		}
		case CT_ENUM:
			if (!enum_ok(r->kind, i, &f[i], v, canon_vlen(r, i))) {
				err_set(err, E_VALIDATE,
					"'%s' is not one of %s", v,
					f[i].enum_values);
				goto bad;
			}
			/* one of the tables' words */
			mark_plain(r, i);
			break;
		case CT_DECIMAL: {
			dec d;
			char out[32];
			int neg;

			/* What dec_format() wrote (a decimal() field) needs
			 * no second parse. */
			if (dec_canonical(v, &neg) &&
			    !(neg && (f[i].flags & CF_NONNEG))) {
				mark_plain(r, i);
				break;
			}
			if (dec_parse(v, canon_vlen(r, i), '.', 0, &d)) {
				err_set(err, E_VALIDATE, "not a number: '%s'",
					v);
				goto bad;
			}
			if ((f[i].flags & CF_NONNEG) && d < 0) {
				err_set(err, E_VALIDATE,
					"must not be negative: '%s'", v);
				goto bad;
			}
			dec_format(d, out);
			if (!strcmp(out, v))
				break;
			r->len[i] = 0;
			if (!(r->v[i] = arena_strdup(a, out)))
				return err_set(err, E_NOMEM, "out of memory");
			break;
		}
		case CT_DATETIME: {
			int64_t t;
			char out[DT_ISO_LEN];

			if (m && m->dt[0] && canon_vlen(r, i) == DT_ISO_LEN - 1 &&
			    same_day_canonical(v, m->dt)) {
				memcpy(m->dt, v, DT_ISO_LEN);
				mark_plain(r, i);
				break;
			}
			/* What dt_format_iso() wrote (a date() field) needs
			 * no second parse; anything else is normalised. */
			if (dt_is_canonical(v)) {
				if (m)
					memcpy(m->dt, v, DT_ISO_LEN);
				mark_plain(r, i);
				break;
			}
			if (dt_parse_iso(v, canon_vlen(r, i), &t)) {
				err_set(err, E_VALIDATE,
					"not an ISO 8601 date/time: '%s'", v);
				goto bad;
			}
			dt_format_iso(t, out);
			if (!strcmp(out, v)) {
				if (m)
					memcpy(m->dt, out, sizeof(out));
			} else {
				r->len[i] = 0;
				if (!(r->v[i] = arena_strdup(a, out)))
					return err_set(err, E_NOMEM,
						       "out of memory");
			}
			break;
		}
		}
	}
	return 0;
bad_missing:
	err_set(err, E_VALIDATE, "required field is missing");
bad:
	if (err && !err->field[0])
		snprintf(err->field, sizeof(err->field), "%s", f[i].name);
	return -1;
}

/* Copies n bytes in whole (overlapping) words, inline: the values and
 * keys of a line are short, and a libc memcpy call per key and value
 * was a tenth of the line's cost. */
static inline void copy_short(char *w, const char *v, size_t n)
{
	uint64_t x, y;
	uint32_t a, b;
	size_t i;

	if (n >= 8) {
		for (i = 0; i + 8 < n; i += 8) {
			memcpy(&x, v + i, 8);
			memcpy(w + i, &x, 8);
		}
		memcpy(&y, v + n - 8, 8);
		memcpy(w + n - 8, &y, 8);
	} else if (n >= 4) {
		memcpy(&a, v, 4);
		memcpy(&b, v + n - 4, 4);
		memcpy(w, &a, 4);
		memcpy(w + n - 4, &b, 4);
	} else {
		for (i = 0; i < n; i++)
			w[i] = v[i];
	}
}

/* Appends `,"name":` (field and lineage names are plain identifiers: no
 * escapes). */
static char *put_key(char *w, const char *name, size_t n)
{
	*w++ = ',';
	*w++ = '"';
	copy_short(w, name, n);
	w += n;
	*w++ = '"';
	*w++ = ':';
	return w;
}

/* canon_to_jsonl when a value needs an escape or holds bytes >= 0x80:
 * every string measured first (json_str_len), then written. */
static int jsonl_escaped(const struct canon_record *r, struct buf *out)
{
	size_t n, i, total, kl, nl;
	size_t vl[CANON_MAX_FIELDS], jl[CANON_MAX_FIELDS];
	size_t srcl, srcj, filel, filej, wherel = 0, wherej = 0;
	const struct canon_field *f = canon_fields(r->kind, &n);
	const char *kind = canon_kind_name(r->kind);
	const char *src = r->lin.source ? r->lin.source : "";
	const char *file = r->lin.file ? r->lin.file : "";
	const char *where = r->lin.where && *r->lin.where ? r->lin.where : NULL;
	char num[21], *w;

	/* One line per record: measure it, reserve it once, write it. Per
	 * field buf_add calls (each with its bounds check and NUL) were a
	 * fifth of the EDI map stage. The text is the same as before:
	 * {"kind":"K","field":"v",...,"_source":S,"_file":F,"_line":N
	 * [,"_where":W]} and a newline. */
	kl = strlen(kind);
	total = 10 + kl;
	for (i = 0; i < n; i++) {
		if (!r->v[i])
			continue;
		vl[i] = canon_vlen(r, i);
		jl[i] = json_str_len(r->v[i], vl[i]);
		total += strlen(f[i].name) + 4 + jl[i];
	}
	srcl = strlen(src);
	srcj = json_str_len(src, srcl);
	filel = strlen(file);
	filej = json_str_len(file, filel);
	nl = str_ulong(num, r->lin.line);
	total += 11 + srcj + 9 + filej + 9 + nl + 2;
	if (where) {
		wherel = strlen(where);
		wherej = json_str_len(where, wherel);
		total += 10 + wherej;
	}
	if (buf_grow(out, total) < 0)
		return -1;
	w = out->ptr + out->len;
	memcpy(w, "{\"kind\":\"", 9);
	w += 9;
	memcpy(w, kind, kl);
	w += kl;
	*w++ = '"';
	for (i = 0; i < n; i++) {
		if (!r->v[i])
			continue;
		w = put_key(w, f[i].name, strlen(f[i].name));
		w = json_str_put(w, r->v[i], vl[i], jl[i]);
	}
	w = put_key(w, "_source", 7);
	w = json_str_put(w, src, srcl, srcj);
	w = put_key(w, "_file", 5);
	w = json_str_put(w, file, filel, filej);
	w = put_key(w, "_line", 5);
	memcpy(w, num, nl);
	w += nl;
	if (where) {
		w = put_key(w, "_where", 6);
		w = json_str_put(w, where, wherel, wherej);
	}
	*w++ = '}';
	*w++ = '\n';
	out->len += total;
	out->ptr[out->len] = '\0';
	return 0;
}

/* `"v"` for a value validation found needs no escape (CANON_LEN_PLAIN):
 * copied without a check. */
static inline char *put_plain(char *w, const char *v, size_t n)
{
	*w++ = '"';
	copy_short(w, v, n);
	w += n;
	*w++ = '"';
	return w;
}

/* The length of lineage text s (lin_len[i] or strlen). */
static inline size_t lin_strlen(const struct canon_record *r, int i,
				const char *s)
{
	unsigned l = r->lin_len[i] & ~CANON_LEN_PLAIN;

	return l ? l - 1 : strlen(s);
}

/* Lineage text s of n bytes as a JSON string: copied when the mapping
 * found it plain, else checked while copied (NULL: needs an escape). */
static inline char *put_lin(char *w, const struct canon_record *r, int i,
			    const char *s, size_t n)
{
	if (r->lin_len[i] & CANON_LEN_PLAIN)
		return put_plain(w, s, n);
	return json_str_put_plain(w, s, n);
}

/* The same line in one pass: the length of every value and key is
 * taken once, the line reserved, and each value checked while it is
 * copied (json_str_put_plain); measuring every value for escapes first
 * and copying it after was a tenth of the map stage. A value that might
 * need an escape sends the record to jsonl_escaped, which writes the
 * same bytes. */
/* canon_to_jsonl's last line number, per thread (workers write their
 * own files) */
static _Thread_local struct str_ulong_memo line_memo;

int canon_to_jsonl(const struct canon_record *r, struct buf *out)
{
	size_t n, i, total, kl, nl;
	size_t vl[CANON_MAX_FIELDS], ml[CANON_MAX_FIELDS];
	size_t srcl, filel, wherel = 0;
	const struct canon_field *f = canon_fields(r->kind, &n);
	const char *kind = canon_kind_name(r->kind);
	const char *src = r->lin.source ? r->lin.source : "";
	const char *file = r->lin.file ? r->lin.file : "";
	const char *where = r->lin.where && *r->lin.where ? r->lin.where : NULL;
	char num[21], *w;

	kl = strlen(kind);
	total = 10 + kl;
	for (i = 0; i < n; i++) {
		if (!r->v[i])
			continue;
		vl[i] = canon_vlen(r, i);
		ml[i] = f[i].name_len;
		total += ml[i] + 6 + vl[i];
	}
	srcl = lin_strlen(r, CANON_LIN_SOURCE, src);
	filel = lin_strlen(r, CANON_LIN_FILE, file);
	/* the line numbers of a file's records count up one by one */
	nl = str_ulong_memo(&line_memo, r->lin.line);
	memcpy(num, line_memo.s, sizeof(num));
	total += 11 + srcl + 2 + 9 + filel + 2 + 9 + nl + 2;
	if (where) {
		wherel = lin_strlen(r, CANON_LIN_WHERE, where);
		total += 10 + wherel + 2;
	}
	if (buf_grow(out, total) < 0)
		return -1;
	w = out->ptr + out->len;
	memcpy(w, "{\"kind\":\"", 9);
	w += 9;
	memcpy(w, kind, kl);
	w += kl;
	*w++ = '"';
	for (i = 0; i < n; i++) {
		if (!r->v[i])
			continue;
		w = put_key(w, f[i].name, ml[i]);
		if (r->len[i] & CANON_LEN_PLAIN)
			w = put_plain(w, r->v[i], vl[i]);
		else if (!(w = json_str_put_plain(w, r->v[i], vl[i])))
			return jsonl_escaped(r, out);
	}
	w = put_key(w, "_source", 7);
	if (!(w = put_lin(w, r, CANON_LIN_SOURCE, src, srcl)))
		return jsonl_escaped(r, out);
	w = put_key(w, "_file", 5);
	if (!(w = put_lin(w, r, CANON_LIN_FILE, file, filel)))
		return jsonl_escaped(r, out);
	w = put_key(w, "_line", 5);
	memcpy(w, num, nl);
	w += nl;
	if (where) {
		w = put_key(w, "_where", 6);
		if (!(w = put_lin(w, r, CANON_LIN_WHERE, where, wherel)))
			return jsonl_escaped(r, out);
	}
	*w++ = '}';
	*w++ = '\n';
	out->len += total;
	out->ptr[out->len] = '\0';
	return 0;
}

/* A minimal reader for the flat objects canon_to_jsonl writes: string
 * values and one unsigned integer (_line). It is not a general JSON
 * parser and does not need to be: canonical files are ours. Strings are
 * unescaped straight into the arena (the unescaped text is never longer
 * than the escaped one), so a record costs no malloc. */
static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static const char *parse_str(const char *p, const char *end, struct arena *a,
			     char **out)
{
	const char *q;
	char *s, *w;

	if (p >= end || *p != '"')
		return NULL;
	p++;
	/* Most strings have no escape: find the closing quote and copy. */
	if ((q = memchr(p, '"', (size_t)(end - p))) &&
	    !memchr(p, '\\', (size_t)(q - p))) {
		if (!(s = arena_alloc(a, (size_t)(q - p) + 1)))
			return NULL;
		memcpy(s, p, (size_t)(q - p));
		s[q - p] = '\0';
		*out = s;
		return q + 1;
	}
	for (q = p; q < end && *q != '"'; q++)
		if (*q == '\\' && ++q >= end)
			return NULL;
	if (q >= end || !(s = arena_alloc(a, (size_t)(q - p) + 1)))
		return NULL;
	for (w = s; p < q; p++) {
		if (*p != '\\') {
			*w++ = *p;
			continue;
		}
		switch (*++p) {
		case 'n': *w++ = '\n'; break;
		case 'r': *w++ = '\r'; break;
		case 't': *w++ = '\t'; break;
		case 'u': {
			int i, h, v = 0;

			if (q - p < 5)
				return NULL;
			for (i = 1; i <= 4; i++) {
				if ((h = hexval(p[i])) < 0)
					return NULL;
				v = v << 4 | h;
			}
			if (v >= 0x80)
				return NULL; /* we only escape controls */
			*w++ = (char)v;
			p += 4;
			break;
		}
		default: *w++ = *p;
		}
	}
	*w = '\0';
	*out = s;
	return q + 1;
}

/* Where a reader is in one line: the record's kind and field table once
 * "kind" was read, and the next field in table order. */
struct jl {
	int have_kind;
	const struct canon_field *f;
	size_t nf, next;
};

/* key (klen bytes, no NUL among them) is name. */
#define KEY_IS(key, klen, name)                                          \
	((klen) == sizeof(name) - 1 && !memcmp(key, name, sizeof(name) - 1))

/* Puts key (strlen klen) and its value (val, or num for a bare number:
 * val NULL) into r; the rules of both readers. 0, or -1 with err set
 * (err may be NULL). */
static int jl_put(struct jl *j, struct canon_record *r, const char *key,
		  size_t klen, char *val, unsigned long num, struct err *err)
{
	/* The record's kind is always the first key; a later "kind" is the
	 * price field of that name (regular/promo). */
	if (!j->have_kind && KEY_IS(key, klen, "kind")) {
		int k = val ? canon_kind_from_name(val) : -1;

		if (k < 0)
			return err_set(err, E_PARSE, "unknown canonical kind");
		r->kind = (enum canon_kind)k;
		j->have_kind = 1;
		j->f = canon_fields(r->kind, &j->nf);
	} else if (!j->have_kind) {
		return err_set(err, E_PARSE, "kind must come first");
	} else if (key[0] == '_' && KEY_IS(key, klen, "_source")) {
		r->lin.source = val;
	} else if (key[0] == '_' && KEY_IS(key, klen, "_file")) {
		r->lin.file = val;
	} else if (key[0] == '_' && KEY_IS(key, klen, "_line")) {
		r->lin.line = num;
	} else if (key[0] == '_' && KEY_IS(key, klen, "_where")) {
		r->lin.where = val;
	} else {
		/* Written in table order: try the next field first. */
		int i = j->next < j->nf && j->f[j->next].name_len == klen &&
				!memcmp(j->f[j->next].name, key, klen)
				? (int)j->next
				: canon_field_index(r->kind, key);

		j->next = i < 0 ? j->next : (size_t)i + 1;
		if (i < 0 || !val)
			return err_set(err, E_PARSE,
				       "unknown field '%s' for %s", key,
				       canon_kind_name(r->kind));
		r->v[i] = val;
	}
	return 0;
}

/* Decimal digits within [p, end) only: strtoul would look past n (the
 * line need not be NUL-terminated) and take " 7", "+7" or "-1" (as
 * ULONG_MAX). NULL when there is none. */
static const char *parse_num(const char *p, const char *end,
			     unsigned long *num)
{
	const char *q = p;

	*num = 0;
	while (q < end && *q >= '0' && *q <= '9' &&
	       *num <= (ULONG_MAX - 9) / 10)
		*num = *num * 10 + (unsigned long)(*q++ - '0');
	return q == p ? NULL : q;
}

/* The general reader: any line canon_to_jsonl writes, with escapes,
 * and the precise error for one it would not. */
int canon_from_jsonl_general(const char *line, size_t n,
			     struct canon_record *r, struct arena *a,
			     struct err *err)
{
	const char *p = line, *end = line + n;
	struct jl j = {0, NULL, 0, 0};

	memset(r, 0, sizeof(*r));
	while (end > p && (end[-1] == '\n' || end[-1] == '\r'))
		end--;
	if (p >= end || *p++ != '{')
		return err_set(err, E_PARSE, "canonical line is not an object");
	while (p < end && *p != '}') {
		char *key, *val = NULL;
		unsigned long num = 0;

		if (*p == ',')
			p++;
		if (!(p = parse_str(p, end, a, &key)) || p >= end || *p++ != ':')
			return err_set(err, E_PARSE, "bad canonical key");
		if (p < end && *p == '"') {
			if (!(p = parse_str(p, end, a, &val)))
				return err_set(err, E_PARSE,
					       "bad canonical value for '%s'",
					       key);
		} else if (!(p = parse_num(p, end, &num))) {
			return err_set(err, E_PARSE, "bad number for '%s'",
				       key);
		}
		if (jl_put(&j, r, key, strlen(key), val, num, err) < 0)
			return -1;
	}
	if (p >= end || !j.have_kind)
		return err_set(err, E_PARSE, "truncated canonical line");
	return 0;
}

/* A string at p, in place: its closing quote becomes its NUL. The
 * line has no backslash (canon_from_jsonl_fast), so no escape: the
 * string ends at the next quote. NULL when p holds no string. */
static char *str_in_place(char *p, char *end, char **out, size_t *len)
{
	char *q;

	if (p >= end || *p != '"')
		return NULL;
	p++;
	if (!(q = memchr(p, '"', (size_t)(end - p))))
		return NULL;
	*q = '\0';
	*out = p;
	*len = (size_t)(q - p);
	return q + 1;
}

/* The load reads every canonical line: one copy of the line into the
 * arena, its strings cut in place, where the general reader allocates
 * and copies each key and value. Anything else (an escape, any error)
 * is left to the general reader: 1, nothing reported. */
int canon_from_jsonl_fast(const char *line, size_t n, struct canon_record *r,
			  struct arena *a)
{
	struct jl j = {0, NULL, 0, 0};
	char *c, *p, *end;

	memset(r, 0, sizeof(*r));
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	/* a backslash is an escape (or an error): the general reader's,
	 * and one look at the line spares one per string; without a NUL,
	 * a string's length is where its quote was */
	if (!n || line[0] != '{' || memchr(line, '\\', n) ||
	    memchr(line, '\0', n) || !(c = arena_alloc(a, n + 1)))
		return 1;
	memcpy(c, line, n);
	c[n] = '\0';
	p = c + 1;
	end = c + n;
	while (p < end && *p != '}') {
		char *key, *val = NULL;
		unsigned long num = 0;
		size_t klen, vlen;

		if (*p == ',')
			p++;
		if (!(p = str_in_place(p, end, &key, &klen)) || p >= end ||
		    *p++ != ':')
			return 1;
		if (p < end && *p == '"') {
			if (!(p = str_in_place(p, end, &val, &vlen)))
				return 1;
		} else if (!(p = (char *)parse_num(p, end, &num))) {
			return 1;
		}
		if (jl_put(&j, r, key, klen, val, num, NULL) < 0)
			return 1;
	}
	return p >= end || !j.have_kind;
}

int canon_from_jsonl(const char *line, size_t n, struct canon_record *r,
		     struct arena *a, struct err *err)
{
	if (!canon_from_jsonl_fast(line, n, r, a))
		return 0;
	return canon_from_jsonl_general(line, n, r, a, err);
}
