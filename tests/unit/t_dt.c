/* t_dt.c - UTC civil time (dt) and IANA zones from TZif files (tz),
 * including both 2026 daylight-saving changes in Berlin.
 *
 * Policy under test (documented in docs/mapping.md): a local time in the
 * spring gap does not exist and is rejected; a local time in the autumn
 * overlap is ambiguous and resolves to the EARLIER instant (the first
 * occurrence, still summer time) unless the mapping says later/reject. */
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
