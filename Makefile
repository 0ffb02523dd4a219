# xcpbuild — see README.md. `make repo` sets up a fresh Debian 12 machine and builds
# the default recipe's signed apt repository; `make test` runs the test suite.
RECIPE ?= xcp-bookworm
XCPBUILD = node dist/cli.js
SUDO ?= $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

# Debian packages the pipeline and its tests drive for real.
SYSTEM_PACKAGES = apt-utils dpkg-dev gnupg gpgv xz-utils mmdebstrap debian-archive-keyring \
	lintian nginx-light ca-certificates

.PHONY: all setup system-deps node-deps build repo test test-unit test-integration bench schema clean

all: repo

setup: system-deps node-deps build

# Installs only what is missing, so a second run costs a dpkg-query.
system-deps:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing: $$missing"; \
		$(SUDO) apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
	fi

node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

node-deps: node_modules/.package-lock.json

build: node-deps
	npx tsc -p tsconfig.json

# The main job: the signed apt repository of the default recipe (out/$(RECIPE)/repo).
repo: setup
	$(XCPBUILD) genkey --if-missing
	$(XCPBUILD) repo $(RECIPE)

test: setup
	$(XCPBUILD) genkey --if-missing
	npx jest --runInBand

test-unit: build
	npx jest tests/unit

bench: setup
	$(XCPBUILD) genkey --if-missing
	bash bench/repo.sh $(RECIPE)

schema: build
	node dist/tools/write-schema.js

clean:
	rm -rf dist out
