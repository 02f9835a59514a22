# proxy: test harness, tests and benchmark (included by the top Makefile).
PROXY_HARNESS := $(BUILD)/proxy-harness
PROXY_OBJ     := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard proxy/*.c))
PROXY_DEPS    := $(MOD_proxy)

$(PROXY_HARNESS): $(BUILD)/obj/tests/proxy/harness.o $(PROXY_DEPS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

-include $(BUILD)/obj/tests/proxy/harness.d $(PROXY_OBJ:.o=.d)

.PHONY: test-proxy bench-proxy-run proxy-harness
proxy-harness: $(PROXY_HARNESS)

# Twice: with batched sends (the default, proxy/pio.c) and with plain writes.
test-proxy: $(PROXY_HARNESS)
	PROXY_HARNESS=$(abspath $(PROXY_HARNESS)) /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/proxy
	PROXY_HARNESS=$(abspath $(PROXY_HARNESS)) PROXY_ARGS=--no-batch-sends \
	  /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/proxy

# The bench's floor of one write(2) per message: a verbatim byte relay, no HTTP
# (tests/proxy/relay.c).
PROXY_RELAY := $(BUILD)/proxy-relay
$(PROXY_RELAY): tests/proxy/relay.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -std=gnu11 $(WARN) -D_GNU_SOURCE -pthread -o $@ $<

# BENCH_MODE=space (default: the daemon, the backend deployed as a space) or
# harness (build/proxy-harness); see tests/proxy/bench.py.
bench-proxy-run: $(PROXY_HARNESS) $(PROXY_RELAY) all
	PROXY_HARNESS=$(abspath $(PROXY_HARNESS)) PROXY_RELAY=$(abspath $(PROXY_RELAY)) \
	  PODIUM_BUILD=$(abspath $(BUILD)) /usr/bin/python3 tests/proxy/bench.py

# ThreadSanitizer run of the proxy alone (the harness and what it links;
# objects in build/tsan/, never mixed with the ASan or normal builds).
TSAN_BUILD   := build/tsan
TSAN_HARNESS := $(TSAN_BUILD)/proxy-harness
TSAN_SRC     := tests/proxy/harness.c $(wildcard proxy/*.c) $(wildcard common/*.c)
TSAN_OBJ     := $(patsubst %.c,$(TSAN_BUILD)/obj/%.o,$(TSAN_SRC)) \
                $(patsubst $(BUILD)/%,$(TSAN_BUILD)/%,$(LLHTTP_OBJ))

$(TSAN_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -fsanitize=%,$(CFLAGS)) -fsanitize=thread -MMD -MP -c -o $@ $<

$(TSAN_BUILD)/obj/llhttp/%.o: $(LLHTTP_SRC)/%.c
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -Werror -Wall -Wextra -fsanitize=%,$(CFLAGS)) -fsanitize=thread -w -c -o $@ $<

$(TSAN_HARNESS): $(TSAN_OBJ)
	$(CC) -fsanitize=thread -o $@ $^ $(LDLIBS)

-include $(TSAN_OBJ:.o=.d)

.PHONY: test-proxy-tsan
test-proxy-tsan: $(TSAN_HARNESS)
	PROXY_HARNESS=$(abspath $(TSAN_HARNESS)) \
	  TSAN_OPTIONS="halt_on_error=0 exitcode=0 suppressions=$(abspath tests/proxy/tsan.supp)" \
	  /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/proxy

# HTTPS: podium's TLS vs nginx's with the same certificate and ciphers, in
# front of the same backend (tests/proxy/bench_tls.py; wrk, s_time, idle RSS).
.PHONY: bench-tls-run
bench-tls-run: $(PROXY_HARNESS)
	PROXY_HARNESS=$(abspath $(PROXY_HARNESS)) /usr/bin/python3 tests/proxy/bench_tls.py
