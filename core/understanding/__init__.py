"""How the owner decides and what they value, read from their own messages (pure, no I/O).

* :mod:`core.understanding.filters`: the owner's mute/flag filters and what they match;
* :mod:`core.understanding.summaries`: waiting messages grouped by conversation, one line each;
* :mod:`core.understanding.values`: value and decision statements with counts and real quotes;
* :mod:`core.understanding.rhetoric`: rhetorical habits and how stable the style is;
* :mod:`core.understanding.trend`: quality over time, and when a measure dropped beyond noise.
"""
