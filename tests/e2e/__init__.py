"""End-to-end test: the demo in Home Assistant, driven in headless Chromium (scripts/test-e2e)."""
