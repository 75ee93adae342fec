/* fuzz_config.c - libFuzzer harness for the config loader with its
 * mappings, as `stockpipe check` drives them: config_load(), then every
 * inbound mapping a source names (mapping_load + mapping_check_patterns)
 * and every target's outbound mapping (outbound_load). Corpus:
 * tests/corpus/config/.
 *
 * The input is a small bundle of files cut at lines "#@@": part 0 is
 * written as stockpipe.yaml, part 1 as m.yaml (an inbound mapping),
 * part 2 as out.yaml (an outbound mapping), parts 3.. as l0.csv, l1.csv,
 * ... (lookup tables), all in a private temporary folder. Seeds name
 * those files relatively (tests/fuzz/run.sh seeds config).
 *
 * Nothing outside that folder is opened on purpose: a mapping path that
 * resolves elsewhere is not loaded, and inputs naming /dev/, /proc/ or
 * /sys/ are skipped (a lookup on /dev/zero would only measure patience).
 * No network: the connectors are looked up (conn_find), never opened.
 *
 * Invariants: a failure carries a code and a reason and formats; a loaded
 * config has named sources and targets with absolute mapping paths; a
 * compiled inbound mapping has a known format, a name, a SHA-256 per
 * dependency and resolved test paths; when the config failed, the
 * mappings are still compiled alone (mapping_check, as `map check`).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/connector.h"
#include "pipeline/config.h"
#include "transforms/mapping/mapping.h"
#include "transforms/outbound/outbound.h"
#include "fuzz.h"

#define SEP "\n#@@\n"

static void check_err(const struct err *e)
{
	char msg[1200];

	FZ_CHECK(e->code != E_NONE);
	FZ_CHECK(e->reason[0] != '\0');
	FZ_CHECK(memchr(e->reason, '\0', sizeof(e->reason)) != NULL);
	err_format(e, msg, sizeof(msg));
	FZ_CHECK(msg[0] != '\0');
}

/* Writes the parts of the bundle; returns how many. */
static int write_parts(const char *dir, const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	char path[PATH_MAX + 32];
	int k = 0;

	while (p <= end) {
		const char *s = memmem(p, (size_t)(end - p), SEP, strlen(SEP));
		size_t n = s ? (size_t)(s - p) + 1 : (size_t)(end - p);

		if (k == 0)
			snprintf(path, sizeof(path), "%s/stockpipe.yaml", dir);
		else if (k == 1)
			snprintf(path, sizeof(path), "%s/m.yaml", dir);
		else if (k == 2)
			snprintf(path, sizeof(path), "%s/out.yaml", dir);
		else
			snprintf(path, sizeof(path), "%s/l%d.csv", dir, k - 3);
		FZ_CHECK(fz_write_file(path, p, n) == 0);
		k++;
		if (!s || k >= 12)
			break;
		p = s + strlen(SEP);
	}
	return k;
}

/* True when path (absolute) is, or would be, inside the private folder. */
static int inside(const char *root, const char *path)
{
	char real[PATH_MAX];
	size_t n = strlen(root);

	FZ_CHECK(path[0] == '/');
	if (!realpath(path, real))
		return strncmp(path, root, n) == 0 && path[n] == '/';
	return strncmp(real, root, n) == 0 && real[n] == '/';
}

static void dep_cb(void *ud, const char *path, const char *sha)
{
	size_t i;

	(*(int *)ud)++;
	FZ_CHECK(path && path[0]);
	FZ_CHECK(strlen(sha) == 64);
	for (i = 0; i < 64; i++)
		FZ_CHECK(strchr("0123456789abcdef", sha[i]) != NULL);
}

static void inbound(const char *root, const struct cfg_source *s,
		    const char *path)
{
	struct mapping *m = NULL;
	struct err err = ERR_INIT;
	const char *fmt;
	size_t i;
	int ndeps = 0;

	if (!inside(root, path))
		return;
	if (mapping_load(path, &m, &err) < 0) {
		check_err(&err);
		FZ_CHECK(m == NULL);
		return;
	}
	fmt = mapping_format(m);
	FZ_CHECK(!strcmp(fmt, "csv") || !strcmp(fmt, "x12") ||
		 !strcmp(fmt, "edifact") || !strcmp(fmt, "xml"));
	FZ_CHECK(mapping_name(m) && mapping_name(m)[0]);
	mapping_each_dep(m, dep_cb, &ndeps);
	FZ_CHECK(ndeps >= 1);
	FZ_CHECK(mapping_units(m) != NULL);
	for (i = 0; i < mapping_ntests(m); i++) {
		const struct mapping_test *t = mapping_get_test(m, i);

		FZ_CHECK(t && t->input && t->expect && t->source);
	}
	(void)mapping_reads_facts(m);
	if (mapping_check_patterns(m, s->patterns, s->npatterns, NULL, &err))
		check_err(&err);
	err_clear(&err);
	if (mapping_check_patterns(m, NULL, 0, "give a pattern", &err))
		check_err(&err);
	mapping_free(m);
}

static void check_config(const char *root, const struct config *c)
{
	size_t i, r;

	for (i = 0; i < c->nsources; i++) {
		const struct cfg_source *s = &c->sources[i];

		FZ_CHECK(s->name && s->name[0] && s->url);
		FZ_CHECK(config_source(c, s->name) != NULL);
		(void)conn_find(s->url);
		for (r = 0; r < s->nroutes; r++)
			if (s->routes[r].mapping)
				inbound(root, s, s->routes[r].mapping);
		if (s->mapping)
			inbound(root, s, s->mapping);
	}
	for (i = 0; i < c->ntargets; i++) {
		const struct cfg_target *t = &c->targets[i];
		struct outbound *o = NULL;
		struct err err = ERR_INIT;

		FZ_CHECK(t->name && t->name[0] && t->url && t->mapping);
		FZ_CHECK(config_target(c, t->name) != NULL);
		(void)conn_find(t->url);
		if (!inside(root, t->mapping))
			continue;
		if (outbound_load(t->mapping, &o, &err) < 0)
			check_err(&err);
		outbound_free(o);
	}
}

static int hostile_path(const uint8_t *data, size_t size)
{
	static const char *const bad[] = { "/dev/", "/proc/", "/sys/",
					   "/dev\n", "/dev\"", "/dev'" };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (memmem(data, size, bad[i], strlen(bad[i])))
			return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char root[PATH_MAX];
	struct config *c = NULL;
	struct err err = ERR_INIT;
	char cfg[PATH_MAX + 32], state[PATH_MAX + 32], m[PATH_MAX + 32];
	int nparts;

	if (hostile_path(data, size))
		return 0;
	if (!root[0])
		FZ_CHECK(realpath(fz_tmpdir(), root) != NULL);
	nparts = write_parts(root, data, size);
	snprintf(cfg, sizeof(cfg), "%s/stockpipe.yaml", root);
	snprintf(state, sizeof(state), "%s/state", root);
	if (config_load(cfg, state, &c, &err) == 0) {
		FZ_CHECK(c != NULL);
		check_config(root, c);
		config_free(c);
	} else {
		check_err(&err);
		if (nparts > 1) {
			snprintf(m, sizeof(m), "%s/m.yaml", root);
			err_clear(&err);
			if (mapping_check(m, &err))
				check_err(&err);
		}
		if (nparts > 2) {
			snprintf(m, sizeof(m), "%s/out.yaml", root);
			err_clear(&err);
			if (mapping_check(m, &err))
				check_err(&err);
		}
	}
	fz_empty_dir(root);
	return 0;
}
