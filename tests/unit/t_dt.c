/* t_dt.c - UTC civil time (dt) and IANA zones from TZif files (tz),
 * including both 2026 daylight-saving changes in Berlin.
 *
 * Policy under test (documented in docs/mapping.md): a local time in the
 * spring gap does not exist and is rejected; a local time in the autumn
 * overlap is ambiguous and resolves to the EARLIER instant (the first
 * occurrence, still summer time) unless the mapping says later/reject. */
#include <stdio.h>
#include <string.h>

#include "transforms/model/dt.h"
#include "transforms/model/tz.h"
#include "t.h"

static int64_t civil(int y, int mo, int d, int h, int mi)
{
	int64_t t = 0;

	dt_from_civil(y, mo, d, h, mi, 0, &t);
	return t;
}

static const char *iso(int64_t t)
{
	static char out[DT_ISO_LEN];

	dt_format_iso(t, out);
	return out;
}

T_TEST(dt_iso_round_trip)
{
	int64_t t;

	T_EQ_INT(dt_parse_iso("2026-11-20T06:00:00+01:00", 25, &t), 0);
	T_EQ_STR(iso(t), "2026-11-20T05:00:00Z");
	T_EQ_INT(dt_parse_iso("2026-02-29", 10, &t), -1);
	T_EQ_INT(dt_parse_iso("2028-02-29 23:59", 16, &t), 0);
	T_EQ_STR(iso(t), "2028-02-29T23:59:00Z");
}

T_TEST(tz_berlin_dst_2026)
{
	struct tz *z = NULL;
	struct err e = ERR_INIT;
	int64_t u = 0;

	T_OK(tz_load("Europe/Berlin", &z, &e), &e);
	/* Winter and summer. */
	T_EQ_INT(tz_local_to_utc(z, civil(2026, 11, 20, 6, 0), TZ_EARLIER, &u), 0);
	T_EQ_STR(iso(u), "2026-11-20T05:00:00Z");
	T_EQ_INT(tz_local_to_utc(z, civil(2026, 7, 1, 12, 0), TZ_EARLIER, &u), 0);
	T_EQ_STR(iso(u), "2026-07-01T10:00:00Z");
	/* 2026-03-29: 02:00 -> 03:00, so 02:30 never happens. */
	T_EQ_INT(tz_local_to_utc(z, civil(2026, 3, 29, 1, 59), TZ_EARLIER, &u), 0);
	T_EQ_STR(iso(u), "2026-03-29T00:59:00Z");
	T_EQ_INT(tz_local_to_utc(z, civil(2026, 3, 29, 2, 30), TZ_EARLIER, &u), -1);
	T_EQ_INT(tz_local_to_utc(z, civil(2026, 3, 29, 3, 0), TZ_EARLIER, &u), 0);
	T_EQ_STR(iso(u), "2026-03-29T01:00:00Z");
	/* 2026-10-25: 03:00 -> 02:00, so 02:30 happens twice. */
	T_EQ_INT(tz_local_to_utc(z, civil(2026, 10, 25, 2, 30), TZ_EARLIER, &u), 1);
	T_EQ_STR(iso(u), "2026-10-25T00:30:00Z");
	T_EQ_INT(tz_local_to_utc(z, civil(2026, 10, 25, 2, 30), TZ_LATER, &u), 1);
	T_EQ_STR(iso(u), "2026-10-25T01:30:00Z");
	T_EQ_INT(tz_local_to_utc(z, civil(2026, 10, 25, 2, 30), TZ_REJECT_AMBIGUOUS, &u), -1);
	T_EQ_INT(tz_local_to_utc(z, civil(2026, 10, 25, 3, 0), TZ_EARLIER, &u), 0);
	T_EQ_STR(iso(u), "2026-10-25T02:00:00Z");
	/* Offsets seen from the UTC side around the change. */
	T_EQ_INT(tz_offset_at(z, civil(2026, 10, 25, 0, 59)), 7200);
	T_EQ_INT(tz_offset_at(z, civil(2026, 10, 25, 1, 0)), 3600);
	/* Far past the last stored transition: the footer rule applies. */
	T_EQ_INT(tz_local_to_utc(z, civil(2061, 7, 1, 12, 0), TZ_EARLIER, &u), 0);
	T_EQ_STR(iso(u), "2061-07-01T10:00:00Z");
	tz_free(z);
}

