"""The mutants of keras.distribute (guide §1.9): each breaks one documented behaviour its specs assert."""

from __future__ import annotations

from tests.mutants._core import _keras3_src, _tf, mutant


@mutant("keras.distribute", "MirroredStrategy reports one replica in sync whatever its devices", subprocess=True)
def mirrored_reports_one_replica():
    _tf().distribute.MirroredStrategy.num_replicas_in_sync = property(lambda self: 1)


@mutant("keras.distribute", "MirroredStrategy sums the replicas' gradients instead of averaging them", subprocess=True)
def mirrored_sums_replica_gradients():
    _keras3_src()
    from keras.src.backend.tensorflow import trainer
    from keras.src.losses import loss

    loss.scale_loss_for_distribution = lambda value: value
    trainer.loss_module.scale_loss_for_distribution = loss.scale_loss_for_distribution
