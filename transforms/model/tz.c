/* tz.c - see tz.h. Format: RFC 8536 (TZif versions 1-4). */
#include "tz.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dt.h"

#define TZ_MAX_FILE (256 * 1024)
#define TZ_MAX_TYPES 256

struct tz_rule_point {
	int kind;    /* 'M' Mm.w.d, 'J' Jn (no Feb 29), 'N' n (0-365) */
	int m, w, d; /* M form; d is day of week, or the day for J/N */
	long time;   /* seconds after local midnight (may be < 0 or > 24h) */
};

struct tz {
	char name[128];
	size_t ntrans;
	int64_t *trans;          /* transition instants, ascending */
	unsigned char *idx;      /* type index per transition */
	size_t ntypes;
	long off[TZ_MAX_TYPES];  /* utoff per type */
	int has_rule;            /* footer TZ string parsed */
	long std_off, dst_off;   /* footer offsets (east positive) */
	int rule_dst;            /* footer has a DST part */
	struct tz_rule_point start, end;
	/* the distinct offsets tz_local_to_utc() tries, in first-seen
	 * order (set by tz_load; 0 = not yet) */
	long cand[TZ_MAX_TYPES + 2];
	size_t ncand;
	long spread;             /* largest cand minus smallest (tz_load) */
	/* The transition interval [trans[i], trans[i + 1]) that
	 * tz_offset_at() last answered from: the dates of one file are
	 * near each other, so the next call usually costs two compares
	 * instead of a binary search (a date() with a zone asks four
	 * times per row). One atomic word, so a zone used by several
	 * threads at once stays right (a stale index is only a miss);
	 * reached through a pointer because the lookups take a const
	 * zone. */
	atomic_size_t hint_word;
	atomic_size_t *hint;
};

const char *tz_name(const struct tz *z)
{
	return z->name;
}

void tz_free(struct tz *z)
{
	if (!z)
		return;
	free(z->trans);
	free(z->idx);
	free(z);
}

static int64_t be(const unsigned char *p, int n)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < n; i++)
		v = v << 8 | p[i];
	if (n == 4)
		return (int32_t)(uint32_t)v;
	return (int64_t)v;
}

/* POSIX TZ string pieces. */
static const char *rule_name(const char *p)
{
	if (*p == '<') {
		while (*p && *p != '>')
			p++;
		return *p ? p + 1 : NULL;
	}
	if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')))
		return NULL;
	while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
		p++;
	return p;
}

static const char *rule_hms(const char *p, long *out)
{
	int sign = 1;
	long h = 0, m = 0, s = 0;

	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	if (*p < '0' || *p > '9')
		return NULL;
	while (*p >= '0' && *p <= '9')
		h = h * 10 + (*p++ - '0');
	if (*p == ':') {
		p++;
		while (*p >= '0' && *p <= '9')
			m = m * 10 + (*p++ - '0');
		if (*p == ':') {
			p++;
			while (*p >= '0' && *p <= '9')
				s = s * 10 + (*p++ - '0');
		}
	}
	*out = sign * (h * 3600 + m * 60 + s);
	return p;
}

static const char *rule_point(const char *p, struct tz_rule_point *rp)
{
	long v[3] = {0, 0, 0};
	int i;

	rp->time = 7200;
	if (*p == 'M') {
		p++;
		for (i = 0; i < 3; i++) {
			if (*p < '0' || *p > '9')
				return NULL;
			while (*p >= '0' && *p <= '9')
				v[i] = v[i] * 10 + (*p++ - '0');
			if (i < 2 && *p++ != '.')
				return NULL;
		}
		rp->kind = 'M';
		rp->m = (int)v[0];
		rp->w = (int)v[1];
		rp->d = (int)v[2];
		if (rp->m < 1 || rp->m > 12 || rp->w < 1 || rp->w > 5 ||
		    rp->d > 6)
			return NULL;
	} else {
		rp->kind = 'N';
		if (*p == 'J') {
			rp->kind = 'J';
			p++;
		}
		if (*p < '0' || *p > '9')
			return NULL;
		while (*p >= '0' && *p <= '9')
			v[0] = v[0] * 10 + (*p++ - '0');
		rp->d = (int)v[0];
	}
	if (*p == '/') {
		p = rule_hms(p + 1, &rp->time);
		if (!p)
			return NULL;
	}
	return p;
}

