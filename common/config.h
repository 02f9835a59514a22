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

/* 0 and a new object in *out, or -errno / -EINVAL with a message in err. */
int config_load(const char *path, json_t **out, char *err, size_t errlen);
/* The value at a dotted path ("egress.enabled"), or NULL. */
json_t *config_get(const json_t *cfg, const char *dotted);
/* The line of its file a value of a tree from config_load came from (a mapping's
 * value: its key's line), while that tree is alive; 0 when unknown. */
size_t config_line(const json_t *v);

#endif