T_TEST(tz_new_york_and_utc)
{
	struct tz *z = NULL;
	struct err e = ERR_INIT;
	int64_t u = 0;

	T_OK(tz_load("America/New_York", &z, &e), &e);
	T_EQ_INT(tz_local_to_utc(z, civil(2026, 3, 8, 2, 30), TZ_EARLIER, &u), -1);
	T_EQ_INT(tz_local_to_utc(z, civil(2026, 11, 1, 1, 30), TZ_EARLIER, &u), 1);
	T_EQ_STR(iso(u), "2026-11-01T05:30:00Z");
	T_EQ_INT(tz_local_to_utc(z, civil(2026, 1, 15, 9, 0), TZ_EARLIER, &u), 0);
	T_EQ_STR(iso(u), "2026-01-15T14:00:00Z");
	tz_free(z);
	T_OK(tz_load("UTC", &z, &e), &e);
	T_EQ_INT(tz_local_to_utc(z, civil(2026, 3, 29, 2, 30), TZ_EARLIER, &u), 0);
	T_EQ_STR(iso(u), "2026-03-29T02:30:00Z");
	tz_free(z);
}

T_TEST(tz_refuses_unknown_and_paths)
{
	struct tz *z = NULL;
	struct err e = ERR_INIT;

	T_EQ_INT(tz_load("Europe/Atlantis", &z, &e), -1);
	T_EQ_INT(e.code, E_CONFIG);
	T_ASSERT(strstr(e.reason, "unknown time zone") != NULL);
	err_clear(&e);
	T_EQ_INT(tz_load("../../etc/passwd", &z, &e), -1);
	T_ASSERT(z == NULL);
}

/* tz_offset_at() answers from the interval of its last call when t is
 * inside it; every answer must be the binary search's, at and next to
 * each transition (half-hour ones in Lord Howe), going up, going down
 * and jumping. */
T_TEST(tz_offset_hint_agrees_with_search)
{
	static const char *const zones[] = {"Europe/Berlin",
					    "America/New_York",
					    "Australia/Lord_Howe",
					    "Asia/Kolkata", "UTC"};
	int64_t from = civil(1960, 1, 1, 0, 0), to = civil(2040, 1, 1, 0, 0);
	size_t k;

	for (k = 0; k < sizeof(zones) / sizeof(zones[0]); k++) {
		struct tz *z = NULL;
		struct err e = ERR_INIT;
		uint64_t x = 42;
		int64_t t;
		int d, i;

		T_OK(tz_load(zones[k], &z, &e), &e);
		for (t = from; t < to; t += 1800)
			for (d = -1; d <= 1; d++)
				if (tz_offset_at(z, t + d) !=
				    tz_offset_search(z, t + d)) {
					tz_free(z);
					T_FAIL("%s up at %lld", zones[k],
					       (long long)(t + d));
				}
		for (t = to; t > from; t -= 1800)
			for (d = 1; d >= -1; d--)
				if (tz_offset_at(z, t + d) !=
				    tz_offset_search(z, t + d)) {
					tz_free(z);
					T_FAIL("%s down at %lld", zones[k],
					       (long long)(t + d));
				}
		for (i = 0; i < 200000; i++) {
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			t = from + (int64_t)((x >> 11) % (uint64_t)(to - from));
			if (i % 2)
				t = t / 1800 * 1800 - 1 + (int64_t)(x % 3);
			if (tz_offset_at(z, t) != tz_offset_search(z, t)) {
				tz_free(z);
				T_FAIL("%s jump to %lld", zones[k], (long long)t);
			}
		}
		tz_free(z);
	}
}

