NOT_MEASURED = ("callbacks run between epochs and batches; what they do is what the specs check "
                "(EarlyStopping, TensorBoard, ModelCheckpoint, LearningRateScheduler)")
