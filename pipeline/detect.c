/* detect.c - the `detect_changes` key of a source; see detect.h. */
#include "detect.h"
#include "config.h"

#include <string.h>

static const char *const detect_names[] = {"metadata", "content", NULL};
static const struct ychoice detect_choice = {
	detect_names, NULL, "detect_changes must be metadata or content", 1};

int detect_set_changes(const struct ykey_ctx *c, const struct ykey *k,
		       const struct ynode *v, void *field)
{
	const struct cfg_source *s = c->obj;
	struct ykey choice = *k;

	choice.arg = &detect_choice;
	if (ykey_choice(c, &choice, v, field) < 0)
		return -1;
	/* The url is resolved before the keys are applied (load_source). */
	if (*(int *)field && strncmp(s->url, "file://", 7))
		return ynode_err(c->t, v, c->err, E_CONFIG,
				 "source '%s': detect_changes: content needs a "
				 "local folder (file://); over SFTP it would "
				 "read every known file in full on every "
				 "listing", s->name);
	return 0;
}
