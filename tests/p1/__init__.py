"""Tests of the P1 sans-IO package, its transport and the P1 simulator (no Home Assistant)."""
