# bench-commit: the daemon's resident memory while the commit API takes big files,
# one commit and several at once (issue 22 item 2).
#   make bench-commit [COMMIT_MB=100] [COMMIT_PARALLEL=4]
COMMIT_MB ?= 100
COMMIT_PARALLEL ?= 4

.PHONY: bench-commit bench-commit-run
bench-commit: bench-commit-run
bench-commit-run: all
	/usr/bin/python3 tests/bench/bench_commit.py --build $(abspath $(BUILD)) --mb $(COMMIT_MB) \
	  --parallel $(COMMIT_PARALLEL)
