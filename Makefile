# wanka quick start: `make demo` and `make test` on a fresh Debian 12 machine.
# Both install the missing Debian packages first when run as root, then build with CMake.
DEBS := build-essential cmake ninja-build pkg-config libyaml-dev libjansson-dev \
        libcmocka-dev zlib1g-dev clang libclang-rt-14-dev libmpich-dev mpich
# npm brings the report's charting library (package-lock.json) at build time; a machine whose
# node came from elsewhere (NodeSource's nodejs carries its own npm) keeps it. Chromium is for
# the browser test of the reports: installed as root, else that test says it skipped.
NODE_DEBS := nodejs npm
BROWSER_DEBS := chromium
GEN := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CTEST := ctest --output-on-failure -j $(JOBS)

SHARED ?= $(abspath ../shared)
FUZZ_SECONDS ?= 600
SMOKE_SECONDS ?= 15

.PHONY: all deps build build-asan build-fuzz test test-unit test-asan test-determinism fuzz fuzz-smoke demo demo-steps bench \
        valgrind clean

all: build

deps:
	@missing=""; for p in $(DEBS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	command -v npm >/dev/null 2>&1 || missing="$$missing $(NODE_DEBS)"; \
	for p in $(BROWSER_DEBS); do \
	  if ! dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed"; then \
	    if [ "$$(id -u)" = 0 ]; then missing="$$missing $$p"; \
	    else echo "note: $$p is not installed: the browser test of the reports will skip (run 'make deps' as root)"; fi; \
	  fi; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "missing Debian packages:$$missing (run 'make deps' as root)"; exit 2; fi; \
	fi

# The release build is profile-guided (GCC): an instrumented build in build-pgo/ replays two
# generated days on the Zhengzhou node, 2:1 and non-blocking (about 15 s), and build/ is
# compiled with that profile: bench/replay_fabric's month about 5 % faster, outputs the same
# bit for bit. The profile is made again whenever the instrumented wanka changed. PGO=0: a
# plain release build.
PGO ?= 1
ifneq ($(words $(filter 0 1,$(PGO))) $(words $(PGO)),1 1)
$(error PGO=$(PGO): 0 (a plain release build) or 1 (profile-guided, the default))
endif
PGO_DIR := $(CURDIR)/build-pgo/profile
PGO_TRACE := build-pgo/train.swf

build: deps
ifeq ($(PGO),1)
	@cmake -S . -B build-pgo $(GEN) -DCMAKE_BUILD_TYPE=Release -DWK_PGO=generate -DWK_PGO_DIR=$(PGO_DIR) >/dev/null
	@cmake --build build-pgo -j $(JOBS) --target wanka
	@if [ ! -f $(PGO_DIR)/trained ] || [ build-pgo/wanka -nt $(PGO_DIR)/trained ]; then \
	  echo "training the profile-guided build (build-pgo/)"; \
	  rm -rf $(PGO_DIR) && mkdir -p $(PGO_DIR) && \
	  ./build-pgo/wanka trace gen --cards 61440 --days 2 --seed 1 --out $(PGO_TRACE) >/dev/null && \
	  ./build-pgo/wanka replay --trace $(PGO_TRACE) --cluster zhengzhou-60k:oversubscription=2 >/dev/null && \
	  ./build-pgo/wanka replay --trace $(PGO_TRACE) --cluster zhengzhou-60k >/dev/null && \
	  touch $(PGO_DIR)/trained; \
	fi
	@cmake -S . -B build $(GEN) -DCMAKE_BUILD_TYPE=Release -DWK_PGO=use -DWK_PGO_DIR=$(PGO_DIR) >/dev/null
else
	@cmake -S . -B build $(GEN) -DCMAKE_BUILD_TYPE=Release -DWK_PGO=off >/dev/null
endif
	@cmake --build build -j $(JOBS)

build-asan: deps
	@cmake -S . -B build-asan $(GEN) -DCMAKE_BUILD_TYPE=Debug -DWK_SANITIZE=ON >/dev/null
	@cmake --build build-asan -j $(JOBS)

test-unit: build
	cd build && $(CTEST)

test-asan: build-asan
	cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 $(CTEST)

build-fuzz: deps
	@CC=clang cmake -S . -B build-fuzz $(GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWK_FUZZ=ON >/dev/null
	@cmake --build build-fuzz -j $(JOBS)

# Each libFuzzer harness on its seed corpus: SMOKE_SECONDS in `make test`, FUZZ_SECONDS here.
fuzz: build-fuzz
	./fuzz/run.sh build-fuzz $(FUZZ_SECONDS)

fuzz-smoke: build-fuzz
	./fuzz/run.sh build-fuzz $(SMOKE_SECONDS)

# Same inputs and seed, same bytes: twice in the release build and once under the sanitizers.
test-determinism: build build-asan
	./tests/determinism.sh build build-asan $(SHARED)

# The fuzz smoke, the determinism check across the release and sanitizer builds, then the
# unit + CLI tests in the release build and under ASan+UBSan (CTest's summary comes last).
test: fuzz-smoke test-determinism test-unit test-asan

# The default 60,000-card scenario: the cluster, its collectives, a trillion-parameter training
# step and the best layouts for Llama 3 405B on all of it, then a week of shared use replayed,
# and the 30k -> 60k question as one compare; each step writes its HTML report under out/.
# `make valgrind` runs the same steps under memcheck (VG) and fails on any error or leak.
W := ./build/wanka
VGRIND := valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect
demo: build
	@$(MAKE) --no-print-directory demo-steps VG=

valgrind: build
	@$(MAKE) --no-print-directory demo-steps VG="$(VGRIND)"
	@echo "valgrind: the demo ran clean (no errors, no definite or indirect leaks)"

demo-steps:
	@mkdir -p out
	@echo "== the cluster"; $(VG) $(W) cluster show zhengzhou-60k
	@echo; echo "== all-reduce over all 61,440 cards (L1: max-min flows on the real placement)"
	@$(VG) $(W) coll allreduce --cluster zhengzhou-60k --cards 61440 --level 1 --sizes 1M:1G --step-factor 32 \
	  --report out/coll.html
	@echo; echo "== one training step of a 1T-parameter model on all 61,440 cards"
	@$(VG) $(W) train --cluster zhengzhou-60k --model megatron-1t --cards 61440 --seq 2048 --gbs 15360 \
	  --tp 8 --pp 32 --vpp 4 --level 1 --report out/train.html
	@echo; echo "== the best layouts for Llama 3 405B on 61,440 cards"
	@$(VG) $(W) plan --cluster zhengzhou-60k --model llama3-405b --cards 61440 --seq 8192 --gbs 3840 --top 3 \
	  --report out/plan.html
	@echo; echo "== a week of AI-for-science work (generated), replayed with EASY backfill and failures"
	@$(VG) $(W) trace gen --cards 61440 --days 7 --seed 1 --out build/demo-week.swf
	@$(VG) $(W) replay --cluster zhengzhou-60k --trace build/demo-week.swf --policy backfill --placement topo \
	  --report out/replay.html
	@# the capacity question: minutes under memcheck, so `make valgrind` leaves it out
	@if [ -z "$(VG)" ]; then \
	  echo; echo "== what doubling the node buys: the same fortnight of work on 30,720 and 61,440 cards"; \
	  $(W) compare --cluster zhengzhou-30k --cluster zhengzhou-60k --profile ai4s --days 14 --report out/report.html; \
	fi
	@echo; echo "reports (open in a browser; each has its data beside it as .data.json):"
	@for r in report coll train plan replay; do [ -f out/$$r.html ] && echo "  out/$$r.html"; done; true

bench: build
	@for b in build/bench/*; do echo "== $$b"; $$b || exit 1; done

clean:
	rm -rf build build-pgo build-asan build-fuzz fuzz-out
