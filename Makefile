# xcpbuild — see README.md. `make iso` sets up a fresh Debian 12 machine and builds the
# default recipe's appliance ISO (and its signed apt repository); `make test` runs the
# tests, the full boot test of the ISO under BIOS and UEFI included.
RECIPE ?= xcp-bookworm
XCPBUILD = node dist/cli.js
SUDO ?= $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
# Where `make test` builds and boot-tests its ISO: never the user's out/.
TEST_OUT ?= .test-out

# Debian packages the pipeline and its tests drive for real.
SYSTEM_PACKAGES = apt-utils dpkg-dev gnupg gpgv xz-utils mmdebstrap debian-archive-keyring \
	lintian nginx-light ca-certificates xorriso mtools dosfstools squashfs-tools attr grub-common \
	qemu-system-x86 qemu-utils ovmf util-linux fdisk \
	rpm createrepo-c dnf python3-dnf rpmlint bats strace faketime piuparts
# Only for `make repro`: what compares two builds.
REPRO_PACKAGES = diffoscope-minimal faketime

SOURCES = $(shell find src -name '*.ts') tsconfig.json

.PHONY: all setup system-deps node-deps build repo iso e2e nightly test test-unit upgrade-test bench chaos repro schema clean

all: iso

setup: system-deps node-deps build

# Installs only what is missing, so a second run costs a dpkg-query.
define install_missing
	@missing=$$(for p in $(1); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing: $$missing"; \
		$(SUDO) apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
	fi
endef

system-deps:
	$(call install_missing,$(SYSTEM_PACKAGES))

node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

node-deps: node_modules/.package-lock.json

# Compiled only when a source changed: a no-op `make iso` does not recompile.
dist/cli.js: $(SOURCES) node_modules/.package-lock.json
	npx tsc -p tsconfig.json
	@touch $@

build: dist/cli.js

# The signed apt repository of the default recipe (out/$(RECIPE)/repo).
repo: setup
	$(XCPBUILD) genkey --if-missing
	$(XCPBUILD) repo $(RECIPE)

# The main job: the appliance ISO of the default recipe (out/$(RECIPE)/iso/), with its repo.
iso: setup
	$(XCPBUILD) genkey --if-missing
	$(XCPBUILD) iso $(RECIPE)

# The boot test of the user's ISO: unattended install + first boot + the checks, BIOS and UEFI.
e2e: iso
	$(XCPBUILD) boot-test out/$(RECIPE)/iso/$$(ls out/$(RECIPE)/iso | grep '\.iso$$')

# Everything: the jest suites (unit, integration, a short chaos run), then the full boot
# test of the ISO those suites built, under BIOS and UEFI side by side.
test: setup
	npx tsc -p tests/tsconfig.json
	bats tests/shell
	$(XCPBUILD) genkey --if-missing
	npx jest --runInBand
	$(XCPBUILD) --out $(TEST_OUT) --locked iso $(RECIPE)
	$(XCPBUILD) --out $(TEST_OUT) boot-test --firmware bios,uefi $(TEST_OUT)/$(RECIPE)/iso/$$(ls $(TEST_OUT)/$(RECIPE)/iso | grep '\.iso$$')

# A nightly release of the default recipe: updated lock, dated version, repository and
# ISO, the boot test (UEFI) as a gate, SBOM, changelog, signed checksums, published
# under $(PUBLISH)/$(RECIPE)/ with a latest link; the newest $(KEEP) are kept.
PUBLISH ?= out/releases
KEEP ?= 7
nightly: setup
	$(XCPBUILD) genkey --if-missing
	$(XCPBUILD) nightly $(RECIPE) --publish $(PUBLISH) --keep $(KEEP)
	$(XCPBUILD) verify-release $(PUBLISH)/$(RECIPE)/latest

# Install a release pinned to bookworm's older Xen and dom0 kernel, upgrade it to the
# default recipe's release, reboot, check (tests/upgrade/run.sh; FIRMWARE=bios|uefi|both).
upgrade-test: setup
	$(XCPBUILD) genkey --if-missing
	bash tests/upgrade/run.sh $(RECIPE)

test-unit: build
	npx tsc -p tests/tsconfig.json
	bats tests/shell
	npx jest tests/unit

# 20 builds killed at random points and 10 rounds of concurrent builds; prints the counts.
chaos: setup
	$(XCPBUILD) genkey --if-missing
	CHAOS_KILLS=20 CHAOS_ROUNDS=10 npx jest --runInBand tests/chaos

# Two builds of the ISO in two environments (path, cache, umask, time zone, locale,
# clock); compares every sha256, and runs diffoscope on a difference.
repro: setup
	$(call install_missing,$(REPRO_PACKAGES))
	$(XCPBUILD) genkey --if-missing
	bash bench/repro.sh $(RECIPE)

bench: setup
	$(call install_missing,time)
	$(XCPBUILD) genkey --if-missing
	bash bench/hostile.sh $(RECIPE)
	bash bench/repo.sh $(RECIPE)
	bash bench/iso.sh $(RECIPE)
	bash bench/boot.sh $(RECIPE)
	bash bench/channel.sh
	bash bench/piuparts.sh
	bash bench/upgrade.sh $(RECIPE)

schema: build
	node dist/tools/write-schema.js

clean:
	rm -rf dist out $(TEST_OUT)
