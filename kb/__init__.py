"""refdesk domain core: catalog, delivery, patrons, alerts, FAQ, audit. No Rasa, no web."""