/* dt_is_canonical(s) is 1 exactly when parsing s and formatting it
 * again gives s back: canonical instants across the calendar's edges,
 * each with every position replaced by a digit edge, a separator or a
 * letter, cut short or lengthened, must agree with the round trip. */
static int round_trips(const char *s)
{
	int64_t t;
	char out[DT_ISO_LEN];

	if (dt_parse_iso(s, strlen(s), &t))
		return 0;
	dt_format_iso(t, out);
	return !strcmp(out, s);
}

T_TEST(dt_is_canonical_agrees_with_round_trip)
{
	static const char subst[] = "0123456789-T:Z +zt.";
	static const int64_t base[] = {
		0, 951782400 /* 2000-02-29 */, 4107542399 /* 2100-02-28T23:59:59 */,
		-62135596800 /* 0001-01-01 */, 253402300799 /* 9999-12-31T23:59:59 */,
		1795417200 /* 2026-11-23T07:00 */, 1709251199, 1230767999};
	size_t b, pos, c;
	long checked = 0;

	for (b = 0; b < sizeof(base) / sizeof(base[0]); b++) {
		char s[DT_ISO_LEN + 2];

		dt_format_iso(base[b], s);
		if (!dt_is_canonical(s))
			T_FAIL("'%s' is what dt_format_iso writes", s);
		for (pos = 0; pos < DT_ISO_LEN - 1; pos++) {
			char m[DT_ISO_LEN + 2];

			for (c = 0; c < sizeof(subst) - 1; c++) {
				memcpy(m, s, DT_ISO_LEN);
				m[pos] = subst[c];
				if (dt_is_canonical(m) != round_trips(m))
					T_FAIL("'%s': canonical %d, round trip %d",
					       m, dt_is_canonical(m), round_trips(m));
				checked++;
			}
			/* cut short at pos, and one byte too long */
			memcpy(m, s, DT_ISO_LEN);
			m[pos] = '\0';
			if (dt_is_canonical(m) || round_trips(m))
				T_FAIL("'%s' (cut) is not canonical", m);
		}
		memcpy(s + DT_ISO_LEN - 1, "Z", 2);
		if (dt_is_canonical(s) || round_trips(s))
			T_FAIL("'%s' (long) is not canonical", s);
	}
	/* every month's last day +1, every hour/minute/second edge */
	{
		static const char *const cases[] = {
			"2026-02-29T00:00:00Z", "2024-02-29T00:00:00Z",
			"1900-02-29T00:00:00Z", "2000-02-29T00:00:00Z",
			"2026-04-31T00:00:00Z", "2026-12-31T23:59:59Z",
			"2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z",
			"2026-01-00T00:00:00Z", "2026-01-01T24:00:00Z",
			"2026-01-01T00:60:00Z", "2026-01-01T00:00:60Z",
			"0000-01-01T00:00:00Z", "2026-11-20 06:00:00Z",
			"2026-11-20T06:00:00+00:00", "2026-11-20T06:00Z",
			"2026-11-20T06:00:00.5Z", ""};
		size_t i;

		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			if (dt_is_canonical(cases[i]) != round_trips(cases[i]))
				T_FAIL("'%s': canonical %d, round trip %d",
				       cases[i], dt_is_canonical(cases[i]),
				       round_trips(cases[i]));
	}
	T_ASSERT(checked > 1000);
}

/* tz_local_to_utc() answers most local times from the remembered
 * interval alone: every local time every 30 minutes (and a second
 * either side) from 2000 to 2030, under each policy, must get what the
 * candidate offsets checked by binary search give. */
struct ref_hits {
	int64_t t[2];
	size_t n;
};

