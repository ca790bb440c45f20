MEASURED_BY = "estimator.dnn_classifier"  # the premade Estimator rows train and evaluate on these input functions
