"""The AliMeeting4MUG wing: five meeting tasks that share windowing (``base``) and each own their prompt, record
builder, parser, window merge, official score and perfect / trivial baselines."""
