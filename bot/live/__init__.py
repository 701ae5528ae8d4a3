"""Live chat between patrons and librarians on the gateway side.

- :mod:`~bot.live.steps` database steps (claim, reply, close ...) returning plain data
- :mod:`~bot.live.desk` the orchestration: pause/resume the engine, deliver to the
  patron's channel, tell consoles and queued patrons what changed
- :mod:`~bot.live.sweeper` chats of disconnected librarians go back to the queue
"""
