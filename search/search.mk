## Generic multi-objective search: PCG32, NSGA-II, hypervolume, archive, checkpoint (owner: search).
src_libcore_a_SOURCES += src/rng.h src/rng.c src/ckpt.h src/ckpt.c
search_libsearch_a_SOURCES += search/nsga.h search/nsga.c search/hv.h search/hv.c \
	search/archive.h search/archive.c
