"""The bench's own parts: steady-state throughput (``throughput``), the calibration file it leaves
(``calibration``) and the regression gates that read it (``gate``).  The pytest benchmarks live in
``benchmarks/``."""
