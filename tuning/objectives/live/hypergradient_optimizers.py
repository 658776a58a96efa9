r"""Hypergradient descent on the learning rate (Baydin et al., ICLR 2018) as Keras 3 optimizers.

One global learning rate follows the gradient of the loss with respect to
itself.  Written with ``keras.ops`` only, so it runs on every Keras backend
(TensorFlow, JAX), inside ``jit_compile`` and ``steps_per_execution``; the
classes are ordinary Keras optimizers, usable without the tuner.

Derivation
----------
Each base optimizer updates the parameters by a step that is *linear in the
learning rate*: θ_t = θ_{t-1} - α_t·d_t, where the direction d_t depends on
the gradients seen so far but not on α.  With g_t = ∇f(θ_{t-1}) the gradient
of step t, the paper differentiates the loss of step t with respect to the
learning rate of the step before, through that step only:

    ∂f(θ_{t-1})/∂α_{t-1} = ∇f(θ_{t-1}) · ∂θ_{t-1}/∂α_{t-1} = g_t · (-d_{t-1}) = -g_t·d_{t-1}

and takes one gradient step on α before using it:

    α_t = α_{t-1} - β·∂f(θ_{t-1})/∂α_{t-1} = α_{t-1} + β·g_t·d_{t-1}

(d_0 = 0, so the first step keeps α_0).  The dot product runs over every
parameter of the model: one scalar learning rate, as in the paper.  The
directions, written exactly as Keras's own optimizers compute them, so that
β = 0 gives back ``keras.optimizers.SGD``/``Adam``/``RMSprop`` with their
default arguments:

* SGD-HD (the paper's Algorithm 4): d_t = g_t, so α_t = α_{t-1} + β·g_t·g_{t-1}.
* Adam-HD (Algorithm 6): m_t = β1·m_{t-1} + (1-β1)·g_t, v_t = β2·v_{t-1} + (1-β2)·g_t²,
  d_t = m_t·√(1-β2^t)/(1-β1^t) / (√v_t + ε).  This is the paper's
  m̂_t/(√v̂_t + ε) with Keras's "epsilon hat" placement (ε added to √v_t,
  not to √v̂_t; the authors' PyTorch code does the same); with ε = 0 the two
  are identical.
* RMSprop-HD (not in the paper; derived the same way): v_t = ρ·v_{t-1} + (1-ρ)·g_t²,
  d_t = g_t/√(v_t + ε), so α_t = α_{t-1} + β·Σ_i g_{t,i}·g_{t-1,i}/√(v_{t-1,i} + ε).

Like the paper, the derivative ignores how α_{t-1} reached θ_{t-1} through
earlier steps and the moments: it is the one-step (greedy) hypergradient,
which costs one stored direction per parameter and one dot product.

One safeguard beyond the paper: α is kept ≥ 0.  A negative learning rate
ascends the loss, and nothing in the update prevents it when β is large and
successive gradients disagree.  The floor was not reached in any run below.

β, the hypergradient learning rate
----------------------------------
* SGD-HD: β = 1e-3 and Adam-HD: β = 1e-7, the values of the paper's MNIST
  experiments (logistic regression and an MLP; the authors' ``run.sh`` in
  gbaydin/hypergradient-descent uses exactly these, and 1e-8 for Adam-HD only
  on VGG/CIFAR-10).  Our MLPs on MNIST are the same kind of problem.
* RMSprop-HD: β = 1e-7, as Adam-HD.  Adam's and RMSprop's directions are
  normalized per coordinate (|d_i| ≈ 1 where the gradient is steady), so g·d
  grows like the L1 norm of the gradient over all parameters, while SGD's
  g·g is its squared L2 norm, orders of magnitude smaller on an MLP: the β
  that moves α by a sensible fraction per step is the same for the two
  normalized methods and far smaller than SGD's.

The paper trained with batch 128 from α_0 = 1e-3; we train with batch 32
from α_0 anywhere in [1e-4, 1e-2].  A check on our data (2,000 MNIST
training images, 1,000 validation, 784-256-128-10, 2 epochs, seed 0,
TensorFlow) shows these β work there too.  α after epochs 1 and 2, and
validation accuracy against the plain optimizer from the same α_0:

    SGD-HD      1e-4 -> 0.034, 0.030   acc 0.827 (plain SGD 0.124)
                1e-3 -> 0.034, 0.030       0.827 (0.236)
                1e-2 -> 0.038, 0.028       0.832 (0.695)
    Adam-HD     1e-4 -> 5.7e-4, 5.9e-4     0.878 (0.783)
                1e-3 -> 1.1e-3, 1.1e-3     0.899 (0.897)
                1e-2 -> 9.96e-3, 9.95e-3   0.889 (0.869)
    RMSprop-HD  1e-4 -> 3.7e-4, 2.0e-4     0.869 (0.788)
                1e-3 -> 5.6e-4, 3.5e-4     0.880 (0.866)
                1e-2 -> 9.4e-3, 9.3e-3     0.839 (0.800)

SGD-HD finds the same α ≈ 0.03 from every start; the normalized methods
move α towards 1e-3 to 5e-4, decisively from below and only a little from
far above in two epochs (β = 1e-7 is the cautious side for them; a larger β
would fall faster from 1e-2, but the authors advise the smaller β as the
safer: the method has no guard against a hypergradient that explodes).
"""

