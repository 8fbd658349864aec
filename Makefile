# wanka quick start: `make demo` and `make test` on a fresh Debian 12 machine.
# Both install the missing Debian packages first when run as root, then build with CMake.
DEBS := build-essential cmake ninja-build pkg-config libyaml-dev libjansson-dev \
        libcmocka-dev zlib1g-dev clang libclang-rt-14-dev
GEN := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CTEST := ctest --output-on-failure -j $(JOBS)

.PHONY: all deps build build-asan test test-unit test-asan demo bench clean

all: build

deps:
	@missing=""; for p in $(DEBS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "missing Debian packages:$$missing (run 'make deps' as root)"; exit 2; fi; \
	fi

build: deps
	@cmake -S . -B build $(GEN) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build build -j $(JOBS)

build-asan: deps
	@cmake -S . -B build-asan $(GEN) -DCMAKE_BUILD_TYPE=Debug -DWK_SANITIZE=ON >/dev/null
	@cmake --build build-asan -j $(JOBS)

test-unit: build
	cd build && $(CTEST)

test-asan: build-asan
	cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 $(CTEST)

# Unit + CLI tests in the release build, then the same tests under ASan+UBSan.
test: test-unit test-asan

demo: build
	./build/wanka cluster show zhengzhou-60k

bench: build
	@for b in build/bench/*; do echo "== $$b"; $$b || exit 1; done

clean:
	rm -rf build build-asan
