"""``gridbot play``: the sandbox, the real bot and a WeChat-style web page, in one process.

The page is a client of the sandbox as a Telegram app is a client of Telegram: what people do
goes through the sandbox's control API; what the bot sent is read back from the sandbox.
"""
