"""Tests of sktransfer.datasets, one file per module of the package."""
