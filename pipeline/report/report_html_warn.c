/* report_html_warn.c - the "Warnings" section of the run's HTML page
 * (issue 17, item 5): what the run's documents gave that did not stop
 * their data (envelope counts and versions, values cut by a repetition
 * separator, the EDI reader's warnings), each at the place `show` prints
 * it: file:line:col, then the segment and byte. No heading for a run
 * without warnings; at most HTML_WARN_MAX rows, then "... and N more"
 * with the command that lists them all.
 */
#include "report_html_int.h"
#include "lib/utf8.h"
#include "pipeline/store/state_warn.h"

#include <stdio.h>
#include <string.h>

#define HTML_WARN_MAX 100

struct warn_page {
	const struct html_ctx *h;
	size_t n;               /* warnings seen, shown or not */
};

/* Partner text: control bytes and bad UTF-8 as \xNN, then escaped. */
static void cell(struct buf *b, const char *s)
{
	char out[2048];

	s = s ? s : "";
	utf8_term_copy(out, sizeof(out), s, strlen(s), 0);
	html_escs(b, out);
}

static int warn_row(void *ud, const struct state_warning *w)
{
	static const char *const cols[] = {"source", "document", "location",
					   "kind", "warning"};
	struct warn_page *p = ud;
	struct buf *b = p->h->b;

	if (p->n++ >= HTML_WARN_MAX)
		return 0;       /* counted for the "... and N more" line */
	if (p->n == 1) {
		buf_adds(b, "<h2 id=\"warnings\">Warnings</h2>\n<p>Found in "
			    "the documents; their data was loaded.</p>\n"
			    "<table>\n");
		html_th(b, cols, 5);
	}
	buf_adds(b, "<tr><td>");
	cell(b, w->scope);
	buf_adds(b, "</td><td>");
	cell(b, w->ukey);
	buf_adds(b, "</td><td><code>");
	cell(b, w->file);
	if (w->loc.line)
		buf_addf(b, ":%lu:%u", w->loc.line, w->loc.col);
	buf_adds(b, "</code>");
	if (w->loc.seg)
		buf_addf(b, " (segment %lu, byte %llu)", w->loc.seg,
			 w->loc.offset);
	buf_adds(b, "</td><td>");
	cell(b, w->code);
	buf_adds(b, "</td><td>");
	cell(b, w->message);
	buf_adds(b, "</td></tr>\n");
	return 0;
}

int html_warnings(const struct html_ctx *h, struct err *err)
{
	struct warn_page p = {h, 0};

	if (state_warn_run_each(h->st, h->run->run_id, warn_row, &p, err) < 0)
		return -1;
	if (!p.n)
		return 0;
	buf_adds(h->b, "</table>\n");
	if (p.n > HTML_WARN_MAX) {
		buf_addf(h->b, "<p>\xe2\x80\xa6 and %zu more; all of them: ",
			 p.n - HTML_WARN_MAX);
		html_cmd(h, "show %lld", (long long)h->run->run_id);
		buf_adds(h->b, "</p>\n");
	}
	return 0;
}
