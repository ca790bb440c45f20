NOT_MEASURED = ("compile() chooses the optimizer, loss and metrics once; the training rows "
                "(keras.quickstart, keras.fit) run what it compiles")
