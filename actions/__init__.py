"""Custom actions for the Rasa engine: one module per capability, thin over kb/."""
