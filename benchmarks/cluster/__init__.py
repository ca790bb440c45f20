"""Benchmarks on a cluster: the guide's training with MultiWorkerMirroredStrategy, one process per worker.

- `python -m benchmarks.cluster` (worker.py): run it on every host; the cluster comes from TF_CONFIG or from
  Slurm (spec.py); the chief writes the `cluster` rows of the report (report.py; rendered by reports/cluster.py).
- `python -m benchmarks.cluster.loopback` (loopback.py): the same command, N = 1..4 processes on 127.0.0.1,
  started exactly as a cluster starts them (only TF_CONFIG or the SLURM_* variables of a one-node job set).
- failures.py: TensorFlow's distributed-runtime errors turned into one line naming the missing task.
"""
