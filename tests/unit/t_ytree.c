/* t_ytree.c - YAML tree: locations, no type guessing, refusals at line:col. */
#include <stdlib.h>
#include <string.h>

#include "lib/ytree.h"
#include "t.h"

static struct ytree *load(const char *text, struct err *e)
{
	struct ytree *t = NULL;

	if (ytree_load_mem("m.yaml", text, strlen(text), &t, e) < 0)
		return NULL;
	return t;
}

/* Asserts that text is refused with E_CONFIG at m.yaml:line:col and that
 * the reason contains why. Returns 0 when so. */
static int refused(const char *text, unsigned long line, unsigned col,
		   const char *why)
{
	struct err e = ERR_INIT;
	struct ytree *t = NULL;
	int rc = ytree_load_mem("m.yaml", text, strlen(text), &t, &e);
	char msg[1200];

	err_format(&e, msg, sizeof(msg));
	if (rc != -1 || t != NULL || e.code != E_CONFIG ||
	    strcmp(e.file, "m.yaml") || e.line != line || e.col != col ||
	    !strstr(e.reason, why)) {
		fprintf(stderr, "    input [%s]: rc %d, got '%s', want "
				"m.yaml:%lu:%u: ...%s...\n",
			text, rc, msg, line, col, why);
		ytree_free(t);
		return -1;
	}
	return 0;
}

T_TEST(ytree_structure_and_locations)
{
	static const char doc[] = "version: 1\n"
				  "sources:\n"
				  "  - name: stores\n"
				  "    pattern: \"*.csv\"\n"
				  "  - name: dc\n"
				  "list: [a, 'b']\n";
	struct err e = ERR_INIT;
	struct ytree *t = load(doc, &e);
	struct ynode *root, *src, *s0, *list;

	T_ASSERT(t != NULL);
	root = t->root;
	T_ASSERT(root && root->type == Y_MAP);
	T_EQ_INT(root->n, 6); /* 3 keys, 3 values */
	T_EQ_INT(root->line, 1);
	T_EQ_INT(root->col, 1);
	T_EQ_STR(ynode_str(root, "version", NULL), "1");
	T_EQ_INT(ynode_get(root, "version")->line, 1);
	T_EQ_INT(ynode_get(root, "version")->col, 10);
	src = ynode_get(root, "sources");
	T_ASSERT(src && src->type == Y_SEQ);
	T_EQ_INT(src->n, 2);
	T_EQ_INT(src->line, 3);
	T_EQ_INT(src->col, 3);
	s0 = src->items[0];
	T_ASSERT(s0->type == Y_MAP);
	T_EQ_INT(s0->line, 3);
	T_EQ_INT(s0->col, 5);
	T_EQ_STR(ynode_str(s0, "pattern", NULL), "*.csv");
	T_EQ_INT(ynode_get(s0, "pattern")->line, 4);
	T_EQ_INT(ynode_get(s0, "pattern")->col, 14);
	T_EQ_INT(ynode_key(s0, "pattern")->line, 4);
	T_EQ_INT(ynode_key(s0, "pattern")->col, 5);
	T_EQ_STR(ynode_str(src->items[1], "name", NULL), "dc");
	T_EQ_INT(ynode_get(src->items[1], "name")->line, 5);
	list = ynode_get(root, "list");
	T_ASSERT(list && list->type == Y_SEQ && list->n == 2);
	T_EQ_STR(list->items[1]->value, "b");
	T_EQ_INT(list->items[1]->col, 11);
	T_EQ_STR(t->path, "m.yaml");
	ytree_free(t);
}

T_TEST(ytree_lookups)
{
	struct err e = ERR_INIT;
	struct ytree *t = load("a: x\nm: {k: v}\ns: [1]\n", &e);
	struct ynode *root;

	T_ASSERT(t != NULL);
	root = t->root;
	T_ASSERT(ynode_get(root, "missing") == NULL);
	T_ASSERT(ynode_key(root, "missing") == NULL);
	T_EQ_STR(ynode_str(root, "missing", "dflt"), "dflt");
	/* Not a scalar: the default, not a crash. */
	T_EQ_STR(ynode_str(root, "m", "dflt"), "dflt");
	T_EQ_STR(ynode_str(root, "s", "dflt"), "dflt");
	T_ASSERT(ynode_str(root, "s", NULL) == NULL);
	/* Lookups on non-maps and NULL give NULL. */
	T_ASSERT(ynode_get(ynode_get(root, "s"), "1") == NULL);
	T_ASSERT(ynode_get(ynode_get(root, "a"), "x") == NULL);
	T_ASSERT(ynode_get(NULL, "a") == NULL);
	T_ASSERT(ynode_key(NULL, "a") == NULL);
	T_EQ_STR(ynode_str(NULL, "a", "d"), "d");
	T_EQ_STR(ynode_str(ynode_get(root, "m"), "k", NULL), "v");
	ytree_free(t);
}

