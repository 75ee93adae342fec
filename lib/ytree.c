/* ytree.c - see ytree.h. */
#include "ytree.h"
#include "buf.h"
#include "suggest.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* Config and mapping files are hand-written; anything larger is a mistake
 * or an attack. */
#define YTREE_MAX_FILE (8u << 20)
#define YTREE_MAX_DEPTH 64

struct builder {
	struct ytree *t;
	yaml_parser_t p;
	struct err *err;
};

static int parse_err(struct builder *b, const yaml_mark_t *m, const char *why)
{
	return err_at(b->err, E_CONFIG, b->t->path, m->line + 1,
		      (unsigned)m->column + 1, "%s", why);
}

static struct ynode *new_node(struct builder *b, enum ynode_type type,
			      const yaml_mark_t *m)
{
	struct ynode *n = arena_alloc(&b->t->arena, sizeof(*n));

	if (!n)
		return NULL;
	memset(n, 0, sizeof(*n));
	n->type = type;
	n->line = m->line + 1;
	n->col = (unsigned)m->column + 1;
	return n;
}

static int push(struct builder *b, struct ynode *parent, struct ynode *child,
		size_t *cap)
{
	if (parent->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		struct ynode **items =
			arena_alloc(&b->t->arena, ncap * sizeof(*items));

		if (!items)
			return err_set(b->err, E_NOMEM, "out of memory");
		if (parent->n)
			memcpy(items, parent->items,
			       parent->n * sizeof(*items));
		parent->items = items;
		*cap = ncap;
	}
	parent->items[parent->n++] = child;
	return 0;
}

/* Builds the node that starts with event ev (already taken). */
static int build(struct builder *b, yaml_event_t *ev, int depth,
		 struct ynode **out)
{
	struct ynode *n = NULL;
	size_t cap = 0;
	int rc = -1;

	if (depth > YTREE_MAX_DEPTH)
		return parse_err(b, &ev->start_mark, "nesting too deep");
	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		return parse_err(b, &ev->start_mark,
				 "aliases (*name) are not supported");
	case YAML_SCALAR_EVENT:
		if (ev->data.scalar.anchor)
			return parse_err(b, &ev->start_mark,
					 "anchors (&name) are not supported");
		if (!(n = new_node(b, Y_SCALAR, &ev->start_mark)))
			return err_set(b->err, E_NOMEM, "out of memory");
		n->len = ev->data.scalar.length;
		n->value = arena_strndup(&b->t->arena,
					 (const char *)ev->data.scalar.value,
					 n->len);
		if (!n->value)
			return err_set(b->err, E_NOMEM, "out of memory");
		n->quoted = ev->data.scalar.style ==
				    YAML_SINGLE_QUOTED_SCALAR_STYLE ||
			    ev->data.scalar.style ==
				    YAML_DOUBLE_QUOTED_SCALAR_STYLE;
		*out = n;
		return 0;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT: {
		int is_map = ev->type == YAML_MAPPING_START_EVENT;
		yaml_event_type_t end = is_map ? YAML_MAPPING_END_EVENT
					       : YAML_SEQUENCE_END_EVENT;

		if ((is_map && ev->data.mapping_start.anchor) ||
		    (!is_map && ev->data.sequence_start.anchor))
			return parse_err(b, &ev->start_mark,
					 "anchors (&name) are not supported");
		if (!(n = new_node(b, is_map ? Y_MAP : Y_SEQ, &ev->start_mark)))
			return err_set(b->err, E_NOMEM, "out of memory");
		for (;;) {
			yaml_event_t cev;
			struct ynode *child = NULL;

			if (!yaml_parser_parse(&b->p, &cev))
				return parse_err(b, &b->p.problem_mark,
						 b->p.problem ? b->p.problem
							      : "syntax error");
			if (cev.type == end) {
				yaml_event_delete(&cev);
				break;
			}
			rc = build(b, &cev, depth + 1, &child);
			yaml_event_delete(&cev);
			if (rc < 0)
				return rc;
			if (is_map && (n->n % 2) == 0 &&
			    child->type != Y_SCALAR)
				return err_at(b->err, E_CONFIG, b->t->path,
					      child->line, child->col,
					      "a key must be plain text");
			if (is_map && (n->n % 2) == 0 &&
			    ynode_get(n, child->value))
				return err_at(b->err, E_CONFIG, b->t->path,
					      child->line, child->col,
					      "duplicate key '%s'",
					      child->value);
			if (push(b, n, child, &cap) < 0)
				return -1;
		}
		*out = n;
		return 0;
	}
	default:
		return parse_err(b, &ev->start_mark, "unexpected YAML event");
	}
}

