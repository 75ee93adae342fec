/* mapping_vars.c - the variables of an inbound mapping (docs/mapping.md
 * section 5): the built-ins, the facts of the document's file ($file.name,
 * $file.mtime, $file.fetched_at, $run.started_at and its short form $now),
 * the $file.NAME captures of the source's file pattern, and the context
 * variables.
 *
 * Context values are made lazily: when a record first reads one, not for
 * every scope. A value that cannot be made (`| required` on an empty BIA04
 * in a set that has no BIA) then rejects only the records that read it,
 * instead of failing a document in which other sets or rows never needed
 * it; and a `when:` that drops a record first spares the work. Once made
 * (or failed) a value is kept until the driver starts a new context
 * (map_scope(ctx = 1)), so it is made once per document (CSV), per set
 * and header (EDI) or per record element (XML), as before.
 */
#include <stdio.h>
#include <string.h>

#include "mapping_int.h"

/* Indexed by the VAR_* built-ins of mapping_int.h. */
static const char *const builtin_vars[VAR_NBUILTIN] = {
	"file", "source", "line", "row", "file.name", "file.mtime",
	"file.fetched_at", "run.started_at", "now"};

static int is_cap_name(const char *s)
{
	size_t i;

	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
	      *s == '_'))
		return 0;
	for (i = 1; s[i]; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return i < FILEPAT_NAME_MAX;
}

/* A character that continues a $name (expr_parse.c's identifiers). */
static int is_word(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' ||
	       (unsigned char)c >= 0x80;
}

/* Column of the first `$name` in the expression being compiled: the
 * hook is not told where the variable is, and a capture the pattern
 * lacks is reported there later (mapping_check_patterns). */
static unsigned var_col(const struct mapping *m, const char *name)
{
	const char *t = m->cur_text, *p;
	size_t n = strlen(name);

	for (p = t ? strchr(t, '$') : NULL; p; p = strchr(p + 1, '$'))
		if (!strncmp(p + 1, name, n) && !is_word(p[1 + n]))
			return m->cur_tcol + (unsigned)(p - t);
	return m->cur_col;
}

/* $file.NAME that is no fact: a capture of the source's pattern, which
 * only the pipeline (or map try's --source/--pattern) knows. */
static int cap_ref(struct mapping *m, const char *full, int *id)
{
	const char *name = full + 5;
	size_t k;

	if (!is_cap_name(name))
		return 0;
	for (k = 0; k < m->ncaps; k++)
		if (!strcmp(m->caps[k].name, name))
			break;
	if (k == m->ncaps) {
		if (k == MAP_MAX_CAPS)
			return 0;
		m->caps[k].name = arena_strdup(&m->pool.arena, name);
		if (!m->caps[k].name)
			return 0;
		m->caps[k].line = m->cur_line;
		m->caps[k].col = var_col(m, full);
		m->ncaps++;
	}
	*id = VAR_CAP0 + (int)k;
	return 1;
}

int map_var_scope(void *ud, const char *name, int *id)
{
	struct mapping *m = ud;
	size_t i;

	for (i = 0; i < VAR_NBUILTIN; i++)
		if (!strcmp(builtin_vars[i], name)) {
			if (m->in_context && (i == VAR_LINE || i == VAR_ROW))
				return 0;
			if (i >= VAR_FILE_NAME)
				m->reads_facts = 1;
			*id = (int)i;
			return 1;
		}
	if (!strncmp(name, "file.", 5))
		return cap_ref(m, name, id);
	for (i = 0; i < m->cur_nvars; i++)
		if (!strcmp(m->vars[i], name)) {
			*id = (int)(VAR_NBUILTIN + i);
			return 1;
		}
	return 0;
}

