# TokenMeter. `make test` and `make run` do all setup on a fresh Debian 12 machine with Swift.
SWIFT    ?= swift
PREFIX   ?= /usr/local
CONFIG   ?= release
APT_PKGS := libpcre2-dev libcurl4-openssl-dev libsqlite3-dev curl
# Only the tests need these: Chromium renders the HTML report, and with its driver (Selenium) runs the console's
# browser test; the PostgreSQL ledger tests run against a private PostgreSQL cluster that scripts/run-tests.sh
# starts (scripts/pg-cluster.sh).
TEST_APT_PKGS := chromium chromium-driver postgresql
BIN       = .build/$(CONFIG)/tokenmeter

.PHONY: deps test-deps build release test run demo install bench bench-server bench-all soak clean

# Installs those of the Debian packages $(1) that are missing (as root, or through sudo).
define apt_install
	@missing=""; \
	for p in $(1); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "make $@: installing$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi
endef

## deps: install the Debian -dev packages the build links against (only those missing).
## test-deps: also what the tests need: Debian's chromium and chromium-driver (the HTML report's and the console's
## browser tests), Debian's postgresql (the PostgreSQL ledger tests' private cluster), the official openai and
## anthropic Python SDKs, which the server's end-to-end tests drive, and Selenium, which drives the browser.
deps:
	$(call apt_install,$(APT_PKGS))

build: deps
	$(SWIFT) build

# Release builds link the Swift runtime and Foundation statically: a third less start-up time for
# every CLI run (docs/history/benchmarks-tokenizer-2026-11.md), at the cost of a larger binary.
release: deps
	$(SWIFT) build -c release --static-swift-stdlib --product tokenmeter

test-deps: deps
	$(call apt_install,$(TEST_APT_PKGS))
	@python3 -c 'import openai' 2>/dev/null || python3 -m pip install --quiet openai || \
	  echo "make test-deps: could not install the openai SDK; its end-to-end test will fail under make test"
	@python3 -c 'import anthropic' 2>/dev/null || python3 -m pip install --quiet anthropic || \
	  echo "make test-deps: could not install the anthropic SDK; its end-to-end test will fail under make test"
	@python3 -c 'import selenium' 2>/dev/null || python3 -m pip install --quiet selenium || \
	  echo "make test-deps: could not install selenium; the console's browser test will fail under make test"

## test: every test target (Swift Testing), after setup, with a private PostgreSQL cluster started for the run
## and stopped after it. TOKENMETER_REQUIRE_ALL=1 turns a missing Chromium, PostgreSQL, openai SDK or root (for
## the full-disk tests' tmpfs) into a failure, and scripts/run-tests.sh fails the run when any test was still
## skipped or ended in a known issue, naming them: a pass means every test ran.
test: test-deps
	$(SWIFT) build --build-tests
	TOKENMETER_REQUIRE_ALL=1 SWIFT="$(SWIFT)" scripts/run-tests.sh

## run: the main job. Builds (release) and starts the gateway on 127.0.0.1:8080 with ./tokenmeter.sqlite
## (docs/SERVER.md); extra serve options with ARGS="--config tokenmeter.yaml".
run: release
	$(BIN) serve $(ARGS)

## demo: the first five minutes. Builds (release) and runs `tokenmeter demo`: the gateway on a temporary
## ledger in front of the built-in simulated upstream, and commands to try it (no model, API key or
## network); ARGS="--port 0" picks a free port. Ctrl-C stops it and deletes the temporary ledger.
demo: release
	$(BIN) demo $(ARGS)

