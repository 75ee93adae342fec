/* tz.h - IANA time zones from the system's TZif files, without libc tz.
 *
 * Partner files carry local times ("2026-11-20 06:00" in a Berlin store);
 * the canonical model stores UTC. setenv("TZ")+mktime would work but
 * touches process-global state and makes a syscall per zone switch, so a
 * zone is read once from /usr/share/zoneinfo (or $TZDIR) into memory:
 * transitions, types, and the POSIX TZ footer rule that covers times after
 * the last transition (slim TZif files store only the rule). Conversions
 * are then pure computations.
 */
#ifndef STOCKPIPE_TZ_H
#define STOCKPIPE_TZ_H

#include <stdint.h>

#include "lib/err.h"

struct tz;

/* What to do with a local time that occurs twice (the hour after the
 * autumn change) or never (the hour skipped in spring). */
enum tz_ambiguous { TZ_EARLIER, TZ_LATER, TZ_REJECT_AMBIGUOUS };

/* Loads zone name ("Europe/Berlin", "UTC"). Returns 0 or -1 with err
 * (E_CONFIG "unknown time zone 'x'"). Caller frees with tz_free(). */
int tz_load(const char *name, struct tz **out, struct err *err);
void tz_free(struct tz *z);
const char *tz_name(const struct tz *z);

/* UTC offset in seconds (east positive) in effect at UTC instant t. */
long tz_offset_at(const struct tz *z, int64_t t);
/* The same by a binary search alone, neither reading nor setting the
 * interval tz_offset_at() remembers from its last call (for the test
 * that compares the two). */
long tz_offset_search(const struct tz *z, int64_t t);

/* Converts local civil seconds (a local time read as if it were UTC) to a
 * UTC instant. Returns 0, 1 when the local time was ambiguous (resolved by
 * policy), -1 when it does not exist (in a spring-forward gap) or is
 * ambiguous under TZ_REJECT_AMBIGUOUS (*out untouched). */
int tz_local_to_utc(const struct tz *z, int64_t local,
		    enum tz_ambiguous policy, int64_t *out);

#endif
