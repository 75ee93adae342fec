/* fuzz_ytree.c - libFuzzer harness for the YAML tree (ytree.h) and, on
 * top of it, the mapping compiler (mapping_check: inbound mappings with
 * their expression language, and outbound mappings). Corpus:
 * tests/corpus/ytree/. The whole input is the YAML document.
 *
 * Invariants: every node has a line/column, scalars are NUL-terminated at
 * their length, maps hold key/value pairs whose keys are scalars and can
 * be found again with ynode_get; a failure carries a code and a position.
 * A document whose root is a map is also loaded from a temporary file
 * (both loaders read a path): as a pipeline config (config_load, no side
 * effects) when it has sources: or targets:, else compiled as a mapping
 * (mapping_check); files they name are resolved in that private folder,
 * where none exist.
 */
#include <stdio.h>
#include <string.h>

#include "pipeline/config.h"
#include "lib/ytree.h"
#include "transforms/mapping/mapping.h"
#include "fuzz.h"

static unsigned long walk(const struct ynode *n, unsigned depth)
{
	unsigned long count = 1;
	size_t i;

	FZ_CHECK(depth < 1000);
	FZ_CHECK(n->line >= 1 && n->col >= 1);
	switch (n->type) {
	case Y_SCALAR:
		FZ_CHECK(n->value && n->value[n->len] == '\0');
		FZ_CHECK(n->items == NULL && n->n == 0);
		break;
	case Y_MAP:
		FZ_CHECK(n->n % 2 == 0);
		for (i = 0; i < n->n; i += 2) {
			const struct ynode *k = n->items[i];

			FZ_CHECK(k->type == Y_SCALAR);
			/* Keys are unique, so a lookup finds this pair
			 * (unless the key has a NUL: strcmp stops there). */
			if (strlen(k->value) == k->len) {
				FZ_CHECK(ynode_key(n, k->value) == k);
				FZ_CHECK(ynode_get(n, k->value) ==
					 n->items[i + 1]);
			}
		}
		/* fall through */
	case Y_SEQ:
		FZ_CHECK(n->value == NULL);
		for (i = 0; i < n->n; i++)
			count += walk(n->items[i], depth + 1);
		break;
	default:
		FZ_CHECK(!"unknown node type");
	}
	return count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ytree *t = NULL;
	struct err err = ERR_INIT;
	char path[512];
	int is_map, is_config;

	if (ytree_load_mem("fuzz.yaml", (const char *)data, size, &t, &err)) {
		FZ_CHECK(err.code != E_NONE && err.line >= 1);
		return 0;
	}
	FZ_CHECK(err.code == E_NONE);
	is_map = t->root && t->root->type == Y_MAP;
	is_config = is_map && (ynode_get(t->root, "sources") ||
			       ynode_get(t->root, "targets"));
	if (t->root)
		walk(t->root, 0);
	(void)ynode_str(t->root, "mapping", NULL);
	ytree_free(t);
	if (!is_map)
		return 0;
	snprintf(path, sizeof(path), "%s/m.yaml", fz_tmpdir());
	FZ_CHECK(fz_write_file(path, data, size) == 0);
	if (is_config) {
		struct config *c = NULL;
		char state[512];

		snprintf(state, sizeof(state), "%s/state", fz_tmpdir());
		if (config_load(path, state, &c, &err) == 0)
			config_free(c);
		else
			FZ_CHECK(err.code != E_NONE);
	} else if (mapping_check(path, &err)) {
		FZ_CHECK(err.code != E_NONE);
	}
	fz_empty_dir(fz_tmpdir());
	return 0;
}