int ytree_load_mem(const char *name, const char *data, size_t n,
		   struct ytree **out, struct err *err)
{
	struct builder b;
	struct ytree *t;
	yaml_event_t ev;
	int rc = -1, done = 0;

	*out = NULL;
	if (!(t = calloc(1, sizeof(*t))))
		return err_set(err, E_NOMEM, "out of memory");
	arena_init(&t->arena, 8192, 0);
	if (!(t->path = strdup(name))) {
		free(t);
		return err_set(err, E_NOMEM, "out of memory");
	}
	memset(&b, 0, sizeof(b));
	b.t = t;
	b.err = err;
	if (!yaml_parser_initialize(&b.p)) {
		err_set(err, E_NOMEM, "out of memory");
		goto out;
	}
	yaml_parser_set_input_string(&b.p, (const unsigned char *)data, n);
	while (!done) {
		if (!yaml_parser_parse(&b.p, &ev)) {
			parse_err(&b, &b.p.problem_mark,
				  b.p.problem ? b.p.problem : "syntax error");
			goto out_parser;
		}
		switch (ev.type) {
		case YAML_STREAM_START_EVENT:
		case YAML_DOCUMENT_END_EVENT:
			break;
		case YAML_DOCUMENT_START_EVENT:
			/* A stray "---" would otherwise hide everything after
			 * it: one file, one document. */
			if (t->root) {
				parse_err(&b, &ev.start_mark,
					  "more than one document");
				yaml_event_delete(&ev);
				goto out_parser;
			}
			break;
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		default:
			if (t->root) {
				parse_err(&b, &ev.start_mark,
					  "more than one document");
				yaml_event_delete(&ev);
				goto out_parser;
			}
			if (build(&b, &ev, 0, &t->root) < 0) {
				yaml_event_delete(&ev);
				goto out_parser;
			}
		}
		yaml_event_delete(&ev);
	}
	rc = 0;
	*out = t;
out_parser:
	yaml_parser_delete(&b.p);
out:
	if (rc < 0)
		ytree_free(t);
	return rc;
}

int ytree_load_file(const char *path, struct ytree **out, struct err *err)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	size_t n = 0, cap = 0, got;
	int rc;

	*out = NULL;
	if (!f) {
		err_sys(err, "cannot open '%s'", path);
		/* A missing config or mapping is a configuration error: a
		 * retry will not make it appear. */
		err->code = E_CONFIG;
		return -1;
	}
	for (;;) {
		if (n == cap) {
			char *p;

			cap = cap ? cap * 2 : 65536;
			if (cap > YTREE_MAX_FILE + 1)
				cap = YTREE_MAX_FILE + 1;
			if (!(p = realloc(data, cap))) {
				free(data);
				fclose(f);
				return err_set(err, E_NOMEM, "out of memory");
			}
			data = p;
		}
		got = fread(data + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
		if (n > YTREE_MAX_FILE) {
			free(data);
			fclose(f);
			return err_at(err, E_CONFIG, path, 0, 0,
				      "file larger than %u bytes",
				      YTREE_MAX_FILE);
		}
	}
	if (ferror(f)) {
		free(data);
		fclose(f);
		return err_sys(err, "cannot read '%s'", path);
	}
	fclose(f);
	rc = ytree_load_mem(path, data ? data : "", n, out, err);
	free(data);
	return rc;
}

void ytree_free(struct ytree *t)
{
	if (!t)
		return;
	arena_release(&t->arena);
	free(t->path);
	free(t);
}

struct ynode *ynode_key(const struct ynode *m, const char *key)
{
	size_t i;

