# picseek - the two commands a person needs:
#   make demo   set up what is missing, build, run the demo on the default data
#   make test   set up what is missing, build with ASan+UBSan, run every test
# Other targets: build (release build in build/), builds (the warning check
# under -O3 and clang), bench, fuzz, clean.

JOBS ?= $(shell nproc 2>/dev/null || echo 2)
BUILD ?= build
TESTBUILD ?= build-asan
SETUP_STAMP := .setup-done

.PHONY: all build builds demo test setup bench fuzz clean

all: build

setup:
	@bash scripts/setup

build: setup
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	@bash scripts/demo $(BUILD)/picseek

test: setup
	@cmake -S . -B $(TESTBUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPICSEEK_SANITIZE=ON >/dev/null
	@cmake --build $(TESTBUILD) -j $(JOBS)
	@cd $(TESTBUILD) && ctest --output-on-failure -j $(JOBS)

# Every target built with gcc -O3 (Release) and with clang: both see
# warnings the default build does not (-Werror makes them errors).
builds: setup
	@cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build build-release -j $(JOBS)
	@cmake -S . -B build-clang -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build build-clang -j $(JOBS)

bench: build
	@bash bench/run $(BUILD)/picseek

fuzz: setup
	@bash fuzz/run

clean:
	rm -rf $(BUILD) $(TESTBUILD) build-fuzz build-release build-clang
