"""refdesk's Rasa project: custom NLU components and NLU evaluation (engine env only)."""
