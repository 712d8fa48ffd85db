# Thin wrapper around meson. `make run` and `make test` do all set-up.
BUILD      ?= build
ASAN_BUILD ?= build-asan
LISTEN     ?= :9477
APT_PKGS    = meson ninja-build pkg-config gcc libc6-dev libmicrohttpd-dev \
              libjansson-dev libnl-3-dev libnl-genl-3-dev \
              libpcap-dev libcmocka-dev zlib1g-dev libcap-ng-dev libseccomp-dev \
              libyaml-dev libcrypt-dev libgnutls28-dev python3
TEST_PKGS   = prometheus python3-jsonschema python3-prometheus-client curl \
              iproute2 valgrind clang libclang-rt-dev tcpdump strace python3 \
              chromium python3-websocket python3-yaml openssl systemd \
              groff-base man-db procps debhelper dpkg-dev lintian \
              tcpreplay nftables \
              podman mmdebstrap runc python3-kubernetes

.PHONY: all deps test-deps build install run test test-unit test-plain test-asan bench fuzz clean \
        test-fuzz

all: build

# Install what is missing, only when root and only with apt-get.
deps:
	@sh tools/ensure-deps.sh $(APT_PKGS)

test-deps:
	@sh tools/ensure-deps.sh $(APT_PKGS) $(TEST_PKGS)

$(BUILD)/build.ninja:
	meson setup $(BUILD)

build: deps $(BUILD)/build.ninja
	meson setup --reconfigure $(BUILD) >/dev/null
	ninja -C $(BUILD)

# Binary, man page, systemd units and deploy/ files (docs/deployment.md).
install: build
	meson install -C $(BUILD) --no-rebuild

run: build
	./$(BUILD)/twaudit serve --web.listen-address=$(LISTEN)

# Every test: the normal suite then the fuzz regression, beside the
# ASan+UBSan build and its suite (tools/run-tests.sh).
test: test-deps build
	bash tools/run-tests.sh $(BUILD) $(ASAN_BUILD)

# Parts alone: the unit tests; the normal build's whole suite.
test-unit: test-deps build
	meson test -C $(BUILD) --print-errorlogs --suite unit

test-plain: test-deps build
	meson test -C $(BUILD) --print-errorlogs

test-asan: $(ASAN_BUILD)/build.ninja
	meson setup --reconfigure $(ASAN_BUILD) >/dev/null
	ninja -C $(ASAN_BUILD)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    meson test -C $(ASAN_BUILD) --print-errorlogs

$(ASAN_BUILD)/build.ninja:
	meson setup $(ASAN_BUILD) -Db_sanitize=address,undefined -Db_lundef=false

bench: build
	bash bench/run-all.sh $(BUILD)
	TWAUDIT=$(BUILD)/twaudit FIXTURES=tests/fixtures SCHEMAS=docs/schema \
	    bash tests/integration/valgrind_scrape.sh --scrapes=100000

# libFuzzer campaign: FUZZ_SECONDS per target (build-fuzz, clang). See
# fuzz/run.sh and docs/reliability.md.
FUZZ_SECONDS ?= 600
fuzz: test-deps
	bash fuzz/run.sh $(FUZZ_SECONDS)

# Fuzz regression: each target over its committed corpus, then 10 s each.
test-fuzz: test-deps
	bash fuzz/regress.sh

# Soak: serve with the sampler under recurring faults and hostile clients
# for SOAK_SECONDS on the normal build (tests/integration/soak.sh; `make
# test` runs its 1-minute form). Root: namespaces and a veth.
SOAK_SECONDS ?= 600
.PHONY: soak
soak: test-deps build
	SOAK_SECONDS=$(SOAK_SECONDS) TWAUDIT=$(BUILD)/twaudit FIXTURES=tests/fixtures \
	    SCHEMAS=docs/schema BUILD=$(BUILD) SRC=$(CURDIR) \
	    bash tests/integration/soak.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)

# Debian package (debian/, dpkg-buildpackage in a copy of the tree, see
# tools/build-deb.sh): dist/twaudit_VERSION_ARCH.deb, build log in build-deb/.
.PHONY: deb
deb: deps
	@sh tools/ensure-deps.sh debhelper dpkg-dev
	bash tools/build-deb.sh dist build-deb
