"""The specification layer: layouts, fans, variance rules, distributions and the catalogue.

Pure Python and math: nothing here creates an array.
"""
