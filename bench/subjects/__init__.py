"""One module per benchmarked subject, each mapping workload names to functions.

A workload function takes the run's `Spec` and returns one number: a rate in operations
per second, or a size in MB for the memory workloads.
"""
