"""The result cache: a deterministic request asked again is answered from the store.

`key` builds the one canonical key, `ttl` picks how long an answer is kept, `result`
looks answers up and stores them (the session's only entry point).
"""
