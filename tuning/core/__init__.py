"""The core: pure data every other part shares (the space, budgets, seeds, the result records, errors).

Nothing here imports Keras, Keras Tuner or scipy; an import contract
(``[tool.importlinter]`` in pyproject.toml) keeps it so.
"""