int map_var_compile_context(struct mapping *m, struct err *err)
{
	const struct ynode *c = ynode_get(m->yt->root, "context");
	size_t i, j;

	if (!c)
		return 0;
	if (c->type != Y_MAP)
		return ynode_err(m->yt, c, err, E_CONFIG,
				 "context: maps variable names to expressions");
	m->in_context = 1;
	for (i = 0; i < c->n; i += 2) {
		const struct ynode *k = c->items[i], *v = c->items[i + 1];
		struct expr_scope sc;

		if (m->nvars == MAP_MAX_VARS)
			return ynode_err(m->yt, k, err, E_CONFIG,
					 "too many context variables");
		for (j = 0; j < VAR_NBUILTIN; j++)
			if (!strcmp(k->value, builtin_vars[j]))
				return ynode_err(m->yt, k, err, E_CONFIG,
						 "'%s' is a built-in variable",
						 k->value);
		if (!strncmp(k->value, "file.", 5) ||
		    !strncmp(k->value, "run.", 4))
			return ynode_err(m->yt, k, err, E_CONFIG,
					 "'%s': names starting with file. or run. are the file's facts",
					 k->value);
		for (j = 0; j < m->nvars; j++)
			if (!strcmp(k->value, m->vars[j]))
				return ynode_err(m->yt, k, err, E_CONFIG,
						 "context variable '%s' is defined twice",
						 k->value);
		if (v->type != Y_SCALAR)
			return ynode_err(m->yt, v, err, E_CONFIG,
					 "a context value is one expression");
		m->cur_nvars = m->nvars; /* earlier variables only */
		map_scope_at(m, &sc, v);
		if (expr_compile(&m->pool, &sc, v->value, v->len, 0,
				 &m->var_e[m->nvars], err))
			return -1;
		m->vars[m->nvars++] = k->value;
	}
	m->in_context = 0;
	m->cur_nvars = m->nvars;
	return 0;
}

/* The errors map_scope() lets stop the document (not the data's fault). */
static int resource_error(int code)
{
	return code == E_NOMEM || code == E_IO || code == E_INTERNAL;
}

/* Makes context variable i (run->vstate[i] is 0 or 2). */
static int make_context(struct map_run *run, size_t i, struct err *err)
{
	const struct mapping *m = run->m;
	struct expr_rt rt;
	struct expr_val v;
	struct err ce = ERR_INIT;
	int inner;

	if (run->vstate[i] == 2)
		goto failed;
	inner = run->ctx_fail;
	map_rt_init(run, &rt, &run->ctx_arena);
	if (expr_eval(m->var_e[i], &rt, &v, &ce)) {
		char why[sizeof(ce.reason) + 160];

		if (resource_error(ce.code)) {
			/* Not the data's fault: the document stops. */
			if (!err->code)
				*err = ce;
			err_locate(err, run->doc->name,
				   run->have_scope ? run->scope.line : 1, 0,
				   NULL);
			return -1;
		}
		if (run->ctx_fail != inner) {
			/* An earlier variable it reads failed: that one is
			 * the reason (and the field) for both. */
			run->vfail[i] = run->vfail[run->ctx_fail];
		} else {
			snprintf(why, sizeof(why), "context '%s': %s",
				 m->vars[i], ce.reason);
			run->vfail[i] = arena_strdup(&run->ctx_arena, why);
			if (!run->vfail[i])
				return err_set(err, E_NOMEM, "out of memory");
			run->ctx_fail = (int)i;
		}
		run->vstate[i] = 2;
		goto failed;
	}
	if (v.s && !(v.s = arena_strndup(&run->ctx_arena, v.s, v.n)))
		return err_set(err, E_NOMEM, "out of memory");
	run->vars[VAR_NBUILTIN + i] = v;
	run->vstate[i] = 1;
	return 0;
failed:
	if (run->ctx_fail < 0) {
		/* the variable the failure came from: the first of those
		 * with the same reason */
		size_t j;

		for (j = 0; j <= i; j++)
			if (run->vstate[j] == 2 && run->vfail[j] == run->vfail[i])
				break;
		run->ctx_fail = (int)j;
	}
	return err_set(err, E_MAP, "%s", run->vfail[i]);
}

