"""Enforcement controller: the DSO state, measurements and asset registry in, entity writes out.

Pure Python without Home Assistant imports; the HA adapter (``enforcement.py``) feeds it and
carries out its actions through HA services.
"""
