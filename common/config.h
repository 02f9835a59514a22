/* config.h — the daemon's optional YAML configuration, DATA/config.yaml.
 *
 * The file is read once at start (common/yaml.h: mappings become objects, sequences
 * arrays, scalars strings), so each module reads and checks its own keys (net.c
 * reads "egress", flavors.c "hardware" and "storage") with yaml.h's checks, and
 * names the line of a bad value with config_line. A missing file is an empty
 * configuration. */
#ifndef PODIUM_CONFIG_H
#define PODIUM_CONFIG_H

#include <jansson.h>
#include <stddef.h>

typedef struct config config;

/* 0 and a new configuration in *out (config_free), or -errno / -EINVAL with a
 * message in err. */
int config_load(const char *path, config **out, char *err, size_t errlen);
void config_free(config *c);
/* The value at a dotted path ("egress.enabled"; "" the whole tree), or NULL.
 * Valid while c is. */
json_t *config_get(const config *c, const char *dotted);
/* The line of the file v (a value of c's tree) came from (a mapping's value: its
 * key's line); 0 when unknown. */
size_t config_line(const config *c, const json_t *v);

#endif
