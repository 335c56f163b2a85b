"""End-to-end tests: a real JupyterLab driven in a real Chromium (a package, so its fixtures are package-scoped)."""
