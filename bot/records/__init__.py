"""The domain's records: what the bot stores, as frozen dataclasses and string enums.

One module per concern. They import nothing from `bot.services` or `storage`: storage
reads and writes them, the domain's services decide with them, handlers render them.
"""
