NOT_MEASURED = ("the functional API builds a graph of layers and runs no loop of its own; the "
                "training rows run Keras models built the same way")
