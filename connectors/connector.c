/* connector.c - registry of connector schemes. */
#include "connector.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct conn_scheme *const schemes[] = {
	&conn_scheme_file,
};

const struct conn_scheme *conn_find(const char *url)
{
	const char *colon = strstr(url, "://");
	size_t i, n;

	if (!colon)
		return NULL;
	n = (size_t)(colon - url);
	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (strlen(schemes[i]->scheme) == n &&
		    !strncmp(schemes[i]->scheme, url, n))
			return schemes[i];
	return NULL;
}

int conn_open(const char *url, struct conn **out, struct err *err)
{
	const struct conn_scheme *s = conn_find(url);
	struct conn *c;

	*out = NULL;
	if (!s)
		return err_set(err, E_CONFIG,
			       "no connector for '%s' (this build knows: "
			       "file://)",
			       url);
	if (!(c = calloc(1, sizeof(*c))))
		return err_set(err, E_NOMEM, "out of memory");
	c->scheme = s;
	snprintf(c->url, sizeof(c->url), "%s", url);
	if (s->state_size && !(c->state = calloc(1, s->state_size))) {
		free(c);
		return err_set(err, E_NOMEM, "out of memory");
	}
	if (s->ops->open(c, url, err) < 0) {
		conn_close(c);
		return -1;
	}
	*out = c;
	return 0;
}

void conn_close(struct conn *c)
{
	if (!c)
		return;
	c->scheme->ops->close(c);
	free(c->state);
	free(c);
}

int conn_name_ok(const char *name)
{
	return name[0] && strcmp(name, ".") && strcmp(name, "..") &&
	       !strchr(name, '/') && !strchr(name, '\\') &&
	       strlen(name) < 256;
}

int conn_glob_match(const char *pattern, const char *name)
{
	return fnmatch(pattern, name, FNM_PERIOD) == 0;
}
