"""Your own model as a tuning problem: the seed example's build_model on scikit-learn's 8x8 digits.

    tuning run --problem examples/digits_mlp.py --strategy tpe --budget smoke --seed 0
    tox -e bench -- --problem examples/digits_mlp.py --budget smoke
"""

import keras
from sklearn.datasets import load_digits

GRID = {"learning_rate": [1e-3, 1e-2]}  # the grid strategy's values for the continuous learning rate


def build_model(hp):
    model = keras.Sequential([keras.Input(shape=(64,))])
    for i in range(hp.Int("num_layers", 1, 3)):
        model.add(keras.layers.Dense(hp.Int(f"units_{i}", 32, 256, step=32), activation="relu"))
    model.add(keras.layers.Dense(10, activation="softmax"))
    model.compile(
        optimizer=keras.optimizers.Adam(hp.Float("learning_rate", 1e-4, 1e-2, sampling="log")),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def load_data():
    x, y = load_digits(return_X_y=True)
    x = x / 16.0  # pixels 0..16 -> 0..1
    return (x[:1500], y[:1500]), (x[1500:], y[1500:])
