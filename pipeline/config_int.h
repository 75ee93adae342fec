/* config_int.h - what config.c and config_target.c share while loading
 * one stockpipe.yaml: the loader and its helpers. Not for other modules;
 * they see only config.h. Every helper reports through l->err with the
 * config file's line and column (ynode_err) and returns -1. */
#ifndef STOCKPIPE_CONFIG_INT_H
#define STOCKPIPE_CONFIG_INT_H

#include "config.h"
#include "lib/ytree.h"

struct conn_opts;

struct loader {
	struct config *c;
	struct ytree *t;
	struct err *err;
};

/* Strings live in the config tree's arena, as long as the config. */
char *config_adup(struct loader *l, const char *s);
/* Absolute path for p relative to the config directory. */
const char *config_resolve(struct loader *l, const char *p);
/* A url: value; a bare path or file:// is made absolute. */
const char *config_resolve_url(struct loader *l, const struct ynode *n);
int config_want_scalar(struct loader *l, const struct ynode *m,
		       const char *key, int required, const char **out);
int config_parse_duration(const char *s, int64_t *out);
int config_parse_pct(const char *s, int *out);
int config_string_list(struct loader *l, const struct ynode *v,
		       const char ***out, size_t *n);
int config_check_keys(struct loader *l, const struct ynode *m,
		      const char *const *allowed);
/* The same, the message naming the map: "unknown key 'x' in WHAT". */
int config_check_keys_in(struct loader *l, const struct ynode *m,
			 const char *const *allowed, const char *what);
/* "source 'acme'" from m's name:, or "a source" without one. */
const char *config_what(struct loader *l, const char *kind,
			const struct ynode *m);
/* A source or target name: letters, digits, '_' and '-', 1-127 bytes. */
int config_check_name(struct loader *l, const struct ynode *m,
		      const char *name);
int config_load_ssh(struct loader *l, const struct ynode *m, const char *what,
		    const char *name, const char *url, struct conn_opts *o);

/* " (did you mean 'on_hand'?)" for a misspelt stock state, else "". */
const char *config_state_hint(const char *name, char *out, size_t n);

/* Key-table setters (lib/ytree.h); c->ud is the loader. */
struct loader *config_ld(const struct ykey_ctx *c);
int config_set_list(const struct ykey_ctx *c, const struct ykey *k,
		    const struct ynode *v, void *field);
int config_set_pct(const struct ykey_ctx *c, const struct ykey *k,
		   const struct ynode *v, void *field);
int config_set_duration(const struct ykey_ctx *c, const struct ykey *k,
			const struct ynode *v, void *field);

/* config_target.c: one entry of `targets:`. */
int config_load_target(struct loader *l, const struct ynode *m,
		       struct cfg_target *t);

#endif