T_TEST(ytree_scalars_stay_text)
{
	static const char doc[] = "country: NO\n"
				  "flag: yes\n"
				  "off: off\n"
				  "zip: 01234\n"
				  "nothing: ~\n"
				  "empty:\n"
				  "qty: 1.50\n";
	struct err e = ERR_INIT;
	struct ytree *t = load(doc, &e);
	struct ynode *r;

	T_ASSERT(t != NULL);
	r = t->root;
	T_EQ_STR(ynode_str(r, "country", NULL), "NO");
	T_EQ_STR(ynode_str(r, "flag", NULL), "yes");
	T_EQ_STR(ynode_str(r, "off", NULL), "off");
	T_EQ_STR(ynode_str(r, "zip", NULL), "01234");
	T_EQ_STR(ynode_str(r, "nothing", NULL), "~");
	T_EQ_STR(ynode_str(r, "empty", NULL), "");
	T_EQ_INT(ynode_get(r, "empty")->type, Y_SCALAR);
	T_EQ_STR(ynode_str(r, "qty", NULL), "1.50");
	ytree_free(t);
}

T_TEST(ytree_quoted_flag)
{
	static const char doc[] = "plain: x\n"
				  "single: 'x'\n"
				  "double: \"x\"\n"
				  "block: |\n"
				  "  x\n"
				  "nul: \"a\\0b\"\n";
	struct err e = ERR_INIT;
	struct ytree *t = load(doc, &e);
	struct ynode *r, *n;

	T_ASSERT(t != NULL);
	r = t->root;
	T_EQ_INT(ynode_get(r, "plain")->quoted, 0);
	T_EQ_INT(ynode_get(r, "single")->quoted, 1);
	T_EQ_INT(ynode_get(r, "double")->quoted, 1);
	T_EQ_INT(ynode_get(r, "block")->quoted, 0);
	T_EQ_STR(ynode_str(r, "block", NULL), "x\n");
	/* The flag is per node: the key of a quoted value is plain. */
	T_EQ_INT(ynode_key(r, "single")->quoted, 0);
	/* len counts an escaped NUL, which value alone cannot show. */
	n = ynode_get(r, "nul");
	T_EQ_INT(n->len, 3);
	T_ASSERT(!memcmp(n->value, "a\0b", 4));
	ytree_free(t);
}

T_TEST(ytree_duplicate_keys_refused)
{
	T_EQ_INT(refused("a: 1\nb: 2\na: 3\n", 3, 1, "duplicate key 'a'"), 0);
	/* Quoting does not make a different key. */
	T_EQ_INT(refused("\"a\": 1\na: 2\n", 2, 1, "duplicate key 'a'"), 0);
	/* Nested maps are checked too, and report the inner position. */
	T_EQ_INT(refused("s:\n  - name: x\n    name: y\n", 3, 5,
			 "duplicate key 'name'"),
		 0);
	T_EQ_INT(refused("m: {k: 1, k: 2}\n", 1, 11, "duplicate key 'k'"), 0);
}

T_TEST(ytree_same_key_in_sibling_maps_is_fine)
{
	struct err e = ERR_INIT;
	struct ytree *t = load("- name: a\n- name: b\n", &e);

	T_ASSERT(t != NULL);
	T_EQ_INT(t->root->n, 2);
	ytree_free(t);
}

T_TEST(ytree_anchors_and_aliases_refused)
{
	T_EQ_INT(refused("a: 1\nb: &x 2\n", 2, 4, "anchors"), 0);
	T_EQ_INT(refused("a: &m {x: 1}\n", 1, 4, "anchors"), 0);
	T_EQ_INT(refused("k: [&s [1]]\n", 1, 5, "anchors"), 0);
	T_EQ_INT(refused("a: 1\nb: *m\n", 2, 4, "aliases"), 0);
	T_EQ_INT(refused("- *x\n", 1, 3, "aliases"), 0);
	/* The billion-laughs shape dies at the first anchor. */
	T_EQ_INT(refused("a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n", 1, 4,
			 "anchors"),
		 0);
}

T_TEST(ytree_non_scalar_key_refused)
{
	T_EQ_INT(refused("? [a]\n: b\n", 1, 3, "a key must be plain text"), 0);
	T_EQ_INT(refused("ok: 1\n? {x: y}\n: b\n", 2, 3,
			 "a key must be plain text"),
		 0);
}

