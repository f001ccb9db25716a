"""The baseline: a bare PTB echo bot (default Updater, one MessageHandler replying to all).

``python -m bench.echo_proc BASE_URL`` (token from GRIDBOT_TOKEN); SIGTERM stops it.
"""

from __future__ import annotations

import logging
import os
import signal
import sys

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message and update.effective_message.text:
        await update.effective_message.reply_text(update.effective_message.text)


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    app = Application.builder().token(os.environ["GRIDBOT_TOKEN"]).base_url(sys.argv[1]).build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.run_polling(timeout=1, stop_signals=(signal.SIGTERM, signal.SIGINT))


if __name__ == "__main__":
    main()
