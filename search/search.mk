## Generic multi-objective search: PCG32, NSGA-II, hypervolume, archive, checkpoint (owner: search).
