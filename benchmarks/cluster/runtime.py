"""TensorFlow's distributed runtime for a cluster worker: the coordination service with its bounds, then
the strategy (see worker.py, point 2, and failures.py for what TensorFlow reports)."""

from __future__ import annotations


def configure_coordination(tf, resolver, connect_timeout_s: float, heartbeat_timeout_s: float) -> None:
    """What MultiWorkerMirroredStrategy configures when nothing is configured yet (collective_all_reduce_
    strategy.py, TF 2.21: service "standalone", leader = chief or worker 0, jobs chief/worker), plus the
    bounds. The strategy then keeps this configuration and relies on the service's heartbeats (it turns
    its own Python health-check thread off when the service is on)."""
    from tensorflow.python.distribute import multi_worker_util
    from tensorflow.python.eager import context

    try:
        from tensorflow.compiler.xla.tsl.protobuf import coordination_config_pb2
    except ImportError:  # older TensorFlow
        from tensorflow.core.protobuf import coordination_config_pb2

    spec = resolver.cluster_spec()
    ctx = context.context()
    ctx.configure_coordination_service(
        service_type="standalone", service_leader=multi_worker_util.coordination_leader(spec),
        cluster_register_timeout_in_ms=int(connect_timeout_s * 1000),
        heartbeat_timeout_in_ms=int(heartbeat_timeout_s * 1000),
        coordinated_jobs=[coordination_config_pb2.CoordinatedJob(name=job, num_tasks=spec.num_tasks(job))
                          for job in ("chief", "worker") if job in spec.jobs])
    config = ctx.coordination_service
    # Without the barrier the chief would wait for a missing task up to TensorFlow's device-propagation
    # timeout (an hour); with it, registration fails after the timeout naming the tasks that never came.
    if "cluster_register_with_barrier" in config.DESCRIPTOR.fields_by_name:
        config.cluster_register_with_barrier = True


def make_strategy(tf, resolver):
    return tf.distribute.MultiWorkerMirroredStrategy(cluster_resolver=resolver)
