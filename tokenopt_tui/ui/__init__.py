"""The Textual UI. Only this package imports textual; core never does."""
