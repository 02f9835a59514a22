# The @huggingface/hub test's node modules, installed from its lockfile (npm ci)
# whenever the lockfile changes. Without npm the test skips and says why.
HUBJS_DIR := tests/hubjs

.PHONY: hubjs-deps
hubjs-deps: $(HUBJS_DIR)/node_modules/.package-lock.json

$(HUBJS_DIR)/node_modules/.package-lock.json: $(HUBJS_DIR)/package-lock.json $(HUBJS_DIR)/package.json
	@if command -v npm >/dev/null; then \
	  cd $(HUBJS_DIR) && npm ci --no-audit --no-fund; \
	else echo "hubjs-deps: npm not installed; tests/integration/test_hubjs.py will skip"; fi
