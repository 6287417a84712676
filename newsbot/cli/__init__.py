"""The ``newsbot`` command line (everything but the Telegram bot itself)."""