static int parse_rule(struct tz *z, const char *s)
{
	const char *p = rule_name(s);
	long off;

	if (!p || !(p = rule_hms(p, &off)))
		return -1;
	z->std_off = -off; /* POSIX counts west positive */
	z->dst_off = z->std_off + 3600;
	if (!*p) {
		z->has_rule = 1;
		return 0;
	}
	if (!(p = rule_name(p)))
		return -1;
	if (*p && *p != ',') {
		if (!(p = rule_hms(p, &off)))
			return -1;
		z->dst_off = -off;
	}
	if (*p++ != ',' || !(p = rule_point(p, &z->start)) || *p++ != ',' ||
	    !(p = rule_point(p, &z->end)) || *p)
		return -1;
	z->rule_dst = 1;
	z->has_rule = 1;
	return 0;
}

/* Local midnight (as civil seconds) of a rule point's day in year y. */
static int64_t rule_day(int y, const struct tz_rule_point *rp)
{
	int64_t jan1;

	dt_from_civil(y, 1, 1, 0, 0, 0, &jan1);
	if (rp->kind == 'J') {
		int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
		int d = rp->d - 1;

		if (leap && rp->d >= 60)
			d++;
		return jan1 + (int64_t)d * 86400;
	}
	if (rp->kind == 'N')
		return jan1 + (int64_t)rp->d * 86400;
	{
		static const int mdays[] = {31, 28, 31, 30, 31, 30,
					    31, 31, 30, 31, 30, 31};
		int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
		int dim = mdays[rp->m - 1] + (rp->m == 2 && leap);
		int64_t first;
		int wd, day;

		dt_from_civil(y, rp->m, 1, 0, 0, 0, &first);
		/* 1970-01-01 was a Thursday (4). */
		wd = (int)(((first / 86400) % 7 + 11) % 7);
		day = 1 + (rp->d - wd + 7) % 7 + (rp->w - 1) * 7;
		while (day > dim)
			day -= 7;
		return first + (int64_t)(day - 1) * 86400;
	}
}

static long rule_offset(const struct tz *z, int64_t t)
{
	int y, mo, d, h, mi, s;
	int64_t start, end;

	if (!z->rule_dst)
		return z->std_off;
	dt_to_civil(t + z->std_off, &y, &mo, &d, &h, &mi, &s);
	/* The start is given in standard local time, the end in DST time. */
	start = rule_day(y, &z->start) + z->start.time - z->std_off;
	end = rule_day(y, &z->end) + z->end.time - z->dst_off;
	if (start < end)
		return t >= start && t < end ? z->dst_off : z->std_off;
	return t >= end && t < start ? z->std_off : z->dst_off;
}

/* The offset at t by binary search over the transitions; *at is the
 * index of the interval it came from, or SIZE_MAX when it came from
 * the footer rule or the time before the first transition. */
