"""The ways in: the CLI, the chat and terminal rendering. Translation only; the services decide."""
