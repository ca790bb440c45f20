MEASURED_BY = "estimator.dnn_classifier"  # the premade Estimators are one group, measured side by side