T_TEST(ytree_syntax_errors_have_positions)
{
	T_EQ_INT(refused("a: 1\nb: [1, 2\n", 3, 1, "expected ',' or ']'"), 0);
	T_EQ_INT(refused("a: b\n c: d\n", 2, 3, "mapping values"), 0);
	T_EQ_INT(refused("a:\n\t- x\n", 2, 1, "cannot start any token"), 0);
	T_EQ_INT(refused("x: \"unterminated\n", 2, 1, "end of stream"), 0);
	T_EQ_INT(refused("- a\nb: c\n", 2, 1, "expected '-'"), 0);
}

T_TEST(ytree_nesting_depth_bounded)
{
	char doc[400];
	struct err e = ERR_INIT;
	struct ytree *t;

	/* 64 levels are fine, 200 are refused (not a stack overflow). */
	memset(doc, '[', 64);
	memset(doc + 64, ']', 64);
	doc[128] = '\0';
	t = load(doc, &e);
	T_ASSERT(t != NULL);
	ytree_free(t);
	memset(doc, '[', 200);
	doc[200] = '\0';
	T_EQ_INT(refused(doc, 1, 66, "nesting too deep"), 0);
}

T_TEST(ytree_empty_document)
{
	struct err e = ERR_INIT;
	struct ytree *t = NULL;

	T_EQ_INT(ytree_load_mem("e.yaml", "", 0, &t, &e), 0);
	T_ASSERT(t != NULL);
	T_ASSERT(t->root == NULL);
	ytree_free(t);
	t = NULL;
	T_EQ_INT(ytree_load_mem("e.yaml", "# only a comment\n", 17, &t, &e), 0);
	T_ASSERT(t && t->root == NULL);
	ytree_free(t);
	ytree_free(NULL);
}

T_TEST(ytree_load_file)
{
	struct err e = ERR_INIT;
	struct ytree *t = NULL;

	T_ASSERT(t_write_file("c.yaml", "k: v\nlist:\n  - 1\n") == 0);
	T_OK(ytree_load_file("c.yaml", &t, &e), &e);
	T_EQ_STR(t->path, "c.yaml");
	T_EQ_STR(ynode_str(t->root, "k", NULL), "v");
	ytree_free(t);

	/* Errors name the file. */
	T_ASSERT(t_write_file("bad.yaml", "k: v\nk: w\n") == 0);
	T_EQ_INT(ytree_load_file("bad.yaml", &t, &e), -1);
	T_ASSERT(t == NULL);
	T_EQ_STR(e.file, "bad.yaml");
	T_EQ_INT(e.line, 2);

	/* A missing file is a config error (retrying will not help). */
	err_clear(&e);
	T_EQ_INT(ytree_load_file("nope.yaml", &t, &e), -1);
	T_EQ_INT(e.code, E_CONFIG);
	T_ASSERT(strstr(e.reason, "nope.yaml") != NULL);
}

T_TEST(ytree_load_file_size_bounded)
{
	struct err e = ERR_INIT;
	struct ytree *t = NULL;
	FILE *f = fopen("big.yaml", "wb");
	size_t i;
	static char line[64];

	T_ASSERT(f != NULL);
	memset(line, ' ', sizeof(line) - 1);
	line[0] = '#';
	line[sizeof(line) - 2] = '\n';
	for (i = 0; i < (9u << 20) / (sizeof(line) - 1); i++)
		fwrite(line, 1, sizeof(line) - 1, f);
	fclose(f);
	T_EQ_INT(ytree_load_file("big.yaml", &t, &e), -1);
	T_ASSERT(t == NULL);
	T_EQ_INT(e.code, E_CONFIG);
	T_ASSERT(strstr(e.reason, "larger than") != NULL);
}

T_TEST(ytree_node_error_helper)
{
	struct err e = ERR_INIT;
	struct ytree *t = load("a:\n  b: 7\n", &e);
	char msg[1200];

	T_ASSERT(t != NULL);
	T_EQ_INT(ynode_err(t, ynode_get(ynode_get(t->root, "a"), "b"), &e,
			   E_CONFIG, "b must be %s", "even"),
		 -1);
	err_format(&e, msg, sizeof(msg));
	T_EQ_STR(msg, "m.yaml:2:6: b must be even");
	err_clear(&e);
	ynode_err(t, NULL, &e, E_CONFIG, "nowhere");
	err_format(&e, msg, sizeof(msg));
	T_EQ_STR(msg, "m.yaml: nowhere");
	ytree_free(t);
}

/* ${VAR} and ${VAR:-default} in every scalar, nested ones included; an
 * unset variable without a default is refused at its value's line. */
