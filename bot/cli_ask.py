def add_ask_commands(s):
    pass
