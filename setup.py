"""Builds the one compiled module, sla/_calendar_fast.c (see there why): python setup.py build_ext --inplace

scripts/start and scripts/test run it; the product works without it, on the pure Python hot path.
"""

from setuptools import Extension, setup

setup(
    # The project is not packaged (manage.py runs it from the checkout): only the extension is built.
    packages=[],
    py_modules=[],
    ext_modules=[Extension("sla._calendar_fast", ["sla/_calendar_fast.c"])],
)
