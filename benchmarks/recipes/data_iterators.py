NOT_MEASURED = ("the TF 1 iterators run through tf.compat.v1 in a graph and a session; the "
                "tf.data rows iterate the TF 2 way (data.numpy has a Python-loop consumer)")
