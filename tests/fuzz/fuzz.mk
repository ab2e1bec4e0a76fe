## libFuzzer harnesses (tests/fuzz/README.md). `make check` builds them with the normal compiler into
## one replay driver and runs it over the seed corpora and the kept crash reproducers; `make fuzz`
## builds them with clang -fsanitize=fuzzer,address,undefined in a sub-build (fuzz-build/, whatever CC
## is) and runs each for FUZZ_SECONDS (default 60), FUZZ_JOBS at a time (default 1).
FUZZ_HARNESSES = problem map library onnx onnx_fwd ckpt cifar front energy liberty
FUZZ_SRCS = tests/fuzz/fuzz_problem.c tests/fuzz/fuzz_map.c tests/fuzz/fuzz_library.c tests/fuzz/fuzz_onnx.c \
	tests/fuzz/fuzz_onnx_fwd.c tests/fuzz/fuzz_ckpt.c tests/fuzz/fuzz_cifar.c tests/fuzz/fuzz_front.c \
	tests/fuzz/fuzz_energy.c tests/fuzz/fuzz_liberty.c
FUZZ_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/fuzz

# built for `make check` (check_DATA, not check_PROGRAMS: those run as tests themselves)
EXTRA_PROGRAMS += tests/fuzz/fuzz_replay tests/fuzz/mkonnx
check_DATA += tests/fuzz/fuzz_replay$(EXEEXT) tests/fuzz/mkonnx$(EXEEXT)
tests_fuzz_fuzz_replay_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz.h tests/fuzz/fuzz_common.c $(FUZZ_SRCS)
tests_fuzz_fuzz_replay_CPPFLAGS = $(FUZZ_CPPFLAGS) -DFUZZ_REPLAY
tests_fuzz_fuzz_replay_LDADD = $(CORE_LIBS)
tests_fuzz_mkonnx_SOURCES = tests/fuzz/mkonnx.c
tests_fuzz_mkonnx_LDADD = $(CORE_LIBS)
tests/fuzz/mkonnx.$(OBJEXT): src/onnx.pb-c.h
TESTS += tests/fuzz/replay.sh
EXTRA_DIST += tests/fuzz/replay.sh tests/fuzz/run.sh tests/fuzz/seeds.sh tests/fuzz/README.md tests/fuzz/ckpt_problem.yaml \
	tests/fuzz/seeds tests/fuzz/regress

# The libFuzzer binaries: only meaningful in a build configured with clang and -fsanitize=fuzzer-no-link
# (the sub-build `make fuzz` makes).
FUZZ_BINS = tests/fuzz/fuzz_problem tests/fuzz/fuzz_map tests/fuzz/fuzz_library tests/fuzz/fuzz_onnx \
	tests/fuzz/fuzz_onnx_fwd tests/fuzz/fuzz_ckpt tests/fuzz/fuzz_cifar tests/fuzz/fuzz_front \
	tests/fuzz/fuzz_energy tests/fuzz/fuzz_liberty
EXTRA_PROGRAMS += $(FUZZ_BINS)
FUZZ_LINK = -fsanitize=fuzzer
tests_fuzz_fuzz_problem_SOURCES = tests/fuzz/fuzz_problem.c tests/fuzz/fuzz_common.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_problem_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_problem_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)
tests_fuzz_fuzz_problem_LDADD = $(CORE_LIBS)
tests_fuzz_fuzz_map_SOURCES = tests/fuzz/fuzz_map.c tests/fuzz/fuzz_common.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_map_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_map_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)
tests_fuzz_fuzz_map_LDADD = $(CORE_LIBS)
tests_fuzz_fuzz_library_SOURCES = tests/fuzz/fuzz_library.c tests/fuzz/fuzz_common.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_library_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_library_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)
tests_fuzz_fuzz_library_LDADD = $(CORE_LIBS)
tests_fuzz_fuzz_onnx_SOURCES = tests/fuzz/fuzz_onnx.c tests/fuzz/fuzz_common.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_onnx_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_onnx_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)
tests_fuzz_fuzz_onnx_LDADD = $(CORE_LIBS)
tests_fuzz_fuzz_onnx_fwd_SOURCES = tests/fuzz/fuzz_onnx_fwd.c tests/fuzz/fuzz_common.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_onnx_fwd_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_onnx_fwd_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)
tests_fuzz_fuzz_onnx_fwd_LDADD = $(CORE_LIBS)
tests_fuzz_fuzz_ckpt_SOURCES = tests/fuzz/fuzz_ckpt.c tests/fuzz/fuzz_common.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_ckpt_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_ckpt_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)
tests_fuzz_fuzz_ckpt_LDADD = $(CORE_LIBS)
tests_fuzz_fuzz_cifar_SOURCES = tests/fuzz/fuzz_cifar.c tests/fuzz/fuzz_common.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_cifar_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_cifar_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)
tests_fuzz_fuzz_cifar_LDADD = $(CORE_LIBS)
tests_fuzz_fuzz_front_SOURCES = tests/fuzz/fuzz_front.c tests/fuzz/fuzz_common.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_front_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_front_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)
tests_fuzz_fuzz_front_LDADD = $(CORE_LIBS)
tests_fuzz_fuzz_energy_SOURCES = tests/fuzz/fuzz_energy.c tests/fuzz/fuzz_common.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_energy_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_energy_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)
tests_fuzz_fuzz_energy_LDADD = $(CORE_LIBS)
tests_fuzz_fuzz_liberty_SOURCES = tests/fuzz/fuzz_liberty.c tests/fuzz/fuzz_common.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_liberty_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_liberty_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)
tests_fuzz_fuzz_liberty_LDADD = $(CORE_LIBS)
fuzz-bins: $(FUZZ_BINS) approxmap tests/fuzz/mkonnx

FUZZ_SECONDS = 60
FUZZ_JOBS = 1
FUZZ_CFLAGS = -g -O1 -fsanitize=fuzzer-no-link
fuzz:
	@if test -z "$(CLANG)"; then echo "make fuzz: needs clang and libFuzzer (Debian: clang libclang-rt-dev libomp-dev)" >&2; exit 1; fi
	@$(MKDIR_P) fuzz-build
	@test -f fuzz-build/Makefile || (cd fuzz-build && $(abs_top_srcdir)/configure CC='$(CLANG)' CFLAGS='$(FUZZ_CFLAGS)' \
	  --enable-sanitizers --disable-native --with-onnx-proto='$(ONNX_PROTO)' >configure.log) || \
	  { echo "make fuzz: configuring fuzz-build with clang failed (fuzz-build/config.log)" >&2; exit 1; }
	$(MAKE) -C fuzz-build all && $(MAKE) -C fuzz-build fuzz-bins
	$(SHELL) $(srcdir)/tests/fuzz/run.sh fuzz-build '$(FUZZ_SECONDS)' '$(FUZZ_JOBS)' $(FUZZ_HARNESSES)
.PHONY: fuzz fuzz-bins
