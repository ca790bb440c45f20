"""What the specs of suite/ use and are not specs themselves: the conformance report's pytest plugin
(conformance.py), the Keras and TensorFlow under test and shared assertions (helpers.py), files the data specs
write (data_files.py), the Fashion-MNIST stand-in (fashion_mnist_fixture.py), the premade Estimators' checks
(iris_classifiers.py), the distributed specs' worker process (distribute_worker.py), and the sandbox that loads
crafted files (sandbox.py) with their builders and probes (untrusted.py, untrusted_hdf5.py)."""
