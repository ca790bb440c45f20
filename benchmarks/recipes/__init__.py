"""The recipes' benchmark declarations, one module per recipe id of the catalogue (keras.fit: keras_fit.py).

Each holds `BENCHMARK = Benchmark(recipe=...)` (benchmarks/declaration.py) and the rows that time the recipe, if
any. The engine that measures, budgets and reports them is the rest of benchmarks/. pytest collects every module
here (pyproject.toml, python_files).
"""
