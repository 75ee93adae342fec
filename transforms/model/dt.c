/* dt.c - see dt.h. */
#include "dt.h"

#include <stdio.h>
#include <string.h>

static int is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
	static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && is_leap(y) ? 29 : d[m - 1];
}

/* Howard Hinnant's days_from_civil. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

int dt_from_civil(int year, int mon, int day, int hour, int min, int sec,
		  int64_t *out)
{
	if (year < 1 || year > 9999 || mon < 1 || mon > 12 || day < 1 ||
	    day > days_in_month(year, mon) || hour < 0 || hour > 23 ||
	    min < 0 || min > 59 || sec < 0 || sec > 60)
		return -1;
	if (sec == 60) /* leap second: fold onto the next second */
		sec = 59;
	*out = days_from_civil(year, (unsigned)mon, (unsigned)day) * 86400 +
	       hour * 3600 + min * 60 + sec;
	return 0;
}

void dt_to_civil(int64_t t, int *year, int *mon, int *day, int *hour,
		 int *min, int *sec)
{
	int64_t z = (t >= 0 ? t : t - 86399) / 86400;
	int64_t secs = t - z * 86400;
	int64_t era, y;
	unsigned doe, yoe, doy, mp, d, m;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	*year = (int)(y + (m <= 2));
	*mon = (int)m;
	*day = (int)d;
	*hour = (int)(secs / 3600);
	*min = (int)(secs / 60 % 60);
	*sec = (int)(secs % 60);
}

static int num(const char *s, size_t n, size_t at, size_t len, int *out)
{
	size_t i;
	int v = 0;

	if (at + len > n)
		return -1;
	for (i = at; i < at + len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int dt_parse_iso(const char *s, size_t n, int64_t *out)
{
	int y, mo, d, h = 0, mi = 0, se = 0, oh, om;
	size_t p = 10;
	int64_t t;

	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (num(s, n, 0, 4, &y) || n < 10 || s[4] != '-' ||
	    num(s, n, 5, 2, &mo) || s[7] != '-' || num(s, n, 8, 2, &d))
		return -1;
	if (p < n && (s[p] == 'T' || s[p] == ' ')) {
		if (num(s, n, p + 1, 2, &h) || p + 3 >= n || s[p + 3] != ':' ||
		    num(s, n, p + 4, 2, &mi))
			return -1;
		p += 6;
		if (p < n && s[p] == ':') {
			if (num(s, n, p + 1, 2, &se))
				return -1;
			p += 3;
			if (p < n && (s[p] == '.' || s[p] == ',')) {
				p++;
				while (p < n && s[p] >= '0' && s[p] <= '9')
					p++;
			}
		}
	}
	if (dt_from_civil(y, mo, d, h, mi, se, &t))
		return -1;
	if (p < n && s[p] == 'Z') {
		p++;
	} else if (p < n && (s[p] == '+' || s[p] == '-')) {
		int sign = s[p] == '-' ? -1 : 1;

		if (num(s, n, p + 1, 2, &oh))
			return -1;
		p += 3;
		if (p < n && s[p] == ':')
			p++;
		if (num(s, n, p, 2, &om))
			return -1;
		p += 2;
		if (oh > 23 || om > 59)
			return -1;
		t -= sign * (oh * 3600 + om * 60);
	}
	if (p != n)
		return -1;
	*out = t;
	return 0;
}

/* Two digits at s as a number, or -1. */
static int two(const char *s)
{
	unsigned a = (unsigned char)s[0] - '0', b = (unsigned char)s[1] - '0';

	return a < 10 && b < 10 ? (int)(a * 10 + b) : -1;
}

int dt_is_canonical(const char *s)
{
	int y, mo, d;

	if (strnlen(s, DT_ISO_LEN) != DT_ISO_LEN - 1 || s[4] != '-' ||
	    s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
	    s[19] != 'Z' || two(s) < 0 || two(s + 2) < 0)
		return 0;
	y = two(s) * 100 + two(s + 2);
	mo = two(s + 5);
	d = two(s + 8);
	return y >= 1 && mo >= 1 && mo <= 12 && d >= 1 &&
	       d <= days_in_month(y, mo) && (unsigned)two(s + 11) <= 23 &&
	       (unsigned)two(s + 14) <= 59 && (unsigned)two(s + 17) <= 59;
}

/* "00" to "99": two digits per lookup (a date() and its JSON line
 * format one instant per record). */
static const char pairs[201] =
	"00010203040506070809101112131415161718192021222324"
	"25262728293031323334353637383940414243444546474849"
	"50515253545556575859606162636465666768697071727374"
	"75767778798081828384858687888990919293949596979899";

static void put2(char *out, int v)
{
	memcpy(out, pairs + 2 * v, 2);
}

void dt_format_iso(int64_t t, char *out)
{
	/* Times written one after another mostly fall on the same day:
	 * its "YYYY-MM-DD" is kept per thread and the civil date worked
	 * out again only for another day. */
	static _Thread_local int64_t memo_day = INT64_MIN;
	static _Thread_local char memo_ymd[10];
	int64_t z = (t >= 0 ? t : t - 86399) / 86400;
	int64_t secs = t - z * 86400;
	int y, mo, d, h, mi, s;

	if (z != memo_day || z == INT64_MIN) {
		dt_to_civil(t, &y, &mo, &d, &h, &mi, &s);
		/* Fixed-width digits: every field is range-bound here. */
		y = ((y % 10000) + 10000) % 10000;
		put2(memo_ymd, y / 100);
		put2(memo_ymd + 2, y % 100);
		memo_ymd[4] = '-';
		put2(memo_ymd + 5, mo);
		memo_ymd[7] = '-';
		put2(memo_ymd + 8, d);
		memo_day = z;
	}
	memcpy(out, memo_ymd, 10);
	h = (int)(secs / 3600);
	mi = (int)(secs / 60 % 60);
	s = (int)(secs % 60);
	out[10] = 'T';
	put2(out + 11, h);
	out[13] = ':';
	put2(out + 14, mi);
	out[16] = ':';
	put2(out + 17, s);
	out[19] = 'Z';
	out[20] = '\0';
}

int dt_format(int64_t t, const char *fmt, char *out, size_t n)
{
	int y, mo, d, h, mi, s;
	size_t len = 0;
	int w;

	dt_to_civil(t, &y, &mo, &d, &h, &mi, &s);
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			if (len + 1 >= n)
				return -1;
			out[len++] = *fmt;
			continue;
		}
		fmt++;
		switch (*fmt) {
		case 'Y': w = snprintf(out + len, n - len, "%04d", y); break;
		case 'm': w = snprintf(out + len, n - len, "%02d", mo); break;
		case 'd': w = snprintf(out + len, n - len, "%02d", d); break;
		case 'H': w = snprintf(out + len, n - len, "%02d", h); break;
		case 'M': w = snprintf(out + len, n - len, "%02d", mi); break;
		case 'S': w = snprintf(out + len, n - len, "%02d", s); break;
		case 'j': {
			int64_t jan1;

			dt_from_civil(y, 1, 1, 0, 0, 0, &jan1);
			w = snprintf(out + len, n - len, "%03d",
				     (int)((t - jan1) / 86400) + 1);
			break;
		}
		case '%': w = snprintf(out + len, n - len, "%%"); break;
		default: return -1;
		}
		if (w < 0 || (size_t)w >= n - len)
			return -1;
		len += (size_t)w;
	}
	if (len >= n)
		return -1;
	out[len] = '\0';
	return (int)len;
}
