# podium-sandbox: escape suite and benchmark (the binary itself is built by
# the top Makefile from sandbox/*.c).

SANDBOX_PROBE_SRC := $(wildcard tests/sandbox/probes/*.c)
SANDBOX_PROBES    := $(patsubst tests/sandbox/probes/%.c,$(BUILD)/sandbox-tests/%,$(SANDBOX_PROBE_SRC))

# Probes run inside the box (which has /usr, so dynamic linking is fine); no
# sanitizers: they must stay tiny and predictable under the seccomp filter.
$(BUILD)/sandbox-tests/%: tests/sandbox/probes/%.c
	@mkdir -p $(dir $@)
	$(CC) -O1 -g -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -D_GNU_SOURCE -o $@ $<

.PHONY: test-sandbox bench-sandbox-run sandbox-probes
sandbox-probes: $(SANDBOX_PROBES)

test-sandbox: $(BUILD)/podium-sandbox $(SANDBOX_PROBES)
	PODIUM_SANDBOX=$(abspath $(BUILD)/podium-sandbox) PODIUM_SANDBOX_PROBES=$(abspath $(BUILD)/sandbox-tests) \
	  /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/sandbox

# The floor launcher is linked like podium-sandbox (static-pie), so the two
# pay the same for their own exec.
$(BUILD)/sandbox-tests/floor: tests/sandbox/probes/floor.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -static-pie -o $@ $<

bench-sandbox-run: $(BUILD)/podium-sandbox $(BUILD)/sandbox-tests/bench $(BUILD)/sandbox-tests/floor
	$(BUILD)/sandbox-tests/bench $(abspath $(BUILD)/podium-sandbox) $(abspath $(BUILD)/sandbox-tests/floor)

# The seccomp filter is compiled at build time: seccomp_gen runs the policy
# in sandbox/seccomp.c through libseccomp and emits the BPF program as a C
# array that is linked into podium-sandbox.  The generator itself is built
# without sanitizers (it only runs here).
SANDBOX_GEN_DIR := $(BUILD)/sandbox-gen
SANDBOX_BPF_OBJ := $(BUILD)/obj/sandbox-gen/seccomp_bpf.o

$(SANDBOX_GEN_DIR)/seccomp_gen: sandbox/gen/seccomp_gen.c sandbox/seccomp.c sandbox/sandbox.h
	@mkdir -p $(dir $@)
	$(CC) -O1 -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -D_GNU_SOURCE -I. \
	  -o $@ sandbox/gen/seccomp_gen.c sandbox/seccomp.c -lseccomp

$(SANDBOX_GEN_DIR)/seccomp_bpf.c: $(SANDBOX_GEN_DIR)/seccomp_gen
	$< > $@.tmp && mv $@.tmp $@

$(SANDBOX_BPF_OBJ): $(SANDBOX_GEN_DIR)/seccomp_bpf.c sandbox/sandbox.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/podium-sandbox: $(SANDBOX_BPF_OBJ)

# The same policy as an OCI seccomp profile, for the RUN steps of Dockerfile
# builds (buildah --security-opt seccomp=): seccomp_oci records the rules the
# policy adds (seccomp_rule_add wrapped at link time) and prints them as JSON.
# The daemon finds it next to podium-sandbox.
SANDBOX_OCI_GEN := $(SANDBOX_GEN_DIR)/seccomp_oci
$(SANDBOX_OCI_GEN): sandbox/gen/seccomp_oci.c sandbox/seccomp.c sandbox/sandbox.h
	@mkdir -p $(dir $@)
	$(CC) -O1 -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -D_GNU_SOURCE -I. \
	  -Wl,--wrap=seccomp_rule_add -o $@ sandbox/gen/seccomp_oci.c sandbox/seccomp.c -lseccomp -ljansson

$(BUILD)/podium-seccomp.json: $(SANDBOX_OCI_GEN)
	$< > $@.tmp && mv $@.tmp $@

all: $(BUILD)/podium-seccomp.json
