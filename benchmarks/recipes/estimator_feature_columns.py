MEASURED_BY = "estimator.dnn_classifier"  # the premade Estimator rows read the iris features through these columns