T_TEST(ytree_interpolate_env)
{
	struct err e = ERR_INIT;
	struct ytree *t;

	setenv("SP_YT_A", "alpha", 1);
	setenv("SP_YT_EMPTY", "", 1);
	unsetenv("SP_YT_UNSET");
	t = load("a: x${SP_YT_A}y\n"
		 "b:\n  - ${SP_YT_UNSET:-dflt}\n  - {c: \"${SP_YT_EMPTY:-e}\"}\n"
		 "d: plain\n", &e);
	T_ASSERT(t != NULL);
	T_EQ_INT(ytree_interpolate_env(t, t->root, &e), 0);
	T_EQ_STR(ynode_get(t->root, "a")->value, "xalphay");
	T_EQ_STR(ynode_get(t->root, "b")->items[0]->value, "dflt");
	T_EQ_STR(ynode_get(ynode_get(t->root, "b")->items[1], "c")->value,
		 "e");
	T_EQ_STR(ynode_get(t->root, "d")->value, "plain");
	ytree_free(t);

	t = load("a: ok\nb: ${SP_YT_UNSET}\n", &e);
	T_ASSERT(t != NULL);
	T_EQ_INT(ytree_interpolate_env(t, t->root, &e), -1);
	T_EQ_INT(e.code, E_CONFIG);
	T_EQ_INT(e.line, 2);
	T_ASSERT(strstr(e.reason, "'SP_YT_UNSET' is not set") != NULL);
	ytree_free(t);

	err_clear(&e);
	t = load("a: ${SP_YT_A\n", &e);
	T_ASSERT(t != NULL);
	T_EQ_INT(ytree_interpolate_env(t, t->root, &e), -1);
	T_ASSERT(strstr(e.reason, "unterminated") != NULL);
	ytree_free(t);
}

/* The one "did you mean": every key table (ynode_check_keys) and every
 * fixed set of values (ykey_choice) offers the nearest known name, one
 * edit away for short names, two for longer; nothing when none is near. */
T_TEST(ytree_unknown_names_suggest_the_nearest)
{
	static const char *const keys[] = {"retention", "runs", "age", "url",
					   NULL};
	static const char *const names[] = {"full", "delta", NULL};
	static const struct ychoice ch = {names, NULL,
					  "snapshot must be full or delta", 1};
	static const struct ykey table[] = {{"snapshot", ykey_choice, 0, &ch},
					    {NULL, NULL, 0, NULL}};
	struct err e = ERR_INIT;
	struct ytree *t = load("retension: 1\n", &e);
	char hint[64], msg[1200];
	int v = -1;
	struct ykey_ctx c = {NULL, NULL, &v, NULL, &e};

	T_ASSERT(t != NULL);
	T_EQ_INT(ynode_check_keys(t, t->root, keys, "the top level", 0, &e),
		 -1);
	err_format(&e, msg, sizeof(msg));
	T_EQ_STR(msg, "m.yaml:1:1: unknown key 'retension' in the top level "
		      "(did you mean 'retention'?)");
	err_clear(&e);
	T_EQ_INT(ynode_check_keys(t, t->root, keys, NULL, 0, &e), -1);
	T_ASSERT(strstr(e.reason, "unknown key 'retension' (did you mean "
				  "'retention'?)") != NULL);
	err_clear(&e);
	T_EQ_INT(ynode_check_keys(t, t->root, keys, "x", 1, &e), -1);
	T_ASSERT(strstr(e.reason, "in x (did you mean 'retention'?) (known: "
				  "retention, runs, age, url)") != NULL);
	ytree_free(t);
	/* short names: one edit; "uri" is near "url", "xy" near nothing */
	T_EQ_STR(ynode_hint("uri", keys, hint, sizeof(hint)),
		 " (did you mean 'url'?)");
	T_EQ_STR(ynode_hint("xy", keys, hint, sizeof(hint)), "");
	T_EQ_STR(ynode_hint("rnus", keys, hint, sizeof(hint)),
		 " (did you mean 'runs'?)");
	T_EQ_STR(ynode_hint("colour", keys, hint, sizeof(hint)), "");
	/* the choice's value */
	err_clear(&e);
	T_ASSERT((t = load("snapshot: detla\n", &e)) != NULL);
	c.t = t;
	c.map = t->root;
	T_EQ_INT(ykey_apply(&c, table), -1);
	err_format(&e, msg, sizeof(msg));
	T_EQ_STR(msg, "m.yaml:1:11: snapshot must be full or delta, not "
		      "'detla' (did you mean 'delta'?)");
	ytree_free(t);
}
