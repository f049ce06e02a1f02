"""Binance spot through ccxt (``binance``, ``binanceus``): the second venue's adapter."""
