"""Benchmarks for m365audit: ``python -m bench`` (``--smoke`` for the size CI runs).

Each stage is a function registered in ``bench.stages``; it runs its work in
child processes and reports wall time, records per second, peak resident
memory of each child (from ``os.wait4``'s rusage) and database size.
"""