	if (!m || m->type != Y_MAP)
		return NULL;
	for (i = 0; i < m->n; i += 2)
		if (!strcmp(m->items[i]->value, key))
			return m->items[i];
	return NULL;
}

struct ynode *ynode_get(const struct ynode *m, const char *key)
{
	size_t i;

	if (!m || m->type != Y_MAP)
		return NULL;
	for (i = 0; i + 1 < m->n; i += 2)
		if (!strcmp(m->items[i]->value, key))
			return m->items[i + 1];
	return NULL;
}

const char *ynode_str(const struct ynode *m, const char *key, const char *def)
{
	struct ynode *v = ynode_get(m, key);

	return v && v->type == Y_SCALAR ? v->value : def;
}

/* "a, b, c" from the names, cut the way the mapping's own list was:
 * at most 255 bytes. */
static void known_list(const char *const *allowed, char *list, size_t cap)
{
	char all[1024];
	size_t i, j, o = 0, a = 0;

	/* The names joined as ",a,b,c," first, then each separating comma
	 * written as ", ". */
	all[a++] = ',';
	for (i = 0; allowed[i]; i++) {
		size_t n = strlen(allowed[i]);

		if (a + n + 2 > sizeof(all))
			break;
		memcpy(all + a, allowed[i], n);
		a += n;
		all[a++] = ',';
	}
	all[a] = '\0';
	for (j = 1; all[j] && o + 3 < cap; j++) {
		if (all[j] == ',') {
			if (all[j + 1]) {
				list[o++] = ',';
				list[o++] = ' ';
			}
		} else {
			list[o++] = all[j];
		}
	}
	list[o] = '\0';
}

const char *ynode_hint(const char *word, const char *const *names,
		       char *out, size_t n)
{
	const char *near;
	size_t nn;

	for (nn = 0; names[nn]; nn++)
		;
	/* one edit for short names: "url" is not a typo of "age" */
	near = suggest_nearest(word, names, nn, strlen(word) <= 4 ? 1 : 2);
	if (!n)
		return out;
	if (near)
		snprintf(out, n, " (did you mean '%s'?)", near);
	else
		out[0] = '\0';
	return out;
}

int ynode_check_keys(const struct ytree *t, const struct ynode *m,
		     const char *const *allowed, const char *what,
		     int list_known, struct err *err)
{
	size_t i, j;

	for (i = 0; i < m->n; i += 2) {
		const struct ynode *k = m->items[i];
		const char *name = k->value ? k->value : "?";
		char list[256], hint[128];

		for (j = 0; k->value && allowed[j]; j++)
			if (!strcmp(allowed[j], k->value))
				break;
		if (k->value && allowed[j])
			continue;
		/* the one place every key table rejects a key: the
		 * nearest known name is offered here, once */
		ynode_hint(name, allowed, hint, sizeof(hint));
		if (!what)
			return ynode_err(t, k, err, E_CONFIG,
					 "unknown key '%s'%s", name, hint);
		if (!list_known)
			return ynode_err(t, k, err, E_CONFIG,
					 "unknown key '%s' in %s%s", name,
					 what, hint);
		known_list(allowed, list, sizeof(list));
		return ynode_err(t, k, err, E_CONFIG,
				 "unknown key '%s' in %s%s (known: %s)", name,
				 what, hint, list);
	}
	return 0;
}

int ykey_check(const struct ytree *t, const struct ynode *m,
	       const struct ykey *keys, const char *what, struct err *err)
{
	const char *names[128];
	size_t n;

	for (n = 0; keys[n].name; n++) {
		if (n + 1 >= sizeof(names) / sizeof(names[0]))
			return err_set(err, E_INTERNAL,
				       "key table with more than %zu keys",
				       n);
		names[n] = keys[n].name;
	}
	names[n] = NULL;
	return ynode_check_keys(t, m, names, what, 0, err);
}

int ykey_apply(const struct ykey_ctx *c, const struct ykey *keys)
{
	size_t i;

	for (i = 0; keys[i].name; i++) {
		const struct ynode *v;

		if (!keys[i].set || !(v = ynode_get(c->map, keys[i].name)))
			continue;
		if (keys[i].set(c, &keys[i], v,
				(char *)c->obj + keys[i].offset) < 0)
			return -1;
	}
	return 0;
}

