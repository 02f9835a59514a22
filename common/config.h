/* config.h — the daemon's optional YAML configuration, DATA/config.yaml.
 *
 * The file is read once at start into a jansson tree (mappings become objects,
 * sequences arrays, scalars strings), so each module reads and checks its own keys
 * (e.g. net.c reads "egress"). A missing file is an empty configuration. */
#ifndef PODIUM_CONFIG_H
#define PODIUM_CONFIG_H

#include <jansson.h>
#include <stddef.h>

/* 0 and a new object in *out, or -errno / -EINVAL with a message in err. */
int config_load(const char *path, json_t **out, char *err, size_t errlen);
/* The value at a dotted path ("egress.enabled"), or NULL. */
json_t *config_get(const json_t *cfg, const char *dotted);
/* A YAML boolean scalar (true/false, yes/no, on/off): 0 and *out, or -EINVAL. */
int config_bool(const json_t *v, int *out);

#endif
