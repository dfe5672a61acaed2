"""Loaders: pure transforms from source files to graph records."""
