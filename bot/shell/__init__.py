"""The process around the domain: the Application, durable delivery, the ticker, callback data.

Only this package and `handlers/` know Telegram; `bot/*.py` stays free of it.
"""
