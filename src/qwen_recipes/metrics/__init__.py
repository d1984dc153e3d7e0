"""Pure metrics, the ground floor: classification, calibration, text generation, and the AliMeeting4MUG challenge's
rules. They take strings and numbers and import nothing from tasks, eval, data or models, so every task and every
runner can use them and a scorer can be tested by hand."""
