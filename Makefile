# podium — top-level build. Sources are found per module directory; module
# specific targets (tests, benchmarks) live in mk/*.mk and are included below.

CC      ?= cc
BUILD   ?= build
PKGS    := libuv liburing libgit2 sqlite3 libpq yaml-0.1 jansson libsodium libcurl libcmark-gfm zlib openssl
LLHTTP_SRC := /usr/share/llhttp
LLHTTP_INC := /usr/share/include/llhttp

WARN    := -Wall -Wextra -Werror -Wno-unused-parameter
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 $(WARN) -D_GNU_SOURCE -I. -I$(LLHTTP_INC) \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lcmark-gfm-extensions -lpthread

# ASan/UBSan build: make SAN=1 (used by make test-asan)
ifeq ($(SAN),1)
BUILD   := build-asan
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif
# ThreadSanitizer build of the daemon (the proxy runs one loop per CPU): make SAN=thread
ifeq ($(SAN),thread)
BUILD   := build-tsan
CFLAGS  += -fsanitize=thread -O1
LDFLAGS += -fsanitize=thread
endif

# Modules, lowest first; each may include (and link) only the ones before it.
# A module's objects, with those of the modules below it: MOD_<name>.
DAEMON_DIRS := common proxy builder orchestrator/store orchestrator/host orchestrator \
               orchestrator/cluster web cli cmd
