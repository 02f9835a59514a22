# bench-export: the daemon's resident memory while it builds a push with a big
# file (issue 17.5).  make bench-export [EXPORT_MB=200]
EXPORT_MB ?= 200

.PHONY: bench-export-run
bench-export-run: all
	/usr/bin/python3 tests/bench/bench_export.py --build $(abspath $(BUILD)) --mb $(EXPORT_MB)