int map_var_rt(void *ud, int id, struct expr_val *out, struct err *err)
{
	struct map_run *run = ud;

	if (id == VAR_LINE && !run->vars[id].s) {
		run->vars[id].n = str_ulong(run->linebuf, run->scope.line);
		run->vars[id].s = run->linebuf;
	} else if (id == VAR_ROW && !run->vars[id].s) {
		run->vars[id].n = str_ulong(run->rowbuf, run->scope.index);
		run->vars[id].s = run->rowbuf;
	} else if (id >= VAR_NBUILTIN && id < VAR_CAP0 &&
		   run->vstate[id - VAR_NBUILTIN] != 1 &&
		   make_context(run, (size_t)(id - VAR_NBUILTIN), err)) {
		return -1;
	}
	*out = run->vars[id];
	return 0;
}

static void set_var(struct map_run *run, int id, const char *s)
{
	run->vars[id].s = s;
	run->vars[id].n = s ? strlen(s) : 0;
}

void map_var_doc_init(struct map_run *run)
{
	const struct mapping_doc *d = run->doc;
	const struct mapping_facts *f = d->facts;
	const struct mapping *m = run->m;
	size_t k, j;

	set_var(run, VAR_FILE, d->name);
	set_var(run, VAR_SOURCE, d->source ? d->source : "");
	set_var(run, VAR_FILE_NAME, f && f->file_name ? f->file_name : d->name);
	set_var(run, VAR_FILE_MTIME, f ? f->mtime : NULL);
	set_var(run, VAR_FILE_FETCHED, f ? f->fetched_at : NULL);
	set_var(run, VAR_RUN_STARTED, f ? f->run_started : NULL);
	set_var(run, VAR_NOW, f ? f->run_started : NULL);
	for (k = 0; k < m->ncaps; k++) {
		/* absent when the name did not match a pattern with it (a
		 * replayed file): | required decides */
		set_var(run, VAR_CAP0 + (int)k, NULL);
		for (j = 0; f && f->caps && j < f->caps->n; j++)
			if (!strcmp(f->caps->name[j], m->caps[k].name))
				set_var(run, VAR_CAP0 + (int)k,
					f->caps->value[j]);
	}
	run->ctx_fail = -1;
	map_var_new_context(run);
}

void map_var_new_context(struct map_run *run)
{
	arena_reset(&run->ctx_arena);
	run->memo_gen++; /* the memo's values were in ctx_arena */
	memset(run->vstate, 0, run->m->nvars);
}

int mapping_check_patterns(const struct mapping *m, const char *const *pats,
			   size_t npats, const char *hint, struct err *err)
{
	char names[FILEPAT_MAX_CAPS][FILEPAT_NAME_MAX], list[400];
	size_t k, p, n, j, o;

	for (k = 0; k < m->ncaps; k++) {
		if (!npats)
			return err_at(err, E_CONFIG, m->path, m->caps[k].line,
				      m->caps[k].col,
				      "$file.%s is a capture of the source's file pattern, but no pattern is given%s%s%s",
				      m->caps[k].name, hint ? " (" : "",
				      hint ? hint : "", hint ? ")" : "");
		for (p = 0; p < npats; p++) {
			n = filepat_names(pats[p], names, FILEPAT_MAX_CAPS);
			for (j = 0; j < n; j++)
				if (!strcmp(names[j], m->caps[k].name))
					break;
			if (j < n)
				continue;
			o = 0;
			list[0] = '\0';
			for (j = 0; j < n; j++)
				o += (size_t)snprintf(list + o, sizeof(list) - o,
						      "%s%s", j ? ", " : "",
						      names[j]);
			return err_at(err, E_CONFIG, m->path, m->caps[k].line,
				      m->caps[k].col,
				      "$file.%s is not a capture of the file pattern '%s' (%s%s; the file's facts: name, mtime, fetched_at)",
				      m->caps[k].name, pats[p],
				      n ? "captures: " : "it has no captures",
				      list);
		}
	}
	return 0;
}

int mapping_reads_facts(const struct mapping *m)
{
	return m->reads_facts || m->ncaps;
}
