"""What the user asks for: the listener's inputs and their rules, the plan (diff, minimal write, outputs) and the
provider's settings."""
