"""Relevé: open-source usage-based billing — meter, price, bill, and explain every charge."""

__version__ = "0.1.0"
