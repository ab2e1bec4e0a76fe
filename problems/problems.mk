## Problem files, genome encodings, evaluation glue, and the run driver (owner: search + integration).
approxmap_SOURCES += src/cmd_search.c src/cmd_resume.c src/cmd_export.c src/cmd_report.c
problems_libproblems_a_SOURCES += problems/prob.h problems/prob.c problems/prob_zdt.c
problems_libproblems_a_SOURCES += problems/run.h problems/run.c
