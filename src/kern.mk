## Optimized int8 kernels and their thread pool (owner: kernels).