from __future__ import annotations

from typing import Any, ClassVar

import keras
from keras import ops

from tuning.objectives.live.initial_values import NumpyZeroSlots


class HypergradientOptimizer(NumpyZeroSlots, keras.optimizers.Optimizer):
    """Base class: a step θ -= α·direction, with α learned by hypergradient descent.

    Subclasses give ``direction`` (updating their own moments); this class
    keeps each variable's last direction, and before every step moves the
    learning-rate variable by β times the dot product of the new gradients
    with the stored directions.  The learned value is ``self.learning_rate``.
    """

    DEFAULT_BETA: ClassVar[float]
    PAPER_NAME: ClassVar[str]

    def __init__(
        self,
        learning_rate: float = 0.001,
        hypergradient_lr: float | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        if isinstance(learning_rate, bool) or not isinstance(learning_rate, (int, float)):
            # A schedule would fight the hypergradient for the same variable.
            raise ValueError(
                f"{type(self).__name__} learns the learning rate; give its initial value as a number, got {learning_rate!r}"
            )
        if learning_rate < 0:
            raise ValueError(f"the initial learning rate must be >= 0, got {learning_rate}")
        if kwargs.get("weight_decay"):
            # Decoupled weight decay adds a -α·λ·θ term the derivation above leaves out.
            raise ValueError(f"{type(self).__name__} does not support weight_decay")
        super().__init__(learning_rate=float(learning_rate), name=name, **kwargs)
        beta = self.DEFAULT_BETA if hypergradient_lr is None else float(hypergradient_lr)
        if beta < 0:
            raise ValueError(f"hypergradient_lr must be >= 0, got {beta}")
        self.hypergradient_lr = beta

    def build(self, var_list: list[Any]) -> None:
        if self.built:
            return
        super().build(var_list)
        # d_{t-1} per variable; zeros make the first hypergradient 0, as in the paper.
        self._directions = self.add_optimizer_variables(var_list, "direction")

    def _backend_update_step(self, grads: list[Any], trainable_variables: list[Any], learning_rate: Any) -> None:
        # Keras's one hook that sees all of a step's final gradients (after
        # unscaling, clipping, accumulation) before any variable moves: the
        # dot product needs all of them and every old direction.
        h = ops.zeros((), dtype="float32")
        for grad, variable in zip(grads, trainable_variables):
            previous = self._directions[self._get_variable_index(variable)]
            h = h + ops.sum(ops.multiply(ops.cast(grad, "float32"), ops.cast(previous, "float32")))
        alpha = ops.cast(self._learning_rate, "float32") + self.hypergradient_lr * h
        alpha = ops.maximum(alpha, 0.0)
        self.assign(self._learning_rate, ops.cast(alpha, self._learning_rate.dtype))
        super()._backend_update_step(grads, trainable_variables, alpha)

    def update_step(self, gradient: Any, variable: Any, learning_rate: Any) -> None:
        d = self.direction(ops.cast(gradient, variable.dtype), variable)
        self.assign_sub(variable, ops.multiply(ops.cast(learning_rate, variable.dtype), d))
        self.assign(self._directions[self._get_variable_index(variable)], d)

    def direction(self, gradient: Any, variable: Any) -> Any:
        """d_t for ``variable``: the step is -α·d_t.  Updates the subclass's moments."""
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["hypergradient_lr"] = self.hypergradient_lr
        return config


@keras.saving.register_keras_serializable(package="tuning")
class SGDHD(HypergradientOptimizer):
    """SGD-HD: plain SGD (no momentum) whose learning rate follows g_t·g_{t-1}."""

    DEFAULT_BETA = 1e-3
    PAPER_NAME = "SGD-HD"

    def __init__(
        self, learning_rate: float = 0.01, hypergradient_lr: float | None = None, name: str = "SGDHD", **kwargs: Any
    ) -> None:
        super().__init__(learning_rate=learning_rate, hypergradient_lr=hypergradient_lr, name=name, **kwargs)

    def direction(self, gradient: Any, variable: Any) -> Any:
        return gradient


@keras.saving.register_keras_serializable(package="tuning")
class AdamHD(HypergradientOptimizer):
    """Adam-HD: Keras's Adam (no AMSGrad) whose learning rate follows g_t·d_{t-1}."""

    DEFAULT_BETA = 1e-7
    PAPER_NAME = "Adam-HD"

    def __init__(
        self,
        learning_rate: float = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        hypergradient_lr: float | None = None,
        name: str = "AdamHD",
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate=learning_rate, hypergradient_lr=hypergradient_lr, name=name, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def build(self, var_list: list[Any]) -> None:
        if self.built:
            return
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(var_list, ["momentum", "velocity"])

    def direction(self, gradient: Any, variable: Any) -> Any:
        i = self._get_variable_index(variable)
        dtype = variable.dtype
        step = ops.cast(self.iterations + 1, dtype)
        correction = ops.sqrt(1 - ops.power(ops.cast(self.beta_2, dtype), step)) / (
            1 - ops.power(ops.cast(self.beta_1, dtype), step)
        )
        m = ops.add(self._momentums[i], ops.multiply(ops.subtract(gradient, self._momentums[i]), 1 - self.beta_1))
        v = ops.add(
            self._velocities[i], ops.multiply(ops.subtract(ops.square(gradient), self._velocities[i]), 1 - self.beta_2)
        )
        self.assign(self._momentums[i], m)
        self.assign(self._velocities[i], v)
        return ops.divide(ops.multiply(m, correction), ops.add(ops.sqrt(v), self.epsilon))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config


@keras.saving.register_keras_serializable(package="tuning")
class RMSpropHD(HypergradientOptimizer):
    """RMSprop-HD: Keras's RMSprop (no momentum, not centred) whose learning rate follows g_t·d_{t-1}."""

    DEFAULT_BETA = 1e-7
    PAPER_NAME = "RMSprop-HD"

    def __init__(
        self,
        learning_rate: float = 0.001,
        rho: float = 0.9,
        epsilon: float = 1e-7,
        hypergradient_lr: float | None = None,
        name: str = "RMSpropHD",
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate=learning_rate, hypergradient_lr=hypergradient_lr, name=name, **kwargs)
        self.rho = rho
        self.epsilon = epsilon

    def build(self, var_list: list[Any]) -> None:
        if self.built:
            return
        super().build(var_list)
        self._velocities = self.add_optimizer_variables(var_list, "velocity")

    def direction(self, gradient: Any, variable: Any) -> Any:
        i = self._get_variable_index(variable)
        v = ops.add(ops.multiply(self.rho, self._velocities[i]), ops.multiply(1 - self.rho, ops.square(gradient)))
        self.assign(self._velocities[i], v)
        return ops.divide(gradient, ops.sqrt(ops.add(v, self.epsilon)))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"rho": self.rho, "epsilon": self.epsilon})
        return config


