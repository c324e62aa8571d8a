"""The bundled scenarios, installed as the package tui_backprop.scenarios (see pyproject.toml)."""
