## Gate-level generation, Liberty/netlist reading and energy estimation (owner: gate-level).
approxmap_SOURCES += src/cmd_characterize.c
