NOT_MEASURED = ("a custom layer's build, call and get_config are about correctness (its specs); "
                "nothing in the recipe runs long enough to time")
