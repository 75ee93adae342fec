/* t_log.c - the operator's lines on stderr as text and as JSON lines:
 * the same events either way, JSON escaped and trimmed, the run id added,
 * blocks split per line, events only in JSON. stderr is redirected to a
 * file for each capture; the format and run are global, so every test
 * puts them back to text / no run before it asserts anything. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "t.h"

/* Runs fn with stderr going to "stderr.txt"; returns its content. */
static const char *capture(void (*fn)(void))
{
	int saved, fd;

	fflush(stderr);
	saved = dup(2);
	fd = open("stderr.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (saved < 0 || fd < 0)
		return NULL;
	dup2(fd, 2);
	close(fd);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	log_set_format(LOG_TEXT);
	log_set_run(0);
	return t_read_file("stderr.txt");
}

/* The line with its "ts" value replaced by TS (the clock is real). */
static const char *no_ts(const char *s)
{
	static char out[8192];
	const char *p;
	size_t o = 0;

	while (*s && o + 3 < sizeof(out)) {
		if (!strncmp(s, "\"ts\":\"", 6) && (p = strchr(s + 6, '"'))) {
			/* 2026-11-20T06:00:00.123Z is 24 characters. */
			if (p - (s + 6) != 24)
				return "(bad ts)";
			memcpy(out + o, "\"ts\":TS", 7);
			o += 7;
			s = p + 1;
		} else {
			out[o++] = *s++;
		}
	}
	out[o] = '\0';
	return out;
}

static void text_lines(void)
{
	log_set_format(LOG_TEXT);
	log_set_run(7);
	log_msg("info", "  stores: %d new files", 2);
	log_block("info", "summary\n  line two\n");
	log_json_event("info", "report", "report", "{}", 2);
}

T_TEST(log_text_format_verbatim)
{
	const char *out = capture(text_lines);

	T_EQ_STR(out, "  stores: 2 new files\nsummary\n  line two\n");
	T_EQ_INT(log_get_format(), LOG_TEXT);
}

static void json_lines(void)
{
	log_set_format(LOG_JSON);
	log_msg("warn", "  bad \"row\"\tback\\slash\nnext\001");
	log_set_run(42);
	log_msg("error", "unit %s failed", "map");
}

T_TEST(log_json_escaped_trimmed_with_run)
{
	const char *out = no_ts(capture(json_lines));

	T_EQ_STR(out,
		 "{\"ts\":TS,\"level\":\"warn\",\"msg\":\"bad \\\"row\\\"\\tback"
		 "\\\\slash\\nnext\\u0001\"}\n"
		 "{\"ts\":TS,\"level\":\"error\",\"run_id\":42,\"msg\":\"unit "
		 "map failed\"}\n");
}

static void json_block_event(void)
{
	log_set_format(LOG_JSON);
	log_set_run(3);
	log_block("info", "first\n\n  second\nthird");
	log_json_event("info", "report", "report", "{\"a\":1}", 7);
}

T_TEST(log_json_block_and_event)
{
	const char *out = no_ts(capture(json_block_event));

	/* Empty lines are dropped; the last line needs no newline. */
	T_EQ_STR(out,
		 "{\"ts\":TS,\"level\":\"info\",\"run_id\":3,\"msg\":\"first\"}\n"
		 "{\"ts\":TS,\"level\":\"info\",\"run_id\":3,\"msg\":\"second\"}\n"
		 "{\"ts\":TS,\"level\":\"info\",\"run_id\":3,\"msg\":\"third\"}\n"
		 "{\"ts\":TS,\"level\":\"info\",\"event\":\"report\","
		 "\"run_id\":3,\"report\":{\"a\":1}}\n");
}

static void long_lines(void)
{
	char big[5000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_set_format(LOG_TEXT);
	log_msg("info", "%s", big);
}

/* A message past the 4 KiB line buffer is cut visibly, never silently. */
T_TEST(log_long_line_marked)
{
	const char *out = capture(long_lines);
	size_t n;

	T_ASSERT(out != NULL);
	n = strlen(out);
	/* 4092 of the message, "...", the newline. */
	T_EQ_INT(n, 4096);
	T_EQ_STR(out + n - 5, "x...\n");
}

static void utf8_cut(void)
{
	/* 3000 two-byte characters (6000 bytes) do not fit the 6000-byte
	 * JSON body: the cut must not split a character. */
	char msg[6001];
	int i;

	for (i = 0; i < 3000; i++)
		memcpy(msg + 2 * i, "\xc3\xa9", 2);
	msg[6000] = '\0';
	log_set_format(LOG_JSON);
	log_block("info", msg);
}

T_TEST(log_json_cut_on_character_boundary)
{
	const char *out = capture(utf8_cut);
	const char *m, *end;

	T_ASSERT(out != NULL);
	m = strstr(out, "\"msg\":\"");
	T_ASSERT(m != NULL);
	m += 7;
	end = strstr(m, "\"}\n");
	T_ASSERT(end != NULL);
	T_ASSERT(end - m > 5000);
	T_EQ_INT((end - m) % 2, 0);
	T_EQ_INT((unsigned char)end[-2], 0xc3);
	T_EQ_INT((unsigned char)end[-1], 0xa9);
}

T_TEST(log_format_names)
{
	T_EQ_INT(log_set_format_name("json"), 0);
	T_EQ_INT(log_get_format(), LOG_JSON);
	T_EQ_INT(log_set_format_name("yaml"), -1);
	/* A refused name leaves the format as it was. */
	T_EQ_INT(log_get_format(), LOG_JSON);
	T_EQ_INT(log_set_format_name("text"), 0);
	T_EQ_INT(log_get_format(), LOG_TEXT);
}

static void hostile_names(void)
{
	log_set_format(LOG_TEXT);
	log_msg("warn", "  stores: 'x\x1b[2Jy.csv' and 'caf\xe9.csv' and "
			"'\xc2\x9b""31m' and 'M\xc3\xbcnchen\tok'");
	log_block("info", "a\x1b]0;title\x07\nb\n");
	log_set_format(LOG_JSON);
	log_msg("warn", "'x\x1b[2Jy.csv' 'caf\xe9.csv'");
}

/* A file name is the attacker's text: in a text line an ESC, BEL, C1 CSI
 * or a byte that is not UTF-8 is shown as \xNN (the terminal never sees
 * it raw); JSON lines escape controls and write U+FFFD for bad bytes. */
T_TEST(log_hostile_bytes_escaped)
{
	const char *out = capture(hostile_names);

	T_ASSERT(out != NULL);
	T_EQ_STR(no_ts(out),
		 "  stores: 'x\\x1b[2Jy.csv' and 'caf\\xe9.csv' and "
		 "'\\xc2\\x9b31m' and 'M\xc3\xbcnchen\tok'\n"
		 "a\\x1b]0;title\\x07\nb\n"
		 "{\"ts\":TS,\"level\":\"warn\",\"msg\":"
		 "\"'x\\u001b[2Jy.csv' 'caf\xef\xbf\xbd.csv'\"}\n");
}

/* The structured fields: the unit being worked on (log_set_unit), the
 * place and kind of a finding (log_at, log_err); only what is known is
 * written, and text lines stay as they were. */
static void field_lines(void)
{
	struct err e = ERR_INIT;
	struct log_at at = {"stock.csv", 12, 3, "qty", EC_DATA, E_PARSE};

	log_set_format(LOG_JSON);
	log_set_run(5);
	log_set_unit("map", "stores", "stock_\"1\".csv");
	log_at("warn", &at, "    stock.csv:12:3: bad number");
	err_at(&e, E_CONFIG, "/etc/sp.yaml", 7, 9, "unknown key 'nmae'");
	log_set_unit(NULL, NULL, NULL);
	log_err("error", &e, "stockpipe: %s", e.reason);
	log_msg("info", "plain");
}

static void field_text(void)
{
	struct log_at at = {"stock.csv", 12, 3, "qty", EC_DATA, E_PARSE};

	log_set_unit("map", "stores", "x.csv");
	log_at("warn", &at, "    stock.csv:12:3: bad number");
	log_set_unit(NULL, NULL, NULL);
}

T_TEST(log_json_structured_fields)
{
	const char *out = capture(field_lines);

	T_EQ_STR(no_ts(out),
		 "{\"ts\":TS,\"level\":\"warn\",\"run_id\":5,\"stage\":\"map\","
		 "\"source\":\"stores\",\"unit\":\"stock_\\\"1\\\".csv\","
		 "\"file\":\"stock.csv\",\"line\":12,\"col\":3,\"field\":\"qty\","
		 "\"class\":\"data\",\"code\":\"parse\","
		 "\"msg\":\"stock.csv:12:3: bad number\"}\n"
		 "{\"ts\":TS,\"level\":\"error\",\"run_id\":5,"
		 "\"file\":\"/etc/sp.yaml\",\"line\":7,\"col\":9,"
		 "\"class\":\"config\",\"code\":\"config\","
		 "\"msg\":\"stockpipe: unknown key 'nmae'\"}\n"
		 "{\"ts\":TS,\"level\":\"info\",\"run_id\":5,\"msg\":\"plain\"}\n");
	T_EQ_STR(capture(field_text), "    stock.csv:12:3: bad number\n");
}
