"""`python -m benchmarks.cluster`: one worker of the cluster benchmark (see benchmarks/cluster/worker.py)."""

from benchmarks.cluster.worker import main

if __name__ == "__main__":
    main()
