/* t_tz.c - zones beyond the Berlin and New York cases of t_dt.c: the
 * southern hemisphere (summer time across new year), a half-hour offset
 * without DST, the TZ footer rule far past the last transition, TZDIR,
 * names that are not zones. */
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "transforms/model/dt.h"
#include "transforms/model/tz.h"
#include "t.h"

static int64_t at(int y, int mo, int d, int h, int mi)
{
	int64_t t = 0;

	dt_from_civil(y, mo, d, h, mi, 0, &t);
	return t;
}

T_TEST(tz_sydney_summer_across_new_year)
{
	struct tz *z = NULL;
	struct err e = ERR_INIT;
	int64_t u = 0;

	T_OK(tz_load("Australia/Sydney", &z, &e), &e);
	T_EQ_STR(tz_name(z), "Australia/Sydney");
	/* January is summer: +11; July is winter: +10. */
	T_EQ_INT(tz_offset_at(z, at(2026, 1, 15, 0, 0)), 11 * 3600);
	T_EQ_INT(tz_offset_at(z, at(2026, 7, 15, 0, 0)), 10 * 3600);
	T_EQ_INT(tz_local_to_utc(z, at(2026, 1, 1, 9, 0), TZ_EARLIER, &u), 0);
	T_EQ_INT(u, at(2025, 12, 31, 22, 0));
	/* 2026-10-04 02:00 local does not exist (clocks go to 03:00). */
	T_EQ_INT(tz_local_to_utc(z, at(2026, 10, 4, 2, 30), TZ_EARLIER, &u),
		 -1);
	/* 2026-04-05 02:30 local happens twice. */
	T_EQ_INT(tz_local_to_utc(z, at(2026, 4, 5, 2, 30), TZ_EARLIER, &u), 1);
	T_EQ_INT(u, at(2026, 4, 4, 15, 30));
	T_EQ_INT(tz_local_to_utc(z, at(2026, 4, 5, 2, 30), TZ_LATER, &u), 1);
	T_EQ_INT(u, at(2026, 4, 4, 16, 30));
	tz_free(z);
}

T_TEST(tz_kolkata_half_hour_no_dst)
{
	struct tz *z = NULL;
	struct err e = ERR_INIT;
	int64_t u = 0;

	T_OK(tz_load("Asia/Kolkata", &z, &e), &e);
	T_EQ_INT(tz_offset_at(z, at(2026, 3, 29, 1, 0)), 19800);
	T_EQ_INT(tz_offset_at(z, at(2026, 10, 25, 1, 0)), 19800);
	T_EQ_INT(tz_local_to_utc(z, at(2026, 11, 20, 6, 0),
				 TZ_REJECT_AMBIGUOUS, &u), 0);
	T_EQ_INT(u, at(2026, 11, 20, 0, 30));
	tz_free(z);
}

/* Past the last stored transition the footer rule decides: Berlin in
 * 2099 still changes on the last Sundays of March and October. */
T_TEST(tz_footer_rule_far_future)
{
	struct tz *z = NULL;
	struct err e = ERR_INIT;
	int64_t u = 0;

	T_OK(tz_load("Europe/Berlin", &z, &e), &e);
	/* 2099-03-29 is the last Sunday of March; 2099-10-25 of October. */
	T_EQ_INT(tz_offset_at(z, at(2099, 3, 29, 0, 59)), 3600);
	T_EQ_INT(tz_offset_at(z, at(2099, 3, 29, 1, 0)), 7200);
	T_EQ_INT(tz_offset_at(z, at(2099, 10, 25, 0, 59)), 7200);
	T_EQ_INT(tz_offset_at(z, at(2099, 10, 25, 1, 0)), 3600);
	T_EQ_INT(tz_local_to_utc(z, at(2099, 3, 29, 2, 30), TZ_EARLIER, &u),
		 -1);
	tz_free(z);
}

T_TEST(tz_tzdir_and_bad_files)
{
	struct tz *z = NULL, *utc = NULL;
	struct err e = ERR_INIT, e_fake = ERR_INIT, e_utc = ERR_INIT;
	const char *old = getenv("TZDIR");
	char *saved = old ? strdup(old) : NULL;
	int rc_fake, rc_berlin, rc_utc;

	T_ASSERT(t_write_file("Fake", "not a tzif file at all") == 0);
	setenv("TZDIR", t_dir, 1);
	rc_fake = tz_load("Fake", &z, &e_fake);
	rc_berlin = tz_load("Europe/Berlin", &z, &e);
	rc_utc = tz_load("UTC", &utc, &e_utc);
	if (saved) {
		setenv("TZDIR", saved, 1);
		free(saved);
	} else {
		unsetenv("TZDIR");
	}
	T_EQ_INT(rc_fake, -1);
	T_EQ_INT(e_fake.code, E_CONFIG);
	T_ASSERT(strstr(e_fake.reason, "is not valid TZif") != NULL);
	/* Zones are looked up in TZDIR only... */
	T_EQ_INT(rc_berlin, -1);
	T_EQ_INT(e.code, E_CONFIG);
	T_ASSERT(strstr(e.reason, "unknown time zone 'Europe/Berlin' (no ")
		 != NULL);
	/* ...but UTC needs no file. */
	T_EQ_INT(rc_utc, 0);
	T_EQ_INT(tz_offset_at(utc, 0), 0);
	tz_free(utc);
	err_clear(&e);
	T_EQ_INT(tz_load("", &z, &e), -1);
	err_clear(&e);
	T_EQ_INT(tz_load("/etc/localtime", &z, &e), -1);
	T_EQ_INT(e.code, E_CONFIG);
	T_ASSERT(z == NULL);
}
