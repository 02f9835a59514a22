# Integration benchmarks (test-integration itself lives in the top Makefile).
#   make bench-deploy              push-to-live time for the static and python examples
#   make bench-deploy BENCH_RUNS=10 BENCH_FLAGS=--strict

BENCH_RUNS  ?= 5
BENCH_FLAGS ?=

.PHONY: bench-deploy-run
bench-deploy-run: all
	/usr/bin/python3 tests/bench/bench_deploy.py --build $(abspath $(BUILD)) --runs $(BENCH_RUNS) $(BENCH_FLAGS)

# Wake of a sleeping python app: request → first byte, with its split.
.PHONY: bench-wake-run
bench-wake-run: all
	/usr/bin/python3 tests/bench/bench_wake.py --build $(abspath $(BUILD)) --runs $(or $(WAKE_RUNS),10)

# Many spaces on one daemon, most asleep: daemon RSS, per-app memory, API latency, wake.
.PHONY: bench-density-run
bench-density-run: all
	/usr/bin/python3 tests/bench/bench_density.py --build $(abspath $(BUILD)) \
	  --spaces $(or $(DENSITY_SPACES),500) --running $(or $(DENSITY_RUNNING),100)

# Image spaces (issue 23): Docker space push → answering cold and warm, code-only
# redeploy (target <= 2 s), wake of an image app vs the native path, disk per release.
.PHONY: bench-images-run
bench-images-run: all
	/usr/bin/python3 tests/bench/bench_images.py --build $(abspath $(BUILD)) --runs $(or $(IMAGES_RUNS),3)

# A cluster of three nodes on PostgreSQL in namespaces of its own (issue 27):
# forwarding latency, statements per request/push/wake, placement of
# CLUSTER_SPACES spaces, time to serve again after a node loss.
.PHONY: bench-cluster-run
bench-cluster-run: all
	/usr/bin/python3 tests/bench/bench_cluster.py --build $(abspath $(BUILD)) \
	  --spaces $(or $(CLUSTER_SPACES),30) --requests $(or $(CLUSTER_REQUESTS),200)