modobj       = $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard $(1)/*.c))
LLHTTP_OBJ  := $(BUILD)/obj/llhttp/llhttp.o $(BUILD)/obj/llhttp/api.o $(BUILD)/obj/llhttp/http.o
MOD_common  := $(call modobj,common)
# sandbox/'s face for the daemon (box.c): linked into podium, not into podium-sandbox
BOX_SRC     := sandbox/box.c
MOD_sandbox := $(patsubst %.c,$(BUILD)/obj/%.o,$(BOX_SRC)) $(MOD_common)
MOD_proxy   := $(call modobj,proxy) $(MOD_common) $(LLHTTP_OBJ)
MOD_builder := $(call modobj,builder) $(MOD_sandbox) $(MOD_proxy)
MOD_store   := $(call modobj,orchestrator/store) $(MOD_proxy)
MOD_host    := $(call modobj,orchestrator/host) $(MOD_sandbox) $(MOD_proxy)
MOD_orchestrator := $(call modobj,orchestrator) $(call modobj,orchestrator/store) \
                    $(call modobj,orchestrator/host) $(call modobj,builder) $(MOD_sandbox) $(MOD_proxy)
MOD_cluster := $(call modobj,orchestrator/cluster) $(MOD_orchestrator)
MOD_web     := $(call modobj,web) $(MOD_cluster)
MOD_cli     := $(call modobj,cli) $(MOD_common)
DAEMON_SRC  := $(foreach d,$(DAEMON_DIRS),$(wildcard $(d)/*.c)) $(BOX_SRC)
DAEMON_OBJ  := $(patsubst %.c,$(BUILD)/obj/%.o,$(DAEMON_SRC))

SANDBOX_SRC := $(filter-out $(BOX_SRC),$(wildcard sandbox/*.c))
# podium-sandbox shares common's small-file helpers (common/util.c needs only libc)
SANDBOX_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(SANDBOX_SRC)) $(BUILD)/obj/common/util.o

.PHONY: all clean deps deps-bench run serve test test-all test-unit test-integration test-asan \
        test-browser browser-deps
all: $(BUILD)/podium $(BUILD)/podium-sandbox

$(BUILD)/podium: $(DAEMON_OBJ) $(LLHTTP_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# podium-sandbox is linked static-pie: no dynamic loader on every box start
# (about 0.5 ms of its ~3.5 ms here, see make bench-sandbox).  Sanitizer
# builds cannot be static.
SANDBOX_LDFLAGS := $(if $(SAN),,-static-pie)
$(BUILD)/podium-sandbox: $(SANDBOX_OBJ)
	$(CC) $(LDFLAGS) $(SANDBOX_LDFLAGS) -o $@ $^ -lseccomp -ljansson

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

# llhttp's generated C is compiled from the Debian package, never copied in.
$(BUILD)/obj/llhttp/%.o: $(LLHTTP_SRC)/%.c
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -Werror -Wall -Wextra,$(CFLAGS)) -w -c -o $@ $<

-include $(DAEMON_OBJ:.o=.d) $(SANDBOX_OBJ:.o=.d)

# the pages' files are built into the binary (.incbin): -MMD does not see them
$(BUILD)/obj/web/assets.o: $(wildcard web/static/*)

# ---- dependencies -----------------------------------------------------------
DEB_PKGS := build-essential pkg-config libuv1-dev liburing-dev node-llhttp libgit2-dev libsqlite3-dev \
            libseccomp-dev libyaml-dev libjansson-dev libsodium-dev libcurl4-openssl-dev git libcmocka-dev \
            libpq-dev postgresql-15 libcmark-gfm-dev libcmark-gfm-extensions-dev zlib1g-dev \
            sshfs openssh-sftp-server socat \
            python3 python3-pytest python3-flask python3-websockets python3-venv python3-pip python3-cryptography \
            nodejs iproute2 nftables util-linux e2fsprogs ca-certificates curl chromium \
            libssl-dev openssl uacme pebble buildah crun skopeo debootstrap
# Only the benchmarks compare against these.
BENCH_PKGS := bubblewrap wrk nginx-light
deps-bench: DEB_PKGS += $(BENCH_PKGS)
deps-bench: deps
deps:
	@missing=$$(for p in $(DEB_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -z "$$missing" ]; then echo "deps: all Debian packages present"; \
	elif [ "$$(id -u)" = 0 ]; then echo "deps: installing $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	else echo "deps: missing packages; run as root:"; echo "  apt-get install -y $$missing"; exit 1; fi
	@command -v npm >/dev/null || { [ "$$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm; } \
	  || { echo "deps: npm missing; run as root: apt-get install -y npm"; exit 1; }

# deps may install packages that this make already looked for (pkg-config, the
# llhttp sources): everything after it runs in a fresh make that reads the
# Makefile against the system as it now is.
run: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory serve

# The daemon on the embedded defaults; it prints the hub URL, where the admin
# token is and the quickstart once it listens.
serve:
	$(BUILD)/podium serve

# ---- tests ------------------------------------------------------------------
# Unit tests mirror the modules: tests/unit/MODULE/test_*.c links MOD_MODULE only.
UNIT_MODS := common sandbox proxy builder store host orchestrator web cli
UNIT_BIN  := $(foreach d,$(UNIT_MODS),$(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/$(d)/test_*.c)))

define unit_rule
$(BUILD)/tests/$(1)/%: tests/unit/$(1)/%.c $$(MOD_$(1))
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CFLAGS) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS) -lcmocka
endef
$(foreach d,$(UNIT_MODS),$(eval $(call unit_rule,$(d))))

test-unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

# C programs the integration suite runs (tests/integration/c): real builds in the sandbox.
INTEG_C_BIN := $(patsubst tests/integration/c/%.c,$(BUILD)/tests/integration/%,$(wildcard tests/integration/c/test_*.c))
$(BUILD)/tests/integration/%: tests/integration/c/%.c $(MOD_builder)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

# test_store_postgres.py runs the store's unit cases on a PostgreSQL server of its own
STORE_UNIT_BIN := $(filter $(BUILD)/tests/store/%,$(UNIT_BIN))
INTEG_PYTEST = cd tests/integration && PODIUM_BUILD=$(abspath $(BUILD)) /usr/bin/python3 -m pytest -q -x -p no:cacheprovider
INTEG_IMAGES = heavy/test_images.py heavy/test_real_spaces.py
test-integration: all hubjs-deps $(INTEG_C_BIN) $(STORE_UNIT_BIN)
	$(INTEG_PYTEST) .

# The same suite in three parts that share nothing (each starts daemons, namespaces
# and data dirs of its own), which test-all runs side by side: the shared daemon's
# tests, heavy/ but the image builds, and those.
.PHONY: test-integration-light test-integration-heavy test-integration-images
test-integration-light: all hubjs-deps $(INTEG_C_BIN) $(STORE_UNIT_BIN)
	$(INTEG_PYTEST) --ignore=heavy .
test-integration-heavy: all $(INTEG_C_BIN)
	$(INTEG_PYTEST) $(addprefix --ignore=,$(INTEG_IMAGES)) heavy
test-integration-images: all
	$(INTEG_PYTEST) $(INTEG_IMAGES)

test: deps
	@$(MAKE) --no-print-directory test-all

# The web UI in Debian's chromium (headless) through playwright-core, installed
# here from tests/browser/package-lock.json; the tests skip, saying why, when
# Chromium cannot start. Screenshots: $(BUILD)/screenshots/.
browser-deps:
	cd tests/browser && npm ci --no-audit --no-fund

test-browser: all browser-deps
	cd tests/browser && PODIUM_BUILD=$(abspath $(BUILD)) node --test --test-concurrency=1 ui.test.mjs spaces.test.mjs

# The suites after the unit tests run three at a time, the longest first; each
# one's output is shown whole when it ends (make -O).
TEST_PARTS := test-integration-heavy test-integration-light test-integration-images \
	test-sandbox test-proxy test-browser
test-all: all test-unit hubjs-deps browser-deps
	@$(MAKE) --no-print-directory -j$(or $(TEST_JOBS),3) -Otarget $(TEST_PARTS)

# The same suites against ASan/UBSan builds of both binaries (build-asan/).
test-asan: deps
	$(MAKE) SAN=1 all test-unit test-sandbox test-proxy test-integration

clean:
	rm -rf build build-asan build-tsan

-include mk/*.mk

# Benchmarks install the peers they compare against (bwrap, wrk, nginx) first,
# then run in a fresh make (see run:).
.PHONY: bench-sandbox bench-proxy bench-deploy bench-wake bench-density bench-export bench-tls bench-images bench-cluster
bench-sandbox bench-proxy bench-deploy bench-wake bench-density bench-export bench-tls bench-images bench-cluster: deps-bench
	@$(MAKE) --no-print-directory $@-run
