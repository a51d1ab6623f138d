"""`make bench`: benchmarks of the data path against baselines measured in the same run
(see docs/benchmarks.md). Results land in bench/results/<date>.json and .md."""
