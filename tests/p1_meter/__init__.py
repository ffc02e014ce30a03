"""Tests of the P1 meter entries: a real Home Assistant fed by the P1 simulator over TCP."""
