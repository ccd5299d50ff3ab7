# mrgan: the two commands are `make demo` and `make check` (see README.md).
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= 2

.PHONY: all deps build test asan check demo bench clean

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer,
# built without MPI (this is also CI's check that a build without MPI works;
# Open MPI's own allocations would drown LeakSanitizer's report).
asan: deps
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DMRGAN_SANITIZE=ON -DMRGAN_MPI=OFF
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS)

check: test asan
	@echo "make check: all tests passed (release and ASan+UBSan builds)"

demo: build
	bash scripts/demo.sh $(BUILD)/mrgan

# Speed figures (not part of the tests): DCI-Net inference / training step.
bench: build
	$(BUILD)/mrgan bench

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