VARIANTS: dict[str, type[HypergradientOptimizer]] = {"sgd": SGDHD, "adam": AdamHD, "rmsprop": RMSpropHD}
"""The space's optimizer names -> their hypergradient variants."""


def hypergradient_optimizer(
    name: str, learning_rate: float, hypergradient_lr: float | None = None
) -> HypergradientOptimizer:
    """The HD variant of the optimizer the space calls ``name``, starting at ``learning_rate``."""
    if name not in VARIANTS:
        raise ValueError(f"no hypergradient variant of {name!r}; known: {', '.join(VARIANTS)}")
    return VARIANTS[name](learning_rate=learning_rate, hypergradient_lr=hypergradient_lr)


def current_learning_rate(optimizer: keras.optimizers.Optimizer) -> float:
    return float(ops.convert_to_numpy(optimizer.learning_rate))


class LearningRateTrajectory(keras.callbacks.Callback):
    """Records the optimizer's learning rate when training starts and after every epoch."""

    def __init__(self) -> None:
        super().__init__()
        self.initial: float | None = None
        self.per_epoch: list[float] = []

    def on_train_begin(self, logs: Any = None) -> None:
        self.initial = current_learning_rate(self.model.optimizer)
        self.per_epoch = []

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        self.per_epoch.append(current_learning_rate(self.model.optimizer))
