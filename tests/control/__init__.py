"""Tests of the pure enforcement controller."""
