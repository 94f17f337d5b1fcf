"""The real example data set (``ubuntu-irc.jsonl.gz``); licence and attribution in ``LICENSE.txt``."""
