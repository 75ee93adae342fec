/* config_files.c - files the config names, checked where they are opened
 * (config.h, config_check_file). Not at load: `show`, `gc` or `status`
 * need no mapping, and one source's missing file must not stop the
 * commands that do not read it; but where it is read, the operator is
 * sent to the config line that names it, not to a bare path. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

/* Where one named file was found: its value node and who named it. */
struct named {
	const struct ynode *v;
	const char *kind;   /* "source", "target" */
	const char *owner;  /* its name */
	const char *label;  /* "mapping file", "key_file", ... */
};

/* The value node of key in map m when resolved equals path. */
static int match(const struct ynode *m, const char *key,
		 const char *resolved, const char *path,
		 const struct ynode **v)
{
	if (!resolved || strcmp(resolved, path))
		return 0;
	*v = ynode_get(m, key);
	return *v && (*v)->type == Y_SCALAR;
}

/* The ssh: map of m (a source, target, acks: or acks_in: map). */
static int match_ssh(const struct ynode *m, const struct conn_opts *o,
		     const char *path, struct named *n)
{
	const struct ynode *ssh = ynode_get(m, "ssh");

	if (match(ssh, "key_file", o->key_file, path, &n->v)) {
		n->label = "key_file";
		return 1;
	}
	if (match(ssh, "known_hosts", o->known_hosts, path, &n->v)) {
		n->label = "known_hosts file";
		return 1;
	}
	return 0;
}

static int find_source(const struct cfg_source *s, const char *path,
		       struct named *n)
{
	const struct ynode *routes = ynode_get(s->node, "routes");
	size_t i;

	n->kind = "source";
	n->owner = s->name;
	n->label = "mapping file";
	if (match(s->node, "mapping", s->mapping, path, &n->v))
		return 1;
	for (i = 0; routes && routes->type == Y_SEQ && i < s->nroutes &&
		    i < routes->n; i++)
		if (match(routes->items[i], "mapping", s->routes[i].mapping,
			  path, &n->v))
			return 1;
	return match_ssh(s->node, &s->conn, path, n) ||
	       match_ssh(ynode_get(s->node, "acks"), &s->ack_conn, path, n);
}

static int find_target(const struct cfg_target *t, const char *path,
		       struct named *n)
{
	n->kind = "target";
	n->owner = t->name;
	n->label = "mapping file";
	if (match(t->node, "mapping", t->mapping, path, &n->v))
		return 1;
	return match_ssh(t->node, &t->conn, path, n) ||
	       match_ssh(ynode_get(t->node, "acks_in"), &t->acks_in_conn,
			 path, n);
}

int config_check_file(const struct config *c, const char *path,
		      struct err *err)
{
	struct named n = {NULL, NULL, NULL, NULL};
	struct stat st;
	size_t i;
	int found = 0;

	if (!path)
		return 0;
	for (i = 0; !found && i < c->nsources; i++)
		found = c->sources[i].node &&
			find_source(&c->sources[i], path, &n);
	for (i = 0; !found && i < c->ntargets; i++)
		found = c->targets[i].node &&
			find_target(&c->targets[i], path, &n);
	if (!found)
		return 0;
	if (stat(path, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			return 0;
		return err_at(err, E_CONFIG, c->path, n.v->line, n.v->col,
			      "%s '%s': %s '%s' is a folder, not a file",
			      n.kind, n.owner, n.label, n.v->value);
	}
	/* Only "not there" is the config's fault; a file that cannot be
	 * read for another reason is reported by the code that opens it. */
	if (errno != ENOENT && errno != ENOTDIR)
		return 0;
	return err_at(err, E_CONFIG, c->path, n.v->line, n.v->col,
		      "%s '%s': %s '%s' does not exist", n.kind, n.owner,
		      n.label, n.v->value);
}
