"""One reader per raw source. A reader turns every variant of its source into plain records and lists,
with file, line and field, every row it could not take; it never decides splits or prompts."""
