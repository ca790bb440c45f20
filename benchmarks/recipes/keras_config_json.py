NOT_MEASURED = ("to_json and model_from_json serialise an architecture once; saving and loading "
                "weights and whole models are timed by keras.save_weights and keras.save_model")
