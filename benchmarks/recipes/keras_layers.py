NOT_MEASURED = ("configuring layers (activations, regularizers, initializers) builds a model and "
                "runs no loop of its own: the Dense layers it configures are trained in the "
                "keras.quickstart rows")