static long offset_search(const struct tz *z, int64_t t, size_t *at)
{
	size_t lo = 0, hi = z->ntrans;

	*at = SIZE_MAX;
	if (!z->ntrans || t < z->trans[0]) {
		if (!z->ntrans && z->has_rule)
			return rule_offset(z, t);
		return z->ntypes ? z->off[0] : 0;
	}
	if (t >= z->trans[z->ntrans - 1] && z->has_rule)
		return rule_offset(z, t);
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;

		if (z->trans[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	*at = lo;
	return z->off[z->idx[lo]];
}

long tz_offset_search(const struct tz *z, int64_t t)
{
	size_t at;

	return offset_search(z, t, &at);
}

long tz_offset_at(const struct tz *z, int64_t t)
{
	size_t i = atomic_load_explicit(z->hint, memory_order_relaxed);
	long off;

	if (i + 1 < z->ntrans && z->trans[i] <= t && t < z->trans[i + 1])
		return z->off[z->idx[i]];
	off = offset_search(z, t, &i);
	if (i != SIZE_MAX)
		atomic_store_explicit(z->hint, i, memory_order_relaxed);
	return off;
}

/* The offsets a local time may have in z: every type's, the footer
 * rule's, or 0; each once, in that order. */
static size_t candidates(const struct tz *z, long *cand)
{
	long all[TZ_MAX_TYPES + 2];
	size_t n = 0, nc = 0, i, j;

	for (i = 0; i < z->ntypes; i++)
		all[n++] = z->off[i];
	if (z->has_rule) {
		all[n++] = z->std_off;
		all[n++] = z->dst_off;
	}
	if (!n)
		all[n++] = 0;
	for (i = 0; i < n; i++) {
		for (j = 0; j < nc && cand[j] != all[i]; j++)
			;
		if (j == nc)
			cand[nc++] = all[i];
	}
	return nc;
}

static long cand_spread(const long *cand, size_t nc)
{
	long lo = nc ? cand[0] : 0, hi = lo;
	size_t i;

	for (i = 1; i < nc; i++) {
		if (cand[i] < lo)
			lo = cand[i];
		if (cand[i] > hi)
			hi = cand[i];
	}
	return hi - lo;
}

int tz_local_to_utc(const struct tz *z, int64_t local,
		    enum tz_ambiguous policy, int64_t *out)
{
	long own[TZ_MAX_TYPES + 2];
	const long *cand = z->cand;
	int64_t hit[2];
	size_t nc = z->ncand, i, nhit = 0;

	/* Inside the interval tz_offset_at() last answered from, and at
	 * least the candidates' spread away from its ends: every candidate
	 * instant then falls in that interval, so only its own offset maps
	 * back and the answer is unique (no gap, no overlap). */
	{
		size_t h = atomic_load_explicit(z->hint, memory_order_relaxed);

		if (nc && h + 1 < z->ntrans) {
			int64_t t = local - z->off[z->idx[h]];

			if (t - z->spread >= z->trans[h] &&
			    t + z->spread < z->trans[h + 1]) {
				*out = t;
				return 0;
			}
		}
	}
	/* Computed once by tz_load(): deduplicating per call was a third
	 * of a date() with a zone. */
	if (!nc) {
		nc = candidates(z, own);
		cand = own;
	}
	/* A UTC instant t matches when the zone's offset at t maps it back
	 * to the local time; a gap has no match, an overlap has two. */
	for (i = 0; i < nc; i++) {
		int64_t t = local - cand[i];

		if (tz_offset_at(z, t) != cand[i])
			continue;
		if (nhit < 2)
			hit[nhit++] = t;
	}
	if (!nhit)
		return -1;
	if (nhit == 1) {
		*out = hit[0];
		return 0;
	}
	if (hit[0] > hit[1]) {
		int64_t x = hit[0];

		hit[0] = hit[1];
		hit[1] = x;
	}
	if (policy == TZ_REJECT_AMBIGUOUS)
		return -1;
	*out = policy == TZ_LATER ? hit[1] : hit[0];
	return 1;
}

static int valid_name(const char *name)
{
	size_t n = strlen(name);

	if (!n || n > 100 || name[0] == '/' || strstr(name, ".."))
		return 0;
	for (; *name; name++)
		if (!((*name >= 'A' && *name <= 'Z') ||
		      (*name >= 'a' && *name <= 'z') ||
		      (*name >= '0' && *name <= '9') || *name == '/' ||
		      *name == '_' || *name == '-' || *name == '+'))
			return 0;
	return 1;
}

static int parse_tzif(struct tz *z, const unsigned char *d, size_t n)
{
	size_t isut, isstd, leap, timecnt, typecnt, charcnt, pos = 0, i;
	int v2;
	int64_t tsz = 4;

	for (;;) {
		if (n - pos < 44 || memcmp(d + pos, "TZif", 4))
			return -1;
		v2 = d[pos + 4] >= '2';
		isut = (size_t)be(d + pos + 20, 4);
		isstd = (size_t)be(d + pos + 24, 4);
		leap = (size_t)be(d + pos + 28, 4);
		timecnt = (size_t)be(d + pos + 32, 4);
		typecnt = (size_t)be(d + pos + 36, 4);
		charcnt = (size_t)be(d + pos + 40, 4);
		pos += 44;
		if (typecnt == 0 || typecnt > TZ_MAX_TYPES || timecnt > 100000 ||
		    leap > 100000 || isut > TZ_MAX_TYPES || isstd > TZ_MAX_TYPES ||
		    charcnt > 100000)
			return -1;
		if (tsz == 4 && v2) {
			/* Skip the 32-bit block; use the 64-bit one. */
			size_t skip = timecnt * 5 + typecnt * 6 + charcnt +
				      leap * 8 + isstd + isut;

			if (n - pos < skip)
				return -1;
			pos += skip;
			tsz = 8;
			continue;
		}
		break;
	}
	if (n - pos < timecnt * ((size_t)tsz + 1) + typecnt * 6 + charcnt +
			      leap * ((size_t)tsz + 4) + isstd + isut)
		return -1;
	z->trans = calloc(timecnt + 1, sizeof(*z->trans));
	z->idx = calloc(timecnt + 1, 1);
	if (!z->trans || !z->idx)
		return -2;
	for (i = 0; i < timecnt; i++)
		z->trans[i] = be(d + pos + i * (size_t)tsz, (int)tsz);
	pos += timecnt * (size_t)tsz;
	for (i = 0; i < timecnt; i++) {
		z->idx[i] = d[pos + i];
		if (z->idx[i] >= typecnt)
			return -1;
	}
	pos += timecnt;
	for (i = 0; i < typecnt; i++)
		z->off[i] = (long)be(d + pos + i * 6, 4);
	pos += typecnt * 6 + charcnt + leap * ((size_t)tsz + 4) + isstd + isut;
	z->ntrans = timecnt;
	z->ntypes = typecnt;
	if (tsz == 8 && pos < n && d[pos] == '\n') {
		char rule[128];
		size_t k = 0;

		pos++;
		while (pos < n && d[pos] != '\n' && k + 1 < sizeof(rule))
			rule[k++] = (char)d[pos++];
		rule[k] = '\0';
		if (k && parse_rule(z, rule))
			return -1;
	}
	return 0;
}

int tz_load(const char *name, struct tz **out, struct err *err)
{
	struct tz *z = calloc(1, sizeof(*z));
	const char *dir = getenv("TZDIR");
	char path[4096];
	unsigned char *data = NULL;
	FILE *f = NULL;
	size_t n;
	int rc = -1, prc;

	*out = NULL;
	if (!z)
		return err_set(err, E_NOMEM, "out of memory");
	atomic_init(&z->hint_word, 0);
	z->hint = &z->hint_word;
	snprintf(z->name, sizeof(z->name), "%s", name);
	if (!strcmp(name, "UTC") || !strcmp(name, "Etc/UTC")) {
		z->ntypes = 1; /* offset 0, no transitions */
		z->ncand = candidates(z, z->cand);
	z->spread = cand_spread(z->cand, z->ncand);
		*out = z;
		return 0;
	}
	if (!valid_name(name)) {
		err_set(err, E_CONFIG, "unknown time zone '%s'", name);
		goto cleanup;
	}
	snprintf(path, sizeof(path), "%s/%s",
		 dir && *dir ? dir : "/usr/share/zoneinfo", name);
	f = fopen(path, "rb");
	if (!f) {
		err_set(err, E_CONFIG, "unknown time zone '%s' (no %s)", name,
			path);
		goto cleanup;
	}
	data = malloc(TZ_MAX_FILE);
	if (!data) {
		err_set(err, E_NOMEM, "out of memory");
		goto cleanup;
	}
	n = fread(data, 1, TZ_MAX_FILE, f);
	prc = parse_tzif(z, data, n);
	if (prc == -2) {
		err_set(err, E_NOMEM, "out of memory");
		goto cleanup;
	}
	if (prc) {
		err_set(err, E_CONFIG, "time zone file '%s' is not valid TZif",
			path);
		goto cleanup;
	}
	z->ncand = candidates(z, z->cand);
	z->spread = cand_spread(z->cand, z->ncand);
	*out = z;
	z = NULL;
	rc = 0;
cleanup:
	if (f)
		fclose(f);
	free(data);
	tz_free(z);
	return rc;
}
