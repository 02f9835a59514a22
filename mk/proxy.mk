# proxy: test harness, tests and benchmark (included by the top Makefile).
PROXY_HARNESS := $(BUILD)/proxy-harness
PROXY_OBJ     := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard proxy/*.c))
PROXY_DEPS    := $(PROXY_OBJ) $(BUILD)/obj/common/util.o $(BUILD)/obj/common/log.o \
                 $(BUILD)/obj/orchestrator/routes.o $(LLHTTP_OBJ)

$(PROXY_HARNESS): $(BUILD)/obj/tests/proxy/harness.o $(PROXY_DEPS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

-include $(BUILD)/obj/tests/proxy/harness.d $(PROXY_OBJ:.o=.d)

.PHONY: test-proxy bench-proxy proxy-harness
proxy-harness: $(PROXY_HARNESS)

test-proxy: $(PROXY_HARNESS)
	PROXY_HARNESS=$(abspath $(PROXY_HARNESS)) /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/proxy

bench-proxy: $(PROXY_HARNESS)
	PROXY_HARNESS=$(abspath $(PROXY_HARNESS)) /usr/bin/python3 tests/proxy/bench.py