int ykey_scalar(const struct ykey_ctx *c, const struct ykey *k,
		const struct ynode *v, const char **out)
{
	if (v->type != Y_SCALAR)
		return ynode_err(c->t, v, c->err, E_CONFIG,
				 "'%s' must be a single value", k->name);
	*out = v->value;
	return 0;
}

int ykey_str(const struct ykey_ctx *c, const struct ykey *k,
	     const struct ynode *v, void *field)
{
	return ykey_scalar(c, k, v, (const char **)field);
}

int ykey_choice(const struct ykey_ctx *c, const struct ykey *k,
		const struct ynode *v, void *field)
{
	const struct ychoice *ch = k->arg;
	const char *s = NULL;
	char hint[128];
	size_t i;

	if (ykey_scalar(c, k, v, &s) < 0)
		return -1;
	for (i = 0; ch->names[i]; i++)
		if (!strcmp(ch->names[i], s)) {
			*(int *)field = ch->values ? ch->values[i] : (int)i;
			return 0;
		}
	ynode_hint(s, ch->names, hint, sizeof(hint));
	if (ch->show_value)
		return ynode_err(c->t, v, c->err, E_CONFIG, "%s, not '%s'%s",
				 ch->msg, s, hint);
	return ynode_err(c->t, v, c->err, E_CONFIG, "%s%s", ch->msg, hint);
}

int ynode_err(const struct ytree *t, const struct ynode *n, struct err *err,
	      int code, const char *fmt, ...)
{
	va_list ap;
	char msg[512];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_at(err, code, t->path, n ? n->line : 0, n ? n->col : 0,
		      "%s", msg);
}

/* ---- ${VAR} in values (ytree.h) ---------------------------------------- */

/* Replaces ${VAR} and ${VAR:-default} in one scalar. */
static int interpolate(struct ytree *t, struct ynode *n, struct err *err)
{
	struct buf b = BUF_INIT(1 << 16);
	const char *p = n->value, *q;
	int rc = -1;

	if (!strstr(p, "${"))
		return 0;
	while ((q = strstr(p, "${"))) {
		const char *close = strchr(q, '}'), *dflt, *val;
		char name[256];
		size_t nlen;

		buf_add(&b, p, (size_t)(q - p));
		if (!close) {
			ynode_err(t, n, err, E_CONFIG,
				  "unterminated '${' in value");
			goto out;
		}
		dflt = strstr(q, ":-");
		if (dflt && dflt > close)
			dflt = NULL;
		nlen = (size_t)((dflt ? dflt : close) - (q + 2));
		if (nlen == 0 || nlen >= sizeof(name)) {
			ynode_err(t, n, err, E_CONFIG,
				  "bad variable name in '%s'", n->value);
			goto out;
		}
		memcpy(name, q + 2, nlen);
		name[nlen] = '\0';
		val = getenv(name);
		if (val && *val) {
			buf_adds(&b, val);
		} else if (dflt) {
			buf_add(&b, dflt + 2, (size_t)(close - dflt - 2));
		} else {
			ynode_err(t, n, err, E_CONFIG,
				  "environment variable '%s' is not set",
				  name);
			goto out;
		}
		p = close + 1;
	}
	buf_adds(&b, p);
	if (b.err) {
		ynode_err(t, n, err, E_CONFIG, "value too long");
		goto out;
	}
	n->value = arena_strndup(&t->arena, b.ptr, b.len);
	n->len = b.len;
	rc = n->value ? 0 : err_set(err, E_NOMEM, "out of memory");
out:
	buf_release(&b);
	return rc;
}

int ytree_interpolate_env(struct ytree *t, struct ynode *n, struct err *err)
{
	size_t i;

	if (!n)
		return 0;
	if (n->type == Y_SCALAR)
		return interpolate(t, n, err);
	for (i = 0; i < n->n; i++)
		if (ytree_interpolate_env(t, n->items[i], err) < 0)
			return -1;
	return 0;
}
