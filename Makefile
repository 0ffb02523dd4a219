# xcpbuild — see README.md. `make iso` sets up a fresh Debian 12 machine and builds the
# default recipe's appliance ISO (and its signed apt repository); `make test` runs the tests.
RECIPE ?= xcp-bookworm
XCPBUILD = node dist/cli.js
SUDO ?= $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

# Debian packages the pipeline and its tests drive for real.
SYSTEM_PACKAGES = apt-utils dpkg-dev gnupg gpgv xz-utils mmdebstrap debian-archive-keyring \
	lintian nginx-light ca-certificates xorriso mtools dosfstools squashfs-tools grub-common \
	qemu-system-x86 qemu-utils ovmf

.PHONY: all setup system-deps node-deps build repo iso e2e test test-unit bench schema clean

all: iso

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

# The main job: the appliance ISO of the default recipe (out/$(RECIPE)/iso/), with its repo.
iso: setup
	$(XCPBUILD) genkey --if-missing
	$(XCPBUILD) iso $(RECIPE)

# The long end-to-end suite: unattended install + first boot + toolstack checks, BIOS and UEFI.
e2e: iso
	$(XCPBUILD) boot-test out/$(RECIPE)/iso/$$(ls out/$(RECIPE)/iso | grep '\.iso$$')

test: setup
	$(XCPBUILD) genkey --if-missing
	npx jest --runInBand

test-unit: build
	npx jest tests/unit

bench: setup
	$(XCPBUILD) genkey --if-missing
	bash bench/repo.sh $(RECIPE)
	bash bench/iso.sh $(RECIPE)

schema: build
	node dist/tools/write-schema.js

clean:
	rm -rf dist out
