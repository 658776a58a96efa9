"""Properties of the space and the model, drawn from the space's single declaration.

Change ``tuning.space.SPACE`` and these tests draw from the new space: no
literal of the space appears here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tuning.core.space import Config, Float, Int, Space
from tuning.objectives.live.model import build_model
from tuning.problems.mnist_mlp import SPACE

from property_checks import (
    check_accepted_unchanged,
    check_declaration_rejected,
    check_grid_size,
    check_model,
    check_rejected,
)
from space_strategies import (
    configs,
    edge_cases,
    invalid_configs,
    invalid_declarations,
    scaled_examples,
    small_spaces,
    spaces,
)

# A model build costs ~50 ms; a few dozen cover the layers/optimizer combinations.
MODEL_EXAMPLES = scaled_examples(0.4)


@given(configs())
def test_drawn_configurations_validate_unchanged(config: Config) -> None:
    check_accepted_unchanged(SPACE.validate, config)


@pytest.mark.backend
@settings(max_examples=MODEL_EXAMPLES)
@given(configs())
def test_model_is_the_configuration(config: Config) -> None:
    try:
        check_model(build_model(config, SPACE), config, SPACE)
    finally:
        keras.backend.clear_session()


@given(invalid_configs())
def test_invalid_configurations_rejected(case: tuple[str, Config]) -> None:
    _, config = case
    check_rejected(SPACE.validate, config)
    check_rejected(lambda c: build_model(c, SPACE), config)  # validated before anything is built


@pytest.mark.parametrize("kind, config", edge_cases(SPACE), ids=[k for k, _ in edge_cases(SPACE)])
def test_named_faults_rejected(kind: str, config: Config) -> None:
    check_rejected(SPACE.validate, config)


@given(invalid_declarations())
@example(  # found by these properties: a zero-width layer was declarable, and Keras refuses to build it
    (
        "space_width_not_positive",
        lambda: Space(SPACE.depth, Int("units", 0, 64, 32), SPACE.optimizer, SPACE.learning_rate),
    )
)
@example(  # and a learning rate of 0 or below was declarable, and Keras trains with it silently
    (
        "space_lr_not_positive",
        lambda: Space(SPACE.depth, SPACE.width, SPACE.optimizer, Float("learning_rate", 0.0, 1e-2, grid=(1e-3,))),
    )
)
def test_invalid_declarations_rejected(case: tuple[str, Callable[[], Any]]) -> None:
    _, declare = case
    check_declaration_rejected(declare)


def test_declared_grid_counted_independently() -> None:
    check_grid_size(SPACE)


@given(small_spaces(max_points=2000))
def test_grid_of_any_space_counted_independently(space: Space) -> None:
    check_grid_size(space)


@given(spaces(), st.data())
def test_any_space_validates_its_own_configurations(space: Space, data: st.DataObject) -> None:
    check_accepted_unchanged(space.validate, data.draw(configs(space)))
    kind, bad = data.draw(invalid_configs(space))
    check_rejected(space.validate, bad)


@pytest.mark.backend
@settings(max_examples=scaled_examples(0.2))
@given(small_spaces(), st.data())
def test_any_space_builds_its_models(space: Space, data: st.DataObject) -> None:
    config = data.draw(configs(space))
    try:
        check_model(build_model(config, space), config, space)
    finally:
        keras.backend.clear_session()
