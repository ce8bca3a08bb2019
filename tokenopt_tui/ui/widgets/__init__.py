"""Widgets of the TUI: messages, side bar panels, status line."""
