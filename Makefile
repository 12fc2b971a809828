# gopherlab's two entry points (see README.md):
#   go run ./installer --jupyter --run-notebooks   install everything and run the tutorial notebooks
#   make test                                      run the whole test suite
# The targets below are what `make test` is made of.

GO      ?= go
NPM     ?= npm
APT_GET := $(shell command -v apt-get 2>/dev/null)
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Debian packages the tests drive for real (Jupyter tools, browser, data set).
TEST_APT := python3-jupyter-client jupyter-nbconvert jupyter-notebook python3-ipykernel \
            python3-nbformat chromium dataset-fashion-mnist libopenblas0

.PHONY: test deps lint gotest notebooks

test: deps lint gotest notebooks

deps:
	@missing=""; for p in $(TEST_APT); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	command -v npm >/dev/null 2>&1 || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi
	cd .ci && $(NPM) install --no-audit --no-fund --loglevel=error
	$(GO) run ./installer

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) generate ./stdlib/symbols
	@git diff --exit-code --stat -- stdlib/symbols || { echo "stdlib/symbols is stale: commit what go generate wrote"; exit 1; }

# Screenshots and other artifacts of the browser test land in out/artifacts.
gotest:
	GOPHERLAB_ARTIFACTS=$(CURDIR)/out/artifacts $(GO) test -race -timeout 30m ./kernel/...
	$(GO) test -timeout 30m ./display/... ./stdlib/... ./installer/...

notebooks:
	$(GO) run ./installer --run-notebooks --nbconvert -o out/notebooks