static void ref_hits(const struct tz *z, int64_t local, struct ref_hits *h)
{
	static const long offs[] = {-18000, -14400, 0, 3600, 7200, 10800,
				    36000, 37800, 39600};
	size_t i;

	h->n = 0;
	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		int64_t t = local - offs[i];

		if (tz_offset_search(z, t) == offs[i] && h->n < 2)
			h->t[h->n++] = t;
	}
	if (h->n == 2 && h->t[0] > h->t[1]) {
		int64_t x = h->t[0];

		h->t[0] = h->t[1];
		h->t[1] = x;
	}
}

T_TEST(tz_local_to_utc_fast_path_agrees)
{
	static const char *const zones[] = {"Europe/Berlin",
					    "America/New_York",
					    "Australia/Lord_Howe"};
	int64_t from = civil(2000, 1, 1, 0, 0), to = civil(2030, 1, 1, 0, 0);
	size_t k;

	for (k = 0; k < sizeof(zones) / sizeof(zones[0]); k++) {
		struct tz *z = NULL;
		struct err e = ERR_INIT;
		int64_t l;
		int d, p;

		T_OK(tz_load(zones[k], &z, &e), &e);
		for (l = from; l < to; l += 1800)
			for (d = -1; d <= 1; d++) {
				struct ref_hits h;

				ref_hits(z, l + d, &h);
				for (p = 0; p < 3; p++) {
					int64_t u = 7, want = 7;
					int rc = tz_local_to_utc(z, l + d, (enum tz_ambiguous)p, &u);
					int wrc = !h.n ? -1 : h.n == 1 ? 0 :
						  p == TZ_REJECT_AMBIGUOUS ? -1 : 1;

					if (wrc >= 0)
						want = h.n == 1 || p == TZ_EARLIER
							       ? h.t[0] : h.t[1];
					if (rc != wrc || u != want) {
						tz_free(z);
						T_FAIL("%s local %lld policy %d: %d %lld, want %d %lld",
						       zones[k], (long long)(l + d), p, rc,
						       (long long)u, wrc, (long long)want);
					}
				}
			}
		tz_free(z);
	}
}

/* dt_format_iso() writes digit pairs from a table: the same text as
 * printf for instants across years 1 to 9999. */
T_TEST(dt_format_iso_matches_printf)
{
	int64_t t;

	for (t = -62135596800LL; t < 253402300799LL; t += 86399LL * 97 + 3541) {
		char got[DT_ISO_LEN], want[64];
		int y, mo, d, h, mi, s;

		dt_to_civil(t, &y, &mo, &d, &h, &mi, &s);
		snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02dZ", y,
			 mo, d, h, mi, s);
		dt_format_iso(t, got);
		if (strcmp(got, want))
			T_FAIL("%lld: '%s', want '%s'", (long long)t, got, want);
	}
}

/* dt_format_iso keeps the last day's date text per thread: times in
 * one day, across midnight, back and forth between days and years
 * (before 1970 too) give what dt_format spells field by field. */
T_TEST(dt_format_iso_day_memo)
{
	static const int64_t base[] = {1795161600, 0, -86400, 951782400,
				       253402300799, -62135596800};
	static const int64_t step[] = {1, 59, 3600, 86399, 86400, -86401,
				       7 * 86400 + 13, -1};
	char a[DT_ISO_LEN], b[64];
	size_t i, j;
	int k;

	for (i = 0; i < sizeof(base) / sizeof(base[0]); i++) {
		int64_t t = base[i];

		for (k = 0; k < 200; k++) {
			j = (size_t)k % (sizeof(step) / sizeof(step[0]));
			t += step[j] * (k % 3 ? 1 : -1);
			if (t < -62135596800 || t > 253402300799)
				t = base[i];
			dt_format_iso(t, a);
			T_ASSERT(dt_format(t, "%Y-%m-%dT%H:%M:%SZ", b, sizeof(b)) > 0);
			if (strcmp(a, b))
				T_FAIL("%lld: %s, dt_format %s", (long long)t, a, b);
		}
	}
}
