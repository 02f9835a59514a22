# bench-ui: page weight and time to first byte of the hub's pages (issue 25): the
# gallery with 1000 spaces (and with 100), a space page, the Files tab of a
# 1000-file repository, a rendered 200 KB README.  make bench-ui [UI_SPACES=1000]
UI_SPACES ?= 1000

.PHONY: bench-ui
bench-ui: all
	/usr/bin/python3 tests/bench/bench_ui.py --build $(abspath $(BUILD)) --spaces $(UI_SPACES)
