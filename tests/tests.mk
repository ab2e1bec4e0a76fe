## CLI tests and shared test helpers.
TESTS += $(check_PROGRAMS) tests/cli.sh tests/check_layers.sh
EXTRA_DIST += tests/cli.sh tests/tu.h tests/tu_resnet8.h tests/cli_lib.sh tests/check_layers.sh
# The I/O-failure test: LD_PRELOAD shim (a plain shared object, built without the sanitizers) and its
# script (failures, kills and signals at every file-system call of a small search; set-up signals).
check_DATA = tests/iofail.so
tests/iofail.so: $(srcdir)/tests/iofail.c
	$(AM_V_CC)$(MKDIR_P) tests && $(CC) -std=gnu11 $(CFLAGS) -fPIC -shared -o $@ $(srcdir)/tests/iofail.c -ldl
CLEANFILES += tests/iofail.so
TESTS += tests/cli_iofail.sh
EXTRA_DIST += tests/iofail.c tests/cli_iofail.sh
## the malformed-input corpus (tests/corpus/): generated cases, run against the built binary
TESTS += tests/corpus.sh
EXTRA_DIST += tests/corpus.sh tests/corpus/gen.py tests/corpus/run.py
