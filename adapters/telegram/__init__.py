"""The Telegram adapter: a private chat with the clone, and the owner's Business chats."""
