## Multiplier libraries, metrics, approximation maps, energy (owner: multipliers).
approxmap_SOURCES += src/cmd_multipliers.c src/cmd_sweep.c