## install: binary to $(PREFIX)/bin, vocab to $(PREFIX)/share/tokenmeter/vocab.
install: release
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/tokenmeter/vocab
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/tokenmeter
	install -m 644 vocab/*.tiktoken vocab/SHA256SUMS vocab/README.md $(DESTDIR)$(PREFIX)/share/tokenmeter/vocab/

## bench: tokenizer throughput side by side with tiktoken and quicktok (results go in BENCHMARKS.md).
bench: release
	Benchmarks/tokenizer.sh

## bench-server: the gateway against its upstream called directly, three processes, 1/50/200/500 streams
## (Benchmarks/server.sh; results go in BENCHMARKS.md). BENCH_POSTGRES=1 also runs the same gateway on a
## PostgreSQL ledger in a private cluster (needs Debian's postgresql, as make test-deps installs it).
bench-server: deps
	Benchmarks/server.sh

## bench-all: the tokenizer and the gateway beside their anchors in one run (about 10 minutes), and this run's
## figures written into BENCHMARKS.md's "Current figures" (Benchmarks/run.sh).
bench-all: deps
	Benchmarks/run.sh

## soak: 20,000 streamed requests at 50 concurrent through the gateway; RSS, FDs and threads every 1,000.
soak: deps
	Benchmarks/soak.sh

clean:
	rm -rf .build

## test-tsan / test-asan: the whole suite under ThreadSanitizer / AddressSanitizer (docs/ROBUSTNESS.md),
## each in its own scratch directory so the normal debug build is left alone.
.PHONY: test-tsan test-asan
## TSan cannot see Synchronization.Mutex's futex hand-off: scripts/tsan-suppressions.txt says which
## lock-protected closures that concerns and why.
test-tsan: test-deps
	$(SWIFT) build --build-tests --sanitize=thread --scratch-path .build/tsan
	TOKENMETER_SANITIZER=thread TSAN_OPTIONS="suppressions=$(CURDIR)/scripts/tsan-suppressions.txt $(TSAN_OPTIONS)" \
	  $(SWIFT) test --skip-build --sanitize=thread --scratch-path .build/tsan

## LeakSanitizer cannot follow some pointers the Swift runtime and Foundation keep (weak-reference side
## tables, indirect enum boxes, libxml2 trees): scripts/lsan-suppressions.txt lists them and why.
## TOKENMETER_SANITIZER tells the tests to skip latency and RSS bars, which sanitizers distort.
test-asan: test-deps
	$(SWIFT) build --build-tests --sanitize=address --scratch-path .build/asan
	TOKENMETER_SANITIZER=address LSAN_OPTIONS="suppressions=$(CURDIR)/scripts/lsan-suppressions.txt $(LSAN_OPTIONS)" \
	  $(SWIFT) test --skip-build --sanitize=address --scratch-path .build/asan

## fuzz: every libFuzzer target in Fuzz/ (its own package, never part of `make test`) for FUZZ_SECONDS
## each, one after another; fuzz-<name> runs one. New inputs go to Fuzz/.build/corpus/<name> (the
## committed seeds in Fuzz/Corpus/<name> are only read), crashes to Fuzz/.build/crashes/<name>-*.
## Replay one input: Fuzz/.build/release/fuzz-<name> <file>. SWIFT_BACKTRACE=enable=no: on a trap the
## Swift backtracer copies the stack in a way AddressSanitizer reports as an underflow, hiding the message.
FUZZ_TARGETS := sse ndjson chat-request tokenizer catalog
FUZZ_SECONDS ?= 600
FUZZ_ARGS    ?=
# lld: gold (the default) stops with "internal error in format_file_lineno" linking these executables.
FUZZ_BUILD   := -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing -Xswiftc -use-ld=lld
FUZZ_RULES   := $(addprefix fuzz-,$(FUZZ_TARGETS))
.PHONY: fuzz fuzz-build $(FUZZ_RULES)

fuzz: $(FUZZ_RULES)

fuzz-build: deps
	cd Fuzz && $(SWIFT) build $(FUZZ_BUILD)

$(FUZZ_RULES): fuzz-%: deps
	cd Fuzz && $(SWIFT) build $(FUZZ_BUILD) --product fuzz-$*
	mkdir -p Fuzz/.build/corpus/$* Fuzz/.build/crashes
	SWIFT_BACKTRACE=enable=no TOKENMETER_VOCAB=$(CURDIR)/vocab Fuzz/.build/release/fuzz-$* -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	  -artifact_prefix=Fuzz/.build/crashes/$*- $(FUZZ_ARGS) Fuzz/.build/corpus/$* Fuzz/Corpus/$*
