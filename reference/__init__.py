"""Reference implementations of the guide's recipes for the TensorFlow that is installed.

One module per recipe id (keras.fit -> reference/keras_fit.py); each runs on its own with
`python -m reference.<module>` and prints what the guide shows.
"""

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
