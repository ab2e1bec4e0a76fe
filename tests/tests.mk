## CLI tests and shared test helpers.
TESTS += $(check_PROGRAMS) tests/cli.sh
EXTRA_DIST += tests/cli.sh tests/tu.h tests/check_layers.sh
